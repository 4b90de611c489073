"""``jaxconv backprop check``: every hand-derived backward pass against JAX's autodiff.

The grid asks the kind records: each registered kind with a hand-derived backward pass
(:attr:`jaxconv.kinds.Kind.backward`) is checked over its :attr:`~jaxconv.kinds.Kind.backward_configs`
(``--quick``: its :attr:`~jaxconv.kinds.Kind.backward_quick`), named by the kind; then the pools,
which are not kinds, over :data:`jaxconv.ops.backprop.check.POOL_CONFIGS`. How one configuration
is checked, and how its error is measured, is :mod:`jaxconv.ops.backprop.check`'s.

Example:
    >>> [row["op"] for row in check_all(quick=True)["ops"]]  # doctest: +SKIP
    ['dense', 'local', 'regional', 'conv', 'max_pool', 'avg_pool']
"""

from __future__ import annotations

import functools

from jaxconv import kinds
from jaxconv.ops.backprop import check
from jaxconv.validate import check_choice, check_int

__all__ = ["TOLERANCE", "case", "check_all", "check_op", "grid"]

TOLERANCE = 1e-5


def _checked() -> tuple[kinds.Kind, ...]:
    return tuple(k for k in kinds.registered() if k.backward is not None and k.backward_configs)


def grid(quick: bool = False) -> dict[str, list]:
    """Op name -> its configurations: the checked kinds in registry order, then the pools."""
    out = {k.name: [k.backward_configs[i] for i in k.backward_quick] if quick
           else list(k.backward_configs) for k in _checked()}
    for op, configs in check.POOL_CONFIGS.items():
        out[op] = [configs[i] for i in check.POOL_QUICK[op]] if quick else list(configs)
    return out


def case(kind: kinds.Kind, config):
    """One of ``kind``'s configurations as ``(x_shape, kernel_shape, bias_shape, settings,
    backward_settings)``: the parameters' shapes are the kind's cost's, ``settings`` the op's."""
    cfg = dict(config)
    x_shape, features, window = cfg.pop("x"), cfg.pop("features"), cfg.pop("window", None)
    per_position, backward_settings = True, {}
    if kind.bias_option is not None:
        per_position = cfg.pop(kind.bias_option, True)
        backward_settings[kind.bias_option] = per_position
    example = x_shape[-1:] if kind.whole_input else x_shape[1:]
    cost = kind.cost(example, features, window, **cfg)
    bias_shape = cost.bias_shape if per_position else (features,)
    return tuple(x_shape), cost.kernel_shape, bias_shape, cfg, backward_settings


def _kind_gradients(kind: kinds.Kind, config, rng):
    x_shape, kernel_shape, bias_shape, settings, backward_settings = case(kind, config)
    return check.layer_gradients(kind.op, kind.backward, x_shape, kernel_shape, bias_shape,
                                 settings, rng, backward_settings)


def check_op(op: str, configs=None, *, seed: int = 0) -> dict:
    """Largest relative error of one op's hand-derived gradients over its configurations.

    Args:
        op: a checked kind's name (``"dense"``, ``"local"``, ``"regional"``, ``"conv"``...) or a
            pool (``"max_pool"``, ``"avg_pool"``): one of :func:`grid`'s keys.
        configs: list of configuration dicts (as in :func:`grid`); defaults to the full grid's.
        seed: seed of the random inputs.

    Returns:
        ``{"op": op, "configs": n, "max_rel_error": float, "ok": bool}``.
    """
    full = grid()
    check_choice("check_op", "op", op, full)
    seed = check_int("check_op", "seed", seed, None)
    configs = full[op] if configs is None else list(configs)
    if op in check.POOL_CONFIGS:
        gradients = functools.partial(check.pool_gradients, op)
    else:
        gradients = functools.partial(_kind_gradients, kinds.get(op))
    worst = check.worst_error(gradients, configs, seed)
    return {"op": op, "configs": len(configs), "max_rel_error": worst, "ok": worst <= TOLERANCE}


def check_all(*, seed: int = 0, quick: bool = False) -> dict:
    """:func:`check_op` for every op: ``{"ops": [...], "tolerance": TOLERANCE}``.

    Args:
        seed: seed of the random inputs.
        quick: check only each op's quick configurations instead of the full grid.
    """
    rows = [check_op(op, configs, seed=seed) for op, configs in grid(quick).items()]
    return {"ops": rows, "tolerance": TOLERANCE}
