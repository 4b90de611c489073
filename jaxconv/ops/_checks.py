"""Argument checks shared by the ops: array dtypes, ranks, bias shapes and precision.

The ops compute in floating point only. Integer and boolean arrays are rejected rather than cast,
because a silent cast hides the common mistake of feeding raw ``uint8`` pixels; the Flax modules,
like Flax's own, promote their inputs to the parameter dtype instead.
"""

from __future__ import annotations

import functools
import inspect

import jax
import jax.numpy as jnp
from jax import lax

from jaxconv import shapes, validate

_PRECISIONS = ("default", "high", "highest", "bfloat16", "tensorfloat32", "float32")
# lax's dot algorithms (jax.lax.DotAlgorithmPreset.F32_F32_F32, a DotAlgorithm), where this jax
# has them: passed to lax as they are, as Flax passes them.
_ALGORITHMS = tuple(t for t in (getattr(lax, "DotAlgorithm", None),
                                getattr(lax, "DotAlgorithmPreset", None)) if isinstance(t, type))


def float_array(fn: str, name: str, value, *, complex_ok: bool = False):
    """Returns ``value`` as a JAX array, rejecting non-floating dtypes with a TypeError.

    With ``complex_ok`` (the linear ops), complex dtypes are accepted too.
    """
    if value is None or isinstance(value, (str, bytes)):
        # jnp.asarray("D") is read as a complex number and fails inside jax with a ValueError.
        raise TypeError(f"{fn}: `{name}` must be an array, got {name}={value!r:.40}.")
    try:
        array = jnp.asarray(value)
    except TypeError as err:
        raise TypeError(f"{fn}: `{name}` must be an array, got {type(value).__name__}: {err}") from None
    if not jnp.issubdtype(array.dtype, jnp.inexact if complex_ok else jnp.floating):
        raise TypeError(
            f"{fn}: `{name}` must be a floating-point{' or complex' if complex_ok else ''} array, "
            f"got dtype {array.dtype}; "
            f"cast it first, e.g. {name}.astype(jnp.float32)."
        )
    return array


def spatial_rank(fn: str, x, *, max_ndim: int | None = 3) -> int:
    """Number of spatial dims of a channels-last input ``(N, *spatial, C)``: 1 to ``max_ndim``.

    The pools and the hand-written backward passes keep 1-3; the conv and locally-connected ops
    take any number (``max_ndim=None``: XLA's convolution is N-D, as Flax's ``Conv``).
    """
    if x.ndim < 3 or (max_ndim is not None and x.ndim > max_ndim + 2):
        dims = "1, 2 or 3 spatial dims (rank 3, 4 or 5)" if max_ndim == 3 else (
            "at least 1 spatial dim (rank >= 3)")
        raise ValueError(
            f"{fn}: `x` must have shape (N, *spatial, C) with {dims}, got shape "
            f"{tuple(x.shape)} (rank {x.ndim})."
        )
    return x.ndim - 2


def bias_array(fn: str, bias, allowed: tuple[tuple[int, ...], ...], *, complex_ok: bool = False):
    """Checks ``bias`` is None or a floating array with one of the ``allowed`` shapes."""
    if bias is None:
        return None
    bias = float_array(fn, "bias", bias, complex_ok=complex_ok)
    if tuple(bias.shape) not in allowed:
        shapes = " or ".join(str(a) for a in allowed)
        raise ValueError(f"{fn}: `bias` must have shape {shapes}, got shape {tuple(bias.shape)}.")
    return bias


