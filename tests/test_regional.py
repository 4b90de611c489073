"""Regional convolution: exact answers, the two identities, a numpy oracle, gradients, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import oracle
import pytest
from jax.test_util import check_grads

import jaxconv
from jaxconv import shapes

IMPLS = ["grouped", "local"]


def randn(rng, *shape):
    return jnp.asarray(rng.standard_normal(shape), jnp.float32)


def draw(seed):
    """A random valid configuration: 1-3 spatial dims, strides 1-2, dilation 1-2, any padding,
    and regions anywhere from 1 to one per position (often not dividing the output)."""
    rng = np.random.default_rng(seed)
    ndim = 1 + seed % 3
    size = {1: 9, 2: 7, 3: 4}[ndim]
    spatial = tuple(int(v) for v in rng.integers(size - 2, size + 1, ndim))
    window = tuple(int(v) for v in rng.integers(1, 4, ndim))
    strides = tuple(int(v) for v in rng.integers(1, 3, ndim))
    dilation = tuple(int(v) for v in rng.integers(1, 3, ndim))
    padding = ["SAME", "VALID", "CIRCULAR", "pairs"][(seed // 3) % 4]
    if padding == "pairs":
        padding = tuple((int(lo), int(hi)) for lo, hi in rng.integers(0, 3, (ndim, 2)))
    try:
        geom = shapes.geometry("t", spatial, window, strides=strides, padding=padding,
                               dilation=dilation)
    except ValueError:
        return draw(seed + 1000)
    regions = tuple(int(rng.integers(1, o + 1)) for o in geom.out_spatial)
    return spatial, window, strides, dilation, padding, geom, regions


def settings(strides, dilation, padding):
    return dict(strides=strides, dilation=dilation, padding=padding, precision="highest")


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("impl", IMPLS)
def test_all_ones_exact(jit, impl):
    # 3x3 window over 3 channels of ones: 27, plus the region's bias (1 or 2 by column block).
    bias = jnp.stack([jnp.ones((2, 5)), 2 * jnp.ones((2, 5))], axis=1)  # (2, 2, 5)
    f = lambda x, k, b: jaxconv.regional_conv(x, k, b, regions=2, implementation=impl)  # noqa
    y = (jax.jit(f) if jit else f)(jnp.ones((1, 5, 5, 3)), jnp.ones((2, 2, 3, 3, 3, 5)), bias)
    # Output 3x3 split as array_split: columns {0, 1} then {2}.
    np.testing.assert_array_equal(y[0, :, :, 0], [[28, 28, 29]] * 3)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("impl", IMPLS)
def test_identities_and_oracle_on_random_configs(seed, impl):
    spatial, window, strides, dilation, padding, geom, regions = draw(seed)
    rng = np.random.default_rng(100 + seed)
    x, c, f = randn(rng, 2, *spatial, 2), 2, 3
    kw = dict(settings(strides, dilation, padding), implementation=impl)
    # regions=1 is the convolution with that kernel.
    kernel, bias = randn(rng, *window, c, f), randn(rng, f)
    got = jaxconv.regional_conv(x, kernel[(None,) * len(spatial)], bias, regions=1, **kw)
    want = jaxconv.conv(x, kernel, bias, **settings(strides, dilation, padding))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
    # regions=out_spatial is the locally-connected layer with a kernel per position.
    lkernel, lbias = randn(rng, *geom.out_spatial, *window, c, f), randn(rng, *geom.out_spatial, f)
    got = jaxconv.regional_conv(x, lkernel, lbias, regions=geom.out_spatial, **kw)
    want = jaxconv.locally_connected(x, lkernel, lbias, **settings(strides, dilation, padding))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
    # Anything between is the plain numpy loop.
    rkernel, rbias = randn(rng, *regions, *window, c, f), randn(rng, *regions, f)
    got = jaxconv.regional_conv(x, rkernel, rbias, regions=regions, **kw)
    want = oracle.regional(x, rkernel, rbias, geom.out_spatial, strides, dilation, geom.pads,
                           geom.circular)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


@pytest.mark.parametrize("padding", ["REFLECT", "CAUSAL"])
def test_reflect_and_causal_padding_match_the_local_layer(padding):
    rng = np.random.default_rng(3)
    x = randn(rng, 2, 7, 2)
    out = 7  # both keep the length at stride 1
    kernel = randn(rng, out, 3, 2, 3)
    for impl in IMPLS:
        got = jaxconv.regional_conv(x, kernel, regions=out, padding=padding, implementation=impl)
        want = jaxconv.locally_connected(x, kernel, padding=padding)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_shared_bias_and_no_bias():
    rng = np.random.default_rng(1)
    x, k, b = randn(rng, 1, 6, 2), randn(rng, 3, 2, 2, 4), randn(rng, 4)
    with_bias = jaxconv.regional_conv(x, k, b, regions=3)
    np.testing.assert_allclose(with_bias - jaxconv.regional_conv(x, k, regions=3),
                               np.broadcast_to(b, (1, 5, 4)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("size,regions", [(1, 1), (5, 2), (7, 3), (10, 4), (26, 26), (9, 1)])
def test_region_sizes_are_array_split(size, regions):
    want = [len(b) for b in np.array_split(np.arange(size), regions)]
    assert list(shapes.region_sizes(size, regions)) == want
    owner = [j for j, b in enumerate(np.array_split(np.arange(size), regions)) for _ in b]
    assert list(shapes.region_of_position(size, regions)) == owner


@pytest.mark.parametrize("impl", IMPLS)
def test_gradients(impl):
    rng = np.random.default_rng(2)
    x, k, b = randn(rng, 1, 5, 4, 2), randn(rng, 2, 3, 2, 2, 2, 2), randn(rng, 2, 3, 2)
    f = lambda x, k, b: jaxconv.regional_conv(  # noqa: E731
        x, k, b, regions=(2, 3), padding="SAME", precision="highest", implementation=impl)
    check_grads(f, (x, k, b), order=1, modes=["rev"])


X = jnp.ones((2, 6, 6, 3))
RK = jnp.ones((2, 2, 3, 3, 3, 4))


def regional(**kw):
    args = dict(x=X, kernel=RK, regions=2)
    args.update(kw)
    return jaxconv.regional_conv(args.pop("x"), args.pop("kernel"), **args)


@pytest.mark.parametrize("call,error,match", [
    (lambda: regional(x=jnp.ones((6, 3))), ValueError,
     r"regional_conv: `x` must have shape \(N, \*spatial, C\) .* got shape \(6, 3\)"),
    (lambda: regional(x=jnp.ones((2, 6, 6, 3), jnp.int32)), TypeError,
     r"regional_conv: `x` must be a floating-point array, got dtype int32"),
    (lambda: regional(kernel=jnp.ones((3, 3, 3, 4))), ValueError,
     r"regional_conv: a 2-D regional kernel must have shape \(\*regions, \*window, C, F\) "
     r"\(rank 6\), got kernel shape \(3, 3, 3, 4\)"),
    (lambda: regional(kernel=jnp.ones((2, 2, 3, 3, 2, 4))), ValueError,
     r"regional_conv: input has 3 channels but kernel expects 2"),
    (lambda: regional(regions=3), ValueError,
     r"regional_conv: kernel has \(2, 2\) regions but regions=\(3, 3\)"),
    (lambda: regional(kernel=jnp.ones((5, 5, 3, 3, 3, 4)), regions=5), ValueError,
     r"regional_conv: `regions` must be at most the output size in each dim .* got regions=5 "
     r"for output shape \(4, 4\)"),
    (lambda: regional(regions=0), ValueError,
     r"regional_conv: `regions` must be a positive integer, got regions=0"),
    (lambda: regional(regions=(2, 2, 2)), ValueError,
     r"regional_conv: `regions` must be an int or 2 ints .* got regions=\(2, 2, 2\)"),
    (lambda: regional(regions=2.0), TypeError,
     r"regional_conv: `regions` must be an int or a sequence of ints, got regions=2.0"),
    (lambda: regional(strides=0), ValueError,
     r"regional_conv: `strides` must be a positive integer, got strides=0"),
    (lambda: regional(padding="FULL"), ValueError, r"regional_conv: `padding` must be one of"),
    (lambda: regional(x=jnp.ones((1, 2, 2, 3))), ValueError,
     r"regional_conv: output size would be zero or negative: input \(2, 2\), window \(3, 3\)"),
    (lambda: regional(bias=jnp.ones((4, 4, 4))), ValueError,
     r"regional_conv: `bias` must have shape \(2, 2, 4\) or \(4,\), got shape \(4, 4, 4\)"),
    (lambda: regional(precision="max"), ValueError, r"regional_conv: `precision` must be None"),
    (lambda: regional(implementation="fast"), ValueError,
     r"regional_conv: `implementation` must be one of auto, grouped, local, got "
     r"implementation='fast'"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
