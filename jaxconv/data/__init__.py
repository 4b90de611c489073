"""Datasets for training dense, locally-connected and conv models side by side.

Every loader returns a `Dataset` of host numpy arrays: images (N, H, W, C) float32 in [0, 1]
(channels-last, like the rest of jaxconv) and labels (N,) int32. Nothing here imports JAX.

Example:
    >>> from jaxconv import data
    >>> ds = data.load("digits", seed=0)
    >>> ds.input_shape, ds.num_classes
    ((8, 8, 1), 10)
    >>> xb, yb = next(data.batches(ds.x_train, ds.y_train, 32, seed=0))
"""

from jaxconv.data.aligned import make_aligned
from jaxconv.data.batching import batches
from jaxconv.data.dataset import Dataset
from jaxconv.data.download import DownloadError, default_cache_dir, fetch, sha256_file
from jaxconv.data.idx import read_idx, write_idx
from jaxconv.data.local import load_idx_dir, load_npz
from jaxconv.data.registry import DATASETS, available, is_cached, load
from jaxconv.data.synthetic import GLYPHS, make_shifted

__all__ = [
    "DATASETS",
    "GLYPHS",
    "Dataset",
    "DownloadError",
    "available",
    "batches",
    "default_cache_dir",
    "fetch",
    "is_cached",
    "load",
    "load_idx_dir",
    "load_npz",
    "make_aligned",
    "make_shifted",
    "read_idx",
    "sha256_file",
    "write_idx",
]
