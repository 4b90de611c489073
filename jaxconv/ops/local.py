"""The locally-connected layer as a pure, jit-able function, and Flax ``ConvLocal``'s layout.

A locally-connected kernel is ``(*out_spatial, *window, C, F)``: one conv kernel per output
position, so tiling a conv kernel over the positions gives exactly :func:`jaxconv.ops.conv`.
How it is computed (patches, taps, reshape) is :mod:`jaxconv.ops._local_impl`'s; the choice is
public here (:func:`choose_implementation`, :data:`IMPLEMENTATIONS`).
"""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp
from jax import lax

from jaxconv import names, shapes
from jaxconv.ops._checks import (
    bias_array,
    canonical_dtype,
    canonical_precision,
    check_channels,
    common_dtype,
    float_array,
    spatial_rank,
)
from jaxconv.ops._local_impl import (
    IMPLEMENTATIONS,
    canonical_implementation,
    choose_implementation,
    local_apply,
    tiles_exactly,
)
from jaxconv.ops.conv import add_bias
from jaxconv.validate import check_int

__all__ = ["IMPLEMENTATIONS", "canonical_implementation", "choose_implementation",
           "from_flax_conv_local", "local_geometry", "locally_connected", "tiles_exactly",
           "to_flax_conv_local"]


def _operand(fn: str, name: str, value):
    return float_array(fn, name, value, complex_ok=True)


def local_geometry(fn: str, x, kernel, strides, padding, dilation, input_dilation=1, *,
                   negative_padding: bool = False) -> shapes.Geometry:
    """Checks a locally-connected call's shapes and returns its geometry (the op crops for a
    negative padding width, ``negative_padding=True``; the hand-written backward pass does not)."""
    ndim = spatial_rank(fn, x, max_ndim=None)
    if kernel.ndim != 2 * ndim + 2:
        raise ValueError(f"{fn}: a {ndim}-D locally-connected kernel must have shape "
                         f"(*out_spatial, *window, C, F) (rank {2 * ndim + 2}), got kernel shape "
                         f"{tuple(kernel.shape)} for input shape {tuple(x.shape)}.")
    check_channels(fn, x, kernel)
    if kernel.shape[-2] != x.shape[-1]:
        raise ValueError(f"{fn}: input has {x.shape[-1]} channels but kernel expects "
                         f"{kernel.shape[-2]} (kernel shape {tuple(kernel.shape)}).")
    geom = shapes.geometry(fn, x.shape[1:-1], kernel.shape[ndim:2 * ndim], strides=strides,
                           padding=padding, dilation=dilation, input_dilation=input_dilation,
                           padding_modes=shapes.CONV_PADDING_MODES,
                           negative_padding=negative_padding)
    if tuple(kernel.shape[:ndim]) != geom.out_spatial:
        raise ValueError(f"{fn}: kernel has positions {tuple(kernel.shape[:ndim])} but the input "
                         f"gives output shape {geom.out_spatial} (input {geom.in_spatial}, window "
                         f"{geom.window}, strides {geom.strides}, dilation {geom.dilation}, "
                         f"padding {padding!r}).")
    return geom


