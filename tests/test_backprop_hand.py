"""Ops with hand-derived VJPs: same values and gradients as autodiff; a model trains the same."""

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxconv import ops
from jaxconv.ops.backprop import hand


def conv_net(ns, params, x):
    """conv -> relu -> max_pool -> dense, written once for any ops namespace."""
    h = ns.conv(x, params["conv_kernel"], params["conv_bias"], precision="highest")
    h = ns.max_pool(jax.nn.relu(h), 2)
    return ns.dense(h.reshape(h.shape[0], -1), params["dense_kernel"], params["dense_bias"],
                    precision="highest")


def local_net(ns, params, x):
    """locally_connected (shared bias) -> avg_pool (SAME, pad not counted) -> dense."""
    h = ns.locally_connected(x, params["local_kernel"], params["local_bias"], strides=2,
                             padding="CIRCULAR", precision="highest")
    h = ns.avg_pool(jnp.tanh(h), 2, padding="SAME", count_include_pad=False)
    return ns.dense(h.reshape(h.shape[0], -1), params["dense_kernel"], precision="highest")


def sgd_step(ns, net, params, x, labels, learning_rate=0.5):
    def loss(params):
        logits = net(ns, params, x)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None], 1))

    grads = jax.grad(loss)(params)
    return jax.tree.map(lambda p, g: p - learning_rate * g, params, grads)


def _params(shapes):
    keys = jax.random.split(jax.random.PRNGKey(0), len(shapes))
    return {name: 0.5 * jax.random.normal(k, s) for k, (name, s) in zip(keys, shapes.items())}


@pytest.mark.parametrize("net, shapes", [
    (conv_net, {"conv_kernel": (3, 3, 2, 3), "conv_bias": (3,), "dense_kernel": (27, 3),
                "dense_bias": (3,)}),
    (local_net, {"local_kernel": (3, 3, 2, 2, 2, 2), "local_bias": (2,), "dense_kernel": (8, 3)}),
], ids=["conv-maxpool-dense", "local-avgpool-dense"])
def test_training_on_hand_gradients_matches_autodiff(net, shapes):
    x = jax.random.normal(jax.random.PRNGKey(1), (4, 6, 6, 2))
    labels = jnp.array([0, 1, 2, 1])
    by_autodiff = by_hand = _params(shapes)
    step = jax.jit(sgd_step, static_argnums=(0, 1))  # custom_vjp works under jit too
    for _ in range(3):
        by_autodiff = step(ops, net, by_autodiff, x, labels)
        by_hand = step(hand, net, by_hand, x, labels)
    start = _params(shapes)
    for name in shapes:
        assert not np.allclose(by_hand[name], start[name])  # the steps did move the parameters
        np.testing.assert_allclose(by_hand[name], by_autodiff[name], rtol=1e-5, atol=1e-6)


def test_hand_ops_have_exactly_the_ops_signatures():
    for name in hand.__all__:
        assert inspect.signature(getattr(hand, name)) == inspect.signature(getattr(ops, name)), name


def test_hand_ops_keep_values_and_none_bias():
    x = jnp.arange(10.0).reshape(1, 5, 2)
    kernel = jnp.ones((3, 2, 4))
    np.testing.assert_array_equal(hand.conv(x, kernel, strides=2), ops.conv(x, kernel, strides=2))
    grad = jax.grad(lambda k: hand.conv(x, k, padding=[[1, 1]]).sum())(kernel)
    want = jax.grad(lambda k: ops.conv(x, k, padding=[[1, 1]]).sum())(kernel)
    np.testing.assert_array_equal(grad, want)
    gx = jax.grad(lambda x: hand.max_pool(x, 2, padding="CIRCULAR").sum())(x)
    assert gx[0, :, 0].tolist() == [0.0, 1.0, 0.0, 1.0, 1.0]


def test_hand_ops_reject_bad_settings_with_the_ops_messages():
    x, kernel = jnp.ones((1, 5, 2)), jnp.ones((3, 2, 4))
    with pytest.raises(ValueError, match=r"conv: `strides` must be a positive integer, got "
                                         r"strides=0"):
        hand.conv(x, kernel, strides=0)
    with pytest.raises(TypeError, match=r"conv: `groups` must be an int, got groups=True"):
        hand.conv(x, kernel, groups=True)
    with pytest.raises(ValueError, match=r"max_pool: `window` must be a positive integer, got window=0"):
        hand.max_pool(x, 0)
    with pytest.raises(ValueError, match=r"locally_connected: `padding` must be one of"):
        hand.locally_connected(x, jnp.ones((3, 3, 2, 4)), padding="FULL")
    with pytest.raises(TypeError, match=r"locally_connected: `implementation` must be a string, "
                                        r"got implementation=\['taps'\]"):
        hand.locally_connected(x, jnp.ones((3, 3, 2, 4)), implementation=["taps"])
    with pytest.raises(ValueError, match=r"dense: `precision` must be None"):
        hand.dense(x, jnp.ones((2, 3)), precision="best")
    # the ops crop for a negative padding width (as lax); no backward pass here is derived for it
    with pytest.raises(ValueError, match=r"conv: `padding` must not be negative \(a negative width "
                                         r"crops in conv, locally_connected and the Flax layers "
                                         r"only\), got padding=-1"):
        hand.conv(x, kernel, padding=-1)


@pytest.mark.parametrize("name", ["conv", "locally_connected", "regional_conv"])
def test_circular_windows_wider_than_the_input_match_autodiff(name):
    # The window wraps around the 2x3 input more than once (as Flax's CIRCULAR): the hand
    # backward pass folds every copy's gradient back onto its pixel.
    x = jax.random.normal(jax.random.key(0), (2, 2, 3, 2))
    kernel = {"conv": (5, 4, 2, 3), "locally_connected": (2, 2, 5, 4, 2, 3),
              "regional_conv": (1, 2, 5, 4, 2, 3)}[name]
    kernel = jax.random.normal(jax.random.key(1), kernel)
    settings = dict(padding="CIRCULAR", precision="highest",
                    **({"regions": (1, 2)} if name == "regional_conv" else {"strides": (1, 2)}))

    def loss(ns):
        return lambda a, k: jnp.sum(getattr(ns, name)(a, k, **settings) ** 2)

    by_hand = jax.grad(loss(hand), argnums=(0, 1))(x, kernel)
    by_autodiff = jax.grad(loss(ops), argnums=(0, 1))(x, kernel)
    for got, want in zip(by_hand, by_autodiff):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("name, setting", [
    ("conv", dict(input_dilation=2)),
    ("conv", dict(preferred_element_type=jnp.float32)),
    ("locally_connected", dict(input_dilation=2)),
    ("dense", dict(out_sharding="x")),
])
def test_settings_without_a_derivation_are_refused(name, setting):
    x, kernel = jnp.ones((1, 5, 2)), jnp.ones((3, 2, 4))
    if name == "locally_connected":
        kernel = jnp.ones((3, 3, 2, 4))
    if name == "dense":
        x, kernel = jnp.ones((2, 3)), jnp.ones((3, 4))
    (arg, value), = setting.items()
    with pytest.raises(ValueError, match=rf"{name}: `{arg}` has no hand-derived backward pass"):
        getattr(hand, name)(x, kernel, **setting)
