"""After a divergence: a learning rate that was seen to continue from the kept state.

Dividing the learning rate by 10 was not enough. ``jaxconv train --optimizer sgd --lr 100``
stopped at step 2 and suggested 10, and resuming with 10 diverged again at the next step; with
Adam at 1e6 the suggestion 1e5 did the same. :func:`suggest_learning_rate` instead tries smaller
rates from the kept state for a few steps, and returns the largest that passed: the guard never
fired and the loss on those steps' batches ended below both the kept state's and a uniform
guess's, ``log(classes)``. (Passing the guard is not enough: Adam at 0.1 from the kept state of
``--lr 1e6`` went from 2.36 to 2.31, just above the uniform 2.30, and stayed there for 50 steps,
test accuracy 0.078: every prediction had collapsed to the same guess.) It tries 10x, 100x,
10,000x, 10^8x smaller and then bisects between the last failure and the first success (on the
exponent), so 2-6 tries of a few steps.

The tries share one compiled step: every transform :func:`~jaxconv.train.make_tx` builds for a
named optimiser ends by multiplying its update by the learning rate, and nothing before that
depends on it, so
the update at rate ``r`` is the run's update times ``r / learning_rate``, with that factor an
argument of the step. (Compiling a step per rate, through ``fit``, took 37 s for the SGD case
above and 82 s for the Adam one on the shared 2-core machine at load 8.)
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math

import jax
import numpy as np
import optax

from jaxconv.config import TrainConfig
from jaxconv.data import batches
from jaxconv.train.guard import DivergenceError, Guard
from jaxconv.train.state import tree_norm

__all__ = ["LearningRateSuggestion", "suggest_learning_rate"]

#: Powers of ten the search may divide the learning rate by (10 ... 10^8).
MAX_POWER = 8
#: Steps each try runs from the kept state.
TRY_STEPS = 10


@dataclasses.dataclass(frozen=True)
class LearningRateSuggestion:
    """What :func:`suggest_learning_rate` found.

    Attributes:
        learning_rate: the largest rate tried that passed, or None when none did.
        steps: the steps each try ran from the kept state.
        loss_before: the kept state's mean loss on those steps' batches.
        loss_after: the same after ``steps`` steps at ``learning_rate`` (None if none passed).
        failed: the rates tried that did not pass, largest first.
    """

    learning_rate: float | None
    steps: int
    loss_before: float
    loss_after: float | None
    failed: tuple[float, ...]

    def describe(self) -> str:
        """One clause for a message, e.g. ``"1 lowered the loss ... ; 10 did not"``."""
        tried = ", ".join(f"{r:g}" for r in self.failed)
        if self.learning_rate is None:
            return (f"none of {tried} lowered the loss below a uniform guess's in {self.steps} "
                    f"steps from it without diverging: check the data and the model")
        found = (f"learning rate {self.learning_rate:g} took the loss on the next {self.steps} "
                 f"batches from {self.loss_before:.3g} to {self.loss_after:.3g} in {self.steps} "
                 f"steps within the guard")
        return f"{found} ({tried} did not)" if tried else found


def suggest_learning_rate(model, dataset, err: DivergenceError, config: TrainConfig, *,
                          steps: int = TRY_STEPS) -> LearningRateSuggestion:
    """The largest of ``config.learning_rate / 10**k`` (k = 1..8) that trains ``steps`` steps
    from ``err.state`` without tripping the divergence guard and takes the loss on their batches
    below both the state's and a uniform guess's.

    Args:
        model: the Flax module that diverged.
        dataset: the dataset it trained on (the tries take the run's next batches).
        err: the :class:`~jaxconv.train.DivergenceError` (its ``state`` is the start).
        config: the run's :class:`~jaxconv.train.TrainConfig`; its optimiser must be a name.
        steps: steps each try runs.

    Returns:
        A :class:`LearningRateSuggestion`.

    Raises:
        TypeError: ``err`` is not a DivergenceError, ``config`` not a TrainConfig, or its
            optimiser is an optax object (its learning rate is not known here).
    """
    from jaxconv.train import preflight
    from jaxconv.train.optim import make_tx
    from jaxconv.train.state import canonical_dtype

    if not isinstance(err, DivergenceError):
        raise TypeError(f"suggest_learning_rate: `err` must be a DivergenceError, got "
                        f"{type(err).__name__}.")
    if not isinstance(config, TrainConfig) or not isinstance(config.optimizer, str):
        raise TypeError("suggest_learning_rate: `config` must be a TrainConfig naming its "
                        f"optimizer, got {config!r}.")
    start = int(err.good_step)
    tx = make_tx(config)  # the run's own transform: its compiled step, its state's structure
    compute_dtype = canonical_dtype("suggest_learning_rate", config.compute_dtype)
    stream = batches(dataset.x_train, dataset.y_train, config.batch_size, seed=config.seed)
    pairs = [(x, y.astype(np.int32)) for x, y in itertools.islice(stream, start, start + steps)]
    xs, ys = np.concatenate([x for x, _ in pairs]), np.concatenate([y for _, y in pairs])
    chance = math.log(preflight.output_classes(model, tuple(np.shape(dataset.x_train)[1:])))
    norm = float(tree_norm(err.state.params))
    before = float(_loss(model, compute_dtype, err.state.params, xs, ys))

    def after(power: int) -> float | None:
        """The loss after the try at ``rate / 10**power``, or None if the guard fired."""
        scale = np.float32(10.0 ** -power)
        guard = Guard((start, err.state), norm, loss_ratio=config.guard_loss_ratio,
                      norm_growth=config.guard_norm_growth, chance_loss=chance)
        state = err.state
        for step, (x, y) in enumerate(pairs, start=start + 1):
            state, metrics = _scaled_step(model, tx, compute_dtype, state, x, y, scale)
            metrics = jax.device_get(metrics)
            try:
                guard.check(step, float(metrics["loss"]), bool(metrics["finite"]),
                            float(metrics["param_norm"]), state)
            except DivergenceError:
                return None
        return float(_loss(model, compute_dtype, state.params, xs, ys))

    losses: dict[int, float | None] = {}
    passed: dict[int, bool] = {}

    def passes(power: int) -> bool:
        loss = losses[power] = after(power)
        passed[power] = loss is not None and loss < min(before, chance)
        return passed[power]

    bad, good = 0, None  # the largest power known to fail, the smallest known to pass
    for power in (1, 2, 4, MAX_POWER):
        if passes(power):
            good = power
            break
        bad = power
    while good is not None and good - bad > 1:
        mid = (bad + good) // 2
        bad, good = (bad, mid) if passes(mid) else (mid, good)
    failed = tuple(config.learning_rate / 10**p for p in sorted(passed) if not passed[p])
    rate = None if good is None else config.learning_rate / 10**good
    return LearningRateSuggestion(rate, steps, before, None if good is None else losses[good],
                                  failed)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _loss(model, compute_dtype, params, x, y):
    from jaxconv.train.state import loss_fn

    return loss_fn(model, params, x, y, compute_dtype)[0]


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _scaled_step(model, tx, compute_dtype, state, x, y, scale):
    """The run's update (:func:`jaxconv.train.state.train_update`) with ``tx``'s update times
    ``scale``."""
    from jaxconv.train.state import TrainState, train_update

    scaled = optax.chain(tx, optax.scale(scale))
    inner = TrainState(step=state.step, params=state.params,
                       opt_state=(state.opt_state, optax.scale(scale).init(state.params)))
    new, metrics, _ = train_update(model, scaled, compute_dtype, inner, x, y)
    return TrainState(step=new.step, params=new.params, opt_state=new.opt_state[0]), metrics
