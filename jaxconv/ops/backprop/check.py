"""Hand-derived gradients against JAX's autodiff, one configuration at a time (no kinds here).

For a configuration: random inputs and a random output gradient ``g``; the reference is
``jax.vjp`` of the forward op applied to ``g``; the candidate is the matching ``*_backward``
function. Both use ``precision="highest"``. The error of one gradient is
``max|hand - autodiff| / max|autodiff|`` (relative to the gradient's largest entry, so entries
that are exactly zero do not blow it up); a configuration's error is the largest over its
gradients (input, kernel, bias). Pooling inputs are small integers, so windows are full of ties.

The layers' grids are their kind records' (:attr:`jaxconv.kinds.Kind.backward_configs`); the
pools, which are not kinds, keep theirs here (:data:`POOL_CONFIGS`).
:mod:`jaxconv.experiments.backprop_check` runs both (``jaxconv backprop check``).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxconv import ops
from jaxconv.ops.backprop.pool import avg_pool_backward, max_pool_backward

_HIGHEST = "highest"

# Small on purpose: every configuration compiles. Pooling windows that overlap the padding, a
# wrapped window as wide as the input, 1-3 spatial dims.
POOL_CONFIGS = {
    "max_pool": [
        dict(x=(2, 4, 4, 3), window=2),
        dict(x=(1, 5, 5, 2), window=3, strides=1, padding="SAME"),
        dict(x=(1, 7, 2), window=3, strides=2, padding="CIRCULAR"),
        dict(x=(1, 3, 1), window=3, strides=1, padding="CIRCULAR"),
        dict(x=(1, 3, 1), window=2, strides=1, padding=((1, 0),)),
        dict(x=(1, 4, 5, 1), window=(2, 3), strides=(1, 2), padding=((1, 1), (2, 0))),
        dict(x=(1, 4, 4, 4, 1), window=2, strides=1),
    ],
    "avg_pool": [
        dict(x=(2, 4, 4, 3), window=2),
        dict(x=(1, 5, 5, 2), window=3, strides=1, padding="SAME", count_include_pad=False),
        dict(x=(1, 7, 2), window=3, strides=2, padding="CIRCULAR"),
        dict(x=(1, 4, 5, 1), window=(2, 3), strides=(1, 2), padding=((1, 1), (2, 0)),
             count_include_pad=False),
        dict(x=(1, 4, 4, 4, 1), window=2, strides=1, padding="SAME"),
    ],
}

# Which pool configurations `jaxconv backprop check --quick` runs: their hardest features.
POOL_QUICK = {"max_pool": (1, 4), "avg_pool": (3,)}

_POOLS = {"max_pool": (ops.max_pool, max_pool_backward),
          "avg_pool": (ops.avg_pool, avg_pool_backward)}


def relative_error(got, want) -> float:
    """``max|got - want| / max|want|`` (0 when both are all zeros)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        raise ValueError(f"relative_error: shapes differ, got {got.shape} and {want.shape}.")
    scale = np.max(np.abs(want), initial=0.0)
    diff = np.max(np.abs(got - want), initial=0.0)
    return float(diff / scale) if scale > 0 else float(diff)


def _normal(rng, shape):
    # numpy draws: jax.random would compile a generator per shape, most of a quick check's time
    return jnp.asarray(rng.standard_normal(shape), jnp.float32)


@functools.cache
def _jitted(forward, settings):
    """``forward`` with its settings bound, jitted once per configuration (not once per call)."""
    return jax.jit(functools.partial(forward, precision=_HIGHEST, **dict(settings)))


def layer_gradients(forward, backward, x_shape, kernel_shape, bias_shape, settings, rng,
                    backward_settings=None):
    """``(hand, autodiff)``: the gradients of a layer with a kernel and a bias, two tuples.

    Args:
        forward: the op, ``forward(x, kernel, bias, precision=..., **settings)``.
        backward: its hand-derived pass, ``backward(x, kernel, g, precision=..., **settings,
            **backward_settings)`` returning ``(grad_x, grad_kernel, grad_bias)``.
        x_shape: the input's shape (random normal).
        kernel_shape: the kernel's shape (random normal).
        bias_shape: the bias's shape (zeros).
        settings: the op's settings (strides, padding...).
        rng: a ``numpy.random.Generator``.
        backward_settings: what only the backward pass takes (the bias's layout).
    """
    x, kernel = _normal(rng, x_shape), _normal(rng, kernel_shape)
    bias = jnp.zeros(bias_shape)
    y, vjp = jax.vjp(_jitted(forward, tuple(sorted(settings.items()))), x, kernel, bias)
    g = _normal(rng, y.shape)
    return (backward(x, kernel, g, precision=_HIGHEST, **settings, **(backward_settings or {})),
            vjp(g))


def pool_gradients(op: str, config, rng):
    """``(hand, autodiff)`` of one of :data:`POOL_CONFIGS`' pools, on small integers (ties)."""
    cfg = dict(config)
    x = jnp.asarray(rng.integers(0, 3, cfg.pop("x")), jnp.float32)
    forward, backward = _POOLS[op]
    y, vjp = jax.vjp(lambda x: forward(x, **cfg), x)
    g = _normal(rng, y.shape)
    return (backward(x, g, **cfg),), vjp(g)


def worst_error(gradients, configs, seed: int = 0) -> float:
    """The largest :func:`relative_error` of ``gradients(config, rng) -> (hand, autodiff)`` over
    ``configs``; configuration ``i`` draws from ``numpy.random.default_rng((seed, i))``."""
    worst = 0.0
    for i, cfg in enumerate(configs):
        hand, autodiff = gradients(cfg, np.random.default_rng((seed % 2**63, i)))
        worst = max([worst, *(relative_error(h, a) for h, a in zip(hand, autodiff))])
    return worst
