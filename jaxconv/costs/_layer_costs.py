"""Recognises the layers :mod:`jaxconv.costs.counting` knows in a traced Flax model and counts them.

Known: ``jaxconv.layers.linen.Dense/Conv/LocallyConnected/RegionalConv``,
``jaxconv.layers.nnx.Linear/Conv/LocallyConnected/RegionalConv``
and Flax's own ``linen.Dense``, ``linen.Conv``, ``nnx.Linear`` and ``nnx.Conv`` (without input
dilation; jaxconv's modules use Flax's attribute names, so one reader serves both). ``ConvLocal``
(Flax's fused layout) is counted for its parameters only. The window and feature count are read
from the kernel that was created, the settings from the module, the input shape from the call. A
cost whose output shape or parameter counts
disagree with what the model actually made is dropped (the summary then shows the parameters it
found and no FLOPs) rather than shown wrong.
"""

from __future__ import annotations

import math

from flax import linen as nn
from flax import nnx

from jaxconv.costs import counting
from jaxconv.layers import linen as jlinen
from jaxconv.layers import nnx as jnnx

_DENSE = (jlinen.Dense, jnnx.Linear, nn.Dense, nnx.Linear)
_CONV = (jlinen.Conv, jnnx.Conv, nn.Conv, nnx.Conv)
_LOCAL = (jlinen.LocallyConnected, jnnx.LocallyConnected)
_REGIONAL = (jlinen.RegionalConv, jnnx.RegionalConv)


def _one(value):
    return 1 if value is None else value


def _no_input_dilation(module) -> bool:
    lhs = _one(module.input_dilation)
    return all(v == 1 for v in ((lhs,) if isinstance(lhs, int) else lhs))


def _conv_settings(module):
    """``(strides, padding, dilation, groups)`` of a conv module, or None if not countable."""
    if not _no_input_dilation(module):
        return None
    return (_one(module.strides), module.padding, _one(module.kernel_dilation),
            module.feature_group_count)


def _batch(shape, rank: int) -> int:
    return math.prod(shape[:len(shape) - rank])


def layer_cost(module, input_shape, params, dtype) -> counting.Cost | None:
    """The :class:`~jaxconv.costs.counting.Cost` of one call of ``module``, or None if not countable.

    Args:
        module: the module instance that was called.
        input_shape: shape of its input, batch included.
        params: ``{name: array-like}`` of the parameters the module owns.
        dtype: dtype name for the byte counts.
    """
    kernel = params.get("kernel")
    if kernel is None or input_shape is None:
        return None
    kshape, use_bias = tuple(kernel.shape), "bias" in params
    try:
        if isinstance(module, _DENSE) and len(kshape) == 2:
            return counting.dense_cost(input_shape[-1], kshape[1], use_bias=use_bias,
                                       batch_size=_batch(input_shape, 1), dtype=dtype)
        if isinstance(module, _CONV):
            settings = _conv_settings(module)
            ndim = len(kshape) - 2
            if settings is None or len(input_shape) < ndim + 1:
                return None
            strides, padding, dilation, groups = settings
            return counting.conv_cost(
                input_shape[-ndim - 1:], kshape[-1], kshape[:-2], strides=strides,
                padding=padding, dilation=dilation, groups=groups, use_bias=use_bias,
                batch_size=_batch(input_shape, ndim + 1), dtype=dtype)
        if isinstance(module, _LOCAL) and _no_input_dilation(module):
            ndim = (len(kshape) - 2) // 2
            return counting.local_cost(
                input_shape[-ndim - 1:], kshape[-1], kshape[ndim:2 * ndim],
                strides=_one(module.strides), padding=module.padding,
                dilation=_one(module.kernel_dilation),
                use_bias=use_bias, batch_size=_batch(input_shape, ndim + 1), dtype=dtype)
        if isinstance(module, _REGIONAL):
            ndim = (len(kshape) - 2) // 2
            return counting.regional_cost(
                input_shape[-ndim - 1:], kshape[-1], kshape[ndim:2 * ndim],
                regions=kshape[:ndim], strides=_one(module.strides), padding=module.padding,
                dilation=_one(module.kernel_dilation), use_bias=use_bias,
                batch_size=_batch(input_shape, ndim + 1), dtype=dtype)
    except (ValueError, TypeError):  # e.g. Flax's "CAUSAL" padding: count parameters only
        return None
    return None


def agrees(cost: counting.Cost, output_shape, params) -> bool:
    """Whether ``cost`` matches the output and parameter shapes the model actually produced."""
    if output_shape is None or tuple(output_shape[-len(cost.output_shape):]) != cost.output_shape:
        return False
    bias = params.get("bias")
    return (tuple(params["kernel"].shape) == cost.kernel_shape
            and (None if bias is None else tuple(bias.shape)) == cost.bias_shape)
