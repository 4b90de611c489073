"""The training recipe: a :class:`~jaxconv.config.TrainConfig` made into its optax transform.

:func:`make_tx` is the one place a transform is built from settings: ``fit``, the learning-rate
search after a divergence, the restore target of ``jaxconv train --resume`` and the viewer's
columns all ask it, so the state a checkpoint holds, the state a run starts from and the update
that runs on it always agree. :func:`make_optimizer` is its building block, the optimiser and
schedule by name.
"""

from __future__ import annotations

import collections
import functools

import optax

from jaxconv.config import TrainConfig
from jaxconv.names import OPTIMIZERS, SCHEDULES
from jaxconv.validate import check_choice, check_float, check_int

__all__ = ["OPTIMIZERS", "SCHEDULES", "make_optimizer", "make_tx", "recipe"]

# id(transform) -> (transform, the settings make_tx made it from), newest last, bounded.
_RECIPES: collections.OrderedDict = collections.OrderedDict()


def make_tx(config: TrainConfig) -> optax.GradientTransformation:
    """The optax transform ``config`` trains with: its optimiser and learning-rate schedule, after
    clipping the gradients' global norm to ``config.clip_norm`` (when set).

    A schedule runs over ``config.steps`` (the step trained up to); ``"constant"`` ignores it.
    Equal settings give the same transform object, not just an equal one: the transform is a
    static argument of the compiled training step, so jax's caches serve a second run with the
    same recipe (whatever its other fields, e.g. ``eval_every``). A config whose ``optimizer`` is
    already an optax transform gives that transform (clipped first if ``clip_norm`` is set).

    Args:
        config: the :class:`~jaxconv.config.TrainConfig`.

    Returns:
        An ``optax.GradientTransformation``.

    Raises:
        TypeError: ``config`` is not a TrainConfig.

    Example:
        >>> tx = make_tx(TrainConfig(optimizer="momentum", schedule="cosine", steps=100))
        >>> tx is make_tx(TrainConfig(optimizer="momentum", schedule="cosine", steps=100))
        True
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"make_tx: `config` must be a TrainConfig, got {type(config).__name__}.")
    tx = config.optimizer
    if not isinstance(tx, str):
        return tx if config.clip_norm is None else _clipped(tx, config.clip_norm)
    # A constant rate has no horizon: keyed on 1, every run length shares one transform.
    horizon = 1 if config.schedule == "constant" else max(config.steps, 1)
    made = (tx, float(config.learning_rate), config.schedule, horizon, config.clip_norm)
    tx = _named_tx(*made[:4])
    tx = tx if config.clip_norm is None else _clipped(tx, config.clip_norm)
    _RECIPES[id(tx)] = (tx, made)
    _RECIPES.move_to_end(id(tx))
    while len(_RECIPES) > 256:
        _RECIPES.popitem(last=False)
    return tx


def recipe(tx) -> tuple | None:
    """The settings :func:`make_tx` made ``tx`` from (optimiser name, learning rate, schedule,
    schedule horizon, clip norm), or None for a transform it did not make from named settings.
    Two transforms with the same recipe compute the same updates: a compiled training step is
    keyed on it (:mod:`jaxconv.train.programs`).

    Example:
        >>> recipe(make_tx(TrainConfig(learning_rate=0.01)))
        ('adam', 0.01, 'constant', 1, None)
    """
    found = _RECIPES.get(id(tx))
    return found[1] if found is not None and found[0] is tx else None


@functools.lru_cache(maxsize=32)
def _named_tx(optimizer, learning_rate, schedule, steps):
    # Keyed on the names and numbers that make the transform, so equal settings are one object.
    return make_optimizer(optimizer, learning_rate, schedule=schedule, steps=steps)


@functools.lru_cache(maxsize=32)
def _clipped(tx, clip_norm):
    # Before the optimiser, so Adam's moments and the learning-rate search's scaling (which
    # multiplies the last update, jaxconv.train.recover) see clipped gradients.
    return optax.chain(optax.clip_by_global_norm(clip_norm), tx)


def _schedule(name, learning_rate, steps, warmup_steps):
    if name == "constant":
        return learning_rate
    if steps is None:
        raise ValueError(f"make_optimizer: schedule {name!r} needs the total `steps` (a positive "
                         f"integer), got steps=None.")
    steps = check_int("make_optimizer", "steps", steps)
    if name == "cosine":
        return optax.cosine_decay_schedule(learning_rate, int(steps))
    if warmup_steps is None:  # a tenth, at least one step, and never the whole run
        warmup_steps = min(max(1, steps // 10), steps - 1)
    warmup_steps = check_int("make_optimizer", "warmup_steps", warmup_steps, 0, steps - 1)
    if steps < 2**31:
        return optax.warmup_cosine_decay_schedule(0.0, learning_rate, int(warmup_steps),
                                                  int(steps))
    return _long_warmup_cosine(learning_rate, int(warmup_steps), int(steps))


def _long_warmup_cosine(peak, warmup_steps: int, steps: int):
    """optax's warm-up cosine in float arithmetic: optax joins its two pieces at an int32 step,
    which overflows (``OverflowError ... argument path is max``) from ``steps=2**31`` on."""
    import jax.numpy as jnp

    start, warmup, decay = float(warmup_steps), float(max(warmup_steps, 1)), float(
        steps - warmup_steps)  # Python floats: a Python int past int32 overflows in jnp

    def schedule(count):
        t = jnp.asarray(count, jnp.float32)
        rising = peak * t / warmup
        done = jnp.clip((t - start) / decay, 0.0, 1.0)
        return jnp.where(t < start, rising, 0.5 * peak * (1.0 + jnp.cos(jnp.pi * done)))

    return schedule


def make_optimizer(name: str = "adam", learning_rate: float = 1e-3, *, schedule: str = "constant",
                   steps: int | None = None, warmup_steps: int | None = None,
                   momentum: float = 0.9) -> optax.GradientTransformation:
    """An optax optimiser by name (the building block of :func:`make_tx`).

    Args:
        name: ``"sgd"``, ``"momentum"`` (SGD with heavy-ball momentum) or ``"adam"``.
        learning_rate: peak learning rate, > 0.
        schedule: ``"constant"``, ``"cosine"`` (decay to 0 over ``steps``) or ``"warmup_cosine"``
            (linear warm-up from 0 over ``warmup_steps``, then cosine decay to 0 at ``steps``).
        steps: total number of training steps; needed by the cosine schedules.
        warmup_steps: warm-up length; defaults to ``steps // 10`` (at least 1, at most
            ``steps - 1``).
        momentum: momentum coefficient of ``"momentum"``, in [0, 1).

    Returns:
        An ``optax.GradientTransformation``: a new one each call (:func:`make_tx` gives the same
        one for the same settings).

    Raises:
        ValueError: unknown name or schedule, or an out-of-range number.

    Example:
        >>> tx = make_optimizer("momentum", 0.1, schedule="cosine", steps=100)
    """
    check_choice("make_optimizer", "name", name, OPTIMIZERS)
    check_choice("make_optimizer", "schedule", schedule, SCHEDULES)
    learning_rate = check_float("make_optimizer", "learning_rate", learning_rate, 0, low_open=True)
    momentum = check_float("make_optimizer", "momentum", momentum, 0, 1, high_open=True)
    lr = _schedule(schedule, learning_rate, steps, warmup_steps)
    if name == "sgd":
        return optax.sgd(lr)
    if name == "momentum":
        return optax.sgd(lr, momentum=momentum)
    return optax.adam(lr)
