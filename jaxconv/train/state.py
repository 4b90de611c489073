"""The train state, the loss, one jitted train step, and evaluation.

The train state is a plain pytree (``step``, ``params``, ``opt_state``), so it can be sharded,
checkpointed by orbax and restored against ``jax.eval_shape`` of a fresh one; the model and the
optimiser are static and live outside it. Inputs are channels-last images ``(N, H, W, C)``.
"""

from __future__ import annotations

import functools
from typing import Any

import flax.struct
import jax
import jax.core
import jax.numpy as jnp
import numpy as np
import optax

from jaxconv.backend import xla_cpu
from jaxconv.backend.programs import Program
from jaxconv.config import compute_dtype_name
from jaxconv.names import COMPUTE_DTYPES
from jaxconv.train import host_init, sharding
from jaxconv.train.guard import NonFiniteError
from jaxconv.train.optim import recipe
from jaxconv.validate import check_int, check_shape

__all__ = ["NonFiniteError", "TrainState", "canonical_dtype", "evaluate", "init_state",
           "loss_fn", "make_train_step", "train_update", "tree_norm"]

#: The l2 norm of a pytree: ``optax.tree.norm`` (optax 0.2.5 on), ``tree_utils.tree_l2_norm`` before.
tree_norm = getattr(getattr(optax, "tree", None), "norm", None) or optax.tree_utils.tree_l2_norm

_DTYPES = {name: getattr(jnp, name) for name in COMPUTE_DTYPES}  # jnp.bfloat16, ...


@flax.struct.dataclass
class TrainState:
    """Everything that changes during training; a pytree.

    Attributes:
        step: number of updates applied so far, an int32 scalar array.
        params: the model's ``"params"`` collection (float32).
        opt_state: the optax optimiser state (float32).
    """

    step: jax.Array
    params: Any
    opt_state: Any


def canonical_dtype(fn: str, compute_dtype):
    """None (compute in the parameters' dtype) or the jnp dtype of a compute dtype given by name
    or dtype, under TrainConfig's rule (:func:`jaxconv.config.compute_dtype_name`)."""
    name = compute_dtype_name(fn, compute_dtype)
    return None if name is None else _DTYPES[name]


def init_state(model, tx: optax.GradientTransformation, input_shape, *,
               seed: int = 0) -> TrainState:
    """A fresh train state: parameters from shapes, then ``tx.init``.

    The parameters are drawn on the host when every one comes from :mod:`jaxconv.layers.initializers`
    (jaxconv's layers), seeded by ``seed`` and each parameter's path; otherwise they are
    ``model.init`` with ``jax.random.key(seed)`` (see :mod:`jaxconv.train.host_init`). Either way
    nothing takes seconds to compile: the optimiser state is one small program, compiled without
    XLA's backend optimisation.

    Args:
        model: a Flax linen module mapping (N, *input_shape) to logits.
        tx: the optax optimiser.
        input_shape: one example's shape, e.g. ``(H, W, C)``.
        seed: the initialisation seed.

    Raises:
        ValueError: the initial state (parameters, optimiser state and the temporaries of making
            them) would not fit in memory; refused with the bytes before anything is allocated.

    Example:
        >>> state = init_state(build("conv"), optax.adam(1e-3), (8, 8, 1))
        >>> int(state.step)
        0
    """
    if not isinstance(tx, optax.GradientTransformation):
        raise TypeError(f"init_state: `tx` must be an optax.GradientTransformation, got "
                        f"{type(tx).__name__}.")
    input_shape = check_shape("init_state", "input_shape", input_shape, "one example, e.g. (8, 8, 1)")
    seed = check_int("init_state", "seed", seed, 0)
    params = host_init.init_params(model, input_shape, seed=seed, tx=tx)
    if isinstance(jnp.zeros(()), jax.core.Tracer):  # inside jax.eval_shape (abstract_state):
        return _state_at_zero(tx, params)  # a nested jit cannot take compiler_options
    return _start(tx)(params)


def _state_at_zero(tx, params):
    return TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params))


def _start(tx) -> Program:
    """The state at step 0 around given parameters; a one-off program per optimiser (stored
    when ``tx`` came from :func:`jaxconv.train.make_tx`)."""
    made = recipe(tx)
    return Program(_state_at_zero, (tx,), name="start_state",
                   key=None if made is None else f"tx{made!r}", library="xla",
                   options=host_init.one_off_options())


