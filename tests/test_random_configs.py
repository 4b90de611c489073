"""Random configurations against the references: lax for conv, Flax ConvLocal for locally_connected."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn
from jax import lax

import jaxconv
from jaxconv import shapes

SPECS = {1: ("NWC", "WIO", "NWC"), 2: ("NHWC", "HWIO", "NHWC"), 3: ("NDHWC", "DHWIO", "NDHWC")}


def draw(seed, *, with_groups):
    """A random valid configuration: 1-3 spatial dims, strides 1-3, dilation 1-2, any padding."""
    rng = np.random.default_rng(seed)
    ndim = 1 + seed % 3
    size = {1: 9, 2: 7, 3: 4}[ndim]
    spatial = tuple(int(v) for v in rng.integers(size - 2, size + 1, ndim))
    window = tuple(int(v) for v in rng.integers(1, 4, ndim))
    strides = tuple(int(v) for v in rng.integers(1, 4, ndim))
    dilation = tuple(int(v) for v in rng.integers(1, 3, ndim))
    padding = ["SAME", "VALID", "CIRCULAR", "pairs"][(seed // 3) % 4]  # every ndim x padding
    if padding == "pairs":
        padding = tuple((int(lo), int(hi)) for lo, hi in rng.integers(0, 3, (ndim, 2)))
    groups = int(rng.choice([1, 2])) if with_groups else 1
    try:
        shapes.geometry("t", spatial, window, strides=strides, padding=padding, dilation=dilation)
    except ValueError:
        return draw(seed + 1000, with_groups=with_groups)
    return ndim, spatial, window, strides, dilation, padding, groups


def lax_padding(geom, padding):
    if padding == "CIRCULAR":
        return geom.pads
    return padding if isinstance(padding, str) else list(padding)


@pytest.mark.parametrize("seed", range(12))
def test_conv_matches_lax(seed):
    ndim, spatial, window, strides, dilation, padding, groups = draw(seed, with_groups=True)
    key = jax.random.key(seed)
    x = jax.random.normal(key, (2, *spatial, 4))
    kernel = jax.random.normal(jax.random.fold_in(key, 1), (*window, 4 // groups, 6))
    geom = shapes.geometry("t", spatial, window, strides=strides, padding=padding, dilation=dilation)
    xin = jnp.pad(x, ((0, 0), *geom.pads, (0, 0)), mode="wrap") if geom.circular else x
    want = lax.conv_general_dilated(
        xin, kernel, strides, "VALID" if geom.circular else lax_padding(geom, padding),
        rhs_dilation=dilation, dimension_numbers=SPECS[ndim], feature_group_count=groups,
        precision=lax.Precision.HIGHEST)
    got = jax.jit(lambda a, k: jaxconv.conv(a, k, strides=strides, padding=padding,
                                            dilation=dilation, groups=groups, precision="highest"))(
        x, kernel)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * float(jnp.abs(want).max()))


@pytest.mark.parametrize("seed", range(12))
def test_local_matches_flax_conv_local(seed):
    ndim, spatial, window, strides, dilation, padding, _ = draw(seed, with_groups=False)
    x = jax.random.normal(jax.random.key(seed), (2, *spatial, 3))
    flax_padding = padding if isinstance(padding, str) else list(padding)
    theirs = nn.ConvLocal(4, window, strides=strides, padding=flax_padding, kernel_dilation=dilation,
                          precision="highest")
    params = theirs.init(jax.random.key(1), x)["params"]
    kernel = jaxconv.from_flax_conv_local(params["kernel"], 3, window)
    got = jax.jit(lambda a, k, b: jaxconv.locally_connected(
        a, k, b, strides=strides, padding=padding, dilation=dilation, precision="highest"))(
        x, kernel, params["bias"])
    want = jax.jit(theirs.apply)({"params": params}, x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * float(jnp.abs(want).max()))
