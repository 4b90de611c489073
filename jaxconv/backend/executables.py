"""The store of compiled programs: whole executables saved beside the compile cache, loaded by a
later launch without tracing, lowering or compiling.

JAX's persistent cache (:mod:`jaxconv.backend.compile_cache`) saves XLA's compile, but its key is
a hash of the lowered program, so a hit still traces and lowers the Python function: 2-3 s of a
warm viewer start on the 2-core machine in ``docs/performance.md``. An executable serialised
with ``jax.experimental.serialize_executable`` (about 0.2 MB for the viewer's training step) loads
in a few milliseconds instead. Its key cannot come from the program, which is what we avoid
building, so it comes from everything that makes the program what it is
(:func:`program_key`): the caller's description of the static arguments (the model's config,
the training recipe, :mod:`jaxconv.train.programs`), the shapes and dtypes of the array
arguments, and :func:`environment`: the jax, jaxlib and Python versions, ``XLA_FLAGS``, JAX's
configuration, the device kind and the CPU's model and features, and a digest of the source of
jaxconv and of the packages whose code the program runs.

An entry that is refused (another CPU or version slipped past the key) or damaged (its
checksum fails: a write cut short) is a miss: the program compiles as it would without the
store, the entry is replaced, and the run says so in one line. Entries are written whole (a
temporary file renamed into place), bounded in total size with the least recently used evicted.
Loading runs ``pickle`` on the entry: the store lives in the user's own cache directory, like
JAX's cache, and must not be shared with people you would not run code from.

:func:`use` turns the store on for the process (``compile_cache.enable`` does); without it
programs are only kept in memory.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import platform
import sys
import threading
from pathlib import Path

__all__ = ["Store", "active", "counts", "environment", "program_key", "source_digest", "use"]

_MAGIC = b"jaxconv-program-1\n"
_lock = threading.Lock()
_active: dict = {"store": None}
_counts = {"stored_loads": 0, "stored_saves": 0}
_thread = threading.local()
_jax_counts = {"backend": 0, "cache_hits": 0}


class Store:
    """A directory of compiled programs, one file per key.

    Args:
        directory: where the entries live (created on the first save).
        max_bytes: size bound of all entries; the least recently used are evicted past it.
        say: called with the one line a refused or damaged entry, or a failed write, gets (once
            per reason per process).
    """

    def __init__(self, directory, *, max_bytes: int, say=None):
        self.directory, self.max_bytes = Path(directory), int(max_bytes)
        self._say, self._said = say, set()

    def path(self, key: str) -> Path:
        """The entry file of ``key``."""
        return self.directory / f"{key}.program"

    def note(self, reason: str, line: str) -> None:
        """Says ``line`` unless a line for ``reason`` was said already."""
        if reason not in self._said and self._say is not None:
            self._said.add(reason)
            self._say(line)

    def read(self, key: str) -> dict | None:
        """The entry of ``key`` (a dict), or None when there is none or it is damaged (then it
        is removed and said)."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        digest, body = data[len(_MAGIC):len(_MAGIC) + 32], data[len(_MAGIC) + 32:]
        try:
            if not data.startswith(_MAGIC) or hashlib.sha256(body).digest() != digest:
                raise ValueError("its checksum does not match: a write was cut short or the file "
                                 "was changed")
            entry = pickle.loads(body)
            if not isinstance(entry, dict):
                raise ValueError("it is not a program entry")
        except Exception as error:  # noqa: BLE001 - any unreadable entry is a miss
            self.discard(key, f"is damaged ({error})")
            return None
        try:
            os.utime(path)  # least recently used eviction reads the modification time
        except OSError:
            pass
        return entry

    def discard(self, key: str, why: str) -> None:
        """Removes the entry of ``key``, saying once why (it compiles again and is replaced)."""
        _remove(self.path(key))
        self.note("discard", f"jaxconv: a stored program in {self.directory} {why}; it compiles "
                             f"again and is replaced.")

    def write(self, key: str, entry: dict) -> bool:
        """Saves ``entry`` whole under ``key``, evicting old entries past the bound; False (said
        once) when it cannot be written."""
        body = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
        data = _MAGIC + hashlib.sha256(body).digest() + body
        if len(data) > self.max_bytes:
            return False
        tmp = self.directory / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._evict(len(data))
            tmp.write_bytes(data)
            os.replace(tmp, self.path(key))
        except OSError as error:
            _remove(tmp)
            self.note("write", f"jaxconv: cannot store compiled programs in {self.directory} "
                               f"({error.strerror or error}); they compile on every launch until "
                               f"it is writable (or turn the cache off: --no-compile-cache).")
            return False
        return True

    def _evict(self, incoming: int) -> None:
        entries = []
        for path in self.directory.glob("*.program"):
            try:
                stat = path.stat()
            except OSError:
                continue
            entries.append((stat.st_mtime_ns, stat.st_size, path))
        total = sum(size for _, size, _ in entries) + incoming
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            _remove(path)
            total -= size


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:  # a parent that is not a directory, a read-only disk: nothing to remove
        pass


