"""Bias addition whose gradient, for large biases, is a matrix product with ones, not a reduction.

XLA on CPU reduces over a leading axis slowly when many outputs remain: summing a gradient of
shape (128, 26, 26, 32) over the batch, for a per-position bias, took 12.5 ms of CPU time on the
benchmark machine, while the same sum written as ``ones(128) @ g.reshape(128, -1)`` took 0.7 ms
(the whole 1->32 @28x28 locally-connected training step: 1.5x faster). For a bias of shape (F,)
the reduction keeps few outputs and is fast, and the extra product cost a conv training step 20%,
so :func:`add_bias` uses the product only from ``PRODUCT_MIN_BIAS`` bias values up.

The product version's forward pass is a plain broadcast add; the tangent of the bias is broadcast
with a ``(lead, 1) x (1, F)`` product (per position for a per-position bias, laid out
positions-first), whose transpose (what reverse mode runs) is that fast matrix product. A
``custom_jvp`` rather than a ``custom_vjp`` keeps forward-mode differentiation (``jax.jvp``,
``jax.hessian``) working.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from jax import lax
from jax.custom_derivatives import SymbolicZero


def _expand(y, bias):
    """``bias`` reshaped to broadcast against ``y`` without implicit rank promotion."""
    return bias.reshape((1,) * (y.ndim - bias.ndim) + bias.shape)


# Bias sizes (values) from which the gradient is a product with ones.
PRODUCT_MIN_BIAS = 4096


def add_bias(y, bias):
    """Returns ``y + bias``; ``bias`` covers the trailing axes of ``y``.

    Args:
        y: array of shape (*lead, *bias.shape).
        bias: array whose shape is a suffix of ``y.shape``, e.g. (F,) or (*out_spatial, F).

    Returns:
        Array of the shape and dtype of ``y + bias``.
    """
    if bias.size < PRODUCT_MIN_BIAS:
        return y + _expand(y, bias)
    return add_bias_by_ones(y, bias)


@jax.custom_jvp
def add_bias_by_ones(y, bias):
    """``y + bias`` whose bias gradient is ``ones(lead) @ g`` (see the module docstring).

    Args:
        y: array of shape (*lead, *bias.shape).
        bias: array whose shape is a suffix of ``y.shape``, e.g. (F,) or (*out_spatial, F).

    Returns:
        Array of the shape and dtype of ``y + bias``.
    """
    return y + _expand(y, bias)


def _broadcast_by_ones(y, dbias):
    lead_shape = y.shape[:y.ndim - dbias.ndim]
    lead = math.prod(lead_shape)
    # HIGHEST keeps the sum exact in float32 on TPU, whose default matmul passes are bfloat16.
    if dbias.ndim == 1:
        # A bias of shape (F,) (dense, conv): one plain (lead, 1) x (1, F) product, the program
        # measured and compared with Flax's; the per-position layout below has nothing to add.
        ones = jnp.ones((lead, 1), dbias.dtype)
        tiled = lax.dot_general(ones, dbias.reshape(1, -1), (((1,), (0,)), ((), ())),
                                precision=lax.Precision.HIGHEST)
        return tiled.reshape(lead_shape + dbias.shape)
    # A per-position bias (*positions, F): one (lead, 1) x (1, F) product per position, laid out
    # positions-first, then moved behind the lead axes. Reverse mode then sums the output gradient
    # over the batch as ``ones @ g[p]`` per position on the positions-first gradient, the layout
    # the locally-connected products already use, instead of a (lead, positions * F) product that
    # made XLA recompute the "taps" output in a slow flattened loop (1->32 @28x28 training step:
    # 8.8 ms -> 4.3 ms on the benchmark machine).
    features = dbias.shape[-1]
    positions = dbias.size // features
    ones = jnp.ones((positions, lead, 1), dbias.dtype)
    tiled = lax.dot_general(ones, dbias.reshape(positions, 1, features),
                            (((2,), (1,)), ((0,), (0,))), precision=lax.Precision.HIGHEST)
    return jnp.moveaxis(tiled, 0, 1).reshape(lead_shape + dbias.shape)


@functools.partial(add_bias_by_ones.defjvp, symbolic_zeros=True)
def _add_bias_jvp(primals, tangents):
    y, bias = primals
    dy, dbias = tangents
    out = y + _expand(y, bias)
    terms = []
    if not isinstance(dy, SymbolicZero):
        terms.append(dy.astype(out.dtype))
    if not isinstance(dbias, SymbolicZero):
        terms.append(_broadcast_by_ones(y, dbias).astype(out.dtype))
    if not terms:
        return out, jnp.zeros_like(out)
    return out, functools.reduce(jnp.add, terms)
