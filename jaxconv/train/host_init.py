"""Parameters from shapes: a model's initial parameters drawn on the host, without compiling.

``model.init`` under ``jax.jit`` compiles the random-number generator of every parameter: 1.9 s
for the viewer's dense model and 5.8 s for its locally-connected one on the 2-core machine in
``docs/performance.md`` (eagerly, 3.4 s and 4.8 s: each operation compiles on its own). Here the
model's init is only traced (``jax.eval_shape``, 10-20 ms); every parameter made by one of
:mod:`jaxconv.layers.initializers` is then drawn with numpy from the same distribution, from a generator
seeded by ``(seed, the parameter's path)``, so a parameter's values do not depend on which other
layers the model has. A parameter made by any other initialiser (a user's own, one of Flax's)
sends the whole init back to ``jax.jit`` of ``model.init``, compiled with XLA's backend
optimisation off (a one-off program: 2-7x faster to compile).
"""

from __future__ import annotations

import functools
import inspect
import math
import zlib

import jax
import jax.numpy as jnp
import numpy as np

from jaxconv import validate
from jaxconv.layers import initializers

__all__ = ["abstract_plan", "init_params", "one_off_jit", "one_off_options"]

# A program that runs once needs no optimised code: XLA compiles it several times faster.
_ONE_OFF = {"xla_backend_optimization_level": 0}


def one_off_options() -> dict | None:
    """XLA compiler options for a program that runs once (``jax.jit(...,
    compiler_options=...)``): backend optimisation off, on the CPU, and only outside another
    trace (``jax.eval_shape`` of :func:`jaxconv.train.init_state`), where jit takes no options,
    and on a jax whose ``jax.jit`` takes ``compiler_options`` (0.4.36 on); else None."""
    if not _jit_takes_options():
        return None
    return _ONE_OFF if jax.default_backend() == "cpu" and _tracing_is_off() else None


def one_off_jit(fn):
    """``jax.jit(fn)`` for a program that runs once: with :func:`one_off_options` where they apply
    (decided now, as the program is made), else as jax.jit compiles it."""
    options = one_off_options()
    return jax.jit(fn, compiler_options=options) if options else jax.jit(fn)


@functools.cache
def _jit_takes_options() -> bool:
    return "compiler_options" in inspect.signature(jax.jit).parameters


def _tracing_is_off() -> bool:
    from jax._src import core  # no public way to ask; without it, compile as jax.jit does

    check = getattr(core, "trace_state_clean", None)
    return bool(check()) if check is not None else False


def abstract_plan(model, input_shape):
    """Traces ``model.init`` on one example of ``input_shape``; nothing is computed.

    Returns:
        ``(abstract, plan)``: the variables as ``jax.ShapeDtypeStruct`` leaves, and a list of
        ``(path, initialiser, shape, dtype)`` per leaf of ``abstract`` in flattening order, with
        ``initialiser`` None where the leaf was not made by a :mod:`jaxconv.layers.initializers`
        initialiser.
    """
    plan = []

    def traced(key, x):
        with initializers.recording() as calls:
            variables = model.init(key, x)
        made = {id(value): (init, shape, dtype) for value, init, shape, dtype in calls}
        for path, leaf in jax.tree_util.tree_leaves_with_path(variables):
            init, shape, dtype = made.get(id(leaf), (None, None, None))
            if init is not None and (shape != leaf.shape or jnp.dtype(dtype) != leaf.dtype):
                init = None
            plan.append((jax.tree_util.keystr(path), init, leaf.shape, leaf.dtype))
        return variables

    x = jax.ShapeDtypeStruct((1, *input_shape), jnp.float32)
    with validate.abstract():  # the modules' memory checks assume a compiled init: the caller's
        abstract = jax.eval_shape(traced, jax.random.key(0), x)  # check_init_fits counts it
    return abstract, plan


def _tree_bytes(tree) -> int:
    return sum(math.prod(a.shape) * np.dtype(a.dtype).itemsize for a in jax.tree.leaves(tree))


