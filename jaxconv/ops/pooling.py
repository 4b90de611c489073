"""Max and average pooling over 1, 2 or 3 spatial dims, channels-last.

Windows, strides and padding go through :mod:`jaxconv.shapes`, like the conv ops, so a window larger
than the (padded) input is an error instead of lax's empty output. Padding positions never win a
max (they hold -inf); for average pooling they count as zeros unless ``count_include_pad=False``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxconv import shapes
from jaxconv.ops._checks import float_array, pool_geometry
from jaxconv.validate import check_bool


def wrap_pad(x, pads):
    """Pads the spatial axes of ``x`` of shape (N, *spatial, C) by wrapping around (CIRCULAR)."""
    return jnp.pad(x, ((0, 0), *pads, (0, 0)), mode="wrap")


def _reduce(x, init, op, geom: shapes.Geometry):
    pads = geom.pads
    if geom.circular:
        x, pads = wrap_pad(x, pads), ((0, 0),) * geom.ndim
    # A concrete numpy init lets lax recognise the monoid (max/-inf, add/0) and pick the
    # reduce_window_max/sum primitives, which have reverse-mode rules; a traced init does not.
    return lax.reduce_window(
        x, np.array(init, x.dtype), op, (1, *geom.window, 1), (1, *geom.strides, 1),
        ((0, 0), *pads, (0, 0)),
    )


def max_pool(x, window, strides=None, padding="VALID"):
    """Maximum over each window.

    Args:
        x: input of shape (N, *spatial, C), 1-3 spatial dims, floating point.
        window: int or one int per spatial dim.
        strides: int or one per spatial dim; defaults to ``window`` (non-overlapping).
        padding: "VALID", "SAME", "CIRCULAR", an int, or one (low, high) pair per spatial dim.

    Returns:
        Array of shape (N, *out_spatial, C).

    Example:
        >>> max_pool(jnp.ones((1, 4, 4, 3)), 2).shape
        (1, 2, 2, 3)
    """
    x = float_array("max_pool", "x", x)
    geom = pool_geometry("max_pool", x, window, strides, padding)
    return _reduce(x, -jnp.inf, lax.max, geom)


def avg_pool(x, window, strides=None, padding="VALID", *, count_include_pad=True):
    """Mean over each window.

    Args:
        x: input of shape (N, *spatial, C), 1-3 spatial dims, floating point.
        window: int or one int per spatial dim.
        strides: int or one per spatial dim; defaults to ``window``.
        padding: "VALID", "SAME", "CIRCULAR", an int, or one (low, high) pair per spatial dim.
        count_include_pad: divide by the full window size (True, as Flax) or by the number of
            real input values in the window (False). Irrelevant for CIRCULAR padding.

    Returns:
        Array of shape (N, *out_spatial, C).

    Example:
        >>> avg_pool(jnp.ones((1, 4, 4, 3)), 2).shape
        (1, 2, 2, 3)
    """
    x = float_array("avg_pool", "x", x)
    geom = pool_geometry("avg_pool", x, window, strides, padding)
    count_include_pad = check_bool("avg_pool", "count_include_pad", count_include_pad)
    total = _reduce(x, 0.0, lax.add, geom)
    if count_include_pad or geom.circular:
        return total / geom.window_size
    ones = jnp.ones((1, *x.shape[1:-1], 1), x.dtype)
    return total / _reduce(ones, 0.0, lax.add, geom)
