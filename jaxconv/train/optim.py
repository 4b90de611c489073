"""Optimisers and learning-rate schedules by name, built from optax."""

from __future__ import annotations

import optax

from jaxconv.names import OPTIMIZERS, SCHEDULES
from jaxconv.validate import check_choice, check_float, check_int

__all__ = ["OPTIMIZERS", "SCHEDULES", "make_optimizer"]


def _check_number(name, value, *, positive=True):
    return check_float("make_optimizer", name, value, 0, low_open=positive)


def _schedule(name, learning_rate, steps, warmup_steps):
    if name == "constant":
        return learning_rate
    if steps is None:
        raise ValueError(f"make_optimizer: schedule {name!r} needs the total `steps` (a positive "
                         f"integer), got steps=None.")
    steps = check_int("make_optimizer", "steps", steps)
    if name == "cosine":
        return optax.cosine_decay_schedule(learning_rate, int(steps))
    if warmup_steps is None:
        warmup_steps = max(1, int(steps) // 10)
    warmup_steps = check_int("make_optimizer", "warmup_steps", warmup_steps, 0, steps - 1)
    return optax.warmup_cosine_decay_schedule(0.0, learning_rate, int(warmup_steps), int(steps))


def make_optimizer(name: str = "adam", learning_rate: float = 1e-3, *, schedule: str = "constant",
                   steps: int | None = None, warmup_steps: int | None = None,
                   momentum: float = 0.9) -> optax.GradientTransformation:
    """An optax optimiser by name.

    Args:
        name: ``"sgd"``, ``"momentum"`` (SGD with heavy-ball momentum) or ``"adam"``.
        learning_rate: peak learning rate, > 0.
        schedule: ``"constant"``, ``"cosine"`` (decay to 0 over ``steps``) or ``"warmup_cosine"``
            (linear warm-up from 0 over ``warmup_steps``, then cosine decay to 0 at ``steps``).
        steps: total number of training steps; needed by the cosine schedules.
        warmup_steps: warm-up length; defaults to ``steps // 10`` (at least 1).
        momentum: momentum coefficient of ``"momentum"``, in [0, 1).

    Returns:
        An ``optax.GradientTransformation``.

    Raises:
        ValueError: unknown name or schedule, or an out-of-range number.

    Example:
        >>> tx = make_optimizer("momentum", 0.1, schedule="cosine", steps=100)
    """
    check_choice("make_optimizer", "name", name, OPTIMIZERS)
    check_choice("make_optimizer", "schedule", schedule, SCHEDULES)
    learning_rate = _check_number("learning_rate", learning_rate)
    momentum = check_float("make_optimizer", "momentum", momentum, 0, 1, high_open=True)
    lr = _schedule(schedule, learning_rate, steps, warmup_steps)
    if name == "sgd":
        return optax.sgd(lr)
    if name == "momentum":
        return optax.sgd(lr, momentum=momentum)
    return optax.adam(lr)
