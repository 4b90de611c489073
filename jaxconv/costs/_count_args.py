"""Argument checks and tap counting for :mod:`jaxconv.costs.counting` (split out to keep files small)."""

from __future__ import annotations

import numpy as np

from jaxconv import shapes
from jaxconv.validate import is_int


def itemsize(fn: str, dtype) -> tuple[str, int]:
    """Returns ``(name, bytes per value)`` of a dtype given as a name or dtype object.

    Example:
        >>> itemsize("dense_cost", "bfloat16")
        ('bfloat16', 2)
    """
    import jax.numpy as jnp  # bfloat16 and friends are registered with numpy by JAX

    if isinstance(dtype, bool) or dtype is None:
        raise TypeError(f"{fn}: `dtype` must be a dtype or its name, got dtype={dtype!r}.")
    try:
        resolved = np.dtype(jnp.dtype(dtype))
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: `dtype` must be a dtype or its name, got dtype={dtype!r}.") from None
    if not (jnp.issubdtype(resolved, jnp.number) or resolved == np.bool_):
        raise TypeError(f"{fn}: `dtype` must be a numeric dtype, got dtype={dtype!r}.")
    return resolved.name, int(resolved.itemsize)


def spatial_input(fn: str, input_shape) -> tuple[tuple[int, ...], int]:
    """Checks ``(*spatial, C)`` with 1-3 spatial dims; returns ``(spatial, C)``."""
    if isinstance(input_shape, (str, bytes)) or not hasattr(input_shape, "__len__"):
        raise TypeError(f"{fn}: `input_shape` must be a tuple (*spatial, C), got "
                        f"input_shape={input_shape!r}.")
    if not all(is_int(v) for v in input_shape):
        raise TypeError(f"{fn}: `input_shape` must hold ints, got input_shape={input_shape!r}.")
    dims = tuple(int(v) for v in input_shape)
    if len(dims) not in (2, 3, 4):
        raise ValueError(f"{fn}: `input_shape` must be (*spatial, C) with 1-3 spatial dims (no "
                         f"batch), got input_shape={dims} (length {len(dims)}).")
    if any(v < 1 for v in dims):
        raise ValueError(f"{fn}: `input_shape` must be positive, got input_shape={dims}.")
    return dims[:-1], dims[-1]


def real_taps(geom: shapes.Geometry) -> int:
    """Number of (output position, window tap) pairs that read a real input value, not padding.

    Equal to ``positions * window`` for VALID and CIRCULAR padding. Separable over the spatial
    dims, and per dim a sum over taps, so it costs O(sum of window sizes) for any input size.
    """
    if geom.circular:
        return geom.num_positions * geom.window_size
    total = 1
    for n, out, k, s, d, (lo, _) in zip(geom.in_spatial, geom.out_spatial, geom.window,
                                         geom.strides, geom.dilation, geom.pads):
        count = 0
        for tap in range(k):
            offset = tap * d - lo  # input index read by output o is o * s + offset
            first = max(0, -(offset // s))
            last = min(out - 1, (n - 1 - offset) // s)
            count += max(0, last - first + 1)
        total *= count
    return total
