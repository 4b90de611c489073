"""Every bad call gets a clear error naming the function, the argument and the value."""

import jax
import jax.numpy as jnp
import pytest
from flax import nnx

import jaxconv

X = jnp.ones((2, 8, 8, 3))
K = jnp.ones((3, 3, 3, 4))
LK = jnp.ones((6, 6, 3, 3, 3, 4))


def conv(**kw):
    args = dict(x=X, kernel=K)
    args.update(kw)
    return jaxconv.conv(args.pop("x"), args.pop("kernel"), **args)


def local(**kw):
    args = dict(x=X, kernel=LK)
    args.update(kw)
    return jaxconv.locally_connected(args.pop("x"), args.pop("kernel"), **args)


@pytest.mark.parametrize("call,error,match", [
    (lambda: conv(x=jnp.ones((8, 3))), ValueError,
     r"conv: `x` must have shape \(N, \*spatial, C\) .* got shape \(8, 3\) \(rank 2\)"),
    (lambda: conv(x=jnp.ones((1, 2, 3))[0]), ValueError,
     r"conv: `x` must have shape \(N, \*spatial, C\) with at least 1 spatial dim \(rank >= 3\), "
     r"got shape \(2, 3\) \(rank 2\)"),
    (lambda: conv(x=jnp.ones((1, 2, 2, 2, 2, 2, 3))), ValueError,
     r"conv: kernel rank 4 does not match input rank 7: a 5-D conv needs a kernel"),
    (lambda: conv(padding="CAUSAL"), ValueError,
     r"conv: padding 'CAUSAL' is for 1-D inputs only, got a 2-D input \(8, 8\)"),
    (lambda: conv(padding=1, input_dilation=0), ValueError,
     r"conv: `input_dilation` must be a positive integer, got input_dilation=0"),
    (lambda: conv(input_dilation=2), ValueError,
     r"conv: `input_dilation` other than 1 needs padding 'VALID', an int or \(low, high\) pairs, "
     r"got padding='SAME' with input_dilation=2"),
    (lambda: conv(preferred_element_type="junk"), TypeError,
     r"conv: `preferred_element_type` must be None or a dtype such as jnp.float32, "
     r"got preferred_element_type='junk'"),
    (lambda: conv(padding="MIRROR"), ValueError,
     r"conv: `padding` must be one of SAME, VALID, CIRCULAR, REFLECT, CAUSAL, an int or 2 "
     r"\(low, high\) pairs, got padding='MIRROR'"),
    (lambda: conv(kernel=jnp.ones((3, 3, 4))), ValueError,
     r"conv: kernel rank 3 does not match input rank 4"),
    (lambda: conv(kernel=jnp.ones((3, 3, 5, 8))), ValueError,
     r"conv: input has 3 channels but kernel expects 5 \(kernel shape \(3, 3, 5, 8\), groups=1\)"),
    (lambda: conv(groups=2), ValueError,
     r"conv: `groups` must divide both input channels \(3\) and features \(4\), got groups=2"),
    (lambda: conv(groups=0), ValueError, r"conv: `groups` must be a positive integer, got groups=0"),
    (lambda: conv(groups=1.5), TypeError, r"conv: `groups` must be an int, got groups=1.5"),
    (lambda: conv(strides=(0, 1)), ValueError,
     r"conv: `strides` must be positive integers, got strides=\(0, 1\)"),
    (lambda: conv(strides=-2), ValueError, r"conv: `strides` must be a positive integer, got strides=-2"),
    (lambda: conv(strides=1.5), TypeError, r"conv: `strides` must be an int or a sequence of ints, got strides=1.5"),
    (lambda: conv(strides=(1, 2.0)), TypeError, r"conv: `strides` must be integers, got strides=\(1, 2.0\)"),
    (lambda: conv(strides=(1, 1, 1)), ValueError,
     r"conv: `strides` must be an int or 2 ints \(one per spatial dimension\), got strides=\(1, 1, 1\)"),
    (lambda: conv(dilation=0), ValueError, r"conv: `dilation` must be a positive integer, got dilation=0"),
    (lambda: conv(padding="FULL"), ValueError,
     r"conv: `padding` must be one of SAME, VALID, CIRCULAR, REFLECT, CAUSAL, an int or 2 \(low, high\) pairs, got padding='FULL'"),
    (lambda: conv(padding=[(1, 1)]), ValueError,
     r"conv: `padding` must give 2 \(low, high\) pairs .* got padding=\[\(1, 1\)\]"),
    # conv and locally_connected crop for a negative width (as lax); the pools do not
    (lambda: jaxconv.max_pool(X, 2, padding=((1, -1), (0, 0))), ValueError,
     r"max_pool: `padding` must not be negative \(a negative width crops in conv, locally_connected "
     r"and the Flax layers only\), got padding=\(\(1, -1\), \(0, 0\)\)"),
    (lambda: conv(padding=((-4, -4), (0, 0))), ValueError,
     r"conv: output size would be zero or negative: input \(8, 8\), window \(3, 3\), strides "
     r"\(1, 1\), dilation \(1, 1\), padding \(\(-4, -4\), \(0, 0\)\)"),
    (lambda: conv(padding=((1.0, 1), (0, 0))), TypeError, r"conv: `padding` pairs must be integers"),
    (lambda: conv(padding=None), TypeError, r"conv: `padding` must be a string, an int or \(low, high\) pairs, got padding=None"),
    (lambda: conv(kernel=jnp.ones((9, 9, 3, 4)), padding="VALID"), ValueError,
     r"conv: output size would be zero or negative: input \(8, 8\), window \(9, 9\), strides \(1, 1\), "
     r"dilation \(1, 1\), padding VALID"),
    (lambda: conv(bias=jnp.ones((5,))), ValueError, r"conv: `bias` must have shape \(4,\), got shape \(5,\)"),
    (lambda: conv(x=jnp.ones((2, 8, 8, 3), jnp.int32)), TypeError,
     r"conv: `x` must be a floating-point or complex array, got dtype int32; cast it first"),
    (lambda: conv(kernel=jnp.ones((3, 3, 3, 4), bool)), TypeError,
     r"conv: `kernel` must be a floating-point or complex array, got dtype bool"),
    (lambda: conv(x=None), TypeError, r"conv: `x` must be an array, got x=None"),
    (lambda: conv(precision="ultra"), ValueError, r"conv: `precision` must be None, .* got precision='ultra'"),
    (lambda: conv(precision=3), TypeError, r"conv: `precision` must be None, .* got precision=3"),
    (lambda: local(kernel=jnp.ones((5, 5, 3, 3, 3, 4))), ValueError,
     r"locally_connected: kernel has positions \(5, 5\) but the input gives output shape \(6, 6\) "
     r"\(input \(8, 8\), window \(3, 3\), strides \(1, 1\), dilation \(1, 1\), padding 'VALID'\)"),
    (lambda: local(kernel=K), ValueError,
     r"locally_connected: a 2-D locally-connected kernel must have shape \(\*out_spatial, \*window, C, F\) \(rank 6\)"),
    (lambda: local(kernel=jnp.ones((6, 6, 3, 3, 2, 4))), ValueError,
     r"locally_connected: input has 3 channels but kernel expects 2"),
    (lambda: local(x=jnp.ones((2, 2, 2, 3)), kernel=jnp.ones((0, 0, 3, 3, 3, 4))), ValueError,
     r"locally_connected: output size would be zero or negative: input \(2, 2\), window \(3, 3\)"),
    (lambda: local(bias=jnp.ones((6, 4))), ValueError,
     r"locally_connected: `bias` must have shape \(6, 6, 4\) or \(4,\), got shape \(6, 4\)"),
    (lambda: local(strides=0), ValueError, r"locally_connected: `strides` must be a positive integer, got strides=0"),
    (lambda: jaxconv.dense(jnp.ones((2, 5)), jnp.ones((3, 4))), ValueError,
     r"dense: input has 5 features but kernel expects 3 \(input shape \(2, 5\), kernel shape \(3, 4\)\)"),
    (lambda: jaxconv.dense(jnp.ones((2, 3)), jnp.ones((3,))), ValueError,
     r"dense: `kernel` must have shape \(in_features, out_features\), got shape \(3,\)"),
    (lambda: jaxconv.dense(jnp.ones((2, 3)), jnp.ones((3, 4)), jnp.ones((3,))), ValueError,
     r"dense: `bias` must have shape \(4,\), got shape \(3,\)"),
    (lambda: jaxconv.max_pool(X, 9), ValueError,
     r"max_pool: output size would be zero or negative: input \(8, 8\), window \(9, 9\)"),
    (lambda: jaxconv.avg_pool(X, 0), ValueError, r"avg_pool: `window` must be a positive integer, got window=0"),
    (lambda: jaxconv.max_pool(X, 2, padding="REFLECT"), ValueError, r"max_pool: `padding` must be one of"),
    (lambda: jaxconv.max_pool(jnp.ones((8, 8)), 2), ValueError, r"max_pool: `x` must have shape"),
    (lambda: jaxconv.avg_pool(jnp.ones((1, 4, 4, 1), jnp.uint8), 2), TypeError,
     r"avg_pool: `x` must be a floating-point array, got dtype uint8"),
    (lambda: jaxconv.to_flax_conv_local(jnp.ones((3, 3, 4))), ValueError,
     r"to_flax_conv_local: `kernel` must have shape \(\*out_spatial, \*window, C, F\)"),
    (lambda: jaxconv.from_flax_conv_local(jnp.ones((6, 6, 20, 4)), 3, 3), ValueError,
     r"from_flax_conv_local: fused axis has size 20 but in_features \* prod\(kernel_size\) = 3 \* 9 = 27"),
    (lambda: jaxconv.from_flax_conv_local(jnp.ones((6, 6, 27, 4)), 3, (3, 0)), ValueError,
     r"from_flax_conv_local: `kernel_size` must be positive integers, got kernel_size=\(3, 0\)"),
])
def test_op_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def linen_init(module, x=X):
    return module.init(jax.random.key(0), x)


