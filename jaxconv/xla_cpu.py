"""Which library XLA on the CPU runs matrix products and convolutions in.

Recent jaxlib builds hand every ``dot_general`` and ``convolution`` of a CPU program to YNNPACK;
before, XLA ran them in Eigen. The two differ a lot by shape. On the 2-core machine in
``docs/performance.md`` YNNPACK ran a plain (128 x 6272) x (6272 x 256) product 1.3x faster than
Eigen, but it ran the 3x3 32->64 convolution and the per-position products of a locally-connected
layer on one core, where Eigen used both: the convolution's forward pass took 10.5 ms against
5.4 ms, and the locally-connected 32->64 training step 35 ms against 24 ms.

The choice is a compiler option of one compiled program (``jax.jit(...,
compiler_options=...)``), not a process setting, so a program can be compiled either way:

- ``"xla"``: what this jaxlib does by default.
- ``"eigen"``: products and convolutions in Eigen (YNNPACK's library fusions turned off).
- ``"auto"``: ``"eigen"`` for a program that convolves or multiplies batched matrices (every
  locally-connected gradient does), ``"xla"`` for one whose products are plain matrix products
  (dense layers), decided from the program itself, so the same program always gets the same
  choice (and the same floating-point rounding).

Both compute the same sums; their results differ only in rounding (a few float32 ulps). On a
GPU or TPU, and on a jaxlib without the option (which runs Eigen anyway), every choice compiles
the program as XLA would.

Example:
    >>> from jaxconv import xla_cpu
    >>> step = xla_cpu.jit(train_step, library="auto")  # doctest: +SKIP
    >>> fast = jax.jit(f, compiler_options=xla_cpu.compiler_options("eigen"))  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import inspect

import jax
import numpy as np

__all__ = ["LIBRARIES", "compiler_options", "eigen_available", "jit", "resolve",
           "uses_products"]

LIBRARIES = ("auto", "xla", "eigen")

# An empty list of YNNPACK fusion kinds: no dot or convolution goes to YNNPACK, XLA emits Eigen.
_EIGEN_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": ""}


def _check_library(fn: str, library, name: str = "library") -> str:
    if not isinstance(library, str) or library not in LIBRARIES:
        raise ValueError(f"{fn}: `{name}` must be one of {', '.join(map(repr, LIBRARIES))}, "
                         f"got {name}={library!r}.")
    return library


@functools.cache
def eigen_available() -> bool:
    """Whether this jax and jaxlib can compile a CPU program with the ``"eigen"`` option.

    False on a jax whose ``jax.jit`` has no ``compiler_options``, on a jaxlib that does not know
    the option (one from before YNNPACK, which runs Eigen anyway), and without a CPU device.
    """
    if "compiler_options" not in inspect.signature(jax.jit).parameters:
        return False
    try:
        cpu = jax.devices("cpu")[0]
        x = jax.device_put(np.ones((2, 2), np.float32), cpu)
        jax.jit(lambda a: a @ a, compiler_options=_EIGEN_OPTIONS).lower(x).compile()
    except Exception:  # noqa: BLE001 - any refusal means: not available here
        return False
    return True


def compiler_options(library: str = "eigen", backend: str | None = None) -> dict:
    """The ``compiler_options`` that make XLA compile a program for ``library``.

    Args:
        library: ``"xla"`` or ``"eigen"`` (resolve ``"auto"`` first, with :func:`resolve`).
        backend: the backend the program runs on; default ``jax.default_backend()``.

    Returns:
        A dict for ``jax.jit(..., compiler_options=...)``: empty for ``"xla"``, on a backend other
        than the CPU, and where :func:`eigen_available` is False.

    Raises:
        ValueError: ``library`` is not ``"xla"`` or ``"eigen"``.
    """
    if _check_library("compiler_options", library) == "auto":
        raise ValueError("compiler_options: `library` 'auto' depends on the program: pass "
                         "xla_cpu.resolve('auto', fn, *args) instead, got library='auto'.")
    backend = jax.default_backend() if backend is None else backend
    if library == "xla" or backend != "cpu" or not eigen_available():
        return {}
    return dict(_EIGEN_OPTIONS)


def _subjaxprs(value):
    """Every jaxpr held by an equation parameter (a jaxpr, a closed jaxpr, or a tuple of them)."""
    if hasattr(value, "eqns"):
        yield value
    elif hasattr(value, "jaxpr") and hasattr(value.jaxpr, "eqns"):
        yield value.jaxpr
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _subjaxprs(item)


def _has_products(jaxpr) -> bool:
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        if name == "conv_general_dilated":
            return True
        if name == "dot_general" and eqn.params["dimension_numbers"][1][0]:
            return True  # batch dimensions: a product per position, group or head
        for value in eqn.params.values():
            if any(_has_products(sub) for sub in _subjaxprs(value)):
                return True
    return False


def uses_products(fn, *args, **kwargs) -> bool:
    """Whether ``fn(*args, **kwargs)`` convolves or multiplies batched matrices.

    Traces ``fn`` (nothing is computed; arguments may be ``jax.ShapeDtypeStruct``) and looks for a
    ``conv_general_dilated`` or a ``dot_general`` with batch dimensions, inside nested calls too.
    """
    return _has_products(jax.make_jaxpr(fn)(*args, **kwargs).jaxpr)


def resolve(library: str, fn=None, *args, **kwargs) -> str:
    """``library`` with ``"auto"`` decided for ``fn(*args, **kwargs)``: ``"xla"`` or ``"eigen"``.

    ``"auto"`` is ``"eigen"`` when :func:`uses_products` finds convolutions or batched products
    in the program (where Eigen ran 1.0-2.3x faster on the benchmark machine) and ``"xla"``
    otherwise (plain matrix products, where YNNPACK ran 1.1-1.3x faster). Where ``"eigen"`` would
    change nothing (another backend, see :func:`compiler_options`) ``"auto"`` is ``"xla"``
    without tracing ``fn``.
    """
    if _check_library("resolve", library) != "auto":
        return library
    if fn is None:
        raise ValueError("resolve: `library` 'auto' needs the program: pass fn and its "
                         "arguments, got fn=None.")
    if not compiler_options("eigen"):
        return "xla"
    return "eigen" if uses_products(fn, *args, **kwargs) else "xla"


def _key(args, kwargs):
    leaves, treedef = jax.tree.flatten((args, kwargs))
    return treedef, tuple((np.shape(a), getattr(a, "dtype", type(a))) for a in leaves)


class _AutoJit:
    """``jax.jit`` of ``fn``, compiled for the library ``"auto"`` picks per argument shapes."""

    def __init__(self, fn, jit_kwargs):
        self._fn = fn
        self._jitted = {lib: jax.jit(fn, compiler_options=compiler_options(lib) or None,
                                     **jit_kwargs) for lib in ("xla", "eigen")}
        self._chosen = {}
        functools.update_wrapper(self, fn)

    def library(self, *args, **kwargs) -> str:
        """The library this call's program is compiled for (decided on first sight of its shapes)."""
        key = _key(args, kwargs)
        if key not in self._chosen:
            self._chosen[key] = resolve("auto", self._fn, *args, **kwargs)
        return self._chosen[key]

    def __call__(self, *args, **kwargs):
        return self._jitted[self.library(*args, **kwargs)](*args, **kwargs)

    def lower(self, *args, **kwargs):
        return self._jitted[self.library(*args, **kwargs)].lower(*args, **kwargs)


