"""Flax NNX layers: ``Linear`` and ``Conv`` are drop-ins for ``flax.nnx.Linear``/``Conv``.

Parameters are created eagerly, so sizes are given up front, and every setting is checked at
construction with jaxconv's errors. ``Linear`` and ``Conv`` take Flax NNX's arguments in its order
(everything after ``strides`` keyword-only), with its defaults and parameter shapes, including
``kernel_metadata``/``bias_metadata`` (e.g. sharding annotations), ``preferred_element_type`` and
the call's ``out_sharding``; the arguments mean what :mod:`jaxconv.layers.linen` documents. An int
``kernel_size`` is a 1-D window, as in Flax and :mod:`jaxconv.layers.linen`.

NNX has no ``ConvLocal``; :class:`ConvLocal` here is linen's with NNX's constructor, and
:class:`LocallyConnected` is jaxconv's layer (readable layout, ``names.LOCAL_PADDING``). Both take
``input_size``, the input's spatial shape, which fixes the number of positions.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import jax.numpy as jnp
from flax import nnx
from flax.nnx.nn import dtypes
from jax import lax

from jaxconv import names, ops, shapes
from jaxconv.layers import _common as m
from jaxconv.layers.initializers import default_bias_init, default_kernel_init, local_kernel_init
from jaxconv.ops import regional
from jaxconv.ops.local import canonical_implementation
from jaxconv.validate import check_choice, check_int, check_params_fit

__all__ = ["Conv", "ConvLocal", "Linear", "LocallyConnected", "RegionalConv"]

_NONE = MappingProxyType({})


def _no_bias():
    """What Flax's own layers store without a bias: ``nnx.data(None)`` where Flax has it (a None
    marked as data, as flax 0.12 asks), ``nnx.Param(None)`` before (Flax 0.10's own choice), so
    that the state holds the same entries as Flax's layer."""
    data = getattr(nnx, "data", None)
    return data(None) if data is not None else nnx.Param(None)


class _Layer(nnx.Module):
    """Creates ``kernel`` and (optionally) ``bias`` params, drawing keys as Flax does."""

    if TYPE_CHECKING:  # set by each layer's __init__ (declared for the checker alone)
        in_features: Any
        out_features: Any
        use_bias: Any
        mask: Any
        dtype: Any
        param_dtype: Any
        promote_dtype: Any

    def _make_params(self, kernel_shape, bias_shape, *, use_bias, kernel_init, bias_init, rngs,
                     kernel_metadata, bias_metadata):
        # Refused with the bytes before the initialisers allocate anything.
        use_bias = m.bias_flag(type(self).__name__, use_bias)
        check_params_fit(type(self).__name__, {"kernel": kernel_shape,
                                               "bias": bias_shape if use_bias else None},
                         self.param_dtype, f"in_features={self.in_features!r}, "
                                           f"out_features={self.out_features!r}")
        self.kernel = nnx.Param(kernel_init(rngs.params(), kernel_shape, self.param_dtype),
                                **kernel_metadata)
        self.bias = (nnx.Param(bias_init(rngs.params(), bias_shape, self.param_dtype),
                               **bias_metadata) if use_bias else _no_bias())

    def _operands(self, x):
        kernel = self.kernel[...]
        if getattr(self, "mask", None) is not None:
            kernel = kernel * self.mask
        # Without a bias, self.bias is None (or, before nnx.data, a Param holding None).
        bias = self.bias[...] if self.use_bias else None
        return self.promote_dtype((x, kernel, bias), dtype=self.dtype)


class Linear(_Layer):
    """Fully-connected layer, kernel (in_features, out_features); Flax NNX's ``Linear``.

    Example:
        >>> Linear(64, 10, rngs=nnx.Rngs(0)).kernel[...].shape
        (64, 10)
    """

    def __init__(self, in_features: int, out_features: int, *, use_bias: bool = True,
                 dtype: Any = None, param_dtype: Any = jnp.float32, precision: Any = None,
                 kernel_init=default_kernel_init, bias_init=default_bias_init,
                 dot_general=lax.dot_general, promote_dtype=dtypes.promote_dtype,
                 preferred_element_type: Any = None, rngs: nnx.Rngs,
                 kernel_metadata=_NONE, bias_metadata=_NONE):
        fn = "Linear"
        self.in_features = check_int(fn, "in_features", in_features)
        self.out_features = check_int(fn, "out_features", out_features)
        self.use_bias, self.dtype, self.param_dtype = use_bias, dtype, param_dtype
        self.precision, self.dot_general, self.promote_dtype = precision, dot_general, promote_dtype
        self.preferred_element_type = preferred_element_type
        self._make_params((self.in_features, self.out_features), (self.out_features,),
                          use_bias=use_bias, kernel_init=kernel_init, bias_init=bias_init,
                          rngs=m.rngs(fn, rngs), kernel_metadata=kernel_metadata,
                          bias_metadata=bias_metadata)

    def __call__(self, inputs, out_sharding=None):
        """inputs: shape (..., in_features); returns (..., out_features)."""
        x, kernel, bias = self._operands(inputs)
        if self.dot_general is not lax.dot_general:
            kw = {} if self.preferred_element_type is None else {
                "preferred_element_type": self.preferred_element_type}
            return m.custom_dense(self.dot_general, x, kernel, bias, self.precision,
                                  out_sharding=out_sharding, **kw)
        return ops.dense(x, kernel, bias, precision=self.precision, out_sharding=out_sharding,
                         preferred_element_type=self.preferred_element_type)


class _Windowed(_Layer):
    """Stores and checks the window settings shared by the conv and locally-connected layers."""

    def _settings(self, fn, in_features, out_features, kernel_size, strides, padding,
                  input_dilation, kernel_dilation, use_bias, mask, dtype, param_dtype, precision,
                  promote_dtype, preferred_element_type):
        self.in_features = check_int(fn, "in_features", in_features)
        self.out_features = check_int(fn, "out_features", out_features)
        self.kernel_size = m.window(fn, kernel_size)
        m.settings(fn, len(self.kernel_size), strides, padding, input_dilation, kernel_dilation)
        # A 1-D array is kept as the tuple of its ints: an array attribute would be module state
        # (Flax's NNX Conv keeps it so, and then cannot trace its strides under jax.jit).
        strides, input_dilation, kernel_dilation = (
            shapes.as_sequence(v) for v in (strides, input_dilation, kernel_dilation))
        self.strides, self.padding = strides, padding
        self.input_dilation, self.kernel_dilation = input_dilation, kernel_dilation
        self.use_bias, self.mask, self.dtype, self.param_dtype = use_bias, mask, dtype, param_dtype
        self.precision, self.promote_dtype = precision, promote_dtype
        self.preferred_element_type = preferred_element_type

    def _geometry(self, fn, in_spatial):
        return m.geometry(fn, in_spatial, self.kernel_size, self.strides, self.padding,
                          self.input_dilation, self.kernel_dilation)


class Conv(_Windowed):
    """Convolution, kernel (*kernel_size, in_features // feature_group_count, out_features).

    Flax NNX's ``Conv``. Example:
        >>> Conv(1, 8, (3, 3), rngs=nnx.Rngs(0)).kernel[...].shape
        (3, 3, 1, 8)
    """

    def __init__(self, in_features: int, out_features: int, kernel_size, strides=1, *,
                 padding=names.CONV_PADDING, input_dilation=1, kernel_dilation=1,
                 feature_group_count: int = 1, use_bias: bool = True, mask=None,
                 dtype: Any = None, param_dtype: Any = jnp.float32, precision: Any = None,
                 kernel_init=default_kernel_init, bias_init=default_bias_init,
                 conv_general_dilated=lax.conv_general_dilated,
                 promote_dtype=dtypes.promote_dtype, preferred_element_type: Any = None,
                 rngs: nnx.Rngs, kernel_metadata=_NONE, bias_metadata=_NONE):
        fn = "Conv"
        self._settings(fn, in_features, out_features, kernel_size, strides, padding,
                       input_dilation, kernel_dilation, use_bias, mask, dtype, param_dtype,
                       precision, promote_dtype, preferred_element_type)
        self.feature_group_count = m.groups(fn, feature_group_count, self.in_features,
                                            self.out_features)
        self.conv_general_dilated = conv_general_dilated
        self.kernel_shape = (*self.kernel_size, self.in_features // self.feature_group_count,
                             self.out_features)
        m.check_mask(fn, mask, self.kernel_shape)
        self._make_params(self.kernel_shape, (self.out_features,), use_bias=use_bias,
                          kernel_init=kernel_init, bias_init=bias_init, rngs=m.rngs(fn, rngs),
                          kernel_metadata=kernel_metadata, bias_metadata=bias_metadata)

    def __call__(self, inputs, out_sharding=None):
        """inputs: shape (*batch, *spatial, in_features); returns (*batch, *out_spatial, out_features)."""
        x, batch = m.flatten_batch("Conv", inputs, len(self.kernel_size))
        geom = self._geometry("Conv", x.shape[1:-1])
        x, kernel, bias = self._operands(x)
        kw = {} if self.preferred_element_type is None else {
            "preferred_element_type": self.preferred_element_type}
        if self.conv_general_dilated is not lax.conv_general_dilated:
            y = m.custom_conv(self.conv_general_dilated, x, kernel, bias, geom,
                              self.feature_group_count, self.precision,
                              out_sharding=out_sharding, **kw)
        else:
            y = ops.conv(x, kernel, bias, groups=self.feature_group_count,
                         precision=self.precision, out_sharding=out_sharding, **kw,
                         **m.op_settings(geom, self.padding))
        return m.restore_batch(y, batch)


class _Local(_Windowed):
    def _local(self, fn, in_features, out_features, kernel_size, input_size, implementation,
               rngs):
        self.input_size = m.input_size(fn, input_size, len(self.kernel_size))
        self.geometry = self._geometry(fn, self.input_size)
        canonical_implementation(fn, implementation, self.geometry, self.in_features,
                                 self.out_features)
        self.implementation = implementation
        return m.rngs(fn, rngs)

    def __call__(self, inputs):
        """inputs: shape (*batch, *input_size, in_features); returns (*batch, *out, out_features)."""
        fn = type(self).__name__
        x, batch = m.flatten_batch(fn, inputs, len(self.kernel_size))
        if tuple(x.shape[1:-1]) != self.input_size:
            raise ValueError(f"{fn}: input spatial shape {tuple(x.shape[1:-1])} differs from the "
                             f"input_size {self.input_size} the layer was built for (input shape "
                             f"{tuple(jnp.shape(inputs))}).")
        x, kernel, bias = self._operands(x)
        if isinstance(self, ConvLocal):
            kernel = ops.from_flax_conv_local(kernel, self.in_features, self.kernel_size)
        y = ops.locally_connected(x, kernel, bias, precision=self.precision,
                                  preferred_element_type=self.preferred_element_type,
                                  implementation=self.implementation,
                                  **m.op_settings(self.geometry, self.padding))
        return m.restore_batch(y, batch)


class ConvLocal(_Local):
    """Flax linen's ``ConvLocal`` for NNX: kernel (*out_spatial, C * prod(window), F), default SAME.

    Example:
        >>> ConvLocal(3, 4, (3,), input_size=(8,), padding="VALID", rngs=nnx.Rngs(0)).kernel[...].shape
        (6, 9, 4)
    """

    def __init__(self, in_features: int, out_features: int, kernel_size, strides=1, *,
                 input_size, padding=names.CONV_PADDING, input_dilation=1, kernel_dilation=1,
                 use_bias: bool = True, mask=None, dtype: Any = None,
                 param_dtype: Any = jnp.float32, precision: Any = None,
                 kernel_init=default_kernel_init, bias_init=default_bias_init,
                 promote_dtype=dtypes.promote_dtype, preferred_element_type: Any = None,
                 implementation: str = "auto", rngs: nnx.Rngs, kernel_metadata=_NONE,
                 bias_metadata=_NONE):
        fn = "ConvLocal"
        self._settings(fn, in_features, out_features, kernel_size, strides, padding,
                       input_dilation, kernel_dilation, use_bias, mask, dtype, param_dtype,
                       precision, promote_dtype, preferred_element_type)
        rngs = self._local(fn, in_features, out_features, kernel_size, input_size,
                           implementation, rngs)
        self.kernel_shape, bias_shape = m.local_kernel_shapes(self.geometry, self.in_features,
                                                              self.out_features)
        m.check_mask(fn, mask, self.kernel_shape)
        self._make_params(self.kernel_shape, bias_shape, use_bias=use_bias,
                          kernel_init=kernel_init, bias_init=bias_init, rngs=rngs,
                          kernel_metadata=kernel_metadata, bias_metadata=bias_metadata)


class LocallyConnected(_Local):
    """jaxconv's locally-connected layer, kernel (*out_spatial, *window, in_features, out_features).

    Example:
        >>> LocallyConnected(1, 4, (3, 3), input_size=(8, 8), rngs=nnx.Rngs(0)).kernel[...].shape
        (6, 6, 3, 3, 1, 4)
    """

    def __init__(self, in_features: int, out_features: int, kernel_size, strides=1, *,
                 input_size, padding=names.LOCAL_PADDING, input_dilation=1, kernel_dilation=1,
                 use_bias: bool = True, dtype: Any = None, param_dtype: Any = jnp.float32,
                 precision: Any = None, kernel_init=local_kernel_init,
                 bias_init=default_bias_init, preferred_element_type: Any = None,
                 implementation: str = "auto", rngs: nnx.Rngs, kernel_metadata=_NONE,
                 bias_metadata=_NONE):
        fn = "LocallyConnected"
        self._settings(fn, in_features, out_features, kernel_size, strides, padding,
                       input_dilation, kernel_dilation, use_bias, None, dtype, param_dtype,
                       precision, dtypes.promote_dtype, preferred_element_type)
        rngs = self._local(fn, in_features, out_features, kernel_size, input_size,
                           implementation, rngs)
        geom = self.geometry
        self._make_params((*geom.out_spatial, *geom.window, self.in_features, self.out_features),
                          (*geom.out_spatial, self.out_features), use_bias=use_bias,
                          kernel_init=kernel_init, bias_init=bias_init, rngs=rngs,
                          kernel_metadata=kernel_metadata, bias_metadata=bias_metadata)


class RegionalConv(_Windowed):
    """Regional convolution, kernel (*regions, *window, in_features, out_features).

    One kernel per block of output positions (:func:`jaxconv.regional_conv`, blocks as
    ``numpy.array_split``): ``regions=1`` is a convolution, one region per position the
    locally-connected layer. ``input_size`` (the input's spatial shape) fixes the output size that
    ``regions`` splits; the bias is ``(*regions, out_features)``.

    Example:
        >>> RegionalConv(1, 4, (3, 3), regions=2, input_size=(8, 8), rngs=nnx.Rngs(0)).kernel[...].shape
        (2, 2, 3, 3, 1, 4)
    """

    def __init__(self, in_features: int, out_features: int, kernel_size, strides=1, *,
                 regions, input_size, padding=names.LOCAL_PADDING, kernel_dilation=1, use_bias: bool = True,
                 dtype: Any = None, param_dtype: Any = jnp.float32, precision: Any = None,
                 kernel_init=local_kernel_init, bias_init=default_bias_init,
                 implementation: str = "auto", rngs: nnx.Rngs, kernel_metadata=_NONE,
                 bias_metadata=_NONE):
        fn = "RegionalConv"
        self._settings(fn, in_features, out_features, kernel_size, strides, padding, 1,
                       kernel_dilation, use_bias, None, dtype, param_dtype, precision,
                       dtypes.promote_dtype, None)
        self.input_size = m.input_size(fn, input_size, len(self.kernel_size))
        self.geometry = self._geometry(fn, self.input_size)
        self.regions = shapes.canonical_regions(fn, regions, self.geometry.out_spatial)
        self.implementation = check_choice(fn, "implementation", implementation,
                                           regional.IMPLEMENTATIONS)
        # One example's arrays, at construction (the batch is checked at the call).
        regional.check_sizes(fn, (1, *self.input_size, self.in_features), 4, self.geometry,
                             self.regions, self.out_features, self.padding, self.implementation)
        kernel_shape = shapes.regional_kernel_shape(self.regions, self.geometry.window,
                                                    self.in_features, self.out_features)
        self._make_params(kernel_shape, (*self.regions, self.out_features), use_bias=use_bias,
                          kernel_init=kernel_init, bias_init=bias_init, rngs=m.rngs(fn, rngs),
                          kernel_metadata=kernel_metadata, bias_metadata=bias_metadata)

    def __call__(self, inputs):
        """inputs: shape (*batch, *input_size, in_features); returns (*batch, *out, out_features)."""
        fn = "RegionalConv"
        x, batch = m.flatten_batch(fn, inputs, len(self.kernel_size))
        if tuple(x.shape[1:-1]) != self.input_size:
            raise ValueError(f"{fn}: input spatial shape {tuple(x.shape[1:-1])} differs from the "
                             f"input_size {self.input_size} the layer was built for.")
        regional.check_sizes(fn, x.shape, x.dtype.itemsize, self.geometry, self.regions,
                             self.out_features, self.padding, self.implementation)
        y = ops.regional_conv(*self._operands(x), regions=self.regions,
                              strides=self.geometry.strides, padding=self.padding,
                              dilation=self.geometry.dilation, precision=self.precision,
                              implementation=self.implementation)
        return m.restore_batch(y, batch)
