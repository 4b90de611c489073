"""Optimisers and learning-rate schedules by name, built from optax."""

from __future__ import annotations

import math
import numbers

import optax

__all__ = ["OPTIMIZERS", "SCHEDULES", "make_optimizer"]

#: Optimiser names accepted by :func:`make_optimizer`.
OPTIMIZERS = ("sgd", "momentum", "adam")
#: Schedule names accepted by :func:`make_optimizer`.
SCHEDULES = ("constant", "cosine", "warmup_cosine")


def _check_number(name, value, *, positive=True):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"make_optimizer: `{name}` must be a number, got {name}={value!r}.")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        rule = "a positive finite number" if positive else "a finite number >= 0"
        raise ValueError(f"make_optimizer: `{name}` must be {rule}, got {name}={value!r}.")
    return float(value)


def _schedule(name, learning_rate, steps, warmup_steps):
    if name == "constant":
        return learning_rate
    if not isinstance(steps, numbers.Integral) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"make_optimizer: schedule {name!r} needs the total `steps` (a positive "
                         f"int), got steps={steps!r}.")
    if name == "cosine":
        return optax.cosine_decay_schedule(learning_rate, int(steps))
    if warmup_steps is None:
        warmup_steps = max(1, int(steps) // 10)
    if not isinstance(warmup_steps, numbers.Integral) or not 0 <= warmup_steps < steps:
        raise ValueError(f"make_optimizer: `warmup_steps` must be an int in [0, steps), got "
                         f"warmup_steps={warmup_steps!r} with steps={steps}.")
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
    if name not in OPTIMIZERS:
        raise ValueError(f"make_optimizer: `name` must be one of {', '.join(OPTIMIZERS)}, got "
                         f"name={name!r}.")
    if schedule not in SCHEDULES:
        raise ValueError(f"make_optimizer: `schedule` must be one of {', '.join(SCHEDULES)}, got "
                         f"schedule={schedule!r}.")
    learning_rate = _check_number("learning_rate", learning_rate)
    momentum = _check_number("momentum", momentum, positive=False)
    if momentum >= 1:
        raise ValueError(f"make_optimizer: `momentum` must be in [0, 1), got "
                         f"momentum={momentum!r}.")
    lr = _schedule(schedule, learning_rate, steps, warmup_steps)
    if name == "sgd":
        return optax.sgd(lr)
    if name == "momentum":
        return optax.sgd(lr, momentum=momentum)
    return optax.adam(lr)
