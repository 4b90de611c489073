"""Which library XLA on the CPU runs convolutions, matrix products and reductions in.

jaxlib 0.10 hands a CPU program's convolutions, ``dot_general`` products and reductions to
YNNPACK; before, XLA ran them in Eigen or emitted them itself. Which is faster depends on the
operation and its shape. On the 2-core machine in ``docs/performance.md`` YNNPACK ran a plain
(128 x 6272) x (6272 x 256) product 1.3x faster than Eigen and the many small reductions of a
locally-connected layer with 4 input channels 3x faster than XLA's own loops, but it ran the 3x3
32->64 convolution on one core (10.5 ms against Eigen's 5.4 ms) and the large per-position
products of the 32->64 locally-connected layer 1.2-1.4x slower.

The choice is a compiler option of one compiled program (``jax.jit(...,
compiler_options=...)``), not a process setting, so each program can be compiled its own way.
A choice names what is taken out of YNNPACK and given to Eigen (or XLA's own loops):

- ``"xla"``: nothing; what this jaxlib does by default.
- ``"eigen-conv"``, ``"eigen-dot"``, ``"eigen-reduce"``: convolutions, matrix products or
  reductions; ``"eigen-conv-dot"``, ``"eigen-conv-reduce"``, ``"eigen-dot-reduce"``: two kinds.
- ``"eigen"``: all three.
- ``"auto"``: convolutions if the program has any; products if it has batched products of
  ``LARGE_PRODUCT_MACS`` or more multiply-adds per batch element (a locally-connected layer
  with many channels); reductions if it has window sums, which the locally-connected layer
  with tiling windows names with the scope :data:`jaxconv.names.WINDOW_SUMS_SCOPE` (or which
  code marks with :func:`reductions_in_eigen`). Decided from the program itself, so the same
  program always gets the same choice (and the same floating-point rounding).

All compute the same sums; their results differ only in rounding (a few float32 ulps). On a GPU
or TPU, and on a jaxlib without the option (one from before YNNPACK), every choice compiles the
program as XLA would.

Example:
    >>> from jaxconv.backend import xla_cpu
    >>> step = xla_cpu.jit(train_step)  # doctest: +SKIP
    >>> f = jax.jit(f, compiler_options=xla_cpu.compiler_options("eigen-conv"))  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import inspect
import math

import jax
import numpy as np

from jaxconv.names import WINDOW_SUMS_SCOPE
from jaxconv.validate import check_choice

__all__ = ["LARGE_PRODUCT_MACS", "LIBRARIES", "available", "check_library", "compiler_options",
           "jit", "large_products", "library_for", "reductions_in_eigen", "resolve", "usable"]

# The kinds of operation jaxlib 0.10 hands to YNNPACK, by their names in the compiler option.
# Its default is all three (checked: the same compiled programs as with no option).
_KINDS = {"conv": "LIBRARY_FUSION_TYPE_INDIVIDUAL_CONVOLUTION",
          "dot": "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT",
          "reduce": "LIBRARY_FUSION_TYPE_REDUCE"}


def _name(moved) -> str:
    """The choice that moves ``moved`` (a set of kinds) to Eigen."""
    if not moved:
        return "xla"
    return "eigen" if len(moved) == len(_KINDS) else "eigen-" + "-".join(
        k for k in _KINDS if k in moved)


_SUBSETS = [frozenset(k for i, k in enumerate(_KINDS) if bits >> i & 1)
            for bits in range(1, 2 ** len(_KINDS))]
_MOVED = {_name(m): m for m in sorted(_SUBSETS, key=lambda m: (len(m), _name(m)))}
LIBRARIES = ("auto", "xla", *_MOVED)
_OPTIONS = {name: {"xla_cpu_experimental_ynn_fusion_type": ",".join(
    option for kind, option in _KINDS.items() if kind not in moved)}
    for name, moved in _MOVED.items()}

# Multiply-adds per batch element from which "auto" moves batched products to Eigen. Measured on
# the benchmark machine (training steps, Eigen's time against YNNPACK's): 2.4M (32->64 @14x14,
# batch 128) 1.2-1.4x faster; 1.2M (64->64 @8x8, batch 32) 0.87x; 590K (16->32 @14x14) 1.09x;
# 37K (1->32 @28x28) 0.88x.
LARGE_PRODUCT_MACS = 2**21

# The name scope of window sums, which "auto" runs in Eigen (see reductions_in_eigen). The ops
# name their computation with it; they know nothing of this module.
_REDUCE_MARK = WINDOW_SUMS_SCOPE


def reductions_in_eigen():
    """A ``jax.named_scope`` marking the operations inside as reductions that ``"auto"`` should
    move to Eigen.

    Whether YNNPACK or XLA's own loops reduce faster depends on the reduction: on the benchmark
    machine YNNPACK ran the many small batch and feature sums of a ``"taps"`` layer 3x faster, and
    the window sums of a ``"reshape"`` layer (tiling windows) 4-10x slower. The program does not
    show which is which, so the code that knows names its window sums with the scope
    :data:`jaxconv.names.WINDOW_SUMS_SCOPE`, which this function opens; ``jaxconv.ops`` does so
    for ``"reshape"`` (without importing this module). A program with a marked operation gets
    ``"reduce"`` among the kinds ``"auto"``
    moves (all its reductions, marked or not: the option is per program).

    Example:
        >>> with xla_cpu.reductions_in_eigen():  # doctest: +SKIP
        ...     y = jnp.sum(x.reshape(n, p, k), axis=2)
    """
    return jax.named_scope(_REDUCE_MARK)


def check_library(fn: str, library, name: str = "library") -> str:
    """Returns ``library`` if it is one of :data:`LIBRARIES`: the rule of every CPU-library
    argument, ``TrainConfig.cpu_library``'s included (the same names,
    :data:`jaxconv.names.CPU_LIBRARIES`, checked by :func:`jaxconv.validate.check_choice`).

    Args:
        fn: the function named in the error.
        library: the value to check.
        name: the argument named in the error.

    Raises:
        TypeError: ``library`` is not a string.
        ValueError: ``fn: `library` must be one of auto, xla, eigen-conv, ..., got
            library='mkl'.``

    Example:
        >>> check_library("bench", "auto", "cpu_library")
        'auto'
    """
    return check_choice(fn, name, library, LIBRARIES)


@functools.cache
def available(library: str) -> bool:
    """Whether this jax and jaxlib can compile a CPU program for ``library``.

    Always True for ``"xla"`` and ``"auto"``. False for the others on a jax whose ``jax.jit`` has no
    ``compiler_options``, on a jaxlib that does not know the option (one from before YNNPACK),
    and without a CPU device.
    """
    if check_library("available", library) in ("xla", "auto"):
        return True
    if "compiler_options" not in inspect.signature(jax.jit).parameters:
        return False
    try:
        cpu = jax.devices("cpu")[0]
        x = jax.device_put(np.ones((2, 2), np.float32), cpu)
        jax.jit(lambda a: a @ a, compiler_options=_OPTIONS[library]).lower(x).compile()
    except Exception:  # noqa: BLE001 - any refusal means: not available here
        return False
    return True


def compiler_options(library: str = "eigen", backend: str | None = None) -> dict:
    """The ``compiler_options`` that make XLA compile a program for ``library``.

    Args:
        library: one of :data:`LIBRARIES` but ``"auto"`` (resolve that first, with
            :func:`resolve`).
        backend: the backend the program runs on; default ``jax.default_backend()``.

    Returns:
        A dict for ``jax.jit(..., compiler_options=...)``: empty for ``"xla"``, on a backend other
        than the CPU, and where :func:`available` is False.

    Raises:
        ValueError: an unknown ``library``, or ``"auto"``.
    """
    if check_library("compiler_options", library) == "auto":
        raise ValueError("compiler_options: `library` 'auto' depends on the program: pass "
                         "xla_cpu.resolve('auto', fn, *args) instead, got library='auto'.")
    backend = jax.default_backend() if backend is None else backend
    if library == "xla" or backend != "cpu" or not available(library):
        return {}
    return dict(_OPTIONS[library])


def usable(backend: str | None = None) -> tuple[str, ...]:
    """The choices that compile as they say on ``backend`` (default: the default backend):
    ``("xla",)`` off the CPU or on a jaxlib without the option, else every named choice."""
    return tuple(lib for lib in LIBRARIES[1:]
                 if lib == "xla" or compiler_options(lib, backend=backend))


def _subjaxprs(value):
    """Every jaxpr held by an equation parameter (a jaxpr, a closed jaxpr, or a tuple of them)."""
    if hasattr(value, "eqns"):
        yield value
    elif hasattr(value, "jaxpr") and hasattr(value.jaxpr, "eqns"):
        yield value.jaxpr
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _subjaxprs(item)


def _auto_can_choose() -> bool:
    return bool(compiler_options("eigen"))


def _macs_per_batch_element(eqn) -> int:
    (lhs_contract, rhs_contract), (lhs_batch, rhs_batch) = eqn.params["dimension_numbers"]
    lhs, rhs = (v.aval.shape for v in eqn.invars)
    rhs_free = [d for i, d in enumerate(rhs) if i not in rhs_contract and i not in rhs_batch]
    lhs_rest = [d for i, d in enumerate(lhs) if i not in lhs_batch]
    return math.prod(lhs_rest) * math.prod(rhs_free)


def _scan(jaxpr, macs: int, found: set) -> set:
    """Adds "conv", "dot" and "reduce" to ``found`` for convolutions, large batched products and
    marked reductions."""
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        if _REDUCE_MARK in str(eqn.source_info.name_stack):
            found.add("reduce")
        if name == "conv_general_dilated":
            found.add("conv")
        elif (name == "dot_general" and eqn.params["dimension_numbers"][1][0]
              and _macs_per_batch_element(eqn) >= macs):
            found.add("dot")
        for value in eqn.params.values():
            for sub in _subjaxprs(value):
                _scan(sub, macs, found)
    return found


def _moved_kinds(fn, args, kwargs, macs=LARGE_PRODUCT_MACS) -> set:
    return _scan(jax.make_jaxpr(fn)(*args, **kwargs).jaxpr, macs, set())


def large_products(fn, *args, macs: int = LARGE_PRODUCT_MACS, **kwargs) -> bool:
    """Whether ``fn(*args, **kwargs)`` multiplies batched matrices of ``macs`` or more
    multiply-adds per batch element (a product per position, group or head).

    Traces ``fn`` (nothing is computed; arguments may be ``jax.ShapeDtypeStruct``) and looks at
    every ``dot_general`` with batch dimensions, inside nested calls too.
    """
    return "dot" in _moved_kinds(fn, args, kwargs, macs)


def resolve(library: str, fn=None, *args, **kwargs) -> str:
    """``library`` with ``"auto"`` decided for ``fn(*args, **kwargs)``.

    ``"auto"`` moves convolutions to Eigen if the program has any (2x faster on the benchmark
    machine's 3x3 convolution, whose YNNPACK version ran on one core), batched products if
    :func:`large_products` finds them (1.2-1.4x for the locally-connected 32->64 @14x14 step), and
    reductions if the program marks some with :func:`reductions_in_eigen`; the result is
    ``"xla"`` or the ``"eigen-..."`` choice naming those kinds. Where the option changes nothing
    (another backend, see :func:`compiler_options`) it is ``"xla"``, without tracing ``fn``.
    """
    if check_library("resolve", library) != "auto":
        return library
    if fn is None:
        raise ValueError("resolve: `library` 'auto' needs the program: pass fn and its "
                         "arguments, got fn=None.")
    if not _auto_can_choose():
        return "xla"
    return _name(_moved_kinds(fn, args, kwargs))


def library_for(traced) -> str:
    """The choice ``"auto"`` makes for an already traced program: what :func:`resolve` decides,
    from a ``jax.make_jaxpr`` result instead of a function to trace.

    Trace with the same function and static arguments as the ``jax.jit`` that compiles it, and
    jax reuses that trace when the program compiles (``jaxconv.train.fit`` does so for its step).

    Raises:
        TypeError: ``traced`` is not a jaxpr or closed jaxpr.
    """
    jaxpr = getattr(traced, "jaxpr", traced)
    if not hasattr(jaxpr, "eqns"):
        raise TypeError(f"library_for: `traced` must be a jaxpr (jax.make_jaxpr's result), got "
                        f"{type(traced).__name__}.")
    return _name(_scan(jaxpr, LARGE_PRODUCT_MACS, set())) if _auto_can_choose() else "xla"


class _AutoJit:
    """``jax.jit`` of ``fn``, compiled for the library ``"auto"`` picks on the first call."""

    def __init__(self, fn, jit_kwargs):
        self._fn = fn
        self._jit_kwargs = jit_kwargs
        self._jitted = None
        self._library = None
        functools.update_wrapper(self, fn)

    def library(self, *args, **kwargs) -> str:
        """The library the program is compiled for, decided on the first call (or this one)."""
        if self._library is None:
            static_nums = self._jit_kwargs.get("static_argnums") or ()
            static_nums = (static_nums,) if isinstance(static_nums, int) else tuple(static_nums)
            names = self._jit_kwargs.get("static_argnames") or ()
            names = (names,) if isinstance(names, str) else tuple(names)
            static = {k: kwargs.pop(k) for k in names if k in kwargs}
            fn = functools.partial(self._fn, **static) if static else self._fn
            traced = jax.make_jaxpr(fn, static_argnums=static_nums)(*args, **kwargs)
            self._library = _name(_scan(traced.jaxpr, LARGE_PRODUCT_MACS, set()))
            self._jitted = jax.jit(self._fn, compiler_options=compiler_options(self._library)
                                   or None, **self._jit_kwargs)
        return self._library

    def __call__(self, *args, **kwargs):
        if self._jitted is None:
            self.library(*args, **kwargs)
        assert self._jitted is not None  # library() jits the function
        return self._jitted(*args, **kwargs)

    def lower(self, *args, **kwargs):
        if self._jitted is None:
            self.library(*args, **kwargs)
        assert self._jitted is not None  # library() jits the function
        return self._jitted.lower(*args, **kwargs)


def jit(fn, *, library: str = "auto", **jit_kwargs):
    """``jax.jit(fn, **jit_kwargs)`` compiled for ``library`` on the CPU.

    Args:
        fn: the function to compile.
        library: ``"auto"`` (decided as :func:`resolve` does, from the program of the first
            call; later calls with other shapes keep that choice) or another of
            :data:`LIBRARIES`.
        **jit_kwargs: passed to ``jax.jit`` (``in_shardings``, ``donate_argnums``, ...), except
            ``compiler_options``, which ``library`` sets.

    Returns:
        A callable like ``jax.jit``'s, with ``lower``. For a named library it is ``jax.jit``'s
        own.

    Raises:
        ValueError: an unknown ``library``, or ``compiler_options`` in ``jit_kwargs``.
    """
    check_library("jit", library)
    if not callable(fn):
        raise TypeError(f"jit: `fn` must be callable, got {type(fn).__name__}.")
    if "compiler_options" in jit_kwargs:
        raise ValueError("jit: `library` sets the compiler options; pass jax.jit directly to set "
                         f"your own, got compiler_options={jit_kwargs['compiler_options']!r}.")
    if library == "auto" and _auto_can_choose():
        return _AutoJit(fn, jit_kwargs)
    options = compiler_options("xla" if library == "auto" else library)
    if options:
        return jax.jit(fn, compiler_options=options, **jit_kwargs)
    return jax.jit(fn, **jit_kwargs)
