""":class:`Program`: a compiled function that a launch loads from the store when it can.

``Program(fn, static, name=..., key=...)`` is ``jax.jit(fn, static_argnums=...)`` with the static
arguments bound and the CPU library of :mod:`jaxconv.backend.xla_cpu` chosen as ``xla_cpu.jit``
chooses it, plus two things:

- with a ``key`` (a description of the static arguments that says everything about them that
  shapes the program), its compiled form is shared by every Program of the same key and
  argument shapes in the process, and saved to and loaded from the store
  (:mod:`jaxconv.backend.executables`) when one is in use: loading skips tracing, lowering and
  compiling;
- :meth:`Program.prepare` compiles (or loads) it for given shapes without running it, on any
  thread, so a caller can get a program ready in the background; a second thread asking for the
  same program waits for the first.

Without a key a Program compiles as ``xla_cpu.jit`` does and keeps its programs to itself.
"""

from __future__ import annotations

import collections
import threading
import time

import jax

from jaxconv.backend import compile_cache, executables, xla_cpu

__all__ = ["Program", "forget", "signature"]

_MEMORY_LIMIT = 64  # compiled programs kept per process, least recently used dropped first
_memory: collections.OrderedDict = collections.OrderedDict()  # key -> (compiled, library)
_pending: dict = {}  # key -> threading.Event of a compile in flight
_untried: set = set()  # keys of programs read from the store that have not run yet
_lock = threading.Lock()


def forget() -> None:
    """Drops the compiled programs this process keeps (the store on disk is untouched)."""
    with _lock:
        _memory.clear()


def _leaf(x):
    if not (hasattr(x, "shape") and hasattr(x, "dtype")):
        return type(x).__name__
    placed = getattr(x, "sharding", None)
    if placed is not None:  # the devices and the layout over them (a mesh's, for one)
        placed = (type(placed).__name__, tuple(sorted(d.id for d in placed.device_set)),
                  str(getattr(placed, "spec", "")))
    return tuple(int(d) for d in x.shape), str(x.dtype), placed


def signature(args) -> tuple:
    """What a compiled program depends on in its array arguments: their tree structure, shapes,
    dtypes and placement on devices (arrays, ``jax.ShapeDtypeStruct``, numpy scalars and Python
    numbers alike)."""
    leaves, tree = jax.tree.flatten(args)
    return str(tree), tuple(_leaf(x) for x in leaves)


