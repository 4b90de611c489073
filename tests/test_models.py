"""Matched dense / local / conv models: configs, shapes, names, and the sharing identity."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxconv import models

KEY = jax.random.key(0)
X = jnp.asarray(np.random.default_rng(0).random((2, 8, 8, 1), np.float32))


def init(model, x=X):
    # One compiled call: eager init dispatches (and compiles) every small op on its own.
    return jax.jit(model.init)(KEY, x)["params"]


def random_params(model):
    """Random parameters of the right shapes, without compiling the model's initialiser."""
    shapes = jax.eval_shape(model.init, KEY, X)["params"]
    leaves, tree = jax.tree.flatten(shapes)
    keys = jax.random.split(KEY, len(leaves))
    return tree.unflatten([0.3 * jax.random.normal(k, s.shape) for k, s in zip(keys, leaves)])


@pytest.mark.parametrize("kind", models.KINDS)
def test_every_kind_has_the_same_activation_shapes(kind):
    model = models.build(kind, channels=(4, 6), hidden=5, num_classes=3)
    params = random_params(model)
    acts = models.activations(model, params, X)
    assert [(name, a.shape) for name, a in acts] == [
        ("layer1", (2, 8, 8, 4)), ("layer2", (2, 4, 4, 6)), ("hidden", (2, 5)), ("head", (2, 3))]
    assert all(bool(jnp.all(a >= 0)) for _, a in acts[:-1])  # ReLU outputs
    np.testing.assert_array_equal(acts[-1][1], jax.jit(model.apply)({"params": params}, X))


def test_parameter_layouts_show_connectivity():
    shapes = {k: jax.tree.map(jnp.shape, jax.eval_shape(
        models.build(k, channels=(4,), hidden=0).init, KEY, X)["params"]) for k in models.KINDS}
    assert shapes["conv"]["layer1"] == {"kernel": (3, 3, 1, 4), "bias": (4,)}
    assert shapes["local"]["layer1"] == {"kernel": (8, 8, 3, 3, 1, 4), "bias": (8, 8, 4)}
    assert shapes["dense"]["layer1"] == {"kernel": (64, 8 * 8 * 4), "bias": (256,)}
    assert set(shapes["conv"]) == {"layer1", "head"}


def test_shared_weights_do_not_grow_with_the_image():
    # With a global pool head, a conv net has the same parameters for any input size.
    counts = {}
    for kind in models.KINDS:
        model = models.build(kind, global_pool=True, channels=(4,), hidden=0)
        counts[kind] = [models.param_count(jax.eval_shape(model.init, KEY, jnp.ones((1, s, s, 1))))
                        for s in (8, 16)]
    assert counts["conv"] == [3 * 3 * 4 + 4 + 4 * 10 + 10] * 2
    assert counts["local"][1] == 4 * (counts["local"][0] - 50) + 50
    assert counts["dense"][1] > 4 * counts["dense"][0]


@pytest.mark.slow
def test_local_with_tiled_conv_kernels_is_the_conv_model():
    conv, local = (models.build(k, channels=(3, 4), hidden=5) for k in ("conv", "local"))
    p_conv, p_local = init(conv), jax.eval_shape(local.init, KEY, X)["params"]
    tiled = dict(p_conv)
    for name, size in (("layer1", 8), ("layer2", 4)):
        kernel, bias = p_conv[name]["kernel"], p_conv[name]["bias"]
        tiled[name] = {"kernel": jnp.broadcast_to(kernel, (size, size, *kernel.shape)),
                       "bias": jnp.broadcast_to(bias, (size, size, *bias.shape))}
    assert jax.tree.map(jnp.shape, tiled) == jax.tree.map(lambda a: a.shape, p_local)
    np.testing.assert_allclose(jax.jit(local.apply)({"params": tiled}, X),
                               jax.jit(conv.apply)({"params": p_conv}, X), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", models.KINDS)
def test_defaults_fit_mnist_sized_inputs(kind):
    model = models.build(kind)
    out = jax.eval_shape(lambda x: model.init_with_output(KEY, x)[0], jnp.ones((2, 28, 28, 1)))
    assert out.shape == (2, 10)


def test_config_is_hashable_and_json_round_trips():
    cfg = models.ModelConfig("local", num_classes=5, channels=[8], padding="valid")
    assert cfg.channels == (8,) and cfg.padding == "VALID"
    assert hash(cfg) == hash(models.ModelConfig("local", 5, (8,), padding="VALID"))
    text = json.dumps(dataclasses.asdict(cfg))
    assert models.build(json.loads(text)).config == cfg
    assert models.build(cfg, kind="conv").config.kind == "conv"
    assert cfg.to_json()["channels"] == [8]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"kind": "mlp"}, ValueError, r"ModelConfig: `kind` must be one of dense, local, regional, conv, got "
                                  r"kind='mlp'"),
    ({"kind": "conv", "num_classes": 1}, ValueError, r"`num_classes` must be an integer >= 2"),
    ({"kind": "conv", "channels": ()}, ValueError, r"`channels` must name at least one layer"),
    ({"kind": "conv", "channels": 8}, TypeError, r"`channels` must be a sequence of ints"),
    ({"kind": "conv", "channels": (8, 0)}, ValueError, r"`channels` must be a positive integer"),
    ({"kind": "conv", "kernel_size": 2.5}, TypeError, r"`kernel_size` must be an int"),
    ({"kind": "conv", "strides": 0}, ValueError, r"`strides` must be a positive integer"),
    ({"kind": "conv", "hidden": -1}, ValueError, r"`hidden` must be an integer >= 0"),
    ({"kind": "conv", "padding": "FULL"}, ValueError, r"`padding` must be one of SAME, VALID"),
    ({"kind": "conv", "pool": 1}, TypeError, r"`pool` must be True or False, got pool=1"),
    ({"kind": "conv", "global_pool": "yes"}, TypeError, r"`global_pool` must be True or False"),
])
def test_config_errors_name_the_field(kwargs, error, match):
    with pytest.raises(error, match=match):
        models.ModelConfig(**kwargs)


def test_build_errors():
    with pytest.raises(TypeError, match=r"build: `config` must be a kind name, a ModelConfig or "
                                        r"a dict, got int"):
        models.build(3)
    with pytest.raises(TypeError, match=r"build: unknown ModelConfig field\(s\) depth; fields are kind"):
        models.build("conv", depth=3)
    with pytest.raises(ValueError, match=r"ModelConfig: `kind` must be one of"):
        models.build("resnet")


def test_valid_windows_too_large_for_the_input_are_refused():
    model = models.build("local", padding="VALID", kernel_size=5, pool=False)
    with pytest.raises(ValueError, match=r"output size would be zero or negative"):
        jax.eval_shape(model.init, KEY, jnp.ones((1, 8, 8, 1)))


def test_activation_and_call_errors():
    model = models.build("conv")
    params = jax.eval_shape(model.init, KEY, X)["params"]
    with pytest.raises(TypeError, match=r"activations: `model` must be a jaxconv.models.Model, "
                                        r"got str"):
        models.activations("conv", params, X)
    with pytest.raises(ValueError, match=r"activations: `x` must have shape \(N, H, W, C\), got "
                                         r"shape \(8, 8, 1\)"):
        models.activations(model, params, X[0])
    with pytest.raises(ValueError, match=r"Model: `x` must have shape \(N, H, W, C\)"):
        jax.eval_shape(model.apply, {"params": params}, X[0])


def test_param_count_is_exact():
    assert models.param_count({"a": jnp.ones((3, 3, 1, 16)), "b": [jnp.ones(16)]}) == 160
    assert models.param_count({}) == 0
