"""Flax linen layers: ``Dense``, ``Conv`` and ``ConvLocal`` are drop-ins for Flax's namesakes.

Each module creates ``kernel``/``bias`` and calls the op in :mod:`jaxconv.ops`. ``Dense``, ``Conv``
and ``ConvLocal`` take every attribute of ``flax.linen.Dense``/``Conv``/``ConvLocal``, in Flax's
order, with Flax's defaults, meanings and parameter shapes, so ``from jaxconv.layers.linen import Conv``
in place of ``from flax.linen import Conv`` changes nothing but speed (``ConvLocal`` runs on
jaxconv's locally-connected implementations; see docs/porting.md). The attributes, documented once
here (as in Flax):

- ``features``: output features ``F``.
- ``kernel_size``: the window; an int ``k`` is a 1-D window ``(k,)`` (Flax's rule), a sequence
  gives one int per spatial dim. Inputs are ``(*batch, *spatial, C)`` with ``len(kernel_size)``
  spatial dims and any number of batch axes (none included).
- ``strides``, ``input_dilation``, ``kernel_dilation``: an int or one per spatial dim (None: 1).
- ``padding``: ``"SAME"``, ``"VALID"``, ``"CIRCULAR"``, ``"REFLECT"``, ``"CAUSAL"`` (1-D), an int,
  or one int or ``(low, high)`` pair per spatial dim.
- ``feature_group_count`` (``Conv``): channel groups; ``C`` gives a depthwise convolution.
- ``use_bias``; ``mask``: multiplies the kernel, same shape as the kernel.
- ``dtype``: the computation dtype (None: promote input and parameters); ``param_dtype``: the
  parameters' dtype (float32); ``promote_dtype``: Flax's promotion function.
- ``precision``: ``lax.Precision`` or its name.
- ``kernel_init``, ``bias_init``: initialisers ``(key, shape, dtype) -> array``.
- ``dot_general``/``dot_general_cls`` (``Dense``), ``conv_general_dilated``/
  ``conv_general_dilated_cls`` (``Conv``): a replacement for the lax primitive (e.g. quantised);
  when given it is called as Flax calls it, instead of jaxconv's op.

``ConvLocal`` stores Flax's layout, kernel ``(*out_spatial, C * prod(window), F)`` fused as
``(C, *window)`` and bias ``(*out_spatial, F)``, so a Flax checkpoint restores into it, and adds
``implementation`` (last, so positional calls are Flax's). jaxconv's own ``LocallyConnected`` keeps
the readable layout ``(*out_spatial, *window, C, F)`` (:func:`jaxconv.ops.to_flax_conv_local` and
:func:`~jaxconv.ops.from_flax_conv_local` convert), defaults to ``names.LOCAL_PADDING``
(``"VALID"``, as Keras), and counts fan-in per position in its initialiser (:mod:`jaxconv.layers.initializers`).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from flax import linen as nn
from flax.linen.dtypes import promote_dtype

from jaxconv import names, ops, shapes
from jaxconv.layers import _common as m
from jaxconv.layers.initializers import default_bias_init, default_kernel_init, local_kernel_init
from jaxconv.ops import regional
from jaxconv.validate import check_int

__all__ = ["Conv", "ConvLocal", "Dense", "LocallyConnected", "RegionalConv"]

Initializer = Any


def _in_features(fn: str, x) -> int:
    if jnp.ndim(x) < 1:
        raise ValueError(f"{fn}: input must have shape (..., in_features), got a scalar.")
    return jnp.shape(x)[-1]


class Dense(nn.Module):
    """Fully-connected layer, kernel (in_features, features); Flax's ``Dense``.

    Example:
        >>> Dense(10).init(jax.random.key(0), jnp.ones((1, 64)))["params"]["kernel"].shape
        (64, 10)
    """

    features: int
    use_bias: bool = True
    dtype: Any = None
    param_dtype: Any = jnp.float32
    precision: Any = None
    kernel_init: Initializer = default_kernel_init
    bias_init: Initializer = default_bias_init
    promote_dtype: Any = promote_dtype
    dot_general: Any = None
    dot_general_cls: Any = None

    @nn.compact
    def __call__(self, inputs):
        """inputs: shape (..., in_features); returns (..., features)."""
        shape = (_in_features("Dense", inputs), check_int("Dense", "features", self.features))
        kernel, bias = m.linen_params(self, "Dense", shape, shape[1:], jnp.shape(inputs),
                                      use_bias=self.use_bias)
        x, kernel, bias = self.promote_dtype(inputs, kernel, bias, dtype=self.dtype)
        custom = self.dot_general_cls() if self.dot_general_cls is not None else self.dot_general
        if custom is not None:
            return m.custom_dense(custom, x, kernel, bias, self.precision)
        return ops.dense(x, kernel, bias, precision=self.precision)


class _Windowed(nn.Module):
    """The attributes of Flax's ``_Conv``, in its order (documented in the module docstring)."""

    features: int
    kernel_size: Any
    strides: Any = 1
    padding: Any = names.CONV_PADDING  # Flax's default ("SAME")
    input_dilation: Any = 1
    kernel_dilation: Any = 1
    feature_group_count: int = 1
    use_bias: bool = True
    mask: Any = None
    dtype: Any = None
    param_dtype: Any = jnp.float32
    precision: Any = None
    kernel_init: Initializer = default_kernel_init
    bias_init: Initializer = default_bias_init
    promote_dtype: Any = promote_dtype

    def _prepare(self, fn, inputs):
        """Flattens the batch axes and checks the settings on this input: (x, batch, geometry)."""
        window = m.window(fn, self.kernel_size)
        x, batch = m.flatten_batch(fn, inputs, len(window))
        check_int(fn, "features", self.features)
        geom = m.geometry(fn, x.shape[1:-1], window, self.strides, self.padding,
                          self.input_dilation, self.kernel_dilation)
        return x, batch, geom

    def _params(self, kernel_shape, bias_shape, inputs_shape=()):
        fn = type(self).__name__
        m.check_mask(fn, self.mask, kernel_shape)
        kernel, bias = m.linen_params(self, fn, kernel_shape, bias_shape, inputs_shape,
                                      use_bias=self.use_bias)
        if self.mask is not None:
            kernel = kernel * self.mask
        return kernel, bias


