"""Flax linen wrappers: each module creates ``kernel``/``bias`` and calls the op in :mod:`jaxconv.ops`.

Parameter layouts are the ops' layouts. Inputs are promoted to ``dtype`` (or to the common dtype
of input and parameters), as Flax does, so integer inputs are cast here, unlike in the ops.

The modules share their attributes, documented once here (names and meanings as in Flax):

- ``features``: output features ``F``.
- ``kernel_size``: the window; an int applies to every spatial dim of the input.
- ``strides``, ``dilation``: an int or one per spatial dim.
- ``padding``: ``"SAME"`` (``Conv``'s default), ``"VALID"`` (``LocallyConnected``'s default, as
  Keras), ``"CIRCULAR"``, an int, or one ``(low, high)`` pair per spatial dim.
- ``groups`` (``Conv`` only): channel groups; ``C`` gives a depthwise convolution.
- ``use_bias``: add a bias, ``(F,)`` for ``Dense``/``Conv``, ``(*out_spatial, F)`` for
  ``LocallyConnected``.
- ``dtype``: the computation dtype (None: promote input and parameters); ``param_dtype``: the
  parameters' dtype (float32).
- ``precision``: ``lax.Precision`` or its name, passed to the op.
- ``kernel_init``, ``bias_init``: initialisers ``(key, shape, dtype) -> array``; the
  locally-connected default counts ``prod(window) * C`` as fan-in, not the positions
  (:mod:`jaxconv.initializers`).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from flax import linen as nn
from flax.linen.dtypes import promote_dtype

from jaxconv import ops, shapes
from jaxconv._modules import conv_param_shapes, local_param_shapes, spatial_dims
from jaxconv.initializers import default_bias_init, default_kernel_init, local_kernel_init

__all__ = ["Conv", "Dense", "LocallyConnected", "RegionalConv"]

Initializer = Any


class Dense(nn.Module):
    """Fully-connected layer. Example: ``Dense(10).init(key, jnp.ones((1, 64)))`` makes kernel (64, 10)."""

    features: int
    use_bias: bool = True
    dtype: Any = None
    param_dtype: Any = jnp.float32
    precision: Any = None
    kernel_init: Initializer = default_kernel_init
    bias_init: Initializer = default_bias_init

    @nn.compact
    def __call__(self, x):
        """x: input of shape (..., in_features); returns (..., features)."""
        in_features = jnp.shape(x)[-1] if jnp.ndim(x) else 0
        (kernel_shape, bias_shape) = conv_param_shapes("Dense", in_features, self.features, (), 0, 1)
        kernel = self.param("kernel", self.kernel_init, kernel_shape, self.param_dtype)
        bias = self.param("bias", self.bias_init, bias_shape, self.param_dtype) if self.use_bias else None
        x, kernel, bias = promote_dtype(x, kernel, bias, dtype=self.dtype)
        return ops.dense(x, kernel, bias, precision=self.precision)


class Conv(nn.Module):
    """Convolution with one kernel shared by all positions; kernel (*window, C // groups, F).

    An int ``kernel_size`` applies to every spatial dim of the input.

    Example:
        >>> Conv(8, 3).init(jax.random.key(0), jnp.ones((1, 28, 28, 1)))["params"]["kernel"].shape
        (3, 3, 1, 8)
    """

    features: int
    kernel_size: Any
    strides: Any = 1
    padding: Any = "SAME"
    dilation: Any = 1
    groups: int = 1
    use_bias: bool = True
    dtype: Any = None
    param_dtype: Any = jnp.float32
    precision: Any = None
    kernel_init: Initializer = default_kernel_init
    bias_init: Initializer = default_bias_init

    @nn.compact
    def __call__(self, x):
        """x: input of shape (N, *spatial, C); returns (N, *out_spatial, features)."""
        ndim = spatial_dims("Conv", self.kernel_size, jnp.ndim(x))
        kernel_shape, bias_shape = conv_param_shapes(
            "Conv", jnp.shape(x)[-1], self.features, self.kernel_size, ndim, self.groups)
        kernel = self.param("kernel", self.kernel_init, kernel_shape, self.param_dtype)
        bias = self.param("bias", self.bias_init, bias_shape, self.param_dtype) if self.use_bias else None
        x, kernel, bias = promote_dtype(x, kernel, bias, dtype=self.dtype)
        return ops.conv(x, kernel, bias, strides=self.strides, padding=self.padding,
                        dilation=self.dilation, groups=self.groups, precision=self.precision)


class LocallyConnected(nn.Module):
    """Locally-connected layer: a conv kernel per output position, kernel (*out, *window, C, F).

    The number of positions comes from the first input's spatial shape; the bias has one value per
    position and feature, ``(*out_spatial, F)``, as Flax's ``ConvLocal`` and Keras.

    Example:
        >>> LocallyConnected(4, 3).init(jax.random.key(0), jnp.ones((1, 8, 8, 1)))["params"]["kernel"].shape
        (6, 6, 3, 3, 1, 4)
    """

    features: int
    kernel_size: Any
    strides: Any = 1
    padding: Any = "VALID"
    dilation: Any = 1
    use_bias: bool = True
    dtype: Any = None
    param_dtype: Any = jnp.float32
    precision: Any = None
    kernel_init: Initializer = local_kernel_init
    bias_init: Initializer = default_bias_init

    @nn.compact
    def __call__(self, x):
        """x: input of shape (N, *spatial, C); returns (N, *out_spatial, features)."""
        ndim = spatial_dims("LocallyConnected", self.kernel_size, jnp.ndim(x))
        kernel_shape, bias_shape = local_param_shapes(
            "LocallyConnected", jnp.shape(x)[-1], self.features, self.kernel_size,
            jnp.shape(x)[1:1 + ndim], self.strides, self.padding, self.dilation)
        kernel = self.param("kernel", self.kernel_init, kernel_shape, self.param_dtype)
        bias = self.param("bias", self.bias_init, bias_shape, self.param_dtype) if self.use_bias else None
        x, kernel, bias = promote_dtype(x, kernel, bias, dtype=self.dtype)
        return ops.locally_connected(x, kernel, bias, strides=self.strides, padding=self.padding,
                                     dilation=self.dilation, precision=self.precision)


class RegionalConv(nn.Module):
    """Regional convolution: one kernel per region of the output, kernel (*regions, *window, C, F).

    The output positions are split into ``regions`` blocks per dim (as ``numpy.array_split``) and
    the positions of a block share a kernel (:func:`jaxconv.regional_conv`): ``regions=1`` is a
    convolution, one region per position a locally-connected layer. The bias is ``(*regions, F)``.
    ``regions`` must be at most the output size per dim (the first input fixes that size).

    Example:
        >>> RegionalConv(4, 3, regions=2).init(jax.random.key(0), jnp.ones((1, 8, 8, 1)))["params"]["kernel"].shape
        (2, 2, 3, 3, 1, 4)
    """

    features: int
    kernel_size: Any
    regions: Any
    strides: Any = 1
    padding: Any = "VALID"
    kernel_dilation: Any = 1
    use_bias: bool = True
    dtype: Any = None
    param_dtype: Any = jnp.float32
    precision: Any = None
    kernel_init: Initializer = local_kernel_init
    bias_init: Initializer = default_bias_init
    implementation: str = "auto"

    @nn.compact
    def __call__(self, x):
        """x: input of shape (N, *spatial, C); returns (N, *out_spatial, features)."""
        fn = "RegionalConv"
        ndim = spatial_dims(fn, self.kernel_size, jnp.ndim(x))
        features = shapes.check_features(fn, "features", self.features)
        geom = shapes.geometry(fn, jnp.shape(x)[1:1 + ndim], self.kernel_size,
                               strides=self.strides, padding=self.padding,
                               dilation=self.kernel_dilation)
        regions = shapes.canonical_regions(fn, self.regions, geom.out_spatial)
        kernel_shape = shapes.regional_kernel_shape(regions, geom.window, jnp.shape(x)[-1],
                                                    features)
        kernel = self.param("kernel", self.kernel_init, kernel_shape, self.param_dtype)
        bias = (self.param("bias", self.bias_init, (*regions, features), self.param_dtype)
                if self.use_bias else None)
        x, kernel, bias = promote_dtype(x, kernel, bias, dtype=self.dtype)
        return ops.regional_conv(x, kernel, bias, regions=regions, strides=self.strides,
                                 padding=self.padding, dilation=self.kernel_dilation,
                                 precision=self.precision, implementation=self.implementation)