def loss_fn(model, params, x, y, compute_dtype=None):
    """Mean softmax cross-entropy of ``model`` on a batch, and the float32 logits.

    Args:
        model: the Flax module.
        params: its parameters (float32).
        x: images of shape (N, H, W, C).
        y: int labels of shape (N,).
        compute_dtype: if set (e.g. ``jnp.bfloat16``), the forward pass runs on copies of ``x`` and
            ``params`` cast to it; gradients still come back in the parameters' float32.

    Returns:
        ``(loss, logits)``: a float32 scalar and (N, num_classes) float32 logits.
    """
    if compute_dtype is not None:
        params = jax.tree.map(lambda p: p.astype(compute_dtype), params)
        x = x.astype(compute_dtype)
    logits = model.apply({"params": params}, x).astype(jnp.float32)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), logits


def _all_finite(tree) -> jax.Array:
    leaves = [jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)


class _Bound:
    """A compiled function with its leading static arguments bound.

    Calling it, and its compiled function's methods (``lower``; ``library`` for
    :func:`jaxconv.backend.xla_cpu.jit`'s ``"auto"``), take only the array arguments. The function
    compiled is module-level and its settings are static arguments, so two steps built alike share
    jax's compilation cache: nothing here caches models.
    """

    def __init__(self, compiled, static: tuple):
        self._compiled, self._static = compiled, static

    def __call__(self, *args):
        return self._compiled(*self._static, *args)

    def __getattr__(self, name):
        return functools.partial(getattr(self._compiled, name), *self._static)


def _compile_hook(fn: str, jit, library: str = "auto"):
    if jit is None:
        return functools.partial(xla_cpu.jit, library=library)
    if not callable(jit):
        raise TypeError(f"{fn}: `jit` must be a function like jax.jit, got "
                        f"{type(jit).__name__}.")
    return jit


def make_train_step(model, tx: optax.GradientTransformation, *, compute_dtype=None, mesh=None,
                    jit=None, library: str = "auto"):
    """One compiled update: ``step(state, x, y) -> (state, metrics, grads)``.

    ``metrics`` holds the batch ``loss``, ``accuracy``, ``finite`` and the new parameters'
    ``param_norm`` (for the divergence guard, :mod:`jaxconv.train.guard`). When the loss, a
    gradient or an updated parameter is not finite, the returned state is the input state,
    unchanged, and ``finite`` is False; the caller decides what to do (``fit`` raises
    :class:`NonFiniteError`).
    We check ourselves rather than use ``optax.apply_if_finite``, which after its limit of
    consecutive bad steps applies the bad update anyway.

    With a ``mesh``, the state is replicated and the batch is split over its ``"data"`` axis; XLA
    inserts the gradient all-reduce.

    Args:
        model: the Flax module.
        tx: the optax optimiser.
        compute_dtype: as in :func:`loss_fn`.
        mesh: a data mesh to split each batch over, or None.
        jit: the compile hook, called as ``jit(fn, static_argnums=..., **shardings)``, e.g.
            ``jax.jit``, which compiles as plain JAX does. Default: a
            :class:`jaxconv.backend.programs.Program` (stored and loaded by later launches when a
            store is in use, see :mod:`jaxconv.train.programs`), or with a ``mesh``
            :func:`jaxconv.backend.xla_cpu.jit`; both compile for ``library``.
        library: the CPU library of the default compile (:mod:`jaxconv.backend.xla_cpu`):
            ``"auto"`` is decided from the step's program on its first call.
    """
    compute_dtype = canonical_dtype("make_train_step", compute_dtype)
    xla_cpu.check_library("make_train_step", library)
    if jit is None and mesh is None:
        from jaxconv.train.programs import step_program

        return step_program(model, tx, compute_dtype, library)
    jit = _compile_hook("make_train_step", jit, library)
    shardings: dict[str, Any] = {}
    if mesh is not None:
        repl, data = sharding.replicated(mesh), sharding.batch_sharding(mesh)
        shardings = dict(in_shardings=(repl, data, data), out_shardings=(repl, repl, repl))
    compiled = jit(train_update, static_argnums=(0, 1, 2), **shardings)
    return _Bound(compiled, (model, tx, compute_dtype))


