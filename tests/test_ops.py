"""The ops against exact answers, a numpy loop oracle, cross-identities and autodiff."""

import jax
import jax.numpy as jnp
import numpy as np
import oracle
import pytest
from jax.test_util import check_grads

import jaxconv
from jaxconv import shapes

RNG = np.random.default_rng(0)


def randn(*shape):
    return jnp.asarray(RNG.standard_normal(shape), jnp.float32)


def maybe_jit(fn, jit, **static):
    f = lambda *a: fn(*a, **static)  # noqa: E731
    return jax.jit(f) if jit else f


@pytest.mark.parametrize("jit", [False, True])
def test_conv_all_ones_exact(jit):
    # A 3-wide window over 3 channels of ones, plus bias 1: 3 * 3 + 1 = 10 inside, 7 at the edges.
    y = maybe_jit(jaxconv.conv, jit, padding="SAME")(jnp.ones((1, 5, 3)), jnp.ones((3, 3, 2)),
                                                      jnp.ones((2,)))
    np.testing.assert_array_equal(y[0, :, 0], [7.0, 10.0, 10.0, 10.0, 7.0])


@pytest.mark.parametrize("jit", [False, True])
def test_local_all_ones_exact(jit):
    y = maybe_jit(jaxconv.locally_connected, jit)(jnp.ones((2, 4, 4, 3)),
                                                  jnp.ones((2, 2, 3, 3, 3, 5)), jnp.ones((2, 2, 5)))
    np.testing.assert_array_equal(y, np.full((2, 2, 2, 5), 28.0))


