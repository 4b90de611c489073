"""Dense and convolutional layers (shared weights) as pure, jit-able functions.

Conventions (see :mod:`jaxconv.shapes`): channels-last inputs ``(N, *spatial, C)`` with one or
more spatial dims; conv kernels ``(*window, C // groups, F)``. Every argument is checked before
``lax`` sees it, and a bad one raises a ``ValueError`` or ``TypeError`` that names the function,
the argument and the value.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from jaxconv import names, shapes
from jaxconv.ops import _bias
from jaxconv.ops._checks import (
    bias_array,
    canonical_dtype,
    canonical_precision,
    check_dense,
    common_dtype,
    conv_geometry,
    dimension_numbers,
    float_array,
    sharding_kwargs,
)

__all__ = ["add_bias", "conv", "dense", "dimension_numbers"]


def add_bias(y, bias):
    """Adds ``bias`` (trailing dims of ``y``) with explicit broadcasting (no rank promotion).

    Its gradient for ``bias`` is a product with ones, not a reduction (see :mod:`jaxconv.ops._bias`).
    """
    if bias is None:
        return y
    return _bias.add_bias(y, bias.astype(y.dtype))


def dense(x, kernel, bias=None, *, precision=None, preferred_element_type=None,
          out_sharding=None):
    """Fully-connected layer: ``x @ kernel + bias``.

    Args:
        x: input of shape (..., in_features), floating point or complex.
        kernel: weights of shape (in_features, out_features).
        bias: optional bias of shape (out_features,).
        precision: ``lax.Precision`` or its name, for the matmul.
        preferred_element_type: dtype the product accumulates in and returns (as ``lax.dot``),
            e.g. ``jnp.float32`` for bfloat16 operands; None: the operands' dtype.
        out_sharding: the output's sharding under an explicit mesh, passed to ``lax``.

    Returns:
        Array of shape (..., out_features).

    Example:
        >>> dense(jnp.ones((2, 3)), jnp.ones((3, 4))).shape
        (2, 4)
    """
    fn = "dense"
    x, kernel = _operand(fn, "x", x), _operand(fn, "kernel", kernel)
    check_dense(fn, x, kernel)
    bias = bias_array(fn, bias, ((kernel.shape[1],),), complex_ok=True)
    precision = canonical_precision(fn, precision)
    preferred = canonical_dtype(fn, "preferred_element_type", preferred_element_type)
    dtype = common_dtype(x, kernel, bias)
    y = lax.dot_general(x.astype(dtype), kernel.astype(dtype), (((x.ndim - 1,), (0,)), ((), ())),
                        precision=precision, preferred_element_type=preferred,
                        **sharding_kwargs(fn, "dot_general", out_sharding))
    return add_bias(y, bias)


def _operand(fn: str, name: str, value):
    return float_array(fn, name, value, complex_ok=True)


def _pad_input(x, geom: shapes.Geometry):
    """Applies CIRCULAR/REFLECT padding to ``x`` (N, *spatial, C); returns it and the zero pads."""
    if geom.pad_mode == "constant":
        return x, geom.pads
    return jnp.pad(x, ((0, 0), *geom.pads, (0, 0)), mode=geom.pad_mode), ((0, 0),) * geom.ndim


def conv(x, kernel, bias=None, *, strides=1, padding=names.CONV_PADDING, dilation=1, groups=1,
         input_dilation=1, precision=None, preferred_element_type=None, out_sharding=None):
    """Convolution (cross-correlation, as in every deep-learning library) with shared weights.

    Args:
        x: input of shape (N, *spatial, C), one or more spatial dims, floating point or complex.
        kernel: weights of shape (*window, C // groups, F).
        bias: optional bias of shape (F,).
        strides: int or one int per spatial dim.
        padding: default ``names.CONV_PADDING`` ("SAME"); "VALID", "CIRCULAR" (wrap-around,
            exactly shift-equivariant; a window wider than the input wraps more than once, as
            in Flax), "REFLECT" (mirrored at the edges), "CAUSAL" (1-D: output i sees inputs
            <= i), an int, or one int or (low, high) pair per spatial dim; a negative width
            crops the input, as in ``lax``.
        dilation: spacing between kernel taps (Flax: ``kernel_dilation``); int or one per dim.
        groups: split channels into this many independent groups (``C`` for depthwise; Flax:
            ``feature_group_count``).
        input_dilation: ``d - 1`` zeros between input values before padding (a transposed
            convolution with stride ``d``); int or one per dim. Needs VALID or explicit padding.
        precision: ``lax.Precision`` or its name.
        preferred_element_type: dtype the sums accumulate in and the result has (as ``lax``).
        out_sharding: the output's sharding under an explicit mesh, passed to ``lax``.

    Returns:
        Array of shape (N, *out_spatial, F).

    Example:
        >>> conv(jnp.ones((1, 8, 8, 3)), jnp.ones((3, 3, 3, 4)), strides=2).shape
        (1, 4, 4, 4)
    """
    fn = "conv"
    x, kernel = _operand(fn, "x", x), _operand(fn, "kernel", kernel)
    geom, groups = conv_geometry(fn, x, kernel, strides, padding, dilation, groups, input_dilation,
                                 padding_modes=shapes.CONV_PADDING_MODES, max_ndim=None,
                                 negative_padding=True)
    features = kernel.shape[-1]
    bias = bias_array(fn, bias, ((features,),), complex_ok=True)
    precision = canonical_precision(fn, precision)
    preferred = canonical_dtype(fn, "preferred_element_type", preferred_element_type)
    dtype = common_dtype(x, kernel, bias)
    x, pads = _pad_input(x.astype(dtype), geom)
    y = lax.conv_general_dilated(
        x, kernel.astype(dtype), geom.strides, pads, lhs_dilation=geom.input_dilation or None,
        rhs_dilation=geom.dilation, dimension_numbers=dimension_numbers(geom.ndim),
        feature_group_count=groups, precision=precision, preferred_element_type=preferred,
        **sharding_kwargs(fn, "conv_general_dilated", out_sharding),
    )
    return add_bias(y, bias)
