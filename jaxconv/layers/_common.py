"""Settings and shapes shared by the linen and NNX wrappers (the math lives in :mod:`jaxconv.ops`).

The wrappers follow Flax's conventions, checked here once with jaxconv's errors:

- an int ``kernel_size`` is a 1-D window ``(k,)`` (Flax's rule); a sequence gives one int per
  spatial dim, and the input's spatial rank is ``len(kernel_size)``;
- ``strides``, ``input_dilation`` and ``kernel_dilation`` may be None (Flax's old spelling of 1);
  ``kernel_size`` and these may be 1-D NumPy arrays (Flax reads them with ``tuple()``);
- a negative ``padding`` width crops the input (``lax``'s meaning, which Flax passes on);
- ``use_bias`` is read as Flax reads it, by truth value, for True/False and the ints 0 and 1;
- inputs are ``(*batch, *spatial, C)`` with any number of batch axes, none included: they are
  flattened into one for the op and restored after, as Flax does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import jax.numpy as jnp

from jaxconv import shapes
from jaxconv.ops.conv import dimension_numbers
from jaxconv.validate import check_params_fit, int_rule, is_int

if TYPE_CHECKING:  # flax.nnx loads with the NNX layers (0.3 s a linen-only start does without)
    from flax import nnx


def window(fn: str, kernel_size) -> tuple[int, ...]:
    """``kernel_size`` as a tuple, by Flax's rule: an int ``k`` is the 1-D window ``(k,)``."""
    if is_int(kernel_size):
        values = (int(kernel_size),)
    elif isinstance(seq := shapes.as_sequence(kernel_size), Sequence) and not isinstance(
            kernel_size, str):
        values = tuple(seq)
        if not values:
            raise ValueError(f"{fn}: `kernel_size` must give one int per spatial dim (at least "
                             f"one; a layer without spatial dims is Dense/Linear), got "
                             f"kernel_size={kernel_size!r}.")
        if not all(is_int(v) for v in values):
            raise TypeError(f"{fn}: `kernel_size` must be integers, got kernel_size={kernel_size!r}.")
        values = tuple(int(v) for v in values)
    else:
        raise TypeError(f"{fn}: `kernel_size` must be an int (a 1-D window, as in Flax) or a "
                        f"sequence of ints, one per spatial dim, got kernel_size={kernel_size!r}.")
    if any(v < 1 for v in values):
        raise ValueError(f"{fn}: `kernel_size` must be {int_rule(1, plural=not is_int(kernel_size))}"
                         f", got kernel_size={kernel_size!r}.")
    return values


def settings(fn: str, ndim: int, strides, padding, input_dilation, kernel_dilation) -> None:
    """Checks the window settings that do not depend on the input size (NNX: at construction)."""
    one = shapes.none_as_one
    shapes.canonical_ints(fn, "strides", one(strides), ndim)
    shapes.canonical_ints(fn, "kernel_dilation", one(kernel_dilation), ndim)
    lhs = shapes.canonical_ints(fn, "input_dilation", one(input_dilation), ndim)
    mode = shapes.canonical_padding(fn, padding, ndim, shapes.CONV_PADDING_MODES, negative=True)
    if mode == "CAUSAL" and ndim != 1:
        raise ValueError(f"{fn}: padding 'CAUSAL' is for 1-D windows only, got a {ndim}-D "
                         f"kernel_size.")
    if any(d != 1 for d in lhs) and isinstance(mode, str) and mode != "VALID":
        raise ValueError(f"{fn}: `input_dilation` other than 1 needs padding 'VALID', an int or "
                         f"(low, high) pairs, got padding={padding!r} with "
                         f"input_dilation={input_dilation!r}.")


def geometry(fn: str, in_spatial, kernel_size, strides, padding, input_dilation,
             kernel_dilation) -> shapes.Geometry:
    """The layer's geometry on an input of spatial shape ``in_spatial``, with Flax's names."""
    one = shapes.none_as_one
    return shapes.geometry(fn, in_spatial, kernel_size, strides=one(strides), padding=padding,
                           dilation=one(kernel_dilation), input_dilation=one(input_dilation),
                           dilation_name="kernel_dilation", padding_modes=shapes.CONV_PADDING_MODES,
                           negative_padding=True)


def op_settings(geom: shapes.Geometry, padding) -> dict:
    """The op's keyword arguments for a checked geometry."""
    return dict(strides=geom.strides, padding=padding, dilation=geom.dilation,
                input_dilation=geom.input_dilation or 1)


def input_size(fn: str, value, ndim: int) -> tuple[int, ...]:
    """Checks an NNX layer's ``input_size``: ``ndim`` positive ints, the input's spatial shape."""
    if not isinstance(value, Sequence) or isinstance(value, str) or not all(
            is_int(v) for v in value):
        raise TypeError(f"{fn}: `input_size` must be a tuple of ints (the input's spatial shape, "
                        f"one per kernel_size entry), got input_size={value!r}.")
    if len(value) != ndim or any(v < 1 for v in value):
        raise ValueError(f"{fn}: `input_size` must be {ndim} positive ints (one per kernel_size "
                         f"entry), got input_size={value!r}.")
    return tuple(int(v) for v in value)


