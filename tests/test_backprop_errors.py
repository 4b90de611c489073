"""Every argument error of jaxconv.ops.backprop names the function, the argument and the value."""

import jax.numpy as jnp
import pytest

from jaxconv.ops.backprop import (
    avg_pool_backward,
    conv_backward,
    dense_backward,
    locally_connected_backward,
    max_pool_backward,
)

X1 = jnp.ones((1, 5, 2))  # (N, W, C)
K1 = jnp.ones((3, 2, 4))  # (window, C, F)


def test_grad_out_must_have_the_forward_output_shape():
    with pytest.raises(ValueError, match=r"conv_backward: `grad_out` must have the op's output "
                                         r"shape \(1, 5, 4\), got shape \(1, 3, 4\)"):
        conv_backward(X1, K1, jnp.ones((1, 3, 4)))
    with pytest.raises(ValueError, match=r"dense_backward: `grad_out` must have the op's output "
                                         r"shape \(2, 4\), got shape \(2, 3\)"):
        dense_backward(jnp.ones((2, 3)), jnp.ones((3, 4)), jnp.ones((2, 3)))
    with pytest.raises(ValueError, match=r"locally_connected_backward: `grad_out` must have the "
                                         r"op's output shape \(1, 3, 4\)"):
        locally_connected_backward(X1, jnp.ones((3, 3, 2, 4)), jnp.ones((1, 3, 2)))
    with pytest.raises(ValueError, match=r"max_pool_backward: `grad_out` must have the op's output "
                                         r"shape \(1, 2, 2\), got shape \(1, 5, 2\)"):
        max_pool_backward(X1, X1, 2)
    with pytest.raises(ValueError, match=r"avg_pool_backward: `grad_out` must have the op's output "
                                         r"shape \(1, 5, 2\)"):
        avg_pool_backward(X1, jnp.ones((1, 2, 2)), 3, 1, "SAME")
    with pytest.raises(TypeError, match=r"conv_backward: `grad_out` must be a floating-point "
                                        r"array, got dtype int32"):
        conv_backward(X1, K1, jnp.ones((1, 5, 4), jnp.int32))
    with pytest.raises(TypeError, match=r"max_pool_backward: `grad_out` must be an array, got "
                                        r"grad_out=None"):
        max_pool_backward(X1, None, 2)


def test_conv_backward_checks_like_the_op():
    with pytest.raises(ValueError, match=r"conv_backward: kernel rank 4 does not match input "
                                         r"rank 3"):
        conv_backward(X1, jnp.ones((3, 3, 2, 4)), jnp.ones((1, 5, 4)))
    with pytest.raises(ValueError, match=r"conv_backward: input has 2 channels but kernel expects "
                                         r"3 \(kernel shape \(3, 3, 4\), groups=1\)"):
        conv_backward(X1, jnp.ones((3, 3, 4)), jnp.ones((1, 5, 4)))
    with pytest.raises(ValueError, match=r"conv_backward: `groups` must divide both input "
                                         r"channels \(2\) and features \(4\), got groups=3"):
        conv_backward(X1, K1, jnp.ones((1, 5, 4)), groups=3)
    with pytest.raises(ValueError, match=r"conv_backward: `strides` must be a positive integer, "
                                         r"got strides=0"):
        conv_backward(X1, K1, jnp.ones((1, 5, 4)), strides=0)
    with pytest.raises(ValueError, match=r"conv_backward: output size would be zero or negative"):
        conv_backward(X1, jnp.ones((7, 2, 4)), jnp.ones((1, 1, 4)), padding="VALID")
    with pytest.raises(ValueError, match=r"conv_backward: `x` must have shape \(N, \*spatial, C\)"):
        conv_backward(jnp.ones((5, 2)), K1, jnp.ones((5, 4)))
    with pytest.raises(ValueError, match=r"conv_backward: `precision` must be None, .*"
                                         r"precision='best'"):
        conv_backward(X1, K1, jnp.ones((1, 5, 4)), precision="best")


def test_dense_backward_checks_like_the_op():
    with pytest.raises(ValueError, match=r"dense_backward: `kernel` must have shape "
                                         r"\(in_features, out_features\), got shape \(3,\)"):
        dense_backward(jnp.ones((2, 3)), jnp.ones((3,)), jnp.ones((2, 3)))
    with pytest.raises(ValueError, match=r"dense_backward: input has 2 features but kernel "
                                         r"expects 3"):
        dense_backward(jnp.ones((4, 2)), jnp.ones((3, 5)), jnp.ones((4, 5)))
    with pytest.raises(TypeError, match=r"dense_backward: `x` must be a floating-point array"):
        dense_backward(jnp.ones((4, 3), jnp.int32), jnp.ones((3, 5)), jnp.ones((4, 5)))


def test_locally_connected_backward_checks_like_the_op():
    with pytest.raises(ValueError, match=r"locally_connected_backward: kernel has positions \(4,\) "
                                         r"but the input gives output shape \(3,\)"):
        locally_connected_backward(X1, jnp.ones((4, 3, 2, 4)), jnp.ones((1, 3, 4)))
    with pytest.raises(TypeError, match=r"locally_connected_backward: `bias_per_position` must be "
                                        r"True or False, got bias_per_position='yes'"):
        locally_connected_backward(X1, jnp.ones((3, 3, 2, 4)), jnp.ones((1, 3, 4)),
                                   bias_per_position="yes")


def test_pool_backward_checks_like_the_op():
    with pytest.raises(ValueError, match=r"max_pool_backward: `window` must be a positive integer, "
                                         r"got window=0"):
        max_pool_backward(X1, X1, 0)
    with pytest.raises(ValueError, match=r"avg_pool_backward: `padding` must be one of SAME, "
                                         r"VALID, CIRCULAR"):
        avg_pool_backward(X1, X1, 2, padding="FULL")
    with pytest.raises(TypeError, match=r"avg_pool_backward: `count_include_pad` must be True or "
                                        r"False, got count_include_pad=None"):
        avg_pool_backward(X1, jnp.ones((1, 2, 2)), 2, count_include_pad=None)