def use(directory, *, max_bytes: int = 256 * 2**20, say=None) -> Store | None:
    """Turns the store on in ``directory`` for this process (None: off); returns it."""
    _active["store"] = None if directory is None else Store(directory, max_bytes=max_bytes,
                                                            say=say)
    _listen()
    return _active["store"]


def active() -> Store | None:
    """The store in use, or None."""
    return _active["store"]


def _listen() -> None:
    """Counts the XLA compiles and JAX cache hits of this process (for :func:`counts`)."""
    if _jax_counts.get("listening"):
        return
    import jax

    def duration(event, duration_secs, **_):  # the names of jax.monitoring's protocol
        if event == "/jax/core/compile/backend_compile_duration":
            _jax_counts["backend"] += 1

    def on_event(event, **_):
        if event == "/jax/compilation_cache/cache_hits":  # recorded by the compiling thread
            _jax_counts["cache_hits"] += 1
            _thread.hits = getattr(_thread, "hits", 0) + 1

    jax.monitoring.register_event_duration_secs_listener(duration)
    jax.monitoring.register_event_listener(on_event)
    _jax_counts["listening"] = True


def thread_cache_hits() -> int:
    """JAX persistent-cache hits of compiles run by the calling thread so far (an executable
    read from JAX's cache serialises without the kernels it shares with its first compile, so
    it must not be stored; see :mod:`jaxconv.backend.programs`)."""
    _listen()
    return getattr(_thread, "hits", 0)


def counts() -> dict:
    """Programs this process has compiled with XLA, and loaded instead: ``{"compiled": n,
    "loaded": n, "stored": n}``, where ``loaded`` counts JAX cache hits and stored programs, and
    ``stored`` the stored programs alone (loaded without tracing). Counting starts at the first
    :func:`use` (``compile_cache.enable``) or stored program."""
    _listen()
    hits = _jax_counts["cache_hits"]
    return {"compiled": _jax_counts["backend"] - hits,
            "loaded": hits + _counts["stored_loads"], "stored": _counts["stored_loads"]}


def count(what: str) -> None:
    """Adds one stored program loaded (``"stored_loads"``) or saved (``"stored_saves"``)."""
    with _lock:
        _counts[what] += 1


def _cpu() -> str:
    """The CPU's model and feature flags (Linux: ``/proc/cpuinfo``), else what ``platform``
    knows: XLA compiles for the features of the CPU it runs on."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            lines = [line.strip() for line in f]
    except OSError:
        lines = []
    wanted = ("model name", "flags", "Features", "CPU implementer", "CPU part")
    seen = {}
    for line in lines:
        name = line.split(":", 1)[0].strip()
        if name in wanted and name not in seen:
            seen[name] = line.split(":", 1)[-1].strip()
    return json.dumps(seen, sort_keys=True) if seen else (
        f"{platform.machine()} {platform.processor()}")


def source_digest(*packages: str) -> str:
    """A digest of every ``.py`` file of the named top-level packages (the code a program was
    traced from): a changed file is a changed program."""
    return hashlib.sha256("".join(_package_digest(p) for p in sorted(set(packages))).encode()
                          ).hexdigest()


@functools.cache
def _package_digest(package: str) -> str:
    module = sys.modules.get(package)
    roots = list(getattr(module, "__path__", None) or ())
    if not roots and getattr(module, "__file__", None):
        roots = [str(Path(module.__file__).parent)]  # type: ignore[arg-type]
    h = hashlib.sha256(package.encode())
    for root in roots:
        for path in sorted(Path(root).rglob("*.py")):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


@functools.cache
def environment() -> str:
    """What every stored program of this process depends on besides its own arguments (see the
    module docstring), as one JSON string."""
    import jax
    from jax import lib as jax_lib

    device = jax.devices()[0]
    skip = ("cache", "log", "explain", "traceback", "dir")  # settings no program depends on
    config = {k: repr(v) for k, v in sorted(jax.config.values.items())
              if not any(s in k for s in skip)}
    return json.dumps({
        "jax": jax.__version__, "jaxlib": getattr(jax_lib, "__version__", ""), "python": sys.version,
        "platform": device.platform, "device_kind": device.device_kind,
        "platform_version": device.client.platform_version, "devices": jax.device_count(),
        "processes": jax.process_count(), "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "cpu": _cpu(), "config": config}, sort_keys=True)


def program_key(name: str, static: str, signature, packages=("jaxconv",)) -> str:
    """The store's key of a program: a hash of its ``name``, its ``static`` description (which
    must say everything about the static arguments that shapes the program), the
    ``signature`` of its array arguments, the :func:`environment` and the
    :func:`source_digest` of ``packages``."""
    text = json.dumps([name, static, repr(signature), environment(), source_digest(*packages)])
    return f"{name.replace('/', '_')}-{hashlib.sha256(text.encode()).hexdigest()[:40]}"
