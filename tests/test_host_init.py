"""Initial parameters from shapes: drawn on the host, the initialisers' distributions, no compile."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import linen as nn

from jaxconv import models, train
from jaxconv.layers import initializers, linen
from jaxconv.train import host_init

MODEL = models.build("local", num_classes=3, channels=(2,), hidden=4)


@pytest.mark.parametrize("init, shape", [
    (initializers.default_kernel_init, (400, 300)),
    (initializers.default_kernel_init, (3, 3, 20, 300)),
    (initializers.local_kernel_init, (4, 4, 3, 3, 5, 200)),
])
def test_host_draws_follow_the_jax_initialiser(init, shape):
    host = init.host(np.random.default_rng(0), shape)
    device = np.asarray(init(jax.random.key(0), shape))
    assert host.shape == device.shape == shape and host.dtype == device.dtype == np.float32
    np.testing.assert_allclose(host.std(), device.std(), rtol=0.03)
    bound = 2 * np.sqrt(1 / init.fan_in(shape)) / 0.87962566103423978
    assert np.abs(host).max() <= bound and np.abs(device).max() <= bound * (1 + 1e-6)
    assert abs(host.mean()) < 0.02 * host.std()


def test_local_fan_in_is_the_window_times_channels():
    assert initializers.local_kernel_init.fan_in((4, 4, 3, 3, 5, 7)) == 45
    assert initializers.default_kernel_init.fan_in((3, 3, 5, 7)) == 45
    assert initializers.default_kernel_init.fan_in((64, 10)) == 64


def test_init_state_draws_on_the_host_and_never_compiles_model_init(monkeypatch):
    def refuse(*args):
        raise AssertionError("model.init was compiled")

    monkeypatch.setattr(host_init, "_jit_init", refuse)
    a = train.init_state(MODEL, optax.adam(1e-3), (8, 8, 1), seed=3)
    b = train.init_state(MODEL, optax.adam(1e-3), (8, 8, 1), seed=3)
    c = train.init_state(MODEL, optax.adam(1e-3), (8, 8, 1), seed=4)
    shapes = jax.tree.map(jnp.shape, MODEL.init(jax.random.key(0), jnp.zeros((1, 8, 8, 1))))
    assert jax.tree.map(jnp.shape, {"params": a.params}) == shapes
    assert all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))
    kernel = a.params["layer1"]["kernel"]
    assert not np.array_equal(kernel, c.params["layer1"]["kernel"]) and float(jnp.std(kernel)) > 0
    assert not np.any(a.params["layer1"]["bias"]) and int(a.step) == 0
    assert all(not np.any(m) for m in jax.tree.leaves(a.opt_state[0].mu))


class _Foreign(nn.Module):
    """A layer whose kernel comes from a Flax initialiser jaxconv cannot draw on the host."""

    @nn.compact
    def __call__(self, x):
        x = linen.Dense(3)(x.reshape(x.shape[0], -1))
        return nn.Dense(2, kernel_init=nn.initializers.normal(1.0))(x)


def test_a_foreign_initialiser_falls_back_to_model_init():
    _, plan = host_init.abstract_plan(_Foreign(), (2, 2, 1))
    made = {path: type(init).__name__ for path, init, _, _ in plan}
    assert made["['params']['Dense_0']['kernel']"] == "LecunNormal"
    assert made["['params']['Dense_1']['kernel']"] == "NoneType"
    params = host_init.init_params(_Foreign(), (2, 2, 1), seed=5)
    expected = _Foreign().init(jax.random.key(5), jnp.zeros((1, 2, 2, 1)))["params"]
    assert all(np.allclose(x, y) for x, y in zip(jax.tree.leaves(params),
                                                  jax.tree.leaves(expected)))