def locally_connected(x, kernel, bias=None, *, strides=1, padding=names.LOCAL_PADDING, dilation=1,
                      input_dilation=1, precision=None, preferred_element_type=None,
                      implementation="auto"):
    """Locally-connected layer: a convolution whose kernel differs at every output position.

    Args:
        x: input of shape (N, *spatial, C), one or more spatial dims, floating point or complex.
        kernel: weights of shape (*out_spatial, *window, C, F); ``out_spatial`` must be the output
            shape that ``x``, the window, strides, padding and dilation give.
        bias: optional bias of shape (*out_spatial, F) (one per position, as Flax and Keras) or (F,).
        strides: int or one int per spatial dim.
        padding: default ``names.LOCAL_PADDING`` ("VALID", as Keras); "SAME", "CIRCULAR", "REFLECT", "CAUSAL", an int,
            or one int or (low, high) pair per spatial dim, negative widths cropping (as :func:`conv`).
        dilation: spacing between kernel taps; int or one per spatial dim.
        input_dilation: ``d - 1`` zeros between input values before padding, as :func:`conv`.
        precision: ``lax.Precision`` or its name.
        preferred_element_type: dtype to compute in and return (None: the operands' dtype).
        implementation: how to compute it, all giving the same result: "auto" (default: picked
            from the static shapes by :func:`jaxconv.ops._local_impl.choose_implementation`),
            "patches" (one matmul per position over a batch-minor patch matrix), "taps" (fused
            shifted multiply-adds, no patch matrix; for few window taps times channels, or few
            features) or "reshape" (windows that tile the input, ``strides == window``: a
            reshape, no copy; never picked by "auto").

    Returns:
        Array of shape (N, *out_spatial, F).

    Example:
        >>> locally_connected(jnp.ones((1, 5, 5, 2)), jnp.ones((3, 3, 3, 3, 2, 4))).shape
        (1, 3, 3, 4)
    """
    fn = "locally_connected"
    x, kernel = _operand(fn, "x", x), _operand(fn, "kernel", kernel)
    geom = local_geometry(fn, x, kernel, strides, padding, dilation, input_dilation,
                          negative_padding=True)
    features = kernel.shape[-1]
    bias = bias_array(fn, bias, ((*geom.out_spatial, features), (features,)), complex_ok=True)
    precision = canonical_precision(fn, precision)
    preferred = canonical_dtype(fn, "preferred_element_type", preferred_element_type)
    dtype = common_dtype(x, kernel, bias) if preferred is None else preferred
    name = canonical_implementation(fn, implementation, geom, x.shape[-1], features)
    x = x.astype(dtype)
    if geom.input_dilation:  # the implementations see the dilated input
        x = lax.pad(x, jnp.zeros((), dtype), ((0, 0, 0), *((0, 0, d - 1) for d in
                                                        geom.input_dilation), (0, 0, 0)))
        geom = dataclasses.replace(geom, in_spatial=geom.dilated_spatial, input_dilation=())
    y = local_apply(name, x, kernel.astype(dtype), geom, precision)
    return add_bias(y, bias)


def to_flax_conv_local(kernel):
    """Converts a kernel (*out_spatial, *window, C, F) to Flax ``ConvLocal``'s layout.

    Flax fuses the window and channel axes into one of size ``C * prod(window)``, ordered
    ``(C, *window)`` (channel-major, as ``lax.conv_general_dilated_patches`` lays out patches).

    Returns:
        Array of shape (*out_spatial, C * prod(window), F).
    """
    fn = "to_flax_conv_local"
    kernel = _operand(fn, "kernel", kernel)
    if kernel.ndim < 4 or kernel.ndim % 2:
        raise ValueError(f"{fn}: `kernel` must have shape (*out_spatial, *window, C, F) with one or "
                         f"more spatial dims (even rank >= 4), got shape {tuple(kernel.shape)}.")
    ndim = (kernel.ndim - 2) // 2
    order = (*range(ndim), 2 * ndim, *range(ndim, 2 * ndim), 2 * ndim + 1)
    fused = kernel.shape[-2] * math.prod(kernel.shape[ndim:2 * ndim])
    return kernel.transpose(order).reshape(*kernel.shape[:ndim], fused, kernel.shape[-1])


def from_flax_conv_local(kernel, in_features, kernel_size):
    """Converts a Flax ``ConvLocal`` kernel (*out_spatial, C * prod(window), F) to our layout.

    Args:
        kernel: Flax kernel, fused axis ordered ``(C, *window)``.
        in_features: the number of input channels ``C``.
        kernel_size: the window, an int or one int per spatial dim.

    Returns:
        Array of shape (*out_spatial, *window, C, F).
    """
    fn = "from_flax_conv_local"
    kernel = _operand(fn, "kernel", kernel)
    if kernel.ndim < 3:
        raise ValueError(f"{fn}: `kernel` must have shape (*out_spatial, C * prod(window), F) with "
                         f"one or more spatial dims, got shape {tuple(kernel.shape)}.")
    ndim = kernel.ndim - 2
    window = shapes.canonical_ints(fn, "kernel_size", kernel_size, ndim)
    in_features = check_int(fn, "in_features", in_features)
    if kernel.shape[-2] != in_features * math.prod(window):
        raise ValueError(f"{fn}: fused axis has size {kernel.shape[-2]} but in_features * "
                         f"prod(kernel_size) = {in_features} * {math.prod(window)} = "
                         f"{in_features * math.prod(window)}.")
    out = kernel.shape[:ndim]
    split = kernel.reshape(*out, in_features, *window, kernel.shape[-1])
    order = (*range(ndim), *range(ndim + 1, 2 * ndim + 1), ndim, 2 * ndim + 1)
    return split.transpose(order)
