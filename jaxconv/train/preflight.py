"""Checks ``fit`` makes before it allocates or compiles anything: labels, memory, compile time.

Everything here works on abstract values (``jax.eval_shape``, :func:`jaxconv.summary`), so a model
with 10^12 weights is checked in milliseconds without allocating it. Three failures it turns into
one clear line instead of a hang or a wrong diagnosis:

- labels the model cannot represent (a 2-class head on 10 digits gave a NaN loss at step 1,
  reported as "try a smaller learning rate");
- a training step that cannot fit in the device's memory (jaxlib 0.10 on the CPU then blocks
  forever at 0% CPU when the first small output is read);
- a compile that will take minutes (a 100x100 locally-connected window on 8x8 images took more
  than 5 minutes), which is announced rather than refused.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxconv import kinds, validate
from jaxconv.validate import human_bytes

__all__ = ["LongCompileWarning", "StepMemory", "check_labels", "check_step_fits",
           "compile_warning", "output_classes", "step_memory", "table"]


def output_classes(model, input_shape: tuple[int, ...]) -> int:
    """The size of the model's last output axis (its classes), traced abstractly.

    Args:
        model: a Flax linen module mapping (N, *input_shape) images to (N, classes) logits.
        input_shape: one example's shape, e.g. ``(8, 8, 1)``.
    """
    out, _ = _abstract_init(model, tuple(input_shape))
    return int(out.shape[-1])


def table(model, input_shape, batch_size: int = 1):
    """:func:`jaxconv.summary` of ``model`` at ``batch_size``, traced once per model, input shape
    and batch size in a process (``fit`` and the viewer both ask; each trace of a model costs
    0.1-0.2 s of a start on the 2-core machine)."""
    from jaxconv.analysis.summaries import summary

    key = (tuple(int(d) for d in input_shape), int(batch_size))
    try:
        hash(model)
    except TypeError:  # a module with unhashable fields: traced each time
        return summary(model, key[0], batch_size=key[1])
    return _cached_table(model, *key)


@functools.lru_cache(maxsize=64)
def _cached_table(model, input_shape, batch_size):
    from jaxconv.analysis.summaries import summary

    return summary(model, input_shape, batch_size=batch_size)


def _abstract_init(model, input_shape: tuple[int, ...]):
    """``(logits, params)`` of ``model.init_with_output`` on one abstract example: one trace of
    the model, kept for the next caller (``fit`` asks for the classes, then the step's memory)."""
    try:
        hash(model)
    except TypeError:  # a module with unhashable fields: traced each time
        return _trace_init(model, input_shape)
    return _cached_init(model, input_shape)


def _trace_init(model, input_shape):
    x = jax.ShapeDtypeStruct((1, *input_shape), jnp.float32)
    with validate.abstract():  # shapes only: the modules' own memory checks stay quiet
        out, variables = jax.eval_shape(
            lambda v: model.init_with_output(jax.random.key(0), v), x)
    return out, variables["params"]


_cached_init = functools.lru_cache(maxsize=32)(_trace_init)


def check_labels(fn: str, classes: int, labels: dict, where: str = "") -> None:
    """Raises a ValueError naming the first label outside ``[0, classes)`` and its index.

    Args:
        fn: the caller's name for the message.
        classes: the model's number of outputs.
        labels: split name -> int labels of shape (N,).
        where: e.g. the dataset's name, for the message.
    """
    for split, y in labels.items():
        y = np.asarray(y)
        bad = (y < 0) | (y >= classes)
        if y.size and bad.any():
            index = int(np.argmax(bad))
            raise ValueError(
                f"{fn}: the model has {classes} output classes but {where}{split}[{index}] = "
                f"{int(y[index])}; build it with num_classes equal to the dataset's classes "
                f"(labels must lie in [0, {classes})).")


class LongCompileWarning(RuntimeWarning):
    """``fit`` expects compiling its training step to take minutes (see :func:`compile_warning`)."""


@dataclasses.dataclass(frozen=True)
class StepMemory:
    """Bytes one training step needs at least, counted without allocating.

    Attributes:
        params: parameter bytes.
        opt_state: optimiser-state bytes.
        grads: gradient bytes (as the parameters).
        activations: bytes of every layer's output for one batch (kept for the backward pass).
        largest: bytes of the largest layer output: the backward pass holds its gradient beside
            the kept activations.
    """

    params: int
    opt_state: int
    grads: int
    activations: int
    largest: int = 0

    @property
    def total(self) -> int:
        """The sum: a lower bound of the step's peak (XLA's other temporaries come on top).

        Without ``largest`` the bound let through ``jaxconv train --channels 1000000 --hidden 0``
        (19.1 GB counted on a 25.3 GB machine), which XLA then failed to allocate after 77 s:
        XLA's own ``memory_analysis`` of that step gives 139 GB of temporaries, 8.5 times its
        16.4 GB conv output. Counting that output's gradient (35.5 GB) refuses it at once.
        """
        return self.params + self.opt_state + self.grads + self.activations + self.largest


def _tree_bytes(tree) -> int:
    return sum(math.prod(a.shape) * jnp.dtype(a.dtype).itemsize for a in jax.tree.leaves(tree))


def step_memory(model, tx, input_shape: tuple[int, ...], batch_size: int,
                table=None) -> StepMemory:
    """Parameter, optimiser-state, gradient and activation bytes of one step (abstract).

    Args:
        model: the Flax linen module.
        tx: the optax optimiser (its state is traced with ``jax.eval_shape``).
        input_shape: one example's shape.
        batch_size: examples per step.
        table: the model's :func:`jaxconv.summary` at ``batch_size``, if already made.
    """
    from jaxconv.analysis.summaries import summary

    _, params = _abstract_init(model, tuple(input_shape))
    with validate.abstract():
        opt_state = jax.eval_shape(tx.init, params)
    table = table or summary(model, input_shape, batch_size=batch_size)
    param_bytes = _tree_bytes(params)
    largest = max((int(r.activation_bytes) for r in table.rows), default=0)
    return StepMemory(params=param_bytes, opt_state=_tree_bytes(opt_state), grads=param_bytes,
                      activations=int(table.total_activation_bytes), largest=largest)


def check_step_fits(fn: str, memory: StepMemory, batch_size: int) -> None:
    """Refuses a step whose lower bound of bytes exceeds the memory this process can hold.

    Raises:
        ValueError: naming each part's bytes and the limit (jaxlib would otherwise hang).
    """
    h = human_bytes
    validate.check_fits_memory(
        fn, f"one training step (parameters {h(memory.params)}, optimizer state "
            f"{h(memory.opt_state)}, gradients {h(memory.grads)}, activations of a batch of "
            f"{batch_size} {h(memory.activations)}, the gradient of the largest of them "
            f"{h(memory.largest)})", memory.total)


# A locally-connected train step on 8x8 digits, whole runs on 2 shared CPU cores (from the
# findings at e7e32e7): window 9x9 9.5 s, 17x17 14 s, 33x33 35 s, 100x100 more than 5 minutes,
# nearly all of it compiling. Past this many window positions the compile is announced.
LONG_COMPILE_TAPS = 512
LONG_COMPILE_PARAMS = 10**8


def compile_warning(table) -> str | None:
    """A one-line warning when compiling the step is expected to take long, else None.

    Args:
        table: the model's :func:`jaxconv.summary`.
    """
    for row in table.rows:
        cost = row.cost
        if cost is None or row.layer not in kinds.names() or kinds.get(row.layer).whole_input:
            continue  # not a layer of a kind, or one without a window
        ndim = len(cost.input_shape) - 1
        window = cost.kernel_shape[-(ndim + 2):-2]
        taps = math.prod(window)
        if taps > LONG_COMPILE_TAPS:
            size = "x".join(map(str, window))
            image = "x".join(map(str, cost.input_shape[:-1]))
            return (f"compiling may take minutes: layer {row.name} ({row.layer}) has a {size} "
                    f"window over a {image} input ({taps:,} taps; a 33x33 window on "
                    f"8x8 digits took about 35 s, 100x100 more than 5 minutes).")
    if table.total_params > LONG_COMPILE_PARAMS:
        return (f"compiling may take long: the model has {table.total_params:,} parameters.")
    return None