class Program:
    """``fn`` compiled with its leading ``static`` arguments bound; see the module docstring.

    Args:
        fn: the function, whose first ``len(static)`` arguments are static.
        static: the static arguments (hashable, as ``jax.jit`` needs them).
        name: a short name of the program (in store file names and messages).
        key: what the static arguments are, completely (e.g. a model's config and a training
            recipe), or None: not shared, not stored.
        library: the CPU library (:data:`jaxconv.backend.xla_cpu.LIBRARIES`); ``"auto"`` is
            decided from the program when it is compiled and stored with it.
        options: more XLA compiler options (e.g. a one-off program's).
        packages: the top-level packages whose source the program runs (in the key).
    """

    def __init__(self, fn, static: tuple = (), *, name: str, key: str | None = None,
                 library: str = "auto", options: dict | None = None,
                 packages: tuple[str, ...] = ("jaxconv",)):
        self._fn, self._static, self.name, self.key = fn, tuple(static), name, key
        self._library = xla_cpu.check_library("Program", library)
        self._options, self._packages = dict(options or {}), tuple(packages)
        self._nums = tuple(range(len(self._static)))
        self._own: dict = {}  # signature -> (compiled, library), when there is no key
        self._last = None  # the compiled program of the last call
        self._last_key = None  # and its key (None without a key)
        self._chosen: str | None = None
        self.how: str | None = None  # "compiled", "stored" or "memory": how it was last obtained

    def __call__(self, *args):
        last = self._last
        if last is not None and self._last_key not in _untried:
            try:
                return last(*args)
            except (TypeError, ValueError):  # other shapes or devices: look them up (nothing ran)
                pass
        self._last, self._last_key = self._get(args)
        if self._last_key not in _untried:
            return self._last(*args)
        try:  # the first run of a program read from the store, waited for: a missing kernel
            # may only be reported when its result is read (an evaluation's loss, in float())
            out = jax.block_until_ready(self._last(*args))
        except Exception as error:  # noqa: BLE001 - only a program that cannot run at all
            if "NOT_FOUND" not in str(error):
                raise
            # An entry written before jaxconv knew that an executable JAX's cache served cannot
            # be serialised whole: it loads, then misses a kernel. A miss: compile, replace.
            store = executables.active()
            assert self._last_key is not None  # only a program read from the store is untried
            if store is not None:
                store.discard(self._last_key, f"could not run ({str(error).splitlines()[0]})")
            with _lock:
                _memory.pop(self._last_key, None)
                _untried.discard(self._last_key)
            self._last, self._last_key = self._get(args)
            return self._last(*args)
        _untried.discard(self._last_key)
        return out

    def prepare(self, *args) -> str:
        """Compiles (or loads) the program for ``args`` (arrays or ``jax.ShapeDtypeStruct``)
        without running it; returns how it was obtained: ``"compiled"``, ``"stored"`` (from the
        store) or ``"memory"`` (this process had it)."""
        self._get(args)
        return self.how  # type: ignore[return-value]

    def library(self, *args) -> str:
        """The CPU library the program is compiled for (compiling it for ``args`` first if it has
        not been yet)."""
        if self._chosen is None:
            self._get(args)
        return self._chosen  # type: ignore[return-value]

    def lower(self, *args):
        """``jax.jit``'s lowering of the program for ``args``, with the library it compiles for."""
        return self._jit(self.library(*args)).lower(*self._static, *args)

    def _jit(self, library: str):
        options = {**xla_cpu.compiler_options(library), **self._options}
        if not options:  # (a jax before 0.4.36 has no compiler_options)
            return jax.jit(self._fn, static_argnums=self._nums)
        return jax.jit(self._fn, static_argnums=self._nums, compiler_options=options)

    def _get(self, args):
        """``(compiled program, its key or None)`` for ``args``."""
        sig = signature(args)
        if self.key is None:
            found = self._own.get(sig)
            if found is None:
                found = self._own[sig] = self._compile(args)[0]
                self.how = "compiled"
            else:
                self.how = "memory"
            self._chosen = found[1]
            return found[0], None
        key = executables.program_key(
            self.name, f"{self.key}|{self._library}|{self._options}", sig, self._packages)
        while True:
            with _lock:
                found = _memory.get(key)
                if found is not None:
                    _memory.move_to_end(key)
                    self.how, self._chosen = "memory", found[1]
                    return found[0], key
                event = _pending.get(key)
                if event is None:
                    _pending[key] = threading.Event()
                    break
            event.wait()  # another thread compiles it: use its result
        try:
            found, self.how = self._load(key), "stored"
            if found is None:
                (found, storable), self.how = self._compile(args), "compiled"
                if storable:
                    self._save(key, found)
            with _lock:
                _memory[key] = found
                while len(_memory) > _MEMORY_LIMIT:
                    _memory.popitem(last=False)
        finally:
            with _lock:
                _pending.pop(key).set()
        self._chosen = found[1]
        return found[0], key

    def _compile(self, args):
        """``((compiled, library), storable)``: compiled for ``args``; storable unless JAX's
        persistent cache served it."""
        library = self._library
        if library == "auto":
            # Traced as the jit below traces it (same function and static arguments), so jax
            # reuses this trace when it compiles.
            traced = jax.make_jaxpr(self._fn, static_argnums=self._nums)(*self._static, *args)
            library = xla_cpu.library_for(traced)
        lowered = self._jit(library).lower(*self._static, *args)
        # Only this compile between the two counts (tracing and choosing the library may compile
        # other, small programs, such as the CPU library's probe).
        hits, began = executables.thread_cache_hits(), time.time_ns()
        compiled = lowered.compile()
        if executables.thread_cache_hits() > hits:
            # Read from JAX's persistent cache: serialised again, such an executable lacks the
            # kernels it shares with its first compile (jaxlib 0.10.2 then fails to run it:
            # "Function ... not found"), so it is not stored; and its JAX entries go, so that the
            # next launch compiles it whole and stores it.
            compile_cache.forget(f"jit_{getattr(self._fn, '__name__', 'fn')}-", since_ns=began)
            return (compiled, library), False
        return (compiled, library), True

    def _load(self, key):
        store = executables.active()
        entry = None if store is None else store.read(key)
        if entry is None:
            return None
        from jax.experimental import serialize_executable

        try:
            compiled = serialize_executable.deserialize_and_load(
                entry["blob"], entry["in_tree"], entry["out_tree"])
            library = xla_cpu.check_library("Program", entry["library"])
        except Exception as error:  # noqa: BLE001 - refused (another CPU, another jaxlib): a miss
            store.discard(key, f"was refused by this jaxlib ({type(error).__name__}: "  # type: ignore[union-attr]
                               f"{str(error).strip().splitlines()[0] if str(error).strip() else ''})")
            return None
        executables.count("stored_loads")
        _untried.add(key)
        return compiled, library

    def _save(self, key, found) -> None:
        store = executables.active()
        if store is None:
            return
        from jax.experimental import serialize_executable

        compiled, library = found
        try:
            blob, in_tree, out_tree = serialize_executable.serialize(compiled)
        except (ValueError, NotImplementedError, TypeError):  # not serialisable: compiled each run
            return
        if store.write(key, {"blob": blob, "in_tree": in_tree, "out_tree": out_tree,
                             "library": library, "name": self.name}):
            executables.count("stored_saves")
