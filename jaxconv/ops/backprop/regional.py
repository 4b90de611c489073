"""Hand-written backward pass of the regional convolution (docs/backprop.md, section 3).

The regional layer is the locally-connected layer whose per-position kernel is looked up from its
region: ``W_pos[o] = K[r(o)]``, where ``r(o)`` is the region (``numpy.array_split`` block per dim)
of output position ``o``. The chain rule through that lookup gives:

* ``dL/dx``: the locally-connected input gradient with the looked-up kernels ``W_pos`` (the
  lookup is not differentiated with respect to ``x``).
* ``dL/dK[r] = sum over o with r(o) = r of dL/dW_pos[o]``: the transpose of a lookup is a sum,
  so each region's kernel gradient is the sum of its positions' locally-connected kernel
  gradients (one region: the convolution's sum over all positions; one region per position:
  nothing is summed).
* ``dL/db[r] = sum over n and o with r(o) = r of g[n, o, :]`` (per region), or the sum over all
  positions for a shared bias (F,).

Layouts as in :mod:`jaxconv.ops.regional`: x (N, *spatial, C), kernel (*regions, *window, C, F).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxconv import names, shapes
from jaxconv.ops._checks import canonical_precision, common_dtype, float_array
from jaxconv.ops.backprop._common import check_grad_out
from jaxconv.ops.backprop.local import local_grads
from jaxconv.ops.regional import expand_to_positions, regional_geometry
from jaxconv.validate import check_bool


def region_sum(array, geom: shapes.Geometry, regions):
    """Sums an array over the positions of each region: axes ``0..ndim`` go from
    ``out_spatial`` to ``regions`` (the transpose of :func:`jaxconv.ops.regional.expand_to_positions`)."""
    for axis, (o, r) in enumerate(zip(geom.out_spatial, regions)):
        ids = np.asarray(shapes.region_of_position(o, r), np.int32)
        moved = jnp.moveaxis(array, axis, 0)
        array = jnp.moveaxis(jax.ops.segment_sum(moved, ids, num_segments=r), 0, axis)
    return array


@functools.partial(jax.jit, static_argnames=("geom", "regions", "precision"))
def _regional_grads(x, kernel, g, geom: shapes.Geometry, regions, precision):
    per_position = expand_to_positions(kernel, geom, regions)  # W_pos = K[r(o)]
    grad_x, grad_w_pos, grad_b_pos = local_grads(x, per_position, g, geom, precision)
    return grad_x, region_sum(grad_w_pos, geom, regions), region_sum(grad_b_pos, geom, regions)


def regional_conv_backward(x, kernel, grad_out, *, regions, strides=1, padding=names.LOCAL_PADDING,
                           dilation=1, precision=None, bias_per_region=True):
    """Gradients of :func:`jaxconv.regional_conv` from the output gradient, by hand.

    Args:
        x: input of shape (N, *spatial, C), 1-3 spatial dims.
        kernel: weights of shape (*regions, *window, C, F).
        grad_out: ``dL/dy`` of shape (N, *out_spatial, F), the shape of the forward output.
        regions: as :func:`jaxconv.regional_conv`.
        strides: as :func:`jaxconv.regional_conv`.
        padding: default ``names.LOCAL_PADDING`` ("VALID"); "SAME", "CIRCULAR", an int or (low, high) pairs.
        dilation: as :func:`jaxconv.regional_conv`.
        precision: ``lax.Precision`` or its name.
        bias_per_region: which bias the layer has, hence the shape of ``grad_bias``: True for
            one bias per region (*regions, F); False for one shared bias (F,).

    Returns:
        ``(grad_x, grad_kernel, grad_bias)`` of shapes (N, *spatial, C), (*regions, *window, C,
        F) and (*regions, F) or (F,).

    Example:
        >>> x, k = jnp.ones((1, 6, 2)), jnp.ones((2, 3, 2, 4))
        >>> gx, gk, gb = regional_conv_backward(x, k, jnp.ones((1, 4, 4)), regions=2)
        >>> gx.shape, gk.shape, gb.shape
        ((1, 6, 2), (2, 3, 2, 4), (2, 4))
    """
    fn = "regional_conv_backward"
    x, kernel = float_array(fn, "x", x), float_array(fn, "kernel", kernel)
    # Zero and wrap-around padding only: the backward passes here undo no reflection.
    geom, regions = regional_geometry(fn, x, kernel, strides, padding, dilation, regions,
                                      shapes.PADDING_MODES)
    g = check_grad_out(fn, grad_out, (x.shape[0], *geom.out_spatial, kernel.shape[-1]))
    bias_per_region = check_bool(fn, "bias_per_region", bias_per_region)
    precision = canonical_precision(fn, precision)
    dtype = common_dtype(x, kernel, g)
    grad_x, grad_kernel, grad_bias = _regional_grads(
        x.astype(dtype), kernel.astype(dtype), g.astype(dtype), geom, regions, precision)
    if not bias_per_region:
        grad_bias = grad_bias.reshape(-1, grad_bias.shape[-1]).sum(axis=0)
    return grad_x.astype(x.dtype), grad_kernel.astype(kernel.dtype), grad_bias
