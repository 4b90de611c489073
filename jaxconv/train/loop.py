"""``fit``: the training loop as a plain generator of :class:`StepResult`, for the CLI and viewer.

Its settings are one :class:`~jaxconv.train.TrainConfig`. The caller pulls one result per step
and may stop at any time (pause, stop buttons, a step limit). Between pulls at most the next
dispatch runs on the device: it is sent before the current one's losses are read, so the host's
work overlaps the device's; one left running when the caller stops is dropped. Batches come from
:func:`jaxconv.data.batches` seeded with ``seed``, and the parameters from ``seed``
(:func:`~jaxconv.train.init_state`), so the same seed on the same device gives the same run,
and resuming from a checkpoint at step k replays the stream from batch k.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import time
import warnings
from collections.abc import Iterator
from typing import Any

import jax
import numpy as np
from flax import linen as nn

from jaxconv.backend import xla_cpu
from jaxconv.backend.programs import Program
from jaxconv.config import TrainConfig, replace_fields
from jaxconv.data import batches
from jaxconv.train import preflight, programs, sharding
from jaxconv.train.dispatch import Chunks, make_multi_step
from jaxconv.train.guard import DivergenceError, Guard
from jaxconv.train.optim import make_tx
from jaxconv.train.state import (
    TrainState,
    canonical_dtype,
    evaluate,
    init_state,
    make_train_step,
    train_update,
)

__all__ = ["StepResult", "fit"]


@dataclasses.dataclass(frozen=True)
class StepResult:
    """What one training step produced.

    Attributes:
        step: the number of updates applied so far (1 after the first step).
        loss: training loss of this step's batch (before the update).
        accuracy: training accuracy of this step's batch.
        state: the :class:`TrainState` after the update (device arrays); None for a step that
            a multi-step dispatch ran before its last (see ``TrainConfig.steps_per_dispatch``).
            Evaluation steps and the final step always carry it.
        elapsed: seconds since ``fit`` started running.
        test_loss: mean test loss on evaluation steps, else None.
        test_accuracy: test accuracy on evaluation steps, else None.
        grads: this step's gradients (a pytree like the params) if ``return_grads``, else None;
            like ``state``, only on the last step of a dispatch.
    """

    step: int
    loss: float
    accuracy: float
    state: TrainState | None
    elapsed: float
    test_loss: float | None = None
    test_accuracy: float | None = None
    grads: Any = None


def _check_dataset(dataset):
    for attr in ("x_train", "y_train", "x_test", "y_test"):
        if not hasattr(dataset, attr):
            raise TypeError(f"fit: `dataset` must have x_train, y_train, x_test and y_test (a "
                            f"jaxconv.data.Dataset), got {type(dataset).__name__} without {attr}.")
    for split in ("train", "test"):
        if len(getattr(dataset, f"y_{split}")) == 0:
            raise ValueError(f"fit: the dataset's {split} split is empty (y_{split} has 0 labels); "
                             f"training needs examples to fit and to evaluate on.")


def fit(model, dataset, config: TrainConfig | None = None, *, state: TrainState | None = None,
        mesh=None, **overrides) -> Iterator[StepResult]:
    """Trains ``model`` on ``dataset`` as ``config`` says, yielding after every step.

    Arguments are checked when ``fit`` is called; training runs as the result is iterated.

    Args:
        model: a Flax linen module mapping (N, H, W, C) images to (N, classes) logits, e.g.
            ``jaxconv.models.build("conv")``.
        dataset: a :class:`jaxconv.data.Dataset` (x_train (N, H, W, C) float32, y_train (N,) int).
        config: a :class:`~jaxconv.train.TrainConfig` (steps, batch size, optimiser, learning
            rate, schedule, seed, evaluation cadence, compute dtype, CPU library, gradients);
            default ``TrainConfig()``.
        state: a :class:`TrainState` to continue from (e.g. a restored checkpoint); default: fresh.
        mesh: a data mesh (:func:`jaxconv.train.data_mesh`) to split batches over. Default: all
            devices when there is more than one, else none.
        **overrides: ``TrainConfig`` fields replacing those of ``config``
            (``fit(model, ds, steps=100)`` is ``fit(model, ds, TrainConfig(steps=100))``).

    The CPU library ``"auto"`` is decided here, once, from the training step's program, and the
    evaluation is compiled the same way. The optax transform is
    :func:`~jaxconv.train.make_tx` of the config. The compiled step is jax's to cache: a second
    ``fit`` with an equal model and the same training recipe compiles nothing new.

    Yields:
        One :class:`StepResult` per step.

    Raises:
        ValueError, TypeError: a bad argument or setting, or an unknown override; labels outside
            the model's classes; an empty split (all at the call).
        DivergenceError: while iterating, when the divergence guard fires (its settings are
            ``config.guard_loss_ratio`` and ``guard_norm_growth``; a :class:`NonFiniteError` for
            a NaN or infinite loss, gradient or parameter); ``err.state`` is the newest state that
            passed the guard and ``err.good_step`` its step. See :mod:`jaxconv.train.guard`.

    Example:
        >>> ds = jaxconv.data.load("digits")
        >>> for r in fit(build("conv"), ds, TrainConfig(steps=100, eval_every=50)):
        ...     if r.test_accuracy is not None:
        ...         print(r.step, r.loss, r.test_accuracy)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"fit: `model` must be a flax.linen Module (e.g. "
                        f"jaxconv.models.build('conv')), got model={model!r}.")
    if config is not None and not isinstance(config, TrainConfig):
        raise TypeError(f"fit: `config` must be a TrainConfig or None, got "
                        f"{type(config).__name__}.")
    cfg = replace_fields("fit", TrainConfig, config, overrides)
    _check_dataset(dataset)
    if mesh is not None and not isinstance(mesh, jax.sharding.Mesh):
        raise TypeError(f"fit: `mesh` must be None or a jax.sharding.Mesh (see "
                        f"jaxconv.train.data_mesh), got mesh={mesh!r}.")
    if cfg.batch_size > len(dataset.y_train):
        raise ValueError(f"fit: `batch_size` must be at most the {len(dataset.y_train)} training "
                         f"examples, got batch_size={cfg.batch_size}.")
    if mesh is None and jax.device_count() > 1:
        mesh = sharding.data_mesh()
    if mesh is not None and cfg.batch_size % mesh.size:
        raise ValueError(f"fit: `batch_size` must divide by the number of devices ({mesh.size}), "
                         f"got batch_size={cfg.batch_size}.")
    tx = make_tx(cfg)  # the same object for the same recipe, so jax reuses the step
    compute_dtype = canonical_dtype("fit", cfg.compute_dtype)
    input_shape = tuple(int(d) for d in np.shape(dataset.x_train)[1:])
    classes = preflight.output_classes(model, input_shape)
    preflight.check_labels("fit", classes, {"y_train": dataset.y_train, "y_test": dataset.y_test},
                           where=f"dataset {getattr(dataset, 'name', '')!r}: ")
    table = preflight.table(model, input_shape, cfg.batch_size)  # abstract: nothing allocated
    preflight.check_step_fits("fit", preflight.step_memory(model, tx, input_shape,
                                                           cfg.batch_size, table), cfg.batch_size)
    slow = preflight.compile_warning(table)
    if slow:
        warnings.warn(preflight.LongCompileWarning(f"fit: {slow}"), stacklevel=2)
    if state is None:
        state = init_state(model, tx, input_shape, seed=cfg.seed)
    elif not isinstance(state, TrainState):
        raise TypeError(f"fit: `state` must be a TrainState or None, got {type(state).__name__}.")
    # "auto" is decided once, from the step's program, and the evaluation and the multi-step
    # loop compile alike: when the step is compiled (or read from the store with the program).
    library = cfg.cpu_library
    if mesh is not None and library == "auto":
        batch = programs.abstract_batch(cfg, input_shape)
        library = xla_cpu.library_for(jax.make_jaxpr(train_update, static_argnums=(0, 1, 2))(
            model, tx, compute_dtype, state, *batch))
    train_step = make_train_step(model, tx, compute_dtype=compute_dtype, mesh=mesh,
                                 library=library)
    if mesh is not None:
        state = sharding.replicate(state, mesh)
    chance = math.log(classes)  # a loss above a uniform guess's is never noise
    return _run(model, tx, dataset, state, train_step, cfg, compute_dtype, mesh, library, chance)