def train_update(model, tx: optax.GradientTransformation, compute_dtype, state: TrainState,
                 x, y):
    """One training update, not compiled: what :func:`make_train_step` compiles, and what ``fit``
    traces to choose its CPU library, the multi-step dispatch loops over
    (:mod:`jaxconv.train.dispatch`) and the learning-rate search scales
    (:mod:`jaxconv.train.recover`).

    Args:
        model: the Flax module.
        tx: the optax transform (:func:`jaxconv.train.make_tx`).
        compute_dtype: None or a canonical dtype (:func:`canonical_dtype`).
        state: the :class:`TrainState` before the update.
        x: images of shape (N, H, W, C).
        y: int labels of shape (N,).

    Returns:
        ``(state, metrics, grads)`` as :func:`make_train_step`'s step returns them: the input
        state unchanged when the loss, a gradient or a new parameter is not finite.
    """
    (loss, logits), grads = jax.value_and_grad(loss_fn, argnums=1, has_aux=True)(
        model, state.params, x, y, compute_dtype)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    finite = jnp.isfinite(loss) & _all_finite(grads) & _all_finite(params)
    new = TrainState(step=state.step + 1, params=params, opt_state=opt_state)
    new = jax.tree.map(lambda a, b: jnp.where(finite, a, b), new, state)
    accuracy = jnp.mean((jnp.argmax(logits, axis=-1) == y).astype(jnp.float32))
    metrics = {"loss": loss, "accuracy": accuracy, "finite": finite,
               "param_norm": tree_norm(params)}
    return new, metrics, grads


def _eval_body(model, compute_dtype, params, x, y, weight):
    _, logits = loss_fn(model, params, x, y, compute_dtype)
    losses = optax.softmax_cross_entropy_with_integer_labels(logits, y)
    correct = (jnp.argmax(logits, axis=-1) == y).astype(jnp.float32)
    outside = ((y < 0) | (y >= logits.shape[-1])) & (weight > 0)  # a label the head cannot give
    return jnp.sum(losses * weight), jnp.sum(correct * weight), jnp.any(outside)


def evaluate(model, params, x, y, batch_size: int = 256, *, compute_dtype=None, mesh=None,
             jit=None, library: str = "auto"):
    """Mean loss and accuracy over a whole set, in fixed-size batches (one compilation).

    Args:
        model: the Flax module.
        params: its parameters.
        x: images of shape (N, H, W, C), host numpy or device arrays.
        y: int labels of shape (N,).
        batch_size: examples per forward pass; the last batch is zero-padded and masked. With a
            mesh it is rounded up to a multiple of the device count.
        compute_dtype: as in :func:`loss_fn`.
        mesh: a data mesh (see :mod:`jaxconv.train.sharding`) to split each batch over.
        jit: the compile hook of the forward pass, as in :func:`make_train_step`; default a
            stored :class:`~jaxconv.backend.programs.Program` compiled for ``library``.
        library: the CPU library of the default compile (``"auto"``: from the forward pass's
            program; ``fit`` passes its training step's).

    Returns:
        ``(loss, accuracy)`` as Python floats.

    Raises:
        ValueError: a label outside the model's classes ``[0, classes)``, named with its index
            (it used to give a NaN loss).

    Example:
        >>> loss, accuracy = evaluate(model, state.params, ds.x_test, ds.y_test)
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 4 or y.shape != (len(x),) or len(x) == 0:
        raise ValueError(f"evaluate: `x` must have shape (N, H, W, C) with N > 0 and `y` shape "
                         f"(N,), got shapes {x.shape} and {y.shape}.")
    batch_size = check_int("evaluate", "batch_size", batch_size)
    compute_dtype = canonical_dtype("evaluate", compute_dtype)
    xla_cpu.check_library("evaluate", library)
    devices = 1 if mesh is None else mesh.size
    # Never pad past the set itself; with a mesh, every batch must split evenly over the devices.
    batch_size = min(-(-batch_size // devices), -(-len(x) // devices)) * devices
    if jit is None and mesh is None:
        from jaxconv.train.programs import eval_program

        eval_batch = eval_program(model, compute_dtype, library)
    else:
        eval_batch = _Bound(_compile_hook("evaluate", jit, library)(
            _eval_body, static_argnums=(0, 1)), (model, compute_dtype))
    total_loss, total_correct, outside = 0.0, 0.0, False
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size].astype(np.int32)
        weight = np.ones(batch_size, np.float32)
        if len(xb) < batch_size:
            weight[len(xb):] = 0.0
            pad = batch_size - len(xb)
            xb = np.concatenate([xb, np.zeros((pad, *xb.shape[1:]), xb.dtype)])
            yb = np.concatenate([yb, np.zeros(pad, np.int32)])
        if mesh is not None:
            xb, yb, weight = (sharding.shard_batch(a, mesh) for a in (xb, yb, weight))
        loss, correct, bad = eval_batch(params, xb, yb, weight)
        total_loss += float(loss)
        total_correct += float(correct)
        outside = outside or bool(bad)
    if outside:  # was a NaN loss, returned as if it were a result
        from jaxconv.train import preflight

        classes = preflight.output_classes(model, tuple(x.shape[1:]))
        preflight.check_labels("evaluate", classes, {"y": y})
    return total_loss / len(x), total_correct / len(x)