@pytest.mark.parametrize("call,error,match", [
    (lambda: linen_init(jaxconv.layers.linen.Conv(4, 0)), ValueError,
     r"Conv: `kernel_size` must be a positive integer, got kernel_size=0"),
    (lambda: linen_init(jaxconv.layers.linen.Conv(4, (3, -1))), ValueError,
     r"Conv: `kernel_size` must be positive integers, got kernel_size=\(3, -1\)"),
    (lambda: linen_init(jaxconv.layers.linen.Conv(4, 2.5)), TypeError,
     r"Conv: `kernel_size` must be an int \(a 1-D window, as in Flax\) or a sequence of ints, one "
     r"per spatial dim, got kernel_size=2.5"),
    (lambda: linen_init(jaxconv.layers.linen.Conv(4, (3, 3), feature_group_count=2)), ValueError,
     r"Conv: `feature_group_count` must divide both input channels \(3\) and features \(4\), "
     r"got feature_group_count=2"),
    (lambda: linen_init(jaxconv.layers.linen.Conv(0, 3)), ValueError,
     r"Conv: `features` must be a positive integer, got features=0"),
    (lambda: linen_init(jaxconv.layers.linen.Dense(-1)), ValueError,
     r"Dense: `features` must be a positive integer, got features=-1"),
    (lambda: linen_init(jaxconv.layers.linen.LocallyConnected(4, (9, 9))), ValueError,
     r"LocallyConnected: output size would be zero or negative: input \(8, 8\), window \(9, 9\)"),
    (lambda: linen_init(jaxconv.layers.linen.LocallyConnected(4, (3, 3)), jnp.ones((8, 3))), ValueError,
     r"LocallyConnected: input must have shape \(\*batch, \*spatial, C\) with 2 spatial dims \(one "
     r"per kernel_size entry\), got shape \(8, 3\)"),
    (lambda: jaxconv.layers.nnx.Conv(3, 4, (3, 3), feature_group_count=2, rngs=nnx.Rngs(0)), ValueError,
     r"Conv: `feature_group_count` must divide both input channels \(3\) and features \(4\)"),
    (lambda: jaxconv.layers.nnx.Linear(0, 4, rngs=nnx.Rngs(0)), ValueError,
     r"Linear: `in_features` must be a positive integer, got in_features=0"),
    (lambda: jaxconv.layers.nnx.LocallyConnected(3, 4, (3, 3), input_size=(2, 8), rngs=nnx.Rngs(0)),
     ValueError,
     r"LocallyConnected: output size would be zero or negative: input \(2, 8\), window \(3, 3\)"),
    (lambda: jaxconv.layers.nnx.LocallyConnected(3, 4, (3, 3), input_size=(0, 8), rngs=nnx.Rngs(0)),
     ValueError, r"LocallyConnected: `input_size` must be 2 positive ints \(one per kernel_size "
     r"entry\), got input_size=\(0, 8\)"),
    (lambda: jaxconv.layers.nnx.Conv(3, 4, (3, 3), rngs=nnx.Rngs(0))(jnp.ones((2, 8, 8, 5))), ValueError,
     r"conv: input has 5 channels but kernel expects 3"),
])
def test_module_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