def _on_host(plan) -> bool:
    return bool(plan) and all(init is not None and hasattr(init, "host") for _, init, _, _ in plan)


def check_init_fits(abstract, plan, tx=None) -> int:
    """Refuses an initial state whose peak bytes exceed what this process can hold.

    The peak is the parameters, plus the optimiser state ``tx.init`` makes of them, plus the
    temporaries of making the parameters: drawing the largest one on the host takes one byte
    per value (:meth:`jaxconv.layers.initializers.LecunNormal.host`) and two more copies of it until it
    is on the device, and a compiled ``model.init`` takes ``INIT_PEAK_FACTOR - 1`` times the
    parameters. Measured with ``ru_maxrss`` for ``build("conv", channels=(262144,))`` and Adam
    (parameters 1.08 GB, optimiser state 2.16 GB): the peak was 3.27 GB above the start after
    drawing and 4.37 GB after the optimiser state; this estimate is 5.67 GB.

    Args:
        abstract: the variables as ``jax.ShapeDtypeStruct`` leaves (:func:`abstract_plan`).
        plan: the plan of :func:`abstract_plan`.
        tx: the optax optimiser, or None (no optimiser state).

    Returns:
        The peak in bytes.

    Raises:
        ValueError: naming each part's bytes and the limit, before anything is allocated.
    """
    from jaxconv.validate import human_bytes as h

    params = _tree_bytes(abstract)
    opt = _tree_bytes(jax.eval_shape(tx.init, abstract["params"])) if tx is not None else 0
    if _on_host(plan):
        largest = max(math.prod(shape) * (2 * np.dtype(dtype).itemsize + 1)
                      for _, _, shape, dtype in plan)
        extra, making = largest, "drawing the largest parameter on the host"
    else:
        extra, making = (validate.INIT_PEAK_FACTOR - 1) * params, "compiling model.init"
    total = params + opt + extra
    validate.check_fits_memory(
        "init_state", f"the initial state (parameters {h(params)}, optimizer state {h(opt)}, "
                      f"and {h(extra)} more while {making})", total)
    return total


def init_params(model, input_shape, seed: int = 0, tx=None):
    """``model``'s initial ``"params"`` for inputs of one-example shape ``input_shape``.

    Drawn on the host when every parameter comes from :mod:`jaxconv.layers.initializers` (see the
    module docstring), else ``model.init`` with ``jax.random.key(seed)``, compiled once. Before
    anything is drawn, :func:`check_init_fits` refuses a state (with ``tx``'s optimiser state)
    too large for memory.

    Returns:
        The params pytree of device arrays.

    Example:
        >>> params = init_params(build("local"), (8, 8, 1), seed=0)  # doctest: +SKIP
    """
    input_shape = tuple(int(d) for d in input_shape)
    abstract, plan = abstract_plan(model, input_shape)
    check_init_fits(abstract, plan, tx)  # before drawing
    if not _on_host(plan):
        return _jit_init(model, input_shape, seed)
    leaves = []
    for path, init, shape, dtype in plan:
        rng = np.random.default_rng([int(seed), zlib.crc32(path.encode())])
        # device_put, not jnp.asarray: that compiles a program (jit(stage)) per parameter shape.
        leaves.append(jax.device_put(np.asarray(init.host(rng, shape, dtype))))
    variables = jax.tree.unflatten(jax.tree.structure(abstract), leaves)
    return variables["params"]


def _jit_init(model, input_shape, seed):
    options = one_off_options()
    compiled = _compiled_init(model, input_shape, options is not None)
    return compiled(jax.random.key(seed))


@functools.lru_cache(maxsize=32)
def _compiled_init(model, input_shape, one_off: bool):
    def init(key):
        return model.init(key, jnp.zeros((1, *input_shape), jnp.float32))["params"]

    return jax.jit(init, compiler_options=_ONE_OFF) if one_off else jax.jit(init)
