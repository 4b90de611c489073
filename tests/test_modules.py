"""The linen and NNX wrappers equal Flax's own layers and each other, given the same parameters."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn
from flax import nnx

import jaxconv

HI = "highest"
KEY = jax.random.key(0)


def randn(key, *shape):
    return jax.random.normal(jax.random.key(key), shape, jnp.float32)


@pytest.mark.parametrize("padding", ["SAME", "VALID", "CIRCULAR"])
def test_linen_conv_equals_flax_conv(padding):
    x = randn(1, 2, 7, 6, 4)
    ours = jaxconv.layers.linen.Conv(6, (3, 2), strides=(2, 1), padding=padding, feature_group_count=2,
                              precision=HI)
    params = ours.init(KEY, x)
    theirs = nn.Conv(6, (3, 2), strides=(2, 1), padding=padding, feature_group_count=2, precision=HI)
    np.testing.assert_allclose(ours.apply(params, x), theirs.apply(params, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("padding", ["VALID", "SAME", "CIRCULAR"])
def test_linen_local_equals_flax_conv_local(padding):
    x = randn(2, 2, 6, 5, 3)
    ours = jaxconv.layers.linen.LocallyConnected(4, (3, 2), strides=(1, 2), padding=padding, precision=HI)
    params = ours.init(KEY, x)["params"]
    theirs = nn.ConvLocal(4, (3, 2), strides=(1, 2), padding=padding, precision=HI)
    flax_params = {"kernel": jaxconv.to_flax_conv_local(params["kernel"]), "bias": params["bias"]}
    assert jax.tree.map(jnp.shape, theirs.init(KEY, x)["params"]) == jax.tree.map(jnp.shape, flax_params)
    np.testing.assert_allclose(ours.apply({"params": params}, x),
                               theirs.apply({"params": flax_params}, x), rtol=1e-5, atol=1e-5)


def test_linen_dense_equals_flax_dense():
    x = randn(3, 2, 5)
    params = jaxconv.layers.linen.Dense(4, precision=HI).init(KEY, x)
    np.testing.assert_allclose(jaxconv.layers.linen.Dense(4, precision=HI).apply(params, x),
                               nn.Dense(4, precision=HI).apply(params, x), rtol=1e-5, atol=1e-5)


def test_nnx_equals_linen():
    x = randn(4, 2, 6, 6, 3)
    pairs = [
        (jaxconv.layers.nnx.Conv(3, 4, (3, 3), strides=2, padding="CIRCULAR", precision=HI, rngs=nnx.Rngs(0)),
         jaxconv.layers.linen.Conv(4, (3, 3), strides=2, padding="CIRCULAR", precision=HI)),
        (jaxconv.layers.nnx.LocallyConnected(3, 4, (3, 3), input_size=(6, 6), padding="SAME",
                                      precision=HI, rngs=nnx.Rngs(0)),
         jaxconv.layers.linen.LocallyConnected(4, (3, 3), padding="SAME", precision=HI)),
    ]
    for module, linen_module in pairs:
        params = {"kernel": module.kernel[...], "bias": module.bias[...]}
        assert jax.tree.map(jnp.shape, linen_module.init(KEY, x)["params"]) == jax.tree.map(
            jnp.shape, params)
        np.testing.assert_allclose(module(x), linen_module.apply({"params": params}, x),
                                   rtol=1e-5, atol=1e-5)
    linear = jaxconv.layers.nnx.Linear(3, 5, rngs=nnx.Rngs(0))
    np.testing.assert_allclose(
        linear(x), jaxconv.layers.linen.Dense(5).apply({"params": {"kernel": linear.kernel[...],
                                                             "bias": linear.bias[...]}}, x),
        rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("jit", [False, True])
def test_nnx_jit_equals_eager(jit):
    model = jaxconv.layers.nnx.LocallyConnected(2, 3, (2,), input_size=(5,), use_bias=False, rngs=nnx.Rngs(1))
    assert getattr(model.bias, "value", model.bias) is None  # flax 0.10: nnx.Param(None)
    x = randn(5, 2, 5, 2)
    call = nnx.jit(lambda m, a: m(a)) if jit else (lambda m, a: m(a))
    want = jaxconv.locally_connected(x, model.kernel[...])
    np.testing.assert_allclose(call(model, x), want, rtol=1e-6, atol=1e-6)


def test_local_init_fan_in_excludes_positions():
    # One conv kernel per position: the variance must match a conv with the same window and channels.
    params = jaxconv.layers.linen.LocallyConnected(64, (3, 3)).init(KEY, jnp.ones((1, 20, 20, 8)))["params"]
    std = float(jnp.std(params["kernel"]))
    assert abs(std - (1 / (9 * 8)) ** 0.5) < 0.01


def test_modules_promote_integer_inputs_and_respect_dtype():
    x = jnp.ones((1, 4, 4, 1), jnp.int32)
    module = jaxconv.layers.linen.Conv(2, (3, 3), dtype=jnp.bfloat16)
    params = module.init(KEY, x)
    assert params["params"]["kernel"].dtype == jnp.float32
    assert module.apply(params, x).dtype == jnp.bfloat16


def test_one_d_and_three_d_modules():
    for shape, window in [((2, 7, 3), 3), ((1, 4, 4, 4, 2), (2, 2, 2))]:
        x = jnp.ones(shape)
        for module in [jaxconv.layers.linen.Conv(3, window), jaxconv.layers.linen.LocallyConnected(3, window)]:
            y = module.apply(module.init(KEY, x), x)
            assert y.ndim == x.ndim and y.shape[-1] == 3
