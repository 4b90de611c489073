"""What every hand-written backward pass shares: checks, window taps, padding and its undoing.

Conventions as in :mod:`jaxconv.ops`: channels-last inputs ``(N, *spatial, C)``, conv kernels
``(*window, C // groups, F)``. A forward op first pads its input (zeros, or wrap-around for
``"CIRCULAR"``) and then slides a window over the padded input ``xp``. Every backward pass here
therefore has two halves: the gradient with respect to ``xp``, then :func:`unpad`, which turns it
into the gradient with respect to ``x`` (crop for zero padding, fold for wrap-around padding).
"""

from __future__ import annotations

import itertools

import jax.numpy as jnp
import numpy as np

from jaxconv import shapes
from jaxconv.ops._checks import (  # noqa: F401  (re-exported for the backward modules)
    conv_geometry,
    dimension_numbers,
    float_array,
    pool_geometry,
)
from jaxconv.ops.pooling import wrap_pad


def check_grad_out(fn: str, grad_out, expected: tuple[int, ...]):
    """Returns ``grad_out`` as an array, checking it has the forward op's output shape."""
    grad_out = float_array(fn, "grad_out", grad_out)
    if tuple(grad_out.shape) != tuple(expected):
        raise ValueError(f"{fn}: `grad_out` must have the op's output shape {tuple(expected)}, got "
                         f"shape {tuple(grad_out.shape)}.")
    return grad_out


def pad_like_forward(x, geom: shapes.Geometry, value: float = 0.0):
    """Pads (N, *spatial, C) as the forward op does: wrap-around, or the constant ``value``.

    Returns:
        ``xp`` of shape (N, *geom.padded_spatial, C).
    """
    if geom.circular:
        return wrap_pad(x, geom.pads)
    return jnp.pad(x, ((0, 0), *geom.pads, (0, 0)), constant_values=value)


def tap_slices(geom: shapes.Geometry):
    """Where each window tap reads in the padded input, for all output positions at once.

    Tap ``t`` (one index per spatial dim) of the window at output position ``o`` reads the padded
    input at ``o * stride + t * dilation``; over all ``o`` that is one strided slice per dim.

    Yields:
        ``(tap, index)``: the tap as a tuple of ints (row-major window order) and the index tuple
        such that ``xp[index]`` has shape (N, *out_spatial, C).
    """
    for tap in itertools.product(*(range(k) for k in geom.window)):
        spatial = tuple(slice(t * d, t * d + (o - 1) * s + 1, s) for t, d, o, s
                        in zip(tap, geom.dilation, geom.out_spatial, geom.strides))
        yield tap, (slice(None), *spatial, slice(None))


def unpad(grad_xp, geom: shapes.Geometry):
    """Gradient with respect to ``x`` from the gradient with respect to the padded input ``xp``.

    Zero padding: padded positions are constants, so their gradient is dropped (crop).
    Wrap-around padding: padded position ``j`` (along a dim with low padding ``lo`` and input
    length ``n``) is a copy of ``x[(j - lo) mod n]``, so its gradient is added there (fold).

    Args:
        grad_xp: array of shape (N, *geom.padded_spatial, C).
        geom: the forward op's geometry.

    Returns:
        Array of shape (N, *geom.in_spatial, C).
    """
    if not geom.circular:
        crop = tuple(slice(lo, lo + n) for (lo, _), n in zip(geom.pads, geom.in_spatial))
        return grad_xp[(slice(None), *crop, slice(None))]
    for axis, ((lo, _), n) in enumerate(zip(geom.pads, geom.in_spatial), start=1):
        source = (np.arange(grad_xp.shape[axis]) - lo) % n  # x index each padded position copies
        moved = jnp.moveaxis(grad_xp, axis, 0)
        folded = jnp.zeros((n, *moved.shape[1:]), moved.dtype).at[source].add(moved)
        grad_xp = jnp.moveaxis(folded, 0, axis)
    return grad_xp


def sum_leading(array):
    """Sums an array of shape (..., F) over every axis but the last: shape (F,)."""
    return array.reshape(-1, array.shape[-1]).sum(axis=0)
