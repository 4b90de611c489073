"""Checks the hand-derived gradients against JAX's autodiff over a grid of small configurations.

For every op and configuration: random inputs and a random output gradient ``g``; the reference
is ``jax.vjp`` of the :mod:`jaxconv.ops` op applied to ``g``; the candidate is the matching
``*_backward`` function. Both use ``precision="highest"``. The error of one gradient is
``max|hand - autodiff| / max|autodiff|`` (relative to the gradient's largest entry, so entries
that are exactly zero do not blow it up); a configuration's error is the largest over its
gradients (input, kernel, bias). Pooling inputs are small integers, so windows are full of ties.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxconv import ops, shapes
from jaxconv.ops.backprop.conv import conv_backward, dense_backward
from jaxconv.ops.backprop.local import locally_connected_backward
from jaxconv.ops.backprop.pool import avg_pool_backward, max_pool_backward
from jaxconv.ops.backprop.regional import regional_conv_backward
from jaxconv.validate import check_int

TOLERANCE = 1e-5
_HIGHEST = "highest"

# Small on purpose: every configuration compiles. Together they cover 1-3 spatial dims, strides,
# dilation, groups (incl. depthwise), SAME/VALID/CIRCULAR/explicit padding (also wider than the
# window), a wrapped border wider than the input, and pooling windows that overlap the padding.
CONFIGS = {
    "dense": [dict(x=(3, 4), features=5), dict(x=(2, 3, 4), features=2)],
    "conv": [
        dict(x=(2, 7, 3), window=(3,), features=4, padding="SAME"),
        dict(x=(1, 8, 2), window=(3,), features=2, strides=2, padding="VALID", dilation=2),
        dict(x=(1, 5, 2), window=(3,), features=2, strides=2, padding=((4, 1),)),
        dict(x=(1, 2, 1), window=(7,), features=1, padding="CIRCULAR"),
        dict(x=(2, 6, 6, 3), window=(3, 3), features=4, strides=2, padding="SAME"),
        dict(x=(1, 7, 6, 2), window=(3, 2), features=4, strides=(2, 1), dilation=(1, 2),
             padding=((1, 2), (0, 1))),
        dict(x=(1, 6, 6, 4), window=(3, 3), features=6, strides=2, padding="CIRCULAR", groups=2),
        dict(x=(1, 5, 5, 3), window=(3, 3), features=3, padding="CIRCULAR", dilation=2, groups=3),
        dict(x=(1, 4, 4, 4, 2), window=(2, 2, 2), features=3, strides=2, padding="SAME"),
        dict(x=(1, 4, 5, 3, 2), window=(3, 2, 2), features=2, padding="CIRCULAR",
             dilation=(1, 2, 1)),
    ],
    "locally_connected": [
        dict(x=(2, 6, 2), window=(3,), features=3),
        dict(x=(1, 4, 1), window=(3,), features=2, padding=((3, 1),), bias_per_position=False),
        dict(x=(2, 5, 5, 2), window=(3, 3), features=2, strides=2, padding="SAME"),
        dict(x=(1, 6, 5, 2), window=(2, 3), features=2, strides=(1, 2), dilation=(2, 1),
             padding="CIRCULAR", bias_per_position=False),
        dict(x=(1, 3, 4, 3, 2), window=(2, 2, 2), features=2, padding=1),
    ],
    "regional_conv": [
        dict(x=(2, 7, 2), window=(3,), features=3, regions=2),
        dict(x=(1, 6, 5, 2), window=(2, 3), features=2, regions=(3, 2), strides=(1, 2),
             dilation=(2, 1), padding="CIRCULAR", bias_per_position=False),
        dict(x=(2, 5, 5, 2), window=(3, 3), features=2, regions=(2, 3), strides=2, padding="SAME"),
        dict(x=(1, 4, 4, 3, 2), window=(2, 2, 2), features=2, regions=(2, 1, 3), padding=1),
    ],
    "max_pool": [
        dict(x=(2, 4, 4, 3), window=2),
        dict(x=(1, 5, 5, 2), window=3, strides=1, padding="SAME"),
        dict(x=(1, 7, 2), window=3, strides=2, padding="CIRCULAR"),
        dict(x=(1, 3, 1), window=5, strides=1, padding="CIRCULAR"),
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

# One or two configurations per op with its hardest features (`jaxconv backprop check --quick`).
QUICK = {
    "dense": CONFIGS["dense"][1:2],
    "conv": [CONFIGS["conv"][2], CONFIGS["conv"][6]],
    "locally_connected": CONFIGS["locally_connected"][3:4],
    "regional_conv": CONFIGS["regional_conv"][1:2],
    "max_pool": [CONFIGS["max_pool"][1], CONFIGS["max_pool"][4]],
    "avg_pool": CONFIGS["avg_pool"][3:4],
}


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


def _gradients(op: str, cfg: dict, rng):
    """``(hand, autodiff)``: two tuples of gradients for one configuration."""
    cfg = dict(cfg)
    x_shape = cfg.pop("x")
    if op in ("max_pool", "avg_pool"):
        x = jnp.asarray(rng.integers(0, 3, x_shape), jnp.float32)  # small ints: many ties
        forward, backward = (ops.max_pool, max_pool_backward) if op == "max_pool" else (
            ops.avg_pool, avg_pool_backward)
        y, vjp = jax.vjp(lambda x: forward(x, **cfg), x)
        g = _normal(rng, y.shape)
        return (backward(x, g, **cfg),), vjp(g)
    x, features = _normal(rng, x_shape), cfg.pop("features")
    if op == "dense":
        kernel, bias = _normal(rng, (x_shape[-1], features)), jnp.zeros((features,))
        forward, backward = ops.dense, dense_backward
    elif op == "conv":
        groups = cfg.get("groups", 1)
        kernel = _normal(rng, (*cfg.pop("window"), x_shape[-1] // groups, features))
        bias = jnp.zeros((features,))
        forward, backward = ops.conv, conv_backward
    else:
        window, per_position = cfg.pop("window"), cfg.pop("bias_per_position", True)
        settings = {k: v for k, v in cfg.items() if k in ("strides", "padding", "dilation")}
        out = shapes.geometry(op, x_shape[1:-1], window, **settings).out_spatial
        if op == "regional_conv":  # one kernel per region instead of per position
            out = shapes.canonical_regions(op, cfg["regions"], out)
            forward = ops.regional_conv
            backward = lambda *a, **k: regional_conv_backward(  # noqa: E731
                *a, bias_per_region=per_position, **k)
        else:
            forward = ops.locally_connected
            backward = lambda *a, **k: locally_connected_backward(  # noqa: E731
                *a, bias_per_position=per_position, **k)
        kernel = _normal(rng, (*out, *window, x_shape[-1], features))
        bias = jnp.zeros((*out, features) if per_position else (features,))
    y, vjp = jax.vjp(_jitted(forward, tuple(sorted(cfg.items()))), x, kernel, bias)
    g = _normal(rng, y.shape)
    return backward(x, kernel, g, precision=_HIGHEST, **cfg), vjp(g)


def check_op(op: str, configs=None, *, seed: int = 0) -> dict:
    """Largest relative error of one op's hand-derived gradients over its configurations.

    Args:
        op: one of ``CONFIGS``' keys.
        configs: list of configuration dicts (as in ``CONFIGS``); defaults to ``CONFIGS[op]``.
        seed: seed of the random inputs.

    Returns:
        ``{"op": op, "configs": n, "max_rel_error": float, "ok": bool}``.
    """
    if op not in CONFIGS:
        raise ValueError(f"check_op: `op` must be one of {', '.join(CONFIGS)}, got op={op!r}.")
    seed = check_int("check_op", "seed", seed, None)
    configs = CONFIGS[op] if configs is None else list(configs)
    worst = 0.0
    for i, cfg in enumerate(configs):
        hand, autodiff = _gradients(op, cfg, np.random.default_rng((seed % 2**63, i)))
        worst = max([worst, *(relative_error(h, a) for h, a in zip(hand, autodiff))])
    return {"op": op, "configs": len(configs), "max_rel_error": worst, "ok": worst <= TOLERANCE}


def check_all(*, seed: int = 0, quick: bool = False) -> dict:
    """:func:`check_op` for every op: ``{"ops": [...], "tolerance": TOLERANCE}``.

    Args:
        seed: seed of the random inputs.
        quick: check only the ``QUICK`` configurations instead of all of ``CONFIGS``.
    """
    grid = QUICK if quick else CONFIGS
    rows = [check_op(op, configs, seed=seed) for op, configs in grid.items()]
    return {"ops": rows, "tolerance": TOLERANCE}
