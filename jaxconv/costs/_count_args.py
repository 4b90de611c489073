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
    if isinstance(dtype, bool) or dtype is None:
        raise TypeError(f"{fn}: `dtype` must be a dtype or its name, got dtype={dtype!r}.")
    resolved = _numpy_dtype(dtype)
    if resolved is None:
        raise TypeError(f"{fn}: `dtype` must be a dtype or its name, got dtype={dtype!r}.")
    if not (_is_number(resolved) or resolved == np.bool_):
        raise TypeError(f"{fn}: `dtype` must be a numeric dtype, got dtype={dtype!r}.")
    return resolved.name, int(resolved.itemsize)


def _numpy_dtype(dtype):
    """``dtype`` as a numpy dtype, or None. numpy's own names need no JAX, whose import is most
    of ``jaxconv count``'s time; bfloat16, float8_* and int4 come from ml_dtypes (JAX's)."""
    try:
        return np.dtype(dtype)
    except (TypeError, ValueError):
        pass
    import ml_dtypes

    try:
        return np.dtype(getattr(ml_dtypes, dtype) if isinstance(dtype, str) else dtype)
    except (TypeError, ValueError, AttributeError):
        return None


def _is_number(dtype: np.dtype) -> bool:
    """Numeric, numpy's or ml_dtypes' (whose kinds numpy reports as ``V``)."""
    if np.issubdtype(dtype, np.number):
        return True
    import ml_dtypes

    return dtype.type in {getattr(ml_dtypes, name) for name in dir(ml_dtypes)
                          if isinstance(getattr(ml_dtypes, name), type)} and dtype.itemsize > 0


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


def _floor_sum(n: int, m: int, a: int, b: int) -> int:
    """``sum(floor((a * i + b) / m) for i in range(n))`` for ``n, m >= 1`` and ``a, b >= 0``.

    The Euclid-like reduction (as AtCoder's ``floor_sum``): O(log) steps for any size, exact with
    Python ints.
    """
    total = 0
    while True:
        if a >= m:
            total += (n - 1) * n // 2 * (a // m)
            a %= m
        if b >= m:
            total += n * (b // m)
            b %= m
        top = a * n + b
        if top < m:
            return total
        n, b, m, a = top // m, top % m, a, m


def _pairs_at_most(c: int, out: int, k: int, s: int, d: int) -> int:
    """How many ``(o, tap)`` with ``0 <= o < out``, ``0 <= tap < k`` have ``o * s + tap * d <= c``.

    Per tap the count is ``clip(floor((c - tap * d) / s) + 1, 0, out)``: ``out`` for the taps up
    to ``full``, nothing past ``last``, and a floor sum between.
    """
    if c < 0:
        return 0
    last = min(k - 1, c // d)  # taps with at least o = 0
    full = min(last, (c - (out - 1) * s) // d) if c >= (out - 1) * s else -1  # taps with all o
    partial = last - full
    # Taps full+1..last, counted from the last: tap = last - u reads floor((u d + c - last d) / s).
    between = _floor_sum(partial, s, d, c - last * d) + partial if partial > 0 else 0
    return (full + 1) * out + between


def real_taps(geom: shapes.Geometry) -> int:
    """Number of (output position, window tap) pairs that read a real input value, not padding.

    Equal to ``positions * window`` for VALID, and for CIRCULAR and REFLECT padding, whose
    padding holds input values (the ops compute every tap). Separable over the spatial
    dims; per dim it counts the lattice points ``(o, tap)`` with ``0 <= o * s + tap * d - lo < n``
    in closed form (floor sums), so it costs O(log) of the sizes for any input and any window:
    counting is arithmetic and answers at once at any size.
    """
    if geom.circular or geom.reflect:
        return geom.num_positions * geom.window_size
    total = 1
    for n, out, k, s, d, (lo, _) in zip(geom.in_spatial, geom.out_spatial, geom.window,
                                         geom.strides, geom.dilation, geom.pads):
        if out <= 0:
            return 0
        total *= _pairs_at_most(n - 1 + lo, out, k, s, d) - _pairs_at_most(lo - 1, out, k, s, d)
    return total
