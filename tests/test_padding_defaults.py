"""Every default padding reads `jaxconv.names`: changing CONV_PADDING or LOCAL_PADDING is one edit."""

import inspect

import pytest

from jaxconv import kinds, names, ops
from jaxconv.costs import counting
from jaxconv.layers import linen, nnx
from jaxconv.ops import backprop
from jaxconv.ops.backprop import hand

CONV_LIKE = [ops.conv, hand.conv, backprop.conv_backward, counting.conv_cost,
             linen.Conv, linen.ConvLocal, nnx.Conv, nnx.ConvLocal]  # Flax's default: SAME
LOCAL_LIKE = [ops.locally_connected, ops.regional_conv, hand.locally_connected,
              hand.regional_conv, backprop.locally_connected_backward,
              backprop.regional_conv_backward, counting.local_cost, counting.regional_cost,
              linen.LocallyConnected, linen.RegionalConv, nnx.LocallyConnected, nnx.RegionalConv]


def _signature(fn):
    # NNX modules construct through a metaclass whose signature is (*args, **kwargs).
    return inspect.signature(fn.__init__ if isinstance(fn, type) and not hasattr(
        fn, "__dataclass_fields__") else fn)


def _default_padding(fn):
    return _signature(fn).parameters["padding"].default


@pytest.mark.parametrize("fn", CONV_LIKE, ids=lambda f: f"{f.__module__}.{f.__qualname__}")
def test_conv_like_defaults_are_conv_padding(fn):
    assert _default_padding(fn) == names.CONV_PADDING


@pytest.mark.parametrize("fn", LOCAL_LIKE, ids=lambda f: f"{f.__module__}.{f.__qualname__}")
def test_local_like_defaults_are_local_padding(fn):
    assert _default_padding(fn) == names.LOCAL_PADDING


def test_kind_records_default_to_their_op():
    # Each windowed kind's record, op, modules and backward pass agree on the default.
    for kind in kinds.registered():
        for fn in (kind.op, kind.linen, kind.nnx, kind.backward):
            if fn is not None and "padding" in _signature(fn).parameters:
                assert _default_padding(fn) == kind.padding, (kind, fn)
    assert kinds.get("conv").padding == names.CONV_PADDING
    assert kinds.get("local").padding == kinds.get("regional").padding == names.LOCAL_PADDING
