"""The compiled programs of training, as :class:`jaxconv.backend.programs.Program`: stored and
loaded by later launches, shared within a process, and ready before the first step if asked.

A program is stored only when its static arguments can be described completely
(:func:`describe`): a :class:`jaxconv.models.Model` (its config says everything about it) and a
transform made by :func:`jaxconv.train.make_tx` (its recipe does). Any other model or optimiser
compiles as plain ``jax.jit`` would, every launch.

:func:`precompile` gets a model's training step ready (compiled, or loaded from the store)
without running it, so a caller can prepare several models' steps side by side, in threads, and
start each as soon as its own is ready (the viewer does).

Example:
    >>> how = precompile(models.build("conv"), ds.input_shape, TrainConfig())  # doctest: +SKIP
    'stored'
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from jaxconv.backend.programs import Program
from jaxconv.config import TrainConfig
from jaxconv.train import host_init
from jaxconv.train.optim import make_tx, recipe
from jaxconv.train.state import tree_norm

__all__ = ["abstract_batch", "describe", "eval_batch_size", "eval_program", "loop_program",
           "precompile", "start_norm_program", "step_program"]


def describe(model, tx=None, compute_dtype=None) -> str | None:
    """A complete description of a model (and a transform, and a compute dtype) for a program's
    key, or None when one of them cannot be described (then nothing is stored)."""
    from jaxconv.models.model import Model

    if type(model) is not Model:  # a subclass or another module may hold more than its config
        return None
    parts = [f"Model({model.config!r})"]
    if tx is not None:
        made = recipe(tx)
        if made is None:
            return None
        parts.append(f"tx{made!r}")
    parts.append(f"dtype={None if compute_dtype is None else np.dtype(compute_dtype).name}")
    return "|".join(parts)


def step_program(model, tx, compute_dtype=None, library: str = "auto") -> Program:
    """``step(state, x, y) -> (state, metrics, grads)``: :func:`jaxconv.train.state.train_update`
    compiled."""
    from jaxconv.train.state import train_update

    return Program(train_update, (model, tx, compute_dtype), name="train_step",
                   key=describe(model, tx, compute_dtype), library=library)


def eval_program(model, compute_dtype=None, library: str = "auto") -> Program:
    """``(params, x, y, weight) -> (loss sum, correct sum, label outside)``: one evaluation
    batch (:func:`jaxconv.train.evaluate`)."""
    from jaxconv.train.state import _eval_body

    return Program(_eval_body, (model, compute_dtype), name="eval",
                   key=describe(model, None, compute_dtype), library=library)


def loop_program(model, tx, compute_dtype, library: str) -> Program:
    """``(state, xs, ys, count)``: many steps per dispatch (:mod:`jaxconv.train.dispatch`)."""
    from jaxconv.train.dispatch import _loop
    from jaxconv.train.state import train_update

    return Program(_loop, (train_update, (model, tx, compute_dtype)), name="train_loop",
                   key=describe(model, tx, compute_dtype), library=library)


@functools.cache
def start_norm_program() -> Program:
    """The global norm of a parameter tree: run once per ``fit``, so compiled as a one-off
    program (XLA's backend optimisation off, :func:`jaxconv.train.host_init.one_off_options`).
    Eagerly, the norm is a program per operation and parameter (about 110 small compiles, 4.8 s
    of a cold viewer start on the 2-core machine)."""
    return Program(tree_norm, name="tree_norm", key="optax.tree.norm", library="xla",
                   options=host_init.one_off_options())


def abstract_batch(config: TrainConfig, input_shape) -> tuple:
    """``(x, y)`` of one training batch as ``jax.ShapeDtypeStruct``."""
    x = jax.ShapeDtypeStruct((config.batch_size, *input_shape), np.float32)
    return x, jax.ShapeDtypeStruct((config.batch_size,), np.int32)


def eval_batch_size(config: TrainConfig, examples: int) -> int:
    """The batch size :func:`jaxconv.train.evaluate` runs ``examples`` test examples in (one
    device)."""
    return min(config.eval_batch_size, examples)


def precompile(model, input_shape, config: TrainConfig | None = None, *, state=None,
               test_examples: int | None = None):
    """Gets ``model``'s training step ready for ``fit`` with ``config`` on images of
    ``input_shape``, without running it; safe to call from another thread.

    Args:
        model: the Flax module ``fit`` will train.
        input_shape: one example's shape (H, W, C).
        config: the :class:`~jaxconv.train.TrainConfig` ``fit`` will get; default
            ``TrainConfig()``.
        state: the state ``fit`` will start from (its structure and shapes matter, not its
            values); default: that of a fresh state, traced abstractly.
        test_examples: the size of the test split, to get the evaluation ready too (after the
            step, with the step's CPU library); None: the step (and the starting norm) only.

    Returns:
        How the step was obtained: ``"compiled"``, ``"stored"`` (loaded from the store) or
        ``"memory"`` (this process had it); None when it cannot be shared with ``fit`` (a model
        or transform :func:`describe` cannot describe), and nothing was done.
    """
    from jaxconv.train.state import canonical_dtype, init_state

    config = TrainConfig() if config is None else config
    tx = make_tx(config)
    dtype = canonical_dtype("precompile", config.compute_dtype)
    program = step_program(model, tx, dtype, config.cpu_library)
    if program.key is None:
        return None
    input_shape = tuple(int(d) for d in input_shape)
    if state is None:
        from jaxconv.train.sharding import abstract_state

        state = abstract_state(lambda: init_state(model, tx, input_shape, seed=config.seed))
    how = program.prepare(state, *abstract_batch(config, input_shape))
    start_norm_program().prepare(state.params)
    if test_examples is not None:
        n = eval_batch_size(config, int(test_examples))
        batch = (jax.ShapeDtypeStruct((n, *input_shape), np.float32),
                 jax.ShapeDtypeStruct((n,), np.int32), jax.ShapeDtypeStruct((n,), np.float32))
        eval_program(model, dtype, program.library()).prepare(state.params, *batch)
    return how
