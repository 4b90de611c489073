"""Hand-written backward pass of the locally-connected layer (docs/backprop.md, section 3).

The forward is, for each output position ``o`` and window tap ``t``,
``y[n, o, f] = sum over c of xp[n, o * s + t * d, c] * W[o, t, c, f]`` (plus the bias), where
``xp`` is the padded input. So the gradients are the convolution's, position by position:

* ``dL/dW[o, t, c, f] = sum over n of xp[n, o * s + t * d, c] * g[n, o, f]``: an outer product
  of the input patch and the output gradient at each position (no sum over positions, since no
  weight is shared across them).
* ``dL/dxp[n, o * s + t * d, c] += sum over f of g[n, o, f] * W[o, t, c, f]``: each tap sends
  the output gradient back through its own weights to the pixel it read. With one kernel for all
  positions this scatter is exactly the flipped-kernel convolution of :mod:`.conv`; with a kernel
  per position there is nothing to flip, so it stays a scatter.

Layouts as in :mod:`jaxconv.ops`: x (N, *spatial, C), kernel (*out_spatial, *window, C, F).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from jaxconv import names, shapes
from jaxconv.ops._checks import canonical_precision, common_dtype, float_array
from jaxconv.ops.backprop._common import check_grad_out, pad_like_forward, tap_slices, unpad
from jaxconv.ops.local import local_geometry
from jaxconv.validate import check_bool


@functools.partial(jax.jit, static_argnames=("geom", "precision"))
def local_grads(x, kernel, g, geom: shapes.Geometry, precision):
    """``(grad_x, grad_kernel, grad_bias per position)`` of a kernel per position, compiled once
    per geometry; :mod:`.regional` calls it with its kernels looked up per position."""
    n, channels, features = x.shape[0], x.shape[-1], kernel.shape[-1]
    positions, ndim = geom.num_positions, geom.ndim
    xp = pad_like_forward(x, geom)  # (N, *padded_spatial, C)
    g_rows = g.reshape(n, positions, features)  # (N, P, F)
    grad_xp = jnp.zeros_like(xp)
    kernel_taps = []
    for tap, index in tap_slices(geom):
        seen = xp[index].reshape(n, positions, channels)  # (N, P, C): what this tap read
        # Weight gradient at this tap: outer product of input and output gradient, per position.
        kernel_taps.append(jnp.einsum("npc,npf->pcf", seen, g_rows, precision=precision))
        # Input gradient: through this tap's weights back to the pixels it read.
        w_tap = kernel[(slice(None),) * ndim + tap].reshape(positions, channels, features)
        back = jnp.einsum("npf,pcf->npc", g_rows, w_tap, precision=precision)  # (N, P, C)
        grad_xp = grad_xp.at[index].add(back.reshape(n, *geom.out_spatial, channels))
    grad_kernel = jnp.stack(kernel_taps, axis=1)  # (P, K, C, F)
    grad_kernel = grad_kernel.reshape(*geom.out_spatial, *geom.window, channels, features)
    return unpad(grad_xp, geom), grad_kernel, g.sum(axis=0)


def locally_connected_backward(x, kernel, grad_out, *, strides=1, padding=names.LOCAL_PADDING, dilation=1,
                               precision=None, bias_per_position=True):
    """Gradients of :func:`jaxconv.ops.locally_connected` from the output gradient, by hand.

    Args:
        x: input of shape (N, *spatial, C), 1-3 spatial dims.
        kernel: weights of shape (*out_spatial, *window, C, F).
        grad_out: ``dL/dy`` of shape (N, *out_spatial, F), the shape of the forward output.
        strides: as :func:`jaxconv.ops.locally_connected`.
        padding: as :func:`jaxconv.ops.locally_connected` (default
            ``names.LOCAL_PADDING``, "VALID"), incl. "CIRCULAR".
        dilation: as :func:`jaxconv.ops.locally_connected`.
        precision: ``lax.Precision`` or its name.
        bias_per_position: which bias the layer has, hence the shape of ``grad_bias``: True for
            one bias per position (*out_spatial, F), the op's usual bias (as Flax and Keras);
            False for one bias shared by all positions (F,).

    Returns:
        ``(grad_x, grad_kernel, grad_bias)`` of shapes (N, *spatial, C), (*out_spatial, *window,
        C, F) and (*out_spatial, F) or (F,).

    Example:
        >>> x, k = jnp.ones((1, 5, 2)), jnp.ones((3, 3, 2, 4))
        >>> gx, gk, gb = locally_connected_backward(x, k, jnp.ones((1, 3, 4)))
        >>> gx.shape, gk.shape, gb.shape
        ((1, 5, 2), (3, 3, 2, 4), (3, 4))
    """
    fn = "locally_connected_backward"
    x, kernel = float_array(fn, "x", x), float_array(fn, "kernel", kernel)
    geom = local_geometry(fn, x, kernel, strides, padding, dilation)
    g = check_grad_out(fn, grad_out, (x.shape[0], *geom.out_spatial, kernel.shape[-1]))
    bias_per_position = check_bool(fn, "bias_per_position", bias_per_position)
    precision = canonical_precision(fn, precision)
    dtype = common_dtype(x, kernel, g)
    grad_x, grad_kernel, grad_bias = local_grads(
        x.astype(dtype), kernel.astype(dtype), g.astype(dtype), geom, precision)
    if not bias_per_position:
        grad_bias = grad_bias.reshape(-1, grad_bias.shape[-1]).sum(axis=0)  # shared: sum positions
    return grad_x.astype(x.dtype), grad_kernel.astype(kernel.dtype), grad_bias
