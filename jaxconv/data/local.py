"""Loading a dataset from local files: an ``.npz`` archive or a directory of IDX files.

Every error names the offending path. Arrays go through `Dataset`, which canonicalises images to
(N, H, W, C) float32 in [0, 1] (uint8 is divided by 255) and labels to int32.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

from jaxconv.data.dataset import Dataset, as_labels
from jaxconv.data.idx import IDX_NAMES, find_idx_file, read_idx

__all__ = ["load_npz", "load_idx_dir", "default_class_names"]

_KEYS = ("x_train", "y_train", "x_test", "y_test")


def default_class_names(*labels: np.ndarray) -> tuple[str, ...]:
    """``("0", "1", ..., str(max label))`` over all the label arrays given."""
    top = max((int(np.max(y)) for y in labels if np.size(y)), default=0)
    return tuple(str(k) for k in range(top + 1))


def _check_inferred_classes(ys: dict, name: str) -> None:
    """Labels that set the class count must use every class 0..K-1, so a stray label stands out.

    Without ``class_names`` the number of classes is the largest label + 1: one corrupt label 255
    among digits would silently make a 256-class dataset (and 5e7 a 50,000,001-class head).
    """
    if any(y.size == 0 for y in ys.values()):
        return  # Dataset reports the empty split
    used = np.unique(np.concatenate([y for y in ys.values()]))
    if used.size == int(used[-1]) + 1:
        return
    top = int(used[-1])
    split, y = next((k, y) for k, y in ys.items() if y.size and int(y.max()) == top)
    index = int(np.argmax(y == top))
    missing = np.setdiff1d(np.arange(min(top, used.size + 10) + 1), used)
    gap = ", ".join(str(int(m)) for m in missing[:5]) + (", ..." if missing.size > 5 else "")
    raise ValueError(
        f"load: {name!r}: {split}[{index}] = {top} would make {top + 1} classes, but only "
        f"{used.size} distinct labels occur (no example of {gap}): a stray label? Labels must be "
        f"0..K-1 with every class present, or the dataset must name its class_names."
    )


def _from_arrays(arrays: dict, class_names, name: str) -> Dataset:
    if class_names is None:
        ys = {k: as_labels(arrays[k], where=f"Dataset {name!r}: {k}") for k in ("y_train", "y_test")}
        _check_inferred_classes(ys, name)
        class_names = default_class_names(*ys.values())
    return Dataset(*(arrays[k] for k in _KEYS), class_names=tuple(class_names), name=name)


def load_npz(path: str | os.PathLike) -> Dataset:
    """Loads an ``.npz`` with keys x_train, y_train, x_test, y_test and optional class_names.

    Args:
        path: the archive. Images (N, H, W) or (N, H, W, C), uint8 or float in [0, 1]; labels
            (N,) integers. Without ``class_names`` the classes are named ``"0"`` ... ``"K-1"``.

    Returns:
        A `Dataset` named by `path`.

    Raises:
        ValueError: unreadable archive, missing keys, or arrays of the wrong shape or range;
            the message names `path`.

    Example:
        >>> ds = load_npz("my_set.npz")  # doctest: +SKIP
    """
    name = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"load: could not read {name!r} as an .npz archive ({e}).") from e
    missing = [k for k in _KEYS if k not in arrays]
    if missing:
        raise ValueError(
            f"load: {name!r} is missing key(s) {missing}; an .npz dataset needs "
            f"{list(_KEYS)} and optionally 'class_names' (it has {sorted(arrays)})."
        )
    names = arrays.get("class_names")
    if names is not None and np.ndim(names) != 1:
        raise ValueError(
            f"load: {name!r}: class_names must be a 1-D array of strings, got shape "
            f"{np.shape(names)}."
        )
    return _from_arrays(arrays, None if names is None else list(names), name)


def load_idx_dir(directory: str | os.PathLike, class_names=None, name: str | None = None) -> Dataset:
    """Loads the four MNIST-style IDX files from a directory.

    The files are ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each optionally gzipped
    (``.gz``) and optionally spelt with ``.idx`` in place of ``-idx``.

    Args:
        directory: the folder.
        class_names: names of the labels; ``"0"`` ... ``"K-1"`` when None.
        name: the dataset's name; `directory` when None.

    Returns:
        A `Dataset` with images (N, 28, 28, 1) for MNIST.

    Raises:
        ValueError: a file is missing or corrupt, or images and labels disagree; the message
            names the path.
    """
    directory = os.fspath(directory)
    paths = {role: find_idx_file(directory, stem) for role, stem in IDX_NAMES.items()}
    missing = [IDX_NAMES[role] for role, p in paths.items() if p is None]
    if missing:
        raise ValueError(
            f"load: {directory!r} is missing IDX file(s) {missing} (optionally ending in .gz)."
        )
    arrays = {role: read_idx(path) for role, path in paths.items()
              if path is not None}  # all of them, past the check above
    for role in ("x_train", "x_test"):
        if arrays[role].ndim not in (3, 4):
            raise ValueError(
                f"load: {paths[role]!r} must hold images of shape (N, H, W) or (N, H, W, C), "
                f"got shape {arrays[role].shape}."
            )
    return _from_arrays(arrays, class_names, directory if name is None else name)
