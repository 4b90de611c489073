"""``fit``: the training loop as a plain generator of :class:`StepResult`, for the CLI and viewer.

The caller pulls one result per step and may stop at any time (pause, stop buttons, a step limit);
nothing runs between pulls. Batches come from :func:`jaxconv.data.batches` seeded with ``seed``,
and the parameters from ``jax.random.key(seed)``, so the same seed on the same device gives the same
run, and resuming from a checkpoint at step k replays the stream from batch k.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import time
from typing import Any, Iterator

import jax
import numpy as np
import optax

from jaxconv import xla_cpu
from jaxconv._validate import check_int
from jaxconv.data import batches
from jaxconv.train import sharding
from jaxconv.train.optim import make_optimizer
from jaxconv.train.state import (NonFiniteError, TrainState, _step_fn, canonical_dtype,
                                 evaluate, init_state, make_train_step)

__all__ = ["StepResult", "fit"]


@dataclasses.dataclass(frozen=True)
class StepResult:
    """What one training step produced.

    Attributes:
        step: the number of updates applied so far (1 after the first step).
        loss: training loss of this step's batch (before the update).
        accuracy: training accuracy of this step's batch.
        state: the :class:`TrainState` after the update (device arrays).
        elapsed: seconds since ``fit`` started running.
        test_loss: mean test loss on evaluation steps, else None.
        test_accuracy: test accuracy on evaluation steps, else None.
        grads: this step's gradients (a pytree like the params) if ``return_grads``, else None.
    """

    step: int
    loss: float
    accuracy: float
    state: TrainState
    elapsed: float
    test_loss: float | None = None
    test_accuracy: float | None = None
    grads: Any = None


def _int(name, value, minimum):
    return check_int("fit", name, value, minimum)


def _check_dataset(dataset):
    for attr in ("x_train", "y_train", "x_test", "y_test"):
        if not hasattr(dataset, attr):
            raise TypeError(f"fit: `dataset` must have x_train, y_train, x_test and y_test (a "
                            f"jaxconv.data.Dataset), got {type(dataset).__name__} without {attr}.")


def fit(model, dataset, *, steps: int, batch_size: int = 64, optimizer="adam",
        learning_rate: float = 1e-3, schedule: str = "constant", seed: int = 0,
        eval_every: int = 50, eval_batch_size: int = 256, state: TrainState | None = None,
        compute_dtype=None, mesh=None, return_grads: bool = False,
        cpu_library: str = "auto") -> Iterator[StepResult]:
    """Trains ``model`` on ``dataset`` until step ``steps``, yielding after every step.

    Arguments are checked when ``fit`` is called; training runs as the result is iterated.

    Args:
        model: a Flax linen module mapping (N, H, W, C) images to (N, classes) logits, e.g.
            ``jaxconv.models.build("conv")``.
        dataset: a :class:`jaxconv.data.Dataset` (x_train (N, H, W, C) float32, y_train (N,) int).
        steps: the step to train up to (a total, not a count: resuming a state at step k runs
            ``steps - k`` more updates; none if ``k >= steps``).
        batch_size: training examples per step; with several devices it must divide by their
            number.
        optimizer: ``"sgd"``, ``"momentum"``, ``"adam"`` or an ``optax.GradientTransformation``.
        learning_rate: peak learning rate, for a named optimiser.
        schedule: ``"constant"``, ``"cosine"`` or ``"warmup_cosine"`` (over ``steps``).
        seed: seeds the parameters and the batch order.
        eval_every: evaluate on the test set every this many steps (and always at ``steps``);
            0 evaluates only at ``steps``.
        eval_batch_size: batch size of the evaluation.
        state: a :class:`TrainState` to continue from (e.g. a restored checkpoint); default: fresh.
        compute_dtype: ``None`` or ``"float32"`` (float32 throughout) or ``"bfloat16"`` (forward
            and backward in bf16, parameters and optimiser state kept in float32).
        mesh: a data mesh (:func:`jaxconv.train.data_mesh`) to split batches over. Default: all
            devices when there is more than one, else none.
        return_grads: attach each step's gradients to its result.
        cpu_library: where XLA runs the products, convolutions and reductions of the training
            step and the evaluation on the CPU: ``"auto"`` (decided once from the training
            step's program) or another of :data:`jaxconv.xla_cpu.LIBRARIES`; see
            :mod:`jaxconv.xla_cpu`. No effect on a GPU or TPU.

    Yields:
        One :class:`StepResult` per step.

    Raises:
        ValueError, TypeError: a bad argument (at the call).
        NonFiniteError: while iterating, when a step's loss, gradients or new parameters are not
            finite; ``err.state`` is the last good state.

    Example:
        >>> ds = jaxconv.data.load("digits")
        >>> for r in fit(build("conv"), ds, steps=100, eval_every=50):
        ...     if r.test_accuracy is not None:
        ...         print(r.step, r.loss, r.test_accuracy)
    """
    _check_dataset(dataset)
    steps = _int("steps", steps, 0)
    batch_size = _int("batch_size", batch_size, 1)
    seed = _int("seed", seed, 0)
    eval_every = _int("eval_every", eval_every, 0)
    eval_batch_size = _int("eval_batch_size", eval_batch_size, 1)
    compute_dtype = canonical_dtype("fit", compute_dtype)
    cpu_library = xla_cpu._check_library("fit", cpu_library, "cpu_library")
    if batch_size > len(dataset.y_train):
        raise ValueError(f"fit: `batch_size` must be at most the {len(dataset.y_train)} training "
                         f"examples, got batch_size={batch_size}.")
    if isinstance(optimizer, optax.GradientTransformation):
        tx = optimizer
    elif isinstance(optimizer, str):
        make_optimizer(optimizer, learning_rate, schedule=schedule, steps=max(steps, 1))  # checks
        tx = None
    else:
        raise TypeError(f"fit: `optimizer` must be a name or an optax.GradientTransformation, got "
                        f"{type(optimizer).__name__}.")
    if mesh is None and jax.device_count() > 1:
        mesh = sharding.data_mesh()
    if mesh is not None and batch_size % mesh.size:
        raise ValueError(f"fit: `batch_size` must divide by the number of devices ({mesh.size}), "
                         f"got batch_size={batch_size}.")
    if tx is None:  # same settings -> the same tx and compiled step as last time
        horizon = 1 if schedule == "constant" else max(steps, 1)  # constant: steps don't matter
        tx = _named_tx(optimizer, float(learning_rate), schedule, horizon)
    if state is None:
        state = init_state(model, tx, np.shape(dataset.x_train)[1:], seed=seed)
    elif not isinstance(state, TrainState):
        raise TypeError(f"fit: `state` must be a TrainState or None, got {type(state).__name__}.")
    if cpu_library == "auto":  # once, from the step's program, so every step compiles alike
        x = jax.ShapeDtypeStruct((batch_size, *np.shape(dataset.x_train)[1:]), np.float32)
        y = jax.ShapeDtypeStruct((batch_size,), np.int32)
        cpu_library = xla_cpu.resolve("auto", _step_fn(model, tx, compute_dtype), state, x, y)
    train_step = _cached_step(model, tx, compute_dtype, mesh, cpu_library)
    if mesh is not None:
        state = sharding.replicate(state, mesh)
    settings = dict(steps=steps, batch_size=batch_size, seed=seed, eval_every=eval_every,
                    eval_batch_size=eval_batch_size, compute_dtype=compute_dtype, mesh=mesh,
                    return_grads=return_grads, cpu_library=cpu_library)
    return _run(model, dataset, state, train_step, **settings)


@functools.lru_cache(maxsize=32)
def _named_tx(optimizer, learning_rate, schedule, steps):
    return make_optimizer(optimizer, learning_rate, schedule=schedule, steps=steps)


@functools.lru_cache(maxsize=32)
def _cached_step(model, tx, compute_dtype, mesh, cpu_library):
    """Same model, optimiser and settings -> the same compiled step as last time."""
    return make_train_step(model, tx, compute_dtype=compute_dtype, mesh=mesh,
                           cpu_library=cpu_library)


def _run(model, dataset, state, train_step, *, steps, batch_size, seed, eval_every,
         eval_batch_size, compute_dtype, mesh, return_grads, cpu_library):
    start = int(sharding.to_host(state.step))
    stream = batches(dataset.x_train, dataset.y_train, batch_size, seed=seed)
    stream = itertools.islice(stream, start, None)  # a resumed run continues the same stream
    began = time.perf_counter()
    for step in range(start + 1, steps + 1):
        x, y = next(stream)
        y = y.astype(np.int32)
        if mesh is not None:
            x, y = sharding.shard_batch(x, mesh), sharding.shard_batch(y, mesh)
        new_state, metrics, grads = train_step(state, x, y)
        metrics = sharding.to_host(metrics)
        if not metrics["finite"]:
            raise NonFiniteError(step, state)
        state = new_state
        test_loss = test_accuracy = None
        if step == steps or (eval_every and step % eval_every == 0):
            test_loss, test_accuracy = evaluate(model, state.params, dataset.x_test,
                                                dataset.y_test, eval_batch_size,
                                                compute_dtype=compute_dtype, mesh=mesh,
                                                cpu_library=cpu_library)
        yield StepResult(step=step, loss=float(metrics["loss"]),
                         accuracy=float(metrics["accuracy"]), state=state,
                         elapsed=time.perf_counter() - began, test_loss=test_loss,
                         test_accuracy=test_accuracy, grads=grads if return_grads else None)