class Conv(_Windowed):
    """Convolution, kernel (*kernel_size, C // feature_group_count, features); Flax's ``Conv``.

    Example:
        >>> Conv(8, (3, 3)).init(jax.random.key(0), jnp.ones((1, 28, 28, 1)))["params"]["kernel"].shape
        (3, 3, 1, 8)
    """

    conv_general_dilated: Any = None
    conv_general_dilated_cls: Any = None

    @nn.compact
    def __call__(self, inputs):
        """inputs: shape (*batch, *spatial, C); returns (*batch, *out_spatial, features)."""
        x, batch, geom = self._prepare("Conv", inputs)
        groups = m.groups("Conv", self.feature_group_count, x.shape[-1], self.features)
        kernel, bias = self._params((*geom.window, x.shape[-1] // groups, self.features),
                                    (self.features,), jnp.shape(inputs))
        x, kernel, bias = self.promote_dtype(x, kernel, bias, dtype=self.dtype)
        custom = (self.conv_general_dilated_cls() if self.conv_general_dilated_cls is not None
                  else self.conv_general_dilated)
        if custom is not None:
            y = m.custom_conv(custom, x, kernel, bias, geom, groups, self.precision)
        else:
            y = ops.conv(x, kernel, bias, groups=groups, precision=self.precision,
                         **m.op_settings(geom, self.padding))
        return m.restore_batch(y, batch)


class ConvLocal(_Windowed):
    """Locally-connected layer in Flax's layout, kernel (*out_spatial, C * prod(window), F).

    Flax's ``ConvLocal`` (default ``"SAME"``, initialised as Flax does), computed by
    :func:`jaxconv.ops.locally_connected` with ``implementation`` (``"auto"``, ``"patches"``,
    ``"taps"`` or ``"reshape"``).

    Example:
        >>> ConvLocal(4, (3,), padding="VALID").init(jax.random.key(0), jnp.ones((1, 8, 3)))["params"]["kernel"].shape
        (6, 9, 4)
    """

    implementation: str = "auto"

    @nn.compact
    def __call__(self, inputs):
        """inputs: shape (*batch, *spatial, C); returns (*batch, *out_spatial, features)."""
        x, batch, geom = self._prepare("ConvLocal", inputs)
        if self.feature_group_count != 1:
            raise ValueError(f"ConvLocal: `feature_group_count` must be 1 (a locally-connected "
                             f"layer has no groups, as in Flax), got "
                             f"feature_group_count={self.feature_group_count!r}.")
        channels = x.shape[-1]
        kernel, bias = self._params(*m.local_kernel_shapes(geom, channels, self.features),
                                    jnp.shape(inputs))
        x, kernel, bias = self.promote_dtype(x, kernel, bias, dtype=self.dtype)
        kernel = ops.from_flax_conv_local(kernel, channels, geom.window)
        y = ops.locally_connected(x, kernel, bias, precision=self.precision,
                                  implementation=self.implementation,
                                  **m.op_settings(geom, self.padding))
        return m.restore_batch(y, batch)


class LocallyConnected(nn.Module):
    """jaxconv's locally-connected layer: a conv kernel per position, kernel (*out, *window, C, F).

    The number of positions comes from the first input's spatial shape; the bias has one value per
    position and feature, ``(*out_spatial, F)``. Unlike :class:`ConvLocal` it defaults to
    ``names.LOCAL_PADDING`` (``"VALID"``, as Keras), keeps the window and channel axes apart, and
    initialises with fan-in ``prod(window) * C``.

    Example:
        >>> LocallyConnected(4, (3, 3)).init(jax.random.key(0), jnp.ones((1, 8, 8, 1)))["params"]["kernel"].shape
        (6, 6, 3, 3, 1, 4)
    """

    features: int
    kernel_size: Any
    strides: Any = 1
    padding: Any = names.LOCAL_PADDING
    input_dilation: Any = 1
    kernel_dilation: Any = 1
    use_bias: bool = True
    dtype: Any = None
    param_dtype: Any = jnp.float32
    precision: Any = None
    kernel_init: Initializer = local_kernel_init
    bias_init: Initializer = default_bias_init
    implementation: str = "auto"

    @nn.compact
    def __call__(self, inputs):
        """inputs: shape (*batch, *spatial, C); returns (*batch, *out_spatial, features)."""
        fn = "LocallyConnected"
        window = m.window(fn, self.kernel_size)
        x, batch = m.flatten_batch(fn, inputs, len(window))
        features = check_int(fn, "features", self.features)
        geom = m.geometry(fn, x.shape[1:-1], window, self.strides, self.padding,
                          self.input_dilation, self.kernel_dilation)
        kernel, bias = m.linen_params(
            self, fn, (*geom.out_spatial, *geom.window, x.shape[-1], features),
            (*geom.out_spatial, features), jnp.shape(inputs), use_bias=self.use_bias)
        x, kernel, bias = promote_dtype(x, kernel, bias, dtype=self.dtype)
        y = ops.locally_connected(x, kernel, bias, precision=self.precision,
                                  implementation=self.implementation,
                                  **m.op_settings(geom, self.padding))
        return m.restore_batch(y, batch)


class RegionalConv(nn.Module):
    """Regional convolution: one kernel per region of the output, kernel (*regions, *window, C, F).

    The output positions are split into ``regions`` blocks per dim (as ``numpy.array_split``) and
    the positions of a block share a kernel (:func:`jaxconv.regional_conv`): ``regions=1`` is a
    convolution, one region per position a locally-connected layer. The bias is ``(*regions, F)``.
    ``regions`` must be at most the output size per dim (the first input fixes that size).

    Example:
        >>> RegionalConv(4, (3, 3), regions=2).init(jax.random.key(0), jnp.ones((1, 8, 8, 1)))["params"]["kernel"].shape
        (2, 2, 3, 3, 1, 4)
    """

    features: int
    kernel_size: Any
    regions: Any
    strides: Any = 1
    padding: Any = names.LOCAL_PADDING
    kernel_dilation: Any = 1
    use_bias: bool = True
    dtype: Any = None
    param_dtype: Any = jnp.float32
    precision: Any = None
    kernel_init: Initializer = local_kernel_init
    bias_init: Initializer = default_bias_init
    implementation: str = "auto"

    @nn.compact
    def __call__(self, inputs):
        """inputs: shape (*batch, *spatial, C); returns (*batch, *out_spatial, features)."""
        fn = "RegionalConv"
        window = m.window(fn, self.kernel_size)
        x, batch = m.flatten_batch(fn, inputs, len(window))
        features = check_int(fn, "features", self.features)
        one = shapes.none_as_one
        geom = shapes.geometry(fn, x.shape[1:-1], window, strides=one(self.strides),
                               padding=self.padding, dilation=one(self.kernel_dilation),
                               dilation_name="kernel_dilation")
        regions = shapes.canonical_regions(fn, self.regions, geom.out_spatial)
        # Before any parameter exists: a huge padding aborts XLA or fills memory (as conv's).
        regional.check_sizes(fn, x.shape, x.dtype.itemsize, geom, regions, features,
                                 self.padding, self.implementation)
        kernel_shape = shapes.regional_kernel_shape(regions, geom.window, x.shape[-1], features)
        kernel, bias = m.linen_params(self, fn, kernel_shape, (*regions, features),
                                      jnp.shape(inputs), use_bias=self.use_bias)
        x, kernel, bias = promote_dtype(x, kernel, bias, dtype=self.dtype)
        y = ops.regional_conv(x, kernel, bias, regions=regions, strides=geom.strides,
                              padding=self.padding, dilation=geom.dilation,
                              precision=self.precision, implementation=self.implementation)
        return m.restore_batch(y, batch)
