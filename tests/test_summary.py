"""jaxconv.summary: per-layer tables of linen and NNX models, built on abstract values only."""

import json
import math
import resource

import jax
import jax.numpy as jnp
import pytest
from flax import linen as nn
from flax import nnx

import jaxconv
from jaxconv.costs import counting


class LinenNet(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.relu(jaxconv.layers.linen.Conv(4, (3, 3), name="conv")(x))
        x = jaxconv.layers.linen.LocallyConnected(2, (3, 3), name="local")(x)
        x = nn.Conv(3, (2, 2), padding="VALID", name="flax_conv")(x)
        x = nn.BatchNorm(use_running_average=True, name="norm")(x)
        x = x.reshape(x.shape[0], -1)
        shared = nn.Dense(5, name="shared")
        x = shared(shared(nn.Dense(5, name="flax_dense")(x)))
        return jaxconv.layers.linen.Dense(3, name="head")(x)


class NnxNet(nnx.Module):
    def __init__(self, rngs, init=None):
        # Zeros build eagerly in milliseconds; random initialisers compile for seconds on CPU.
        kw = {} if init is None else {"kernel_init": init}
        self.conv = jaxconv.layers.nnx.Conv(3, 4, (3, 3), rngs=rngs, **kw)
        self.local = jaxconv.layers.nnx.LocallyConnected(4, 2, (3, 3), input_size=(8, 8), rngs=rngs, **kw)
        self.flax_conv = nnx.Conv(2, 2, (3, 3), rngs=rngs, **kw)
        self.head = nnx.Linear(72, 5, rngs=rngs, **kw)

    def __call__(self, x):
        x = self.flax_conv(self.local(nnx.relu(self.conv(x))))
        return self.head(x.reshape(x.shape[0], -1))


class Big(nn.Module):
    @nn.compact
    def __call__(self, x):
        return jaxconv.layers.linen.Dense(10**6)(x)


def _tree_count(variables):
    return sum(math.prod(a.shape) for a in jax.tree.leaves(variables))


def test_linen_rows_match_counting_and_the_created_params():
    s = jaxconv.summary(LinenNet(), (8, 8, 3), batch_size=2)
    rows = {r.name: r for r in s.rows}
    assert list(rows) == ["conv", "local", "flax_conv", "norm", "flax_dense", "shared",
                          "shared (call 2)", "head"]
    conv = counting.conv_cost((8, 8, 3), 4, 3, batch_size=2)
    assert (rows["conv"].weights, rows["conv"].biases, rows["conv"].flops) == (
        conv.weights, conv.biases, conv.forward_flops)
    assert rows["conv"].formula == conv.formula and rows["conv"].output_shape == (2, 8, 8, 4)
    local = counting.local_cost((8, 8, 4), 2, 3, batch_size=2)
    assert (rows["local"].layer, rows["local"].params) == ("local", local.params)
    assert rows["flax_conv"].flops == counting.conv_cost(
        (6, 6, 2), 3, 2, padding="VALID", batch_size=2).forward_flops
    assert (rows["norm"].layer, rows["norm"].flops, rows["norm"].biases) == ("BatchNorm", None, 3)
    assert rows["shared (call 2)"].params == 0 and rows["shared (call 2)"].flops == 110
    variables = jax.eval_shape(LinenNet().init, jax.random.key(0), jnp.ones((2, 8, 8, 3)))
    assert s.total_params == _tree_count(variables["params"])
    assert s.total_weights + s.total_biases == s.total_params
    assert s.total_param_bytes == 4 * s.total_params
    assert s.total_flops == sum(r.flops for r in s.rows if r.flops is not None)
    assert s.uncounted == ("norm",)


def test_nnx_constructor_and_instance_agree():
    instance = NnxNet(nnx.Rngs(0), init=nnx.initializers.zeros)
    built = jaxconv.summary(instance, (8, 8, 3))
    abstract = jaxconv.summary(lambda rngs: NnxNet(rngs), (8, 8, 3))
    assert built.to_dict() == abstract.to_dict()
    rows = {r.name: r for r in abstract.rows}
    assert [r.layer for r in abstract.rows] == ["conv", "local", "conv", "dense"]
    assert rows["local"].weights == 6 * 6 * 9 * 4 * 2
    assert rows["flax_conv"].flops == counting.conv_cost((6, 6, 2), 2, 3).forward_flops
    assert abstract.total_params == _tree_count(nnx.state(instance, nnx.Param))


class InheritsCall(jaxconv.layers.nnx.Linear):
    """Has no ``__call__`` of its own: tracing must not leave one behind."""


def test_nnx_classes_are_restored_after_tracing():
    before = jaxconv.layers.nnx.Conv.__call__, NnxNet.__call__, jaxconv.layers.nnx.Linear.__call__
    s = jaxconv.summary(lambda rngs: InheritsCall(4, 2, rngs=rngs), (4,))
    jaxconv.summary(lambda rngs: NnxNet(rngs), (8, 8, 3))
    assert (jaxconv.layers.nnx.Conv.__call__, NnxNet.__call__, jaxconv.layers.nnx.Linear.__call__) == before
    assert "__call__" not in InheritsCall.__dict__
    assert [(r.name, r.layer, r.params) for r in s.rows] == [("(model)", "dense", 10)]


def test_trillion_weight_dense_summarises_without_allocating():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    s = jaxconv.summary(Big(), (10**6,))
    nnx_s = jaxconv.summary(lambda rngs: jaxconv.layers.nnx.Linear(10**6, 10**6, rngs=rngs), (10**6,))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert s.total_params == nnx_s.total_params == 10**12 + 10**6
    assert (s.total_weights, s.total_biases) == (10**12, 10**6)
    assert s.total_param_bytes == 4 * (10**12 + 10**6)
    assert grown_mb < 200


def test_table_text_and_json():
    s = jaxconv.summary(Big(), (10**6,))
    text = str(s)
    assert "Dense_0" in text and "1,000,000,000,000" in text and "4.0 TB" in text
    assert "in * out = 1,000,000 * 1,000,000 = 1,000,000,000,000" in text
    data = json.loads(s.to_json())
    assert data["total_params"] == 10**12 + 10**6
    assert data["rows"][0]["cost"]["weights"] == 10**12


def test_tpu_view_flags_small_channel_counts():
    s = jaxconv.summary(LinenNet(), (8, 8, 3), batch_size=2, tpu=True)
    conv = s.rows[0]
    assert conv.param_tpu.logical == conv.param_bytes
    # kernel (3, 3, 3, 4) pads to (3, 3, 8, 128); bias (4,) to (256,)
    assert conv.param_tpu.padded == (9 * 8 * 128 + 256) * 4 and conv.param_tpu.wasteful
    assert conv.activation_tpu.padded == 2 * 8 * 8 * 128 * 4
    assert "TPU params" in str(s) and "!" in str(s)


def test_tpu_view_does_not_flag_tile_sized_layers():
    class Wide(nn.Module):
        @nn.compact
        def __call__(self, x):
            return jaxconv.layers.linen.Dense(128, use_bias=False)(x)

    row = jaxconv.summary(Wide(), (256,), batch_size=8, tpu=True).rows[0]
    assert row.param_tpu.padded == row.param_bytes and not row.param_tpu.wasteful
    assert not row.activation_tpu.wasteful


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(input_shape=(0, 3)), ValueError,
     r"summary: `input_shape` must be non-empty and positive .*got input_shape=\(0, 3\)"),
    (dict(input_shape=()), ValueError, r"summary: `input_shape` must be non-empty"),
    (dict(input_shape="8x8"), TypeError, r"summary: `input_shape` must be a tuple of ints"),
    (dict(input_shape=(8,), batch_size=0), ValueError,
     r"summary: `batch_size` must be a positive integer, got batch_size=0"),
    (dict(input_shape=(8,), dtype="nope"), TypeError, r"summary: `dtype` must be a dtype"),
    (dict(input_shape=(8,), tpu="yes"), TypeError, r"summary: `tpu` must be True or False"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        jaxconv.summary(Big(), **kwargs)


def test_bad_models():
    with pytest.raises(TypeError, match=r"summary: `model` must be a linen Module, an NNX Module"):
        jaxconv.summary(5, (8,))
    with pytest.raises(TypeError, match=r"summary: the constructor `model` must return an NNX "
                                        r"Module, got int"):
        jaxconv.summary(lambda rngs: 5, (8,))


class Unused(nnx.Module):
    def __init__(self, rngs):
        self.used = jaxconv.layers.nnx.Linear(4, 2, rngs=rngs)
        self.spare = jaxconv.layers.nnx.Linear(4, 3, rngs=rngs)

    def __call__(self, x):
        return self.used(x)


def test_parameters_of_modules_never_called_are_still_counted():
    s = jaxconv.summary(lambda rngs: Unused(rngs), (4,))
    spare = s.rows[-1]
    assert (spare.name, spare.layer, spare.params, spare.flops) == ("spare", "not called", 15, 0)
    assert s.total_params == 25 and s.uncounted == ()


def test_unknown_settings_fall_back_to_parameters_only():
    class Dilated(nn.Module):  # counting has no input dilation
        @nn.compact
        def __call__(self, x):
            return nn.Conv(2, (3,), input_dilation=2, padding=[(1, 1)])(x)

    (row,) = jaxconv.summary(Dilated(), (6, 1)).rows
    assert (row.layer, row.params, row.flops, row.cost) == ("Conv", 8, None, None)
    assert row.formula == "bias 2 + kernel 3x1x2"


def test_causal_padding_is_counted_as_the_op_computes_it():
    class Causal(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Conv(2, (3,), padding="CAUSAL")(x)

    (row,) = jaxconv.summary(Causal(), (6, 1)).rows
    # 6 positions of 3 taps, less the 2 + 1 that read the left padding, times 2 features.
    assert (row.layer, row.params) == ("conv", 8)
    assert row.flops == 2 * (6 * 3 - 3) * 2 + 6 * 2


def test_a_bare_layer_is_its_own_row():
    (row,) = jaxconv.summary(jaxconv.layers.linen.Dense(10), (5,), batch_size=3).rows
    assert (row.name, row.layer, row.input_shape, row.output_shape) == ("(model)", "dense",
                                                                         (3, 5), (3, 10))
    assert row.flops == counting.dense_cost(5, 10, batch_size=3).forward_flops