def test_pools_exact():
    x = jnp.arange(16.0).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(jaxconv.max_pool(x, 2)[0, ..., 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(jaxconv.avg_pool(x, 2)[0, ..., 0], [[2.5, 4.5], [10.5, 12.5]])
    # SAME padding: padded cells never win a max; avg excludes them only when asked.
    np.testing.assert_array_equal(jaxconv.max_pool(-x - 1, 3, 1, "SAME")[0, 0, 0, 0], -1.0)
    corner = jaxconv.avg_pool(jnp.ones((1, 4, 4, 1)), 3, 1, "SAME", count_include_pad=False)
    np.testing.assert_array_equal(corner, np.ones((1, 4, 4, 1)))


ORACLE_CASES = [
    # spatial, window, strides, dilation, padding, groups
    ((6,), (3,), (2,), (1,), "SAME", 1),
    ((5, 6), (2, 3), (1, 2), (2, 1), "VALID", 1),
    ((5, 5), (3, 3), (2, 1), (1, 1), "CIRCULAR", 1),
    ((4, 5), (3, 2), (1, 1), (1, 1), ((1, 0), (2, 1)), 2),
    ((3, 4, 4), (2, 2, 3), (1, 2, 1), (1, 1, 1), "SAME", 1),
    # a window wider than the input wraps around it more than once (as Flax's CIRCULAR)
    ((1, 3), (2, 5), (1, 2), (1, 2), "CIRCULAR", 1),
    ((2, 5), (9, 3), (1, 1), (1, 1), "CIRCULAR", 2),
    # a negative width crops (as lax)
    ((5, 6), (3, 2), (2, 1), (1, 1), ((-1, 2), (1, -2)), 1),
    ((6,), (2,), (1,), (2,), -1, 2),
]


@pytest.mark.parametrize("spatial,window,strides,dilation,padding,groups", ORACLE_CASES)
def test_against_numpy_oracle(spatial, window, strides, dilation, padding, groups):
    c, f = 4, 6
    geom = shapes.geometry("conv", spatial, window, strides=strides, padding=padding,
                           dilation=dilation, negative_padding=True)
    x, kernel, bias = randn(2, *spatial, c), randn(*window, c // groups, f), randn(f)
    kw = dict(strides=strides, padding=padding, dilation=dilation)
    want = oracle.conv(x, kernel, bias, geom.out_spatial, strides, dilation, geom.pads,
                       geom.circular, groups)
    got = jaxconv.conv(x, kernel, bias, groups=groups, precision="highest", **kw)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    lkernel = randn(*geom.out_spatial, *window, c, f)
    lbias = randn(*geom.out_spatial, f)
    want = oracle.local(x, lkernel, lbias, strides, dilation, geom.pads, geom.circular)
    got = jaxconv.locally_connected(x, lkernel, lbias, precision="highest", **kw)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("padding", ["VALID", "SAME", ((1, 0), (0, 1))])
def test_pools_against_oracle(padding):
    x = randn(2, 5, 6, 3)
    geom = shapes.geometry("max_pool", (5, 6), (2, 3), strides=(2, 1), padding=padding,
                           window_name="window")
    for op, reduce in [(jaxconv.max_pool, np.max), (jaxconv.avg_pool, np.mean)]:
        want = oracle.pool(x, (2, 3), (2, 1), geom.pads, reduce)
        np.testing.assert_allclose(op(x, (2, 3), (2, 1), padding), want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("padding", ["SAME", "VALID", "CIRCULAR"])
def test_local_with_tiled_conv_kernel_is_conv(padding):
    x, kernel, bias = randn(2, 6, 5, 3), randn(3, 2, 3, 4), randn(4)
    geom = shapes.geometry("conv", (6, 5), (3, 2), strides=(2, 1), padding=padding)
    tiled = jnp.broadcast_to(kernel, (*geom.out_spatial, *kernel.shape))
    kw = dict(strides=(2, 1), padding=padding, precision="highest")
    np.testing.assert_allclose(jaxconv.locally_connected(x, tiled, bias, **kw),
                               jaxconv.conv(x, kernel, bias, **kw), rtol=1e-5, atol=1e-5)


def test_covering_valid_conv_is_dense_on_flattened_input():
    x, kernel = randn(3, 4, 5, 2), randn(4, 5, 2, 7)
    y = jaxconv.conv(x, kernel, padding="VALID", precision="highest")
    want = jaxconv.dense(x.reshape(3, -1), kernel.reshape(-1, 7), precision="highest")
    np.testing.assert_allclose(y.reshape(3, 7), want, rtol=1e-5, atol=1e-5)


def test_one_by_one_conv_is_dense_on_channels():
    x, kernel, bias = randn(2, 3, 4, 5), randn(1, 1, 5, 6), randn(6)
    np.testing.assert_allclose(jaxconv.conv(x, kernel, bias, precision="highest"),
                               jaxconv.dense(x, kernel[0, 0], bias, precision="highest"),
                               rtol=1e-5, atol=1e-5)


def test_circular_conv_is_exactly_shift_equivariant():
    x, kernel = randn(1, 6, 6, 2), randn(3, 3, 2, 3)
    shifted = jnp.roll(x, (1, 2), axis=(1, 2))
    y = jaxconv.conv(x, kernel, padding="CIRCULAR", precision="highest")
    np.testing.assert_allclose(jaxconv.conv(shifted, kernel, padding="CIRCULAR", precision="highest"),
                               jnp.roll(y, (1, 2), axis=(1, 2)), rtol=1e-5, atol=1e-5)


def test_flax_layout_round_trip():
    kernel = randn(3, 2, 2, 3, 4, 5)
    fused = jaxconv.to_flax_conv_local(kernel)
    assert fused.shape == (3, 2, 4 * 2 * 3, 5)
    # Fused axis is channel-major: (C, kh, kw).
    np.testing.assert_array_equal(fused[1, 0, 1 * 6 + 0 * 3 + 2], kernel[1, 0, 0, 2, 1])
    np.testing.assert_array_equal(jaxconv.from_flax_conv_local(fused, 4, (2, 3)), kernel)


@pytest.mark.parametrize("jit", [False, True])
def test_bfloat16_forward_close_to_float32(jit):
    x, kernel = randn(2, 6, 6, 3), randn(3, 3, 3, 4)
    want = jaxconv.conv(x, kernel, precision="highest")
    got = maybe_jit(jaxconv.conv, jit)(x.astype(jnp.bfloat16), kernel.astype(jnp.bfloat16))
    assert got.dtype == jnp.bfloat16
    np.testing.assert_allclose(got.astype(jnp.float32), want, rtol=0.05, atol=0.15)
    lk = randn(4, 4, 3, 3, 3, 4)
    want = jaxconv.locally_connected(x, lk, precision="highest")
    got = maybe_jit(jaxconv.locally_connected, jit)(x.astype(jnp.bfloat16), lk.astype(jnp.bfloat16))
    assert got.dtype == jnp.bfloat16
    np.testing.assert_allclose(got.astype(jnp.float32), want, rtol=0.05, atol=0.15)


def test_gradients_match_finite_differences():
    hi = dict(precision="highest")
    x = randn(1, 4, 3, 2)
    check_grads(lambda a, k, b: jaxconv.conv(a, k, b, strides=(2, 1), padding="CIRCULAR", **hi),
                (x, randn(2, 2, 2, 3), randn(3)), order=1, modes=["rev"], atol=1e-2, rtol=1e-2)
    check_grads(lambda a, k, b: jaxconv.locally_connected(a, k, b, padding="SAME", **hi),
                (x, randn(4, 3, 2, 2, 2, 3), randn(4, 3, 3)), order=1, modes=["rev"],
                atol=1e-2, rtol=1e-2)
    check_grads(lambda a, k, b: jaxconv.dense(a, k, b, **hi), (randn(2, 3), randn(3, 4), randn(4)),
                order=1, modes=["rev"], atol=1e-2, rtol=1e-2)
    check_grads(lambda a: jaxconv.max_pool(a, 2, 1), (x,), order=1, modes=["rev"], atol=1e-2, rtol=1e-2)
    check_grads(lambda a: jaxconv.avg_pool(a, 2, 1, "SAME"), (x,), order=1, modes=["rev"],
                atol=1e-2, rtol=1e-2)


@pytest.mark.parametrize("ndim", [1, 3])
def test_one_and_three_dimensional(ndim):
    spatial = (5,) * ndim
    x, kernel = randn(2, *spatial, 2), randn(*(3,) * ndim, 2, 3)
    geom = shapes.geometry("conv", spatial, 3, padding="SAME")
    want = oracle.conv(x, kernel, None, geom.out_spatial, (1,) * ndim, (1,) * ndim, geom.pads, False)
    np.testing.assert_allclose(jaxconv.conv(x, kernel, precision="highest"), want, rtol=1e-5, atol=1e-5)
    lk = randn(*(3,) * ndim, *(3,) * ndim, 2, 3)
    want = oracle.local(x, lk, None, (1,) * ndim, (1,) * ndim, ((0, 0),) * ndim, False)
    np.testing.assert_allclose(jaxconv.locally_connected(x, lk, precision="highest"), want,
                               rtol=1e-5, atol=1e-5)
    assert jaxconv.max_pool(x, 2).shape == (2, *(2,) * ndim, 2)


def test_pool_gradients_under_jit():
    x = randn(1, 4, 4, 2)
    for pool in (jaxconv.max_pool, jaxconv.avg_pool):
        loss = lambda a: pool(a, 2, 1, "SAME").sum()  # noqa: B023, E731
        np.testing.assert_allclose(jax.jit(jax.grad(loss))(x), jax.grad(loss)(x), rtol=1e-6)
        np.testing.assert_allclose(jax.grad(jax.jit(loss))(x), jax.grad(loss)(x), rtol=1e-6)
