"""Reading and writing IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic `00 00 <type> <ndim>`, then `ndim` big-endian uint32 sizes, then
the data in C order, big-endian. Files may be gzip-compressed; the reader detects gzip by its
magic bytes, not by the file name. Only numpy and the standard library are used.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np

__all__ = ["read_idx", "write_idx", "find_idx_file", "IDX_NAMES"]

# IDX type byte -> big-endian numpy dtype (LeCun's format description).
_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {np.dtype(v).newbyteorder("=").str: k for k, v in _TYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"

#: The four files of an MNIST-style set, by role, without the optional ``.gz``.
IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads an IDX file, gzip-compressed or not.

    Args:
        path: the file.

    Returns:
        The array in native byte order, e.g. uint8 of shape (N, 28, 28) for MNIST images.

    Raises:
        ValueError: the file is not IDX (bad magic or type byte), its size disagrees with its
            header, or its gzip stream is corrupt; the message names the path.

    Example:
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "y.idx.gz")
        >>> write_idx(path, np.arange(3, dtype=np.uint8))
        >>> read_idx(path)
        array([0, 1, 2], dtype=uint8)
    """
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"read_idx: {os.fspath(path)!r} is a corrupt gzip file ({e}).") from e
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in _TYPES:
        raise ValueError(
            f"read_idx: {os.fspath(path)!r} is not an IDX file: magic bytes {raw[:4].hex()!r}, "
            f"expected '0000' then a type byte in {sorted(hex(t) for t in _TYPES)} and ndim."
        )
    dtype, ndim = np.dtype(_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"read_idx: {os.fspath(path)!r} is truncated: {len(raw)} bytes, shorter than its "
            f"{header}-byte header."
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(
            f"read_idx: {os.fspath(path)!r} has {len(raw)} bytes but its header (shape {shape}, "
            f"dtype {dtype.newbyteorder('=')}) needs {expected}."
        )
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Writes `array` as an IDX file, gzip-compressed when `path` ends in ``.gz``.

    Args:
        path: destination file.
        array: array of dtype uint8, int8, int16, int32, float32 or float64, 1 to 255 axes.

    Raises:
        ValueError: unsupported dtype or number of axes.
    """
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("=").str)
    if code is None:
        raise ValueError(
            f"write_idx: `array` dtype must be one of uint8, int8, int16, int32, float32, "
            f"float64, got {array.dtype}."
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"write_idx: `array` must have 1 to 255 axes, got shape {array.shape}.")
    raw = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw += np.ascontiguousarray(array, dtype=_TYPES[code]).tobytes()
    if os.fspath(path).endswith(".gz"):
        raw = gzip.compress(raw, mtime=0)  # mtime=0: same array, same bytes, same sha256
    with open(path, "wb") as f:
        f.write(raw)


def find_idx_file(directory: str | os.PathLike, stem: str) -> str | None:
    """Finds `stem` in `directory` as ``stem``, ``stem.gz`` or with ``.idx`` for ``-idx``.

    The second spelling (``train-images.idx3-ubyte``) is how some mirrors name the unzipped
    files. Returns the first that exists, or None.
    """
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    return None