def bias_flag(fn: str, value) -> bool:
    """``use_bias`` as Flax reads it (``if self.use_bias:``), for True/False (NumPy's too) and the
    ints 0 and 1.

    Flax takes any value by its truth value; a string (``"no"`` is true), None or another number
    is refused here, since its truth value is unlikely to be what was meant.
    """
    if is_int(value) and int(value) in (0, 1):
        return bool(value)
    if isinstance(value, bool) or type(value).__name__ in ("bool_", "bool"):
        return bool(value)
    raise TypeError(f"{fn}: `use_bias` must be True or False (or 1 or 0, as Flax reads them), got "
                    f"use_bias={value!r}.")


def groups(fn: str, value, in_features: int, out_features: int) -> int:
    return shapes.check_groups(fn, value, in_features, out_features, name="feature_group_count")


def rngs(fn: str, value) -> nnx.Rngs:
    from flax import nnx

    if not isinstance(value, nnx.Rngs):
        raise TypeError(f"{fn}: `rngs` must be an nnx.Rngs, e.g. nnx.Rngs(0), got rngs={value!r}.")
    return value


def flatten_batch(fn: str, x, ndim: int):
    """``x`` (*batch, *spatial, C) as (N, *spatial, C), and the batch shape to restore."""
    x = jnp.asarray(x)
    if x.ndim < ndim + 1:
        raise ValueError(f"{fn}: input must have shape (*batch, *spatial, C) with {ndim} spatial "
                         f"dims (one per kernel_size entry), got shape {tuple(x.shape)}.")
    batch = x.shape[:x.ndim - ndim - 1]
    return x.reshape(math.prod(batch), *x.shape[len(batch):]), batch


def restore_batch(y, batch):
    return y.reshape(*batch, *y.shape[1:])


def local_kernel_shapes(geom: shapes.Geometry, in_features: int, out_features: int):
    """``(flax_kernel_shape, bias_shape)`` of a ``ConvLocal``: (*out, C * prod(window), F)."""
    fused = in_features * math.prod(geom.window)
    return (*geom.out_spatial, fused, out_features), (*geom.out_spatial, out_features)


def check_mask(fn: str, mask, kernel_shape) -> None:
    if mask is not None and tuple(jnp.shape(mask)) != tuple(kernel_shape):
        raise ValueError(f"{fn}: `mask` must have the kernel's shape {tuple(kernel_shape)}, got "
                         f"shape {tuple(jnp.shape(mask))}.")


def custom_dense(dot_general, x, kernel, bias, precision, **kwargs):
    """A user-supplied ``dot_general`` (e.g. quantised), called as Flax calls it."""
    y = dot_general(x, kernel, (((x.ndim - 1,), (0,)), ((), ())), precision=precision, **kwargs)
    return y if bias is None else y + jnp.reshape(bias, (1,) * (y.ndim - 1) + (-1,))


def custom_conv(conv_general_dilated, x, kernel, bias, geom: shapes.Geometry, groups, precision,
                **kwargs):
    """A user-supplied ``conv_general_dilated``, called as Flax calls it (after our padding)."""
    pads = geom.pads
    if geom.pad_mode != "constant":
        x = jnp.pad(x, ((0, 0), *pads, (0, 0)), mode=geom.pad_mode)
        pads = ((0, 0),) * geom.ndim
    y = conv_general_dilated(x, kernel, geom.strides, pads,
                             lhs_dilation=geom.input_dilation or (1,) * geom.ndim,
                             rhs_dilation=geom.dilation, dimension_numbers=dimension_numbers(
                                 geom.ndim), feature_group_count=groups, precision=precision,
                             **kwargs)
    return y if bias is None else y + jnp.reshape(bias, (1,) * (y.ndim - 1) + (-1,))


def linen_params(module, fn: str, kernel_shape, bias_shape, inputs_shape, *, use_bias=True,
                 kernel_init=None, bias_init=None):
    """Creates (or reads back) a linen module's ``kernel`` and ``bias``, checked first.

    At init, parameters too large to initialise in this machine's memory are refused with their
    bytes (:func:`jaxconv.validate.check_params_fit`) before anything is allocated. At apply,
    parameters made for an input of another size are reported with both shapes, instead of
    Flax's ``ScopeParamShapeError``.
    """
    kernel_shape, bias_shape = tuple(kernel_shape), tuple(bias_shape)
    use_bias = bias_flag(fn, use_bias)
    if module.has_variable("params", "kernel"):
        have = tuple(jnp.shape(module.get_variable("params", "kernel")))
        if have != kernel_shape:
            raise ValueError(
                f"{fn}: the parameters were made for another input: they hold a kernel of shape "
                f"{have}, but this input (shape {tuple(inputs_shape)}) needs {kernel_shape}; apply "
                f"the module to inputs shaped like the ones it was initialised with.")
    else:
        check_params_fit(fn, {"kernel": kernel_shape, "bias": bias_shape if use_bias else None},
                         module.param_dtype,
                         f"features={module.features!r}, input shape {tuple(inputs_shape)}")
    kernel = module.param("kernel", kernel_init or module.kernel_init, kernel_shape,
                          module.param_dtype)
    bias = (module.param("bias", bias_init or module.bias_init, bias_shape, module.param_dtype)
            if use_bias else None)
    return kernel, bias
