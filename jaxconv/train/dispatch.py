"""Many training steps per dispatch: one compiled loop over batches staged on the device.

A small model's step takes well under a millisecond of compute on the CPU, while launching it
and reading its loss back costs about as much again (Python, the dispatch, a host sync). The
program here runs ``count`` steps of the same update (:func:`jaxconv.train.state.train_update`)
in a ``lax.while_loop`` over a staged ``(capacity, batch, ...)`` block of batches, and returns
every step's loss, accuracy and finiteness at once, so the host syncs once per ``count`` steps.

``count`` is an argument, not a shape: one compilation serves every count up to ``capacity``,
so :func:`choose_steps` can pick it from a measured step time without compiling again. The loop
stops at the first step that is not finite, leaving the state from before it (as the single
step does).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxconv import validate

__all__ = ["TARGET_SECONDS", "Chunks", "capacity_for", "choose_steps", "make_multi_step"]

#: How long one dispatch should take: long enough to hide the launch and the host sync (about
#: 0.2-0.5 ms here), short enough to answer a pause at once. Steps slower than half of it run one
#: per dispatch without trying the loop: its compilation costs 1-2 s, and on the 2-core CPU
#: measured its steps were slower than single ones for any model that takes milliseconds.
TARGET_SECONDS = 0.002
#: At most this many steps per dispatch.
MAX_STEPS = 64
# The staged block of batches stays under this many bytes (it is copied every dispatch).
_STAGED_BYTES = 4 * 2**20


def capacity_for(batch_bytes: int, limit: int = MAX_STEPS) -> int:
    """The staged block's length: a power of two, at most ``limit``, under 4 MiB of batches."""
    fit = max(1, min(limit, _STAGED_BYTES // max(1, batch_bytes)))
    return 2 ** int(math.log2(fit))


def choose_steps(step_seconds: float, capacity: int, target: float = TARGET_SECONDS) -> int:
    """Steps per dispatch so that one dispatch takes about ``target`` seconds: a power of two,
    1 to ``capacity``."""
    if not step_seconds > 0:
        return capacity
    want = max(1.0, target / step_seconds)
    return max(1, min(capacity, 2 ** int(math.log2(want))))


def make_multi_step(update, jit, static):
    """``run(state, xs, ys, count) -> (state, metrics, grads)``: ``count`` updates in one program.

    Args:
        update: ``update(*static, state, x, y) -> (state, metrics, grads)``, the single step.
        jit: the compile hook (as for :func:`jaxconv.train.make_train_step`).
        static: the static leading arguments of ``update`` (model, optimiser, compute dtype).

    Returns:
        A callable of ``state``, ``xs`` of shape (capacity, B, ...), ``ys`` (capacity, B) and
        ``count``; ``metrics`` maps ``loss``, ``accuracy`` and ``finite`` to (capacity,) arrays
        (entries past the steps run are zero, and ``finite`` False), ``grads`` are those of the
        last step run.
    """
    compiled = jit(_loop, static_argnums=(0, 1))

    def run(state, xs, ys, count):
        return compiled(update, static, state, xs, ys, np.int32(count))

    return run


def _loop(update, static, state, xs, ys, count):
    capacity = xs.shape[0]
    _, metrics0, grads0 = jax.eval_shape(lambda s, x, y: update(*static, s, x, y), state, xs[0],
                                         ys[0])
    metrics = {k: jnp.zeros((capacity, *v.shape), v.dtype) for k, v in metrics0.items()}
    grads = jax.tree.map(lambda g: jnp.zeros(g.shape, g.dtype), grads0)

    def cond(carry):
        i, _, ok, _, _ = carry
        return (i < count) & ok

    def body(carry):
        i, state, _, metrics, _ = carry
        state, m, grads = update(*static, state, xs[i], ys[i])
        metrics = {k: metrics[k].at[i].set(m[k]) for k in metrics}
        return i + 1, state, m["finite"], metrics, grads

    start = (jnp.int32(0), state, jnp.bool_(True), metrics, grads)
    _, state, _, metrics, grads = lax.while_loop(cond, body, start)
    return state, metrics, grads


def _check_block(cfg, shape, itemsize: int) -> None:
    """Refuses a staged block of batches larger than memory, naming the setting."""
    nbytes = math.prod(shape) * itemsize
    limit = validate.available_memory_bytes()
    if nbytes > limit:
        raise ValueError(
            f"fit: `steps_per_dispatch` stages {shape[0]:,} batches of shape {shape[1:]} per "
            f"dispatch (steps_per_dispatch={cfg.steps_per_dispatch}, capped at steps="
            f"{cfg.steps}): {nbytes:,} bytes ({validate.human_bytes(nbytes)}), but this machine "
            f"can hold at most {limit:,} bytes ({validate.human_bytes(limit)}); use a smaller "
            f"value, or 0 to choose it from the step time.")


class Chunks:
    """How many steps each of ``fit``'s dispatches runs: ``cfg.steps_per_dispatch``, or (0)
    chosen from the measured time of the first dispatches; never past an evaluation step or
    ``cfg.steps``, so the results that carry a state are those that need it. One step per
    dispatch with a mesh.

    Raises:
        ValueError: the staged block of an explicit ``steps_per_dispatch`` (capped at
            ``cfg.steps``) does not fit in memory.
    """

    def __init__(self, cfg, mesh, dataset):
        self.cfg, self.auto = cfg, cfg.steps_per_dispatch == 0
        example = np.asarray(dataset.x_train[:1])
        self.shape, self.dtype = (cfg.batch_size, *example.shape[1:]), example.dtype
        if mesh is not None or cfg.steps_per_dispatch == 1:
            self.capacity = 1
        elif self.auto:
            self.capacity = capacity_for(math.prod(self.shape) * example.itemsize)
        else:
            # No dispatch runs past cfg.steps, so a larger block would only hold zeros; a block
            # of 10**6 batches for a 2-step run allocated 15 GiB up front.
            self.capacity = max(1, min(cfg.steps_per_dispatch, cfg.steps))
            _check_block(cfg, (self.capacity, *self.shape), example.itemsize)
        self.count = 1 if self.auto else self.capacity
        self.seconds: list[float] = []
        self.loop_seconds: list[float] = []
        self.settled = False

    def next_count(self, step: int) -> int:
        """Steps of the dispatch that starts after ``step``."""
        cfg, end = self.cfg, self.cfg.steps
        if cfg.eval_every:
            end = min(end, (step // cfg.eval_every + 1) * cfg.eval_every)
        return max(1, min(self.count, end - step))

    def uses_loop(self, n: int) -> bool:
        """Whether a dispatch of ``n`` steps runs the loop program (else the single step)."""
        return self.capacity > 1 and (n > 1 or not self.auto)

    def settled_count(self) -> bool:
        """Whether the dispatch sizes no longer wait on timings (then ``fit`` sends the next
        dispatch before reading this one's metrics)."""
        return not self.auto or self.settled

    def measured(self, n: int, seconds: float, loop: bool) -> None:
        """Records a dispatch of ``n`` steps. ``auto`` times single steps first (the first one
        compiled), then tries the count they suggest, and keeps it only if the loop's steps are
        faster: on the 2-core CPU measured, a while-loop body ran the viewer's conv model 3-5x
        slower per step than the single-step program (6.5-12 ms against 2 ms)."""
        (self.loop_seconds if loop else self.seconds).append(seconds / n)
        if not self.auto or self.settled:
            return
        if not loop and len(self.seconds) >= 3:
            self.count = choose_steps(min(self.seconds[1:]), self.capacity)
            self.settled = self.count == 1
        elif loop and len(self.loop_seconds) >= 2:  # the first loop dispatch compiled
            if min(self.loop_seconds[1:]) >= min(self.seconds[1:]):
                self.count, self.settled = 1, True
            else:
                self.count = choose_steps(min(self.loop_seconds[1:]), self.capacity)

    def stage(self, pairs):
        """``(xs, ys)``: the dispatch's batches in a (capacity, B, ...) block, zero-padded."""
        xs = np.zeros((self.capacity, *self.shape), self.dtype)
        ys = np.zeros((self.capacity, self.shape[0]), np.int32)
        for i, (x, y) in enumerate(pairs):
            xs[i], ys[i] = x, y
        return xs, ys
