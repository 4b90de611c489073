"""The hand-derived regional backward pass: its two identities, autodiff, and its errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxconv import shapes
from jaxconv.experiments import backprop_check
from jaxconv.ops.backprop import (
    conv_backward,
    hand,
    locally_connected_backward,
    regional_conv_backward,
)

KEY = jax.random.key(0)
SETTINGS = dict(strides=(2, 1), padding="SAME", dilation=(1, 2), precision="highest")


def normal(i, shape):
    return jax.random.normal(jax.random.fold_in(KEY, i), shape, jnp.float32)


@pytest.mark.slow
def test_one_region_is_conv_backward_and_one_per_position_is_local_backward():
    x, k, g = normal(0, (2, 6, 5, 2)), normal(1, (3, 3, 2, 4)), normal(2, (2, 3, 5, 4))
    rx, rk, rb = regional_conv_backward(x, k[None, None], g, regions=1, **SETTINGS)
    cx, ck, cb = conv_backward(x, k, g, **SETTINGS)
    np.testing.assert_allclose(rx, cx, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rk[0, 0], ck, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rb[0, 0], cb, rtol=1e-5, atol=1e-5)
    lk = normal(3, (3, 5, 3, 3, 2, 4))
    got = regional_conv_backward(x, lk, g, regions=(3, 5), **SETTINGS)
    want = locally_connected_backward(x, lk, g, **SETTINGS)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_check_against_autodiff_and_hand_namespace_trains():
    # The full grid runs in `jaxconv backprop check`; one configuration (CIRCULAR, dilated,
    # strided, uneven regions) here.
    row = backprop_check.check_op("regional", backprop_check.grid(quick=True)["regional"])
    assert row["ok"] and row["configs"] == 1
    x, k, b = normal(4, (2, 7, 2)), normal(5, (3, 3, 2, 3)), normal(6, (3, 3))
    loss = lambda ns, k, b: (ns.regional_conv(x, k, b, regions=3, precision="highest") ** 2).sum()  # noqa
    import jaxconv

    want = jax.grad(lambda k, b: loss(jaxconv, k, b), argnums=(0, 1))(k, b)
    got = jax.grad(lambda k, b: loss(hand, k, b), argnums=(0, 1))(k, b)
    for a, w in zip(got, want):
        np.testing.assert_allclose(a, w, rtol=1e-5, atol=1e-5 * float(jnp.abs(w).max()))


def test_shared_bias_gradient_sums_every_position():
    x, k, g = normal(7, (1, 7, 2)), normal(8, (3, 3, 2, 3)), normal(9, (1, 5, 3))
    per_region = regional_conv_backward(x, k, g, regions=3)[2]
    shared = regional_conv_backward(x, k, g, regions=3, bias_per_region=False)[2]
    assert per_region.shape == (3, 3) and shared.shape == (3,)
    np.testing.assert_allclose(shared, g.sum(axis=(0, 1)), rtol=1e-5)
    sizes = shapes.region_sizes(5, 3)  # (2, 2, 1)
    np.testing.assert_allclose(per_region[2], g[0, 4], rtol=1e-5)
    assert sizes == (2, 2, 1)


@pytest.mark.parametrize("call,error,match", [
    (lambda: regional_conv_backward(jnp.ones((1, 7, 2)), jnp.ones((3, 3, 2, 3)),
                                    jnp.ones((1, 4, 3)), regions=3), ValueError,
     r"regional_conv_backward: `grad_out` must have the op's output shape \(1, 5, 3\)"),
    (lambda: regional_conv_backward(jnp.ones((1, 7, 2)), jnp.ones((2, 3, 2, 3)),
                                    jnp.ones((1, 5, 3)), regions=3), ValueError,
     r"regional_conv_backward: kernel has \(2,\) regions but regions=\(3,\)"),
    (lambda: regional_conv_backward(jnp.ones((1, 7, 2)), jnp.ones((3, 3, 2, 3)),
                                    jnp.ones((1, 5, 3)), regions=3, bias_per_region=1), TypeError,
     r"regional_conv_backward: `bias_per_region` must be True or False, got bias_per_region=1"),
    (lambda: hand.regional_conv(jnp.ones((1, 7, 2)), jnp.ones((3, 3, 2, 3)), regions=-1),
     ValueError, r"regional_conv: `regions` must be a positive integer, got regions=-1"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
