"""Turning activations into 2-D images (kernels: `jaxconv_viewer.gui.kernel_tiles`): pure numpy,
no Qt, no JAX.

Activations are ``(H, W, F)`` maps or ``(F,)`` vectors, channels-last as in jaxconv. Every mosaic
is a float32 array ``(rows, cols)`` in row-major order (row 0 is the top), with ``pad`` pixels of
``fill`` (NaN by default: drawn transparent) between tiles, ready for ``ImageItem.setImage``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["feature_mosaic", "feature_strip", "grid_shape", "normalise", "symmetric_limit", "tile"]


def grid_shape(n: int, aspect: float = 1.0) -> tuple[int, int]:
    """Rows and columns of the most nearly square grid holding ``n`` tiles (columns >= rows).

    Example:
        >>> grid_shape(10)
        (3, 4)
    """
    if n <= 0:
        return (0, 0)
    cols = max(1, math.ceil(math.sqrt(n * aspect)))
    return (math.ceil(n / cols), cols)


def tile(images, *, cols: int | None = None, pad: int = 1, fill: float = np.nan) -> np.ndarray:
    """Lays ``N`` images of shape ``(h, w)`` in a grid.

    Args:
        images: array of shape (N, h, w).
        cols: tiles per row; default `grid_shape(N)`'s columns.
        pad: pixels between tiles.
        fill: value of the gaps and of unused cells.

    Returns:
        float32 array of shape (rows * (h + pad) - pad, cols * (w + pad) - pad).

    Example:
        >>> tile(np.ones((3, 2, 2)), cols=3, pad=1, fill=0).shape
        (2, 8)
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 3:
        raise ValueError(f"tile: `images` must have shape (N, h, w), got shape {images.shape}.")
    n, h, w = images.shape
    if n == 0:
        return np.full((1, 1), fill, np.float32)
    if cols is None:
        rows, cols = grid_shape(n)
    else:
        cols = max(1, min(int(cols), n))
        rows = math.ceil(n / cols)
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), fill, np.float32)
    for k in range(n):
        r, c = divmod(k, cols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = images[k]
    return out


def symmetric_limit(a) -> float:
    """The largest finite ``|a|`` (1.0 when there is none or it is 0): a colour range about zero."""
    a = np.asarray(a, np.float32)
    finite = a[np.isfinite(a)]
    limit = float(np.max(np.abs(finite))) if finite.size else 0.0
    return limit if limit > 0 else 1.0


def normalise(a, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """Maps ``a`` linearly to [0, 1] (NaNs kept); a constant array becomes zeros.

    Example:
        >>> normalise(np.array([2.0, 4.0, 6.0])).tolist()
        [0.0, 0.5, 1.0]
    """
    a = np.asarray(a, np.float32)
    finite = a[np.isfinite(a)]
    lo = float(finite.min()) if lo is None and finite.size else (lo or 0.0)
    hi = float(finite.max()) if hi is None and finite.size else (hi if hi is not None else 1.0)
    if hi <= lo:
        return np.where(np.isfinite(a), 0.0, a).astype(np.float32)
    return np.clip((a - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def feature_mosaic(activation, *, max_maps: int = 64) -> np.ndarray:
    """One input's activation as an image: each feature map a tile, or a vector as a square-ish grid.

    Args:
        activation: array of shape (H, W, F), (F,) or (1, ...) (a leading batch of one is dropped).
        max_maps: draw at most this many feature maps.

    Returns:
        float32 array of shape (rows, cols); gaps are NaN.
    """
    a = np.asarray(activation, np.float32)
    if a.ndim in (2, 4) and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 3:
        return tile(a[..., :max_maps].transpose(2, 0, 1), pad=1, fill=np.nan)
    if a.ndim == 1:
        rows, cols = grid_shape(a.size)
        out = np.full(rows * cols, np.nan, np.float32)
        out[:a.size] = a
        return out.reshape(rows, cols)
    raise ValueError(f"feature_mosaic: activation must have shape (H, W, F) or (F,), got {a.shape}.")


def feature_strip(features, *, gap: int = 2) -> np.ndarray:
    """Every layer's mosaic (each normalised to [0, 1]) side by side, top-aligned, NaN gaps.

    Args:
        features: ``[(name, activation)]`` with activations (H, W, F) or (F,).
        gap: NaN columns between layers.
    """
    mosaics = [normalise(feature_mosaic(a)) for _, a in features]
    if not mosaics:
        return np.full((1, 1), np.nan, np.float32)
    height = max(m.shape[0] for m in mosaics)
    parts = []
    for m in mosaics:
        block = np.full((height, m.shape[1] + gap), np.nan, np.float32)
        block[:m.shape[0], :m.shape[1]] = m
        parts.append(block)
    return np.concatenate(parts, axis=1)[:, :-gap]
