"""Flax NNX wrappers: parameters are created eagerly, so sizes are given up front.

``Conv`` follows Flax NNX: an int ``kernel_size`` means a 1-D window; pass a tuple for 2-D or 3-D.
``LocallyConnected`` is the first locally-connected layer for NNX; its ``input_size`` (the spatial
input shape) fixes the number of positions, and an int ``kernel_size`` applies to every dim of it.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from flax import nnx
from flax.linen.dtypes import promote_dtype

from jaxconv import ops
from jaxconv._modules import conv_param_shapes, local_param_shapes
from jaxconv.initializers import default_bias_init, default_kernel_init, local_kernel_init

__all__ = ["Conv", "Linear", "LocallyConnected"]


class _Layer(nnx.Module):
    """Creates ``kernel`` and (optionally) ``bias`` params; subclasses call the op."""

    def _make_params(self, kernel_shape, bias_shape, *, use_bias, dtype, param_dtype, precision,
                     kernel_init, bias_init, rngs):
        self.kernel = nnx.Param(kernel_init(rngs.params(), kernel_shape, param_dtype))
        self.bias = nnx.Param(bias_init(rngs.params(), bias_shape, param_dtype)) if use_bias else None
        self.dtype, self.precision = dtype, precision

    def _operands(self, x):
        bias = None if self.bias is None else self.bias[...]
        return promote_dtype(x, self.kernel[...], bias, dtype=self.dtype)


class Linear(_Layer):
    """Fully-connected layer, kernel (in_features, out_features).

    Example:
        >>> Linear(64, 10, rngs=nnx.Rngs(0)).kernel[...].shape
        (64, 10)
    """

    def __init__(self, in_features: int, out_features: int, *, use_bias: bool = True,
                 dtype: Any = None, param_dtype: Any = jnp.float32, precision: Any = None,
                 kernel_init=default_kernel_init, bias_init=default_bias_init, rngs: nnx.Rngs):
        kernel_shape, bias_shape = conv_param_shapes("Linear", in_features, out_features, (), 0, 1)
        self._make_params(kernel_shape, bias_shape, use_bias=use_bias, dtype=dtype,
                          param_dtype=param_dtype, precision=precision, kernel_init=kernel_init,
                          bias_init=bias_init, rngs=rngs)

    def __call__(self, x):
        """x: input of shape (..., in_features); returns (..., out_features)."""
        return ops.dense(*self._operands(x), precision=self.precision)


class Conv(_Layer):
    """Convolution, kernel (*window, in_features // groups, out_features).

    Example:
        >>> Conv(1, 8, (3, 3), rngs=nnx.Rngs(0)).kernel[...].shape
        (3, 3, 1, 8)
    """

    def __init__(self, in_features: int, out_features: int, kernel_size, strides=1,
                 padding="SAME", dilation=1, groups: int = 1, *, use_bias: bool = True,
                 dtype: Any = None, param_dtype: Any = jnp.float32, precision: Any = None,
                 kernel_init=default_kernel_init, bias_init=default_bias_init, rngs: nnx.Rngs):
        ndim = 1 if isinstance(kernel_size, int) else len(kernel_size)
        kernel_shape, bias_shape = conv_param_shapes("Conv", in_features, out_features,
                                                     kernel_size, ndim, groups)
        self.strides, self.padding, self.dilation, self.groups = strides, padding, dilation, groups
        self._make_params(kernel_shape, bias_shape, use_bias=use_bias, dtype=dtype,
                          param_dtype=param_dtype, precision=precision, kernel_init=kernel_init,
                          bias_init=bias_init, rngs=rngs)

    def __call__(self, x):
        """x: input of shape (N, *spatial, in_features); returns (N, *out_spatial, out_features)."""
        return ops.conv(*self._operands(x), strides=self.strides, padding=self.padding,
                        dilation=self.dilation, groups=self.groups, precision=self.precision)


class LocallyConnected(_Layer):
    """Locally-connected layer, kernel (*out_spatial, *window, in_features, out_features).

    Example:
        >>> LocallyConnected(1, 4, 3, input_size=(8, 8), rngs=nnx.Rngs(0)).kernel[...].shape
        (6, 6, 3, 3, 1, 4)
    """

    def __init__(self, in_features: int, out_features: int, kernel_size, *, input_size,
                 strides=1, padding="VALID", dilation=1, use_bias: bool = True, dtype: Any = None,
                 param_dtype: Any = jnp.float32, precision: Any = None,
                 kernel_init=local_kernel_init, bias_init=default_bias_init, rngs: nnx.Rngs):
        kernel_shape, bias_shape = local_param_shapes(
            "LocallyConnected", in_features, out_features, kernel_size, tuple(input_size),
            strides, padding, dilation)
        self.strides, self.padding, self.dilation = strides, padding, dilation
        self._make_params(kernel_shape, bias_shape, use_bias=use_bias, dtype=dtype,
                          param_dtype=param_dtype, precision=precision, kernel_init=kernel_init,
                          bias_init=bias_init, rngs=rngs)

    def __call__(self, x):
        """x: input of shape (N, *input_size, in_features); returns (N, *out_spatial, out_features)."""
        return ops.locally_connected(*self._operands(x), strides=self.strides,
                                     padding=self.padding, dilation=self.dilation,
                                     precision=self.precision)