def canonical_precision(fn: str, precision) -> lax.PrecisionLike:
    """Accepts None, a ``lax.Precision``, its name, a pair of those, or a dot algorithm
    (``lax.DotAlgorithmPreset``, ``lax.DotAlgorithm``), as lax does."""
    if precision is None or isinstance(precision, (lax.Precision, *_ALGORITHMS)):
        return precision
    if isinstance(precision, str):
        if precision.lower() not in _PRECISIONS:
            raise ValueError(
                f"{fn}: `precision` must be None, a jax.lax.Precision or one of "
                f"{', '.join(_PRECISIONS)}, got precision={precision!r}."
            )
        return lax.Precision(precision.lower())
    if isinstance(precision, tuple) and len(precision) == 2 and not any(
            isinstance(p, _ALGORITHMS) for p in precision):
        # A pair (length checked above), which the checker cannot tell from the generator.
        return tuple(canonical_precision(fn, p) for p in precision)  # pyright: ignore[reportReturnType]
    raise TypeError(
        f"{fn}: `precision` must be None, a jax.lax.Precision, a string, a pair of those or a "
        f"jax.lax.DotAlgorithmPreset, got precision={precision!r}."
    )


@functools.cache
def _takes_out_sharding(primitive: str) -> bool:
    return "out_sharding" in inspect.signature(getattr(lax, primitive)).parameters


def sharding_kwargs(fn: str, primitive: str, out_sharding) -> dict:
    """``{"out_sharding": out_sharding}`` for ``lax.<primitive>``, or ``{}`` for None.

    Older jax (before 0.5.0 for ``dot_general``, 0.7.2 for ``conv_general_dilated``) has no
    ``out_sharding``: the op runs there as long as none is asked for.

    Raises:
        TypeError: an ``out_sharding`` on a jax whose primitive cannot take it.
    """
    if out_sharding is None:
        return {}
    if not _takes_out_sharding(primitive):
        raise TypeError(f"{fn}: `out_sharding` needs a jax whose lax.{primitive} takes it (this is "
                        f"jax {jax.__version__}), got out_sharding={out_sharding!r}.")
    return {"out_sharding": out_sharding}


def canonical_dtype(fn: str, name: str, value):
    """None, or ``value`` as a numpy dtype (``jnp.float32``, ``"bfloat16"``, ...)."""
    if value is None:
        return None
    try:
        return jnp.dtype(value)
    except TypeError:
        raise TypeError(f"{fn}: `{name}` must be None or a dtype such as jnp.float32, got "
                        f"{name}={value!r}.") from None


def common_dtype(*arrays):
    """The dtype the op computes in: the promotion of all non-None operands."""
    return jnp.result_type(*[a for a in arrays if a is not None])


def dimension_numbers(ndim: int) -> lax.ConvDimensionNumbers:
    """``lax.conv_general_dilated`` layout: channels-last inputs, (*window, I, O) kernels, N-D."""
    lhs = (0, ndim + 1, *range(1, ndim + 1))
    return lax.ConvDimensionNumbers(lhs, (ndim + 1, ndim, *range(ndim)), lhs)


def check_dense(fn: str, x, kernel) -> None:
    """Checks ``x`` (..., in) against a dense kernel (in, out), both sizes at least 1."""
    if kernel.ndim != 2:
        raise ValueError(f"{fn}: `kernel` must have shape (in_features, out_features), got shape "
                         f"{tuple(kernel.shape)}.")
    if 0 in kernel.shape:
        # lax returns zeros (0 inputs) or an empty array (0 outputs): a result, but never a layer.
        raise ValueError(f"{fn}: `kernel` must have at least 1 input and 1 output feature, got "
                         f"shape {tuple(kernel.shape)}.")
    if x.ndim < 1 or x.shape[-1] != kernel.shape[0]:
        raise ValueError(f"{fn}: input has {x.shape[-1] if x.ndim else 'no'} features but kernel "
                         f"expects {kernel.shape[0]} (input shape {tuple(x.shape)}, kernel shape "
                         f"{tuple(kernel.shape)}).")


