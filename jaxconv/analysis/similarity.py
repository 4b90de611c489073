"""Does a locally-connected layer learn to share? Each position's filter against the mean filter.

A locally-connected kernel ``(*out_spatial, *window, C, F)`` holds one filter (``window x C``
weights) per output position and feature; a regional kernel ``(*regions, *window, C, F)`` one per
region. A convolution is the case where every filter equals the mean one. The cosine similarity of
each position's (or region's) filter to the mean filter over positions measures how far training
has moved the layer towards sharing: 1 everywhere is a convolution; independent random filters
give about ``1 / sqrt(positions)``. Pure numpy, channels-last, no JAX: the viewer calls it on the
host copies it already has.
"""

from __future__ import annotations

import numpy as np

__all__ = ["similarity_to_mean"]


def similarity_to_mean(kernel, spatial_dims: int = 2) -> np.ndarray:
    """Cosine similarity of each position's (or region's) filter to the mean filter, per feature.

    Args:
        kernel: a locally-connected kernel (*out_spatial, *window, C, F) or a regional kernel
            (*regions, *window, C, F), with ``spatial_dims`` spatial dims.
        spatial_dims: how many leading dims index positions (and as many the window).

    Returns:
        float32 array (*positions, F): entry ``[p, f]`` is ``cos(kernel[p, ..., f], mean over p
        of kernel[p, ..., f])``, each filter flattened over window and channels; NaN where a
        filter or the mean filter is all zeros (no direction to compare).

    Raises:
        TypeError: ``spatial_dims`` is not an int.
        ValueError: ``kernel`` does not have rank ``2 * spatial_dims + 2``.

    Example:
        >>> k = np.ones((4, 4, 3, 3, 1, 8))  # every position holds the same filter: a conv
        >>> similarity_to_mean(k).shape, float(similarity_to_mean(k).min())
        ((4, 4, 8), 1.0)
    """
    if isinstance(spatial_dims, bool) or not isinstance(spatial_dims, (int, np.integer)):
        raise TypeError(f"similarity_to_mean: `spatial_dims` must be an int, got "
                        f"spatial_dims={spatial_dims!r}.")
    kernel = np.asarray(kernel, np.float64)
    if spatial_dims < 1 or kernel.ndim != 2 * spatial_dims + 2:
        raise ValueError(f"similarity_to_mean: `kernel` must have shape (*positions, *window, C, "
                         f"F) of rank {2 * spatial_dims + 2} for spatial_dims={spatial_dims}, got "
                         f"kernel shape {kernel.shape}.")
    positions, features = kernel.shape[:spatial_dims], kernel.shape[-1]
    filters = kernel.reshape(int(np.prod(positions)), -1, features)  # (P, window * C, F)
    mean = filters.mean(axis=0)  # (window * C, F)
    dots = np.einsum("pkf,kf->pf", filters, mean)
    norms = np.linalg.norm(filters, axis=1) * np.linalg.norm(mean, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), np.nan)
    return np.clip(cos, -1.0, 1.0).astype(np.float32).reshape(*positions, features)
