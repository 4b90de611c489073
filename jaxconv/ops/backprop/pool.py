"""Hand-written backward passes of max and average pooling (docs/backprop.md, section 4).

Pooling has no weights, so only ``dL/dx`` is returned.

* Max pooling: each output is one of its window's inputs, so its gradient goes to that input and
  nowhere else. When several inputs in a window tie for the maximum, the gradient goes to the
  **first** of them in row-major window order (top-left first), exactly as JAX's own autodiff of
  ``reduce_window`` max does (its ``select_and_scatter_add`` keeps the first ``>=`` winner); the
  tests check this against ``jax.vjp`` on inputs full of ties. Overlapping windows add up.
* Average pooling: each output is ``sum(window) / count``, so every input of the window receives
  ``g / count``; ``count`` is the window size, or with ``count_include_pad=False`` the number of
  real (unpadded) inputs in that window.

Padding is undone as for the convolution (:func:`._common.unpad`): cropped, or folded for CIRCULAR.
Layout: x (N, *spatial, C), channels-last, 1-3 spatial dims.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from jaxconv import shapes
from jaxconv.ops._checks import float_array
from jaxconv.ops.backprop._common import (
    check_grad_out,
    pad_like_forward,
    pool_geometry,
    tap_slices,
    unpad,
)
from jaxconv.validate import check_bool


@functools.partial(jax.jit, static_argnames=("geom",))
def _max_pool_grad(x, g, geom: shapes.Geometry):
    xp = pad_like_forward(x, geom, value=-jnp.inf)  # padding never wins a max
    taps = [index for _, index in tap_slices(geom)]
    y = functools.reduce(jnp.maximum, (xp[index] for index in taps))  # forward: (N, *out, C)
    grad_xp = jnp.zeros_like(xp)
    routed = jnp.zeros(y.shape, bool)  # has this window's gradient gone somewhere yet?
    for index in taps:  # row-major window order, so the first tied maximum wins
        winner = (xp[index] == y) & ~routed
        grad_xp = grad_xp.at[index].add(jnp.where(winner, g, 0))
        routed = routed | winner
    return unpad(grad_xp, geom)


@functools.partial(jax.jit, static_argnames=("geom", "count_include_pad"))
def _avg_pool_grad(x, g, geom: shapes.Geometry, count_include_pad: bool):
    taps = [index for _, index in tap_slices(geom)]
    if count_include_pad or geom.circular:
        count = geom.window_size
    else:  # real inputs per window: slide the window over a padded mask of ones
        real = pad_like_forward(jnp.ones((1, *geom.in_spatial, 1), g.dtype), geom)
        count = sum(real[index] for index in taps)  # (1, *out, 1)
    share = g / count  # (N, *out, C): what each input of the window receives
    grad_xp = jnp.zeros((x.shape[0], *geom.padded_spatial, x.shape[-1]), g.dtype)
    for index in taps:
        grad_xp = grad_xp.at[index].add(share)
    return unpad(grad_xp, geom)


def max_pool_backward(x, grad_out, window, strides=None, padding="VALID"):
    """``dL/dx`` of :func:`jaxconv.ops.max_pool`: each output gradient goes to its window's argmax.

    Ties go to the first maximum in row-major window order, as in JAX's autodiff.

    Args:
        x: input of shape (N, *spatial, C), 1-3 spatial dims, floating point.
        grad_out: ``dL/dy`` of shape (N, *out_spatial, C), the shape of the forward output.
        window: int or one int per spatial dim.
        strides: int or one per spatial dim; defaults to ``window``.
        padding: "VALID", "SAME", "CIRCULAR", an int, or one (low, high) pair per spatial dim.

    Returns:
        ``grad_x`` of shape (N, *spatial, C).

    Example:
        >>> x = jnp.array([1.0, 3.0, 3.0, 2.0]).reshape(1, 4, 1)
        >>> max_pool_backward(x, jnp.ones((1, 2, 1)), 2)[0, :, 0]
        Array([0., 1., 1., 0.], dtype=float32)
    """
    fn = "max_pool_backward"
    x = float_array(fn, "x", x)
    geom = pool_geometry(fn, x, window, strides, padding)
    g = check_grad_out(fn, grad_out, (x.shape[0], *geom.out_spatial, x.shape[-1]))
    return _max_pool_grad(x, g.astype(x.dtype), geom)


def avg_pool_backward(x, grad_out, window, strides=None, padding="VALID", *,
                      count_include_pad=True):
    """``dL/dx`` of :func:`jaxconv.ops.avg_pool`: each output gradient is spread over its window.

    Args:
        x: input of shape (N, *spatial, C), 1-3 spatial dims, floating point.
        grad_out: ``dL/dy`` of shape (N, *out_spatial, C), the shape of the forward output.
        window: int or one int per spatial dim.
        strides: int or one per spatial dim; defaults to ``window``.
        padding: "VALID", "SAME", "CIRCULAR", an int, or one (low, high) pair per spatial dim.
        count_include_pad: as the op: divide by the window size (True) or by the number of real
            inputs in the window (False). Irrelevant for CIRCULAR padding.

    Returns:
        ``grad_x`` of shape (N, *spatial, C).

    Example:
        >>> avg_pool_backward(jnp.ones((1, 4, 1)), jnp.ones((1, 2, 1)), 2)[0, :, 0]
        Array([0.5, 0.5, 0.5, 0.5], dtype=float32)
    """
    fn = "avg_pool_backward"
    x = float_array(fn, "x", x)
    geom = pool_geometry(fn, x, window, strides, padding)
    g = check_grad_out(fn, grad_out, (x.shape[0], *geom.out_spatial, x.shape[-1]))
    count_include_pad = check_bool(fn, "count_include_pad", count_include_pad)
    return _avg_pool_grad(x, g.astype(x.dtype), geom, count_include_pad)
