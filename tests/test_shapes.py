"""Shape arithmetic: predicted shapes equal what the ops produce, and canonicalisation rules."""

import itertools

import jax
import jax.numpy as jnp
import pytest

import jaxconv
from jaxconv import shapes


def test_geometry_lecture_example():
    assert shapes.geometry("conv", (1000, 1000), 10, strides=10).out_spatial == (100, 100)
    same = shapes.geometry("conv", (1000, 1000), 10, padding="SAME")
    assert same.out_spatial == (1000, 1000) and same.num_positions == 10**6


def test_same_pads_put_extra_on_high_side_like_lax():
    assert shapes.same_pads((8,), (4,), (1,), (1,)) == ((1, 2),)
    assert jax.lax.padtype_to_pads((8,), (4,), (1,), "SAME") == [(1, 2)]


def test_canonical_forms():
    assert shapes.canonical_ints("f", "strides", (2, 3), 2) == (2, 3)
    assert shapes.canonical_padding("f", "same", 2) == "SAME"
    assert shapes.canonical_padding("f", 1, 2) == ((1, 1), (1, 1))
    assert shapes.canonical_padding("f", [(0, 1)], 1) == ((0, 1),)


CASES = list(itertools.product(
    [(7,), (6, 5), (4, 5, 3)], [1, 2], [1, 2], ["SAME", "VALID", "CIRCULAR", 1]))


@pytest.mark.parametrize("spatial,stride,dil,padding", CASES)
def test_predicted_shape_matches_ops(spatial, stride, dil, padding):
    ndim = len(spatial)
    geom = shapes.geometry("conv", spatial, 2, strides=stride, padding=padding, dilation=dil)
    x = jax.ShapeDtypeStruct((2, *spatial, 3), jnp.float32)
    conv_kernel = jax.ShapeDtypeStruct(shapes.conv_kernel_shape(geom.window, 3, 4), jnp.float32)
    local_kernel = jax.ShapeDtypeStruct(
        shapes.local_kernel_shape(geom.out_spatial, geom.window, 3, 4), jnp.float32)
    kw = dict(strides=stride, padding=padding, dilation=dil)
    assert jax.eval_shape(lambda a, k: jaxconv.conv(a, k, **kw), x, conv_kernel).shape == (
        2, *geom.out_spatial, 4)
    assert jax.eval_shape(lambda a, k: jaxconv.locally_connected(a, k, **kw), x, local_kernel
                          ).shape == (2, *geom.out_spatial, 4)
    pool = shapes.geometry("max_pool", spatial, 2, strides=stride, padding=padding, window_name="window")
    assert jax.eval_shape(lambda a: jaxconv.max_pool(a, 2, stride, padding), x).shape == (
        2, *pool.out_spatial, 3)
    assert len(geom.pads) == ndim


def test_none_as_one_is_flax_none_for_a_stride_or_dilation():
    # The one definition the layers and the kind records read Flax's settings with.
    assert shapes.none_as_one(None) == 1
    assert shapes.none_as_one(2) == 2 and shapes.none_as_one((1, 3)) == (1, 3)
    assert not hasattr(shapes, "_is_int") and not hasattr(shapes, "check_features")
