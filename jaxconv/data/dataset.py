"""The `Dataset` container shared by every loader.

Conventions: images are channels-last `(N, H, W, C)` float32 in [0, 1]; labels are int32 in
`[0, num_classes)`; `class_names[k]` names label `k`. Every array is a host numpy array, so a
dataset can be handed to Qt, pickled or saved without touching an accelerator.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from jaxconv import validate

__all__ = ["Dataset", "as_images", "as_labels", "check_int"]


def _first_outside(x: np.ndarray, low, high, where: str) -> str | None:
    """``"x_train[3, 1, 2] = 1.0000001 (and 4 more)"`` for the first value of ``x`` outside
    ``[low, high]`` (NaN included), quoted as the array holds it, before any cast; else None."""
    with np.errstate(invalid="ignore"):
        bad = ~((x >= low) & (x <= high))
    if not bad.any():
        return None
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    more = int(bad.sum()) - 1
    name = where.rsplit(": ", 1)[-1]
    return (f"{name}[{', '.join(map(str, index))}] = {x[index]!s}"
            + (f" (and {more:,} more)" if more else ""))


def as_images(x, *, where: str) -> np.ndarray:
    """Canonicalises an image array to float32 `(N, H, W, C)` in [0, 1].

    Args:
        x: images of shape (N, H, W) or (N, H, W, C); uint8 is scaled by 1/255, floats must
            already lie in [0, 1].
        where: prefix for error messages, e.g. ``"load: /tmp/a.npz: x_train"``.

    Returns:
        float32 array of shape (N, H, W, C).

    Raises:
        ValueError: wrong number of dimensions, empty spatial axes, or values outside [0, 1]
            (the first named with its index and value as the array holds it, NaN included).
    """
    x = np.asarray(x)
    if x.ndim not in (3, 4) or 0 in x.shape[1:]:
        raise ValueError(f"{where} must have shape (N, H, W) or (N, H, W, C), got shape {x.shape}.")
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / np.float32(255.0)
    elif not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ValueError(f"{where} must be uint8 or floating point, got dtype {x.dtype}.")
    else:
        # Checked before the float32 cast, which would round 1.0000000001 to 1.0.
        outside = _first_outside(x, 0, 1, where)
        if outside is not None:
            raise ValueError(f"{where} must lie in [0, 1] (or be uint8 in [0, 255]), got "
                             f"{outside}.")
        x = x.astype(np.float32, copy=False)
    return x[..., None] if x.ndim == 3 else x


_INT32_MAX = int(np.iinfo(np.int32).max)


def as_labels(y, *, where: str) -> np.ndarray:
    """Canonicalises labels to a non-negative int32 vector of shape (N,).

    Every check reads the labels as the array holds them, before the int32 cast (which would
    wrap 2**32 + 3 to 3 and turn 1e10 into -2147483648).

    Raises:
        ValueError: not one-dimensional, not integral (NaN and 0.5 named with their index),
            negative or beyond int32 (the first such label named).
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{where} must have shape (N,), got shape {y.shape}.")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if not np.issubdtype(y.dtype, np.floating):
            raise ValueError(f"{where} must hold integer class labels, got dtype {y.dtype}.")
        with np.errstate(invalid="ignore"):
            fractional = ~(np.mod(y, 1) == 0)
        if fractional.any():
            index = int(np.argmax(fractional))
            raise ValueError(f"{where} must hold integer class labels, got "
                             f"{where.rsplit(': ', 1)[-1]}[{index}] = {y[index]!s} (dtype "
                             f"{y.dtype}).")
    if y.size:
        outside = _first_outside(y, 0, _INT32_MAX, where)
        if outside is not None:
            raise ValueError(f"{where} must be non-negative class labels below 2**31 (int32), "
                             f"got {outside}.")
    return y.astype(np.int32, copy=False)


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """An image classification dataset held in host memory.

    Attributes:
        x_train: training images of shape (N_train, H, W, C), float32 in [0, 1].
        y_train: training labels of shape (N_train,), int32 in [0, num_classes).
        x_test: test images of shape (N_test, H, W, C), float32 in [0, 1].
        y_test: test labels of shape (N_test,), int32.
        class_names: `class_names[k]` is the name of label `k`.
        name: the name it was loaded by (``"digits"``, a path, ...).
        extra: further labelled splits by name, each `(x, y)` with the shapes above; ``shifted``
            uses ``"test_seen"``, ``"test_unseen"`` and ``"test_all"``.

    Example:
        >>> ds = Dataset(np.zeros((2, 4, 4, 1), np.float32), np.array([0, 1]),
        ...              np.zeros((1, 4, 4, 1), np.float32), np.array([1]), ("a", "b"), "toy")
        >>> ds.input_shape, ds.num_classes
        ((4, 4, 1), 2)
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    name: str
    extra: Mapping[str, tuple[np.ndarray, np.ndarray]] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        set_ = object.__setattr__  # frozen: canonicalise once, here, then never again
        # An npz written from Python 2 or with dtype "S" holds bytes: b"cat" is named "cat".
        names = tuple(c.decode("utf-8", "replace") if isinstance(c, bytes) else str(c)
                      for c in self.class_names)
        if not names:
            raise ValueError(f"Dataset {self.name!r}: `class_names` must not be empty.")
        set_(self, "class_names", names)
        splits = {"train": (self.x_train, self.y_train), "test": (self.x_test, self.y_test)}
        for key in self.extra:
            if key in splits:
                raise ValueError(f"Dataset {self.name!r}: `extra` must not redefine {key!r}.")
        splits.update(self.extra)
        clean = {}
        for split, pair in splits.items():
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise ValueError(f"Dataset {self.name!r}: extra[{split!r}] must be a pair (x, y).")
            x = as_images(pair[0], where=f"Dataset {self.name!r}: x_{split}")
            y = as_labels(pair[1], where=f"Dataset {self.name!r}: y_{split}")
            if len(x) != len(y):
                raise ValueError(
                    f"Dataset {self.name!r}: x_{split} has {len(x)} images but y_{split} has "
                    f"{len(y)} labels."
                )
            if split in ("train", "test") and not len(y):
                # An empty split trains nothing or evaluates to NaN, and only fails much later.
                raise ValueError(f"Dataset {self.name!r}: x_{split} must hold at least 1 image, "
                                 f"got shape {x.shape}.")
            if x.shape[1:] != clean.get("train", (x,))[0].shape[1:]:
                raise ValueError(
                    f"Dataset {self.name!r}: x_{split} images have shape {x.shape[1:]} but "
                    f"x_train images have shape {clean['train'][0].shape[1:]}."
                )
            if y.size and y.max() >= len(names):
                index = int(np.argmax(y >= len(names)))
                raise ValueError(
                    f"Dataset {self.name!r}: y_{split}[{index}] = {y[index]} is not a class: "
                    f"there are {len(names)} class_names (labels 0..{len(names) - 1})."
                )
            clean[split] = (x, y)
        for split in ("train", "test"):
            x, y = clean.pop(split)
            set_(self, f"x_{split}", x)
            set_(self, f"y_{split}", y)
        set_(self, "extra", clean)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """`(H, W, C)` of one image."""
        h, w, c = (int(d) for d in self.x_train.shape[1:])  # as_images made it (N, H, W, C)
        return h, w, c

    @property
    def num_classes(self) -> int:
        """Number of classes, `len(class_names)`."""
        return len(self.class_names)

    def __repr__(self) -> str:
        extra = "".join(f", {k}={len(v[1])}" for k, v in self.extra.items())
        return (
            f"Dataset(name={self.name!r}, input_shape={self.input_shape}, "
            f"num_classes={self.num_classes}, train={len(self.y_train)}, "
            f"test={len(self.y_test)}{extra})"
        )


def check_int(value, *, fn: str, arg: str, minimum: int = 1, maximum: int | None = None) -> int:
    """Returns `value` as an int in [minimum, maximum] (:func:`jaxconv.validate.check_int`).

    Raises:
        TypeError: `value` is not an integer (bools are rejected too).
        ValueError: `value` is out of range; the message names `fn`, `arg` and the value.
    """
    return validate.check_int(fn, arg, value, minimum, maximum)