def conv_geometry(fn: str, x, kernel, strides, padding, dilation, groups, input_dilation=1, *,
                  padding_modes=shapes.PADDING_MODES, max_ndim: int | None = 3,
                  negative_padding: bool = False):
    """Checks a convolution's arguments (ranks, channels, groups, window settings).

    The ops pass ``padding_modes=shapes.CONV_PADDING_MODES``, ``max_ndim=None`` and
    ``negative_padding=True`` (a negative width crops, as in ``lax``); the hand-written backward
    passes keep the defaults, the cases they implement.

    Returns:
        ``(geometry, groups)`` with ``groups`` checked to divide both channel counts.
    """
    ndim = spatial_rank(fn, x, max_ndim=max_ndim)
    if kernel.ndim != x.ndim:
        raise ValueError(f"{fn}: kernel rank {kernel.ndim} does not match input rank {x.ndim}: a "
                         f"{ndim}-D conv needs a kernel of shape (*window, C // groups, F), got "
                         f"kernel shape {tuple(kernel.shape)} for input shape {tuple(x.shape)}.")
    channels, features = x.shape[-1], kernel.shape[-1]
    check_channels(fn, x, kernel)
    groups = shapes.check_groups(fn, groups, channels, features)
    if kernel.shape[-2] * groups != channels:
        raise ValueError(f"{fn}: input has {channels} channels but kernel expects "
                         f"{kernel.shape[-2] * groups} (kernel shape {tuple(kernel.shape)}, "
                         f"groups={groups}).")
    geom = shapes.geometry(fn, x.shape[1:-1], kernel.shape[:-2], strides=strides, padding=padding,
                           dilation=dilation, input_dilation=input_dilation,
                           padding_modes=padding_modes, negative_padding=negative_padding)
    check_output_size(fn, x, geom, features, padding, max(x.dtype.itemsize, kernel.dtype.itemsize),
                      "jaxconv.costs.counting.conv_cost(input_shape, features, kernel_size, ...)")
    return geom, groups


def check_channels(fn: str, x, kernel) -> None:
    """Refuses 0 input channels or 0 features: lax would return zeros or an empty array."""
    if x.shape[-1] < 1:
        raise ValueError(f"{fn}: `x` must have at least 1 channel (shape (N, *spatial, C) with "
                         f"C >= 1), got shape {tuple(x.shape)}.")
    if kernel.shape[-1] < 1:
        raise ValueError(f"{fn}: `kernel` must have at least 1 output feature (its last axis), got "
                         f"kernel shape {tuple(kernel.shape)}.")


def check_output_size(fn: str, x, geom: shapes.Geometry, features: int, padding, itemsize: int,
                      hint: str):
    """Checks the padded input and the output can exist before XLA sees them.

    XLA aborts the process (SIGABRT) on a shape whose byte size overflows int64, e.g. for
    ``padding=2**40``, and raises RESOURCE_EXHAUSTED for one larger than memory. The padded
    input is only built in memory for CIRCULAR and REFLECT padding (``jnp.pad``); zero padding is lax's.
    """
    n = x.shape[0]
    validate.check_array_size(fn, f"the padded input (padding={padding!r})",
                               (n, *geom.padded_spatial, x.shape[-1]), itemsize,
                               memory=geom.pad_mode != "constant", hint=hint)
    validate.check_array_size(
        fn, f"the output (input shape {tuple(x.shape)}, padding={padding!r}, "
            f"strides={geom.strides})", (n, *geom.out_spatial, features), itemsize, hint=hint)


def pool_geometry(fn: str, x, window, strides, padding) -> shapes.Geometry:
    """Checks a pooling call: ``strides`` default to ``window`` (non-overlapping windows)."""
    spatial_rank(fn, x)
    if x.shape[-1] < 1:
        raise ValueError(f"{fn}: `x` must have at least 1 channel (shape (N, *spatial, C) with "
                         f"C >= 1), got shape {tuple(x.shape)}.")
    geom = shapes.geometry(fn, x.shape[1:-1], window, strides=window if strides is None else strides,
                           padding=padding, window_name="window")
    if any(p >= k for k, pair in zip(geom.window, geom.pads) for p in pair):
        # A window wholly in the padding has no input: -inf for max, NaN for an average.
        raise ValueError(f"{fn}: `padding` must be smaller than the window on each side (every "
                         f"window must see the input), got padding={padding!r} for window "
                         f"{geom.window}.")
    check_output_size(fn, x, geom, x.shape[-1], padding, x.dtype.itemsize,
                      "jaxconv.shapes.geometry(fn, in_spatial, window, ...).out_spatial")
    return geom
