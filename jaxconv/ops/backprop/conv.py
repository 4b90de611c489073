"""Hand-written backward passes of the dense layer and the convolution (docs/backprop.md, 1-2).

Each function takes the forward op's inputs and the output gradient ``grad_out = dL/dy`` and
returns ``(grad_x, grad_kernel, grad_bias)``. They mirror the derivation step by step:

* dense: ``dL/dx = g W^T``, ``dL/dW = x^T g``, ``dL/db = sum g``.
* conv, input gradient: dilate ``g`` by the strides, pad it by ``k_eff - 1 - pad_low`` (low) and
  ``k_eff - 1 - pad_high + r`` (high), then convolve with the kernel flipped in space and with
  input and output channels swapped. CIRCULAR padding: the same with no zero padding, over the
  wrapped input, then fold the border back.
* conv, kernel gradient: for each tap, correlate the padded input with ``g``.

Layouts as in :mod:`jaxconv.ops`: x (N, *spatial, C), kernel (*window, C // groups, F).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from jaxconv import names, shapes
from jaxconv.ops._checks import canonical_precision, check_dense, common_dtype, float_array
from jaxconv.ops.backprop._common import (
    check_grad_out,
    conv_geometry,
    dimension_numbers,
    pad_like_forward,
    sum_leading,
    tap_slices,
    unpad,
)


def dense_backward(x, kernel, grad_out, *, precision=None):
    """Gradients of ``y = x @ kernel + bias`` from ``grad_out = dL/dy``.

    Args:
        x: input of shape (..., I).
        kernel: weights of shape (I, O).
        grad_out: output gradient of shape (..., O), the shape of ``dense(x, kernel)``.
        precision: ``lax.Precision`` or its name, for the matmuls.

    Returns:
        ``(grad_x, grad_kernel, grad_bias)`` of shapes (..., I), (I, O) and (O,).

    Example:
        >>> gx, gk, gb = dense_backward(jnp.ones((2, 3)), jnp.ones((3, 4)), jnp.ones((2, 4)))
        >>> gx.shape, gk.shape, gb.shape
        ((2, 3), (3, 4), (4,))
    """
    fn = "dense_backward"
    x, kernel = float_array(fn, "x", x), float_array(fn, "kernel", kernel)
    check_dense(fn, x, kernel)
    g = check_grad_out(fn, grad_out, (*x.shape[:-1], kernel.shape[1]))
    precision = canonical_precision(fn, precision)
    dtype = common_dtype(x, kernel, g)
    rows_x = x.reshape(-1, x.shape[-1]).astype(dtype)  # (B, I): every leading index is one row
    rows_g = g.reshape(-1, g.shape[-1]).astype(dtype)  # (B, O)
    w = kernel.astype(dtype)
    grad_x = jnp.matmul(rows_g, w.T, precision=precision)  # (B, O) @ (O, I) -> (B, I)
    grad_kernel = jnp.matmul(rows_x.T, rows_g, precision=precision)  # (I, B) @ (B, O) -> (I, O)
    grad_bias = rows_g.sum(axis=0)  # (O,)
    return (grad_x.reshape(x.shape).astype(x.dtype), grad_kernel.astype(kernel.dtype), grad_bias)


def _flip_and_swap(kernel, groups: int):
    """The kernel of the input-gradient convolution: flipped in space, in/out swapped per group.

    Args:
        kernel: forward kernel of shape (*window, C // groups, F).
        groups: the forward op's feature groups.

    Returns:
        Array of shape (*window, F // groups, C): ``out[t, f, g * C/G + c] = kernel[K-1-t, c,
        g * F/G + f]`` for group ``g``.
    """
    ndim = kernel.ndim - 2
    window, c_per_group, features = kernel.shape[:-2], kernel.shape[-2], kernel.shape[-1]
    flipped = jnp.flip(kernel, axis=tuple(range(ndim)))
    split = flipped.reshape(*window, c_per_group, groups, features // groups)  # (*K, C/G, G, F/G)
    order = (*range(ndim), ndim + 2, ndim + 1, ndim)  # -> (*K, F/G, G, C/G)
    return split.transpose(order).reshape(*window, features // groups, groups * c_per_group)


def _conv_input_grad(g, kernel, geom: shapes.Geometry, groups: int, precision):
    """``dL/dx`` of a convolution: the output gradient convolved with the flipped kernel.

    Args:
        g: output gradient of shape (N, *out_spatial, F).
        kernel: forward kernel of shape (*window, C // groups, F).
        geom: the forward op's geometry.
        groups: feature groups.
        precision: canonical precision.

    Returns:
        Array of shape (N, *in_spatial, C).
    """
    # For CIRCULAR the forward wrapped x (to padded_spatial) and then used no zero padding.
    if geom.circular:
        target, pads = geom.padded_spatial, ((0, 0),) * geom.ndim
    else:
        target, pads = geom.in_spatial, geom.pads
    span = shapes.effective_window(geom.window, geom.dilation)
    config = [(0, 0, 0)]
    for n, (lo, hi), k, s, o in zip(target, pads, span, geom.strides, geom.out_spatial):
        r = n + lo + hi - ((o - 1) * s + k)  # padded positions past the last window: never read
        # Interior s - 1 zeros undo the stride; k - 1 zeros each side make it a "full" conv;
        # subtracting the forward's padding crops the gradient of the zero pads (may be negative).
        config.append((k - 1 - lo, k - 1 - hi + r, s - 1))
    config.append((0, 0, 0))
    g_full = lax.pad(g, jnp.zeros((), g.dtype), config)  # (N, *[target + k_eff - 1], F)
    w_t = _flip_and_swap(kernel, groups)  # (*window, F // groups, C)
    grad = lax.conv_general_dilated(
        g_full, w_t, (1,) * geom.ndim, ((0, 0),) * geom.ndim, rhs_dilation=geom.dilation,
        dimension_numbers=dimension_numbers(geom.ndim), feature_group_count=groups,
        precision=precision,
    )  # (N, *target, C)
    return unpad(grad, geom) if geom.circular else grad


def _conv_kernel_grad(x, g, geom: shapes.Geometry, groups: int, precision):
    """``dL/dkernel`` of a convolution: per tap, the padded input correlated with ``g``.

    ``dL/dW[t, c, f] = sum over n, o of xp[n, o * s + t * d, c] * g[n, o, f]`` (within a group).

    Args:
        x: input of shape (N, *in_spatial, C).
        g: output gradient of shape (N, *out_spatial, F).
        geom: the forward op's geometry.
        groups: feature groups.
        precision: canonical precision.

    Returns:
        Array of shape (*window, C // groups, F).
    """
    channels, features = x.shape[-1], g.shape[-1]
    xp = pad_like_forward(x, geom)  # (N, *padded_spatial, C)
    g_rows = g.reshape(-1, groups, features // groups)  # (N * P, G, F/G)
    taps = []
    for _, index in tap_slices(geom):
        seen = xp[index].reshape(-1, groups, channels // groups)  # (N * P, G, C/G)
        per_group = jnp.einsum("pgc,pgf->cgf", seen, g_rows, precision=precision)
        taps.append(per_group.reshape(channels // groups, features))  # (C/G, F)
    return jnp.stack(taps).reshape(*geom.window, channels // groups, features)


@functools.partial(jax.jit, static_argnames=("geom", "groups", "precision"))
def _conv_grads(x, kernel, g, geom, groups, precision):
    """The three gradients, compiled once per geometry (the settings are hashable and static)."""
    grad_x = _conv_input_grad(g, kernel, geom, groups, precision)
    grad_kernel = _conv_kernel_grad(x, g, geom, groups, precision)
    return grad_x, grad_kernel, sum_leading(g)


def conv_backward(x, kernel, grad_out, *, strides=1, padding=names.CONV_PADDING, dilation=1, groups=1,
                  precision=None):
    """Gradients of :func:`jaxconv.ops.conv` from the output gradient, derived by hand.

    Args:
        x: input of shape (N, *spatial, C), 1-3 spatial dims.
        kernel: weights of shape (*window, C // groups, F).
        grad_out: ``dL/dy`` of shape (N, *out_spatial, F), the shape of the forward output.
        strides: as :func:`jaxconv.ops.conv`.
        padding: as :func:`jaxconv.ops.conv` (default ``names.CONV_PADDING``, "SAME"), including
            "CIRCULAR".
        dilation: as :func:`jaxconv.ops.conv`.
        groups: as :func:`jaxconv.ops.conv`.
        precision: ``lax.Precision`` or its name.

    Returns:
        ``(grad_x, grad_kernel, grad_bias)`` of shapes (N, *spatial, C), (*window, C // groups, F)
        and (F,). ``grad_bias`` is what a bias would receive; a layer without one ignores it.

    Example:
        >>> x, kernel, g = jnp.ones((1, 4, 2)), jnp.ones((3, 2, 5)), jnp.ones((1, 4, 5))
        >>> gx, gk, gb = conv_backward(x, kernel, g)
        >>> gx.shape, gk.shape, gb.shape
        ((1, 4, 2), (3, 2, 5), (5,))
    """
    fn = "conv_backward"
    x, kernel = float_array(fn, "x", x), float_array(fn, "kernel", kernel)
    geom, groups = conv_geometry(fn, x, kernel, strides, padding, dilation, groups)
    g = check_grad_out(fn, grad_out, (x.shape[0], *geom.out_spatial, kernel.shape[-1]))
    precision = canonical_precision(fn, precision)
    dtype = common_dtype(x, kernel, g)
    grad_x, grad_kernel, grad_bias = _conv_grads(
        x.astype(dtype), kernel.astype(dtype), g.astype(dtype), geom, groups, precision)
    return grad_x.astype(x.dtype), grad_kernel.astype(kernel.dtype), grad_bias