def _library(train_step, library: str, model, tx, compute_dtype, state, x, y) -> str:
    """The CPU library the step was compiled for (``library`` unless it is ``"auto"``): the
    step's own choice once it is compiled, else read from a trace of it."""
    if library != "auto":
        return library
    if isinstance(train_step, Program) and train_step.how is not None:
        return train_step.library()
    return xla_cpu.library_for(jax.make_jaxpr(train_update, static_argnums=(0, 1, 2))(
        model, tx, compute_dtype, state, x, y))


def _run(model, tx, dataset, state, train_step, cfg: TrainConfig, compute_dtype, mesh, library,
         chance):
    start = int(sharding.to_host(state.step))
    norm = float(sharding.to_host(programs.start_norm_program()(state.params)))
    guard = Guard((start, state), norm, loss_ratio=cfg.guard_loss_ratio,
                  norm_growth=cfg.guard_norm_growth, chance_loss=chance)
    stream = batches(dataset.x_train, dataset.y_train, cfg.batch_size, seed=cfg.seed)
    stream = itertools.islice(stream, start, None)  # a resumed run continues the same stream
    began = time.perf_counter()
    chunks = Chunks(cfg, mesh, dataset)
    made = {}  # the step's library, and the programs that follow it, once the step is compiled

    def follow(state, x, y):
        if not made:
            made["library"] = _library(train_step, library, model, tx, compute_dtype, state, x, y)
        return made["library"]

    def multi(state, xs, ys, n):
        if "multi" not in made:
            chosen = follow(state, xs[0], ys[0])
            made["multi"] = (programs.loop_program(model, tx, compute_dtype, chosen)
                             if mesh is None else make_multi_step(
                train_update, functools.partial(xla_cpu.jit, library=chosen),
                (model, tx, compute_dtype)))
        if mesh is None:
            return made["multi"](state, xs, ys, np.int32(n))
        return made["multi"](state, xs, ys, n)

    def launch(step, state):
        """Dispatches the steps after ``step`` (jax runs them while the host goes on)."""
        n = chunks.next_count(step)
        pairs = [(x, y.astype(np.int32)) for x, y in itertools.islice(stream, n)]
        loop, dispatched = chunks.capacity > 1 and chunks.uses_loop(n), time.perf_counter()
        if not loop:
            x, y = pairs[0]
            if mesh is not None:
                x, y = sharding.shard_batch(x, mesh), sharding.shard_batch(y, mesh)
            out = train_step(state, x, y)
            follow(state, x, y)
            return _Launch(step, state, pairs, loop, dispatched, *out)
        return _Launch(step, state, pairs, loop, dispatched,
                       *multi(state, *chunks.stage(pairs), n))

    replay, ahead = [], launch(start, state) if start < cfg.steps else None
    while ahead is not None:
        done, n = ahead, len(ahead.pairs)
        step, new_state, grads = done.step, done.new_state, done.grads
        # Pipelined: the next dispatch goes to the device before this one's metrics are read,
        # so the host's work per step overlaps the device's (not while "auto" still times steps).
        ahead = None
        if step + n < cfg.steps and chunks.settled_count():
            ahead = launch(step + n, new_state)
        if done.loop:
            metrics = jax.device_get(done.metrics)
        elif mesh is None:  # np.asarray per scalar: 25 us for the four, jax.device_get 100 us
            metrics = {k: np.asarray(v)[None] for k, v in done.metrics.items()}
        else:
            metrics = {k: np.asarray(v)[None] for k, v in sharding.to_host(done.metrics).items()}
        chunks.measured(n, time.perf_counter() - done.dispatched, done.loop)
        replay = [*replay, (step, done.state, done.pairs)][-2:]  # the guard may go back two
        for i in range(n):
            step, last = step + 1, i == n - 1
            try:
                guard.check(step, float(metrics["loss"][i]), bool(metrics["finite"][i]),
                            float(metrics["param_norm"][i]), new_state if last else None)
            except DivergenceError as err:
                if err.state is None:  # a state inside a dispatch: run its steps one by one
                    err.state = _rebuild(train_step, replay, err.good_step)
                raise
            test_loss = test_accuracy = None
            if last and (step == cfg.steps or (cfg.eval_every and step % cfg.eval_every == 0)):
                test_loss, test_accuracy = evaluate(model, new_state.params, dataset.x_test,
                                                    dataset.y_test, cfg.eval_batch_size,
                                                    compute_dtype=compute_dtype, mesh=mesh,
                                                    library=made["library"])
            yield StepResult(step=step, loss=float(metrics["loss"][i]),
                             accuracy=float(metrics["accuracy"][i]),
                             state=new_state if last else None,
                             elapsed=time.perf_counter() - began, test_loss=test_loss,
                             test_accuracy=test_accuracy,
                             grads=grads if cfg.return_grads and last else None)
        if ahead is None and step < cfg.steps:
            ahead = launch(step, new_state)


@dataclasses.dataclass
class _Launch:
    """One dispatch in flight: its first step, start state, batches, and its outputs."""

    step: int
    state: Any
    pairs: list
    loop: bool
    dispatched: float
    new_state: Any
    metrics: Any
    grads: Any


def _rebuild(train_step, replay, step: int):
    """The state after ``step``, replayed with single steps from the latest dispatch start at or
    before it (``replay``: ``(start step, start state, batches)`` of the last dispatches)."""
    begin, state, pairs = max((r for r in replay if r[0] <= step), key=lambda r: r[0])
    for x, y in pairs[:step - begin]:
        state, _, _ = train_step(state, x, y)
    return state