def jit(fn, *, library: str = "auto", **jit_kwargs):
    """``jax.jit(fn, **jit_kwargs)`` compiled for ``library`` on the CPU.

    Args:
        fn: the function to compile.
        library: ``"auto"`` (decided per argument shapes by :func:`resolve`, on the first call
            with them), ``"xla"`` or ``"eigen"``.
        **jit_kwargs: passed to ``jax.jit`` (``in_shardings``, ``donate_argnums``, ...), except
            ``compiler_options``, which ``library`` sets.

    Returns:
        A callable like ``jax.jit``'s, with ``lower``. For ``"xla"`` and ``"eigen"`` it is
        ``jax.jit``'s own.

    Raises:
        ValueError: an unknown ``library``, or ``compiler_options`` in ``jit_kwargs``.
    """
    _check_library("jit", library)
    if not callable(fn):
        raise TypeError(f"jit: `fn` must be callable, got {type(fn).__name__}.")
    if "compiler_options" in jit_kwargs:
        raise ValueError("jit: `library` sets the compiler options; pass jax.jit directly to set "
                         f"your own, got compiler_options={jit_kwargs['compiler_options']!r}.")
    if library == "auto" and compiler_options("eigen"):
        return _AutoJit(fn, jit_kwargs)
    options = compiler_options("xla" if library == "auto" else library)
    if options:
        return jax.jit(fn, compiler_options=options, **jit_kwargs)
    return jax.jit(fn, **jit_kwargs)
