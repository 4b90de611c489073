"""The compile cache: JAX's persistent compilation cache and jaxconv's stored programs, on for
the ``jaxconv`` command and the viewer, and never in the way of a run.

Compiling is most of a short run's time. :func:`enable` points JAX's cache at a directory in
the user's cache directory (``platformdirs``: ``~/.cache/jaxconv/xla`` on Linux), caches every
program however fast it compiled (JAX's default keeps only those over one second), bounds the
directory's size (least recently used entries are evicted past :data:`DEFAULT_MAX_BYTES`), and
turns on the store of whole compiled programs in its ``programs`` folder
(:mod:`jaxconv.backend.executables`), which a later launch loads without tracing.

The cache is an optimisation, so no problem with it stops a run. Each of these turns it off for
the run with one line on stderr naming the path, the reason and the fix: a path that names a
file, a link to nothing, or a directory that cannot be created or written (an unwritable or
missing ``HOME`` included), or a disk with less than :data:`MIN_FREE_BYTES` free; a write that
fails later (the disk filled up) does the same, once. Damaged entries (truncated, emptied or
altered, as a write cut short by a kill leaves them, or without JAX's access-time twin) are found
when the cache is enabled, removed or repaired, and said in one line; an entry checked once is
not read again until it changes.

Importing :mod:`jaxconv` never enables it: a library should not write to the user's disk
unasked. The ``jaxconv`` command and ``jaxconv-viewer`` do, unless given ``--no-compile-cache``
or run with ``JAXCONV_COMPILE_CACHE=0`` in the environment (``JAXCONV_COMPILE_CACHE=/some/dir``
moves it). Call :func:`enable` in a script to get the same.

Example:
    >>> from jaxconv.backend import compile_cache
    >>> compile_cache.enable()  # doctest: +SKIP
    PosixPath('/home/me/.cache/jaxconv/xla')
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import warnings
import zlib
from pathlib import Path

__all__ = ["DEFAULT_MAX_BYTES", "ENV", "MIN_FREE_BYTES", "default_directory", "enable",
           "forget", "from_environment", "problem", "repair"]

#: The environment variable: ``0``/``off``/``false``/``no`` turns the cache off, a path moves it.
ENV = "JAXCONV_COMPILE_CACHE"
#: The size bound (bytes) of JAX's cache and, separately, of the stored programs; the least
#: recently used entries are evicted past it. The viewer's run to its first step writes 32
#: programs, 0.6 MB: this holds hundreds of such runs.
DEFAULT_MAX_BYTES = 256 * 2**20
#: Below this much free space on the cache's disk the cache stays off for the run.
MIN_FREE_BYTES = 64 * 2**20
_OFF = ("0", "off", "false", "no")
_VERIFIED = "jaxconv-verified.json"  # entry name -> [size, mtime_ns] of entries checked whole
_JAX_MESSAGES = ("Error reading persistent compilation cache entry",
                 "Error writing persistent compilation cache entry")
_state: dict = {"directory": None, "said": set(), "show": None, "watch": False}


def default_directory() -> Path:
    """``<user cache dir>/jaxconv/xla`` (``platformdirs.user_cache_path``)."""
    import platformdirs

    return Path(platformdirs.user_cache_path("jaxconv")) / "xla"


def from_environment() -> Path | None:
    """The directory :data:`ENV` asks for: None when it turns the cache off, the default
    directory when it is unset or empty."""
    value = os.environ.get(ENV, "").strip()
    if value.lower() in _OFF:
        return None
    return Path(value).expanduser() if value else default_directory()


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _fix(from_env: bool) -> str:
    where = f"{ENV} to a writable directory" if from_env else (
        f"HOME (or {ENV}) to a writable directory")
    return f"set {where}, or turn the cache off with --no-compile-cache ({ENV}=0)"


def problem(directory) -> str | None:
    """Why ``directory`` cannot hold the cache (creating it if need be), or None if it can.

    Example:
        >>> problem("/etc/hostname")
        'is a file, not a directory'
    """
    directory = Path(directory)
    if directory.is_symlink() and not directory.exists():
        return f"is a link to {os.readlink(directory)}, which does not exist"
    if directory.exists() and not directory.is_dir():
        return "is a file, not a directory"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory) as probe:
            probe.write(b"jaxconv")
    except OSError as error:
        done = "cannot be written" if directory.is_dir() else "cannot be created"
        return f"{done} ({error.strerror or type(error).__name__})"
    free = shutil.disk_usage(directory).free
    if free < MIN_FREE_BYTES:
        from jaxconv.validate import human_bytes

        return f"is on a disk with only {human_bytes(free)} free"
    return None


def _readable(data: bytes) -> bool:
    """Whether ``data`` is a whole JAX cache entry: compressed as JAX writes them (zlib, or zstd
    where installed), with its checksum intact."""
    if data[:4] == b"\x28\xb5\x2f\xfd":  # a zstd frame
        try:
            from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+

            zstd.decompress(data)
        except ImportError:
            try:
                import zstandard  # type: ignore[import-not-found]
            except ImportError:
                return True  # nothing here can read it; neither can JAX
            try:
                zstandard.ZstdDecompressor().decompress(data)
            except zstandard.ZstdError:
                return False
        except Exception:  # noqa: BLE001 - any decoding error: damaged
            return False
        return True
    try:
        zlib.decompress(data)
    except zlib.error:
        return False
    return len(data) > 4


def repair(directory) -> tuple[int, int]:
    """Removes JAX cache entries in ``directory`` that are not whole, and gives entries without
    an access-time file one (JAX's eviction fails on them); each entry is read once, then only
    when it changes.

    Returns:
        ``(removed, repaired)`` counts.
    """
    directory = Path(directory)
    index_path = directory / _VERIFIED
    try:
        verified = json.loads(index_path.read_text(encoding="utf-8"))
        verified = verified if isinstance(verified, dict) else {}
    except (OSError, ValueError):
        verified = {}
    removed = repaired = 0
    seen = {}
    for entry in sorted(directory.glob("*-cache")):
        stat = entry.stat()
        mark = [stat.st_size, stat.st_mtime_ns]
        twin = entry.with_name(entry.name.removesuffix("-cache") + "-atime")
        if verified.get(entry.name) != mark:
            if not _readable(entry.read_bytes()):
                entry.unlink(missing_ok=True)
                twin.unlink(missing_ok=True)
                removed += 1
                continue
        if not twin.exists():
            twin.write_bytes(time.time_ns().to_bytes(8, "little"))
            repaired += 1
        seen[entry.name] = mark
    if seen != verified:
        tmp = index_path.with_name(f".{_VERIFIED}.{os.getpid()}")
        try:
            tmp.write_text(json.dumps(seen), encoding="utf-8")
            os.replace(tmp, index_path)
        except OSError:
            tmp.unlink(missing_ok=True)
    return removed, repaired


def forget(prefix: str, *, since_ns: int) -> int:
    """Removes the entries of JAX's cache in use whose names start with ``prefix`` (a program's
    module name, e.g. ``"jit_train_update-"``) and that were read or written since ``since_ns``
    (``time.time_ns()``); returns how many. :mod:`jaxconv.backend.programs` calls it for a
    program it could not store because JAX's cache served it."""
    directory = _state["directory"]
    if directory is None:
        return 0
    removed = 0
    for twin in directory.glob(f"{prefix}*-atime"):
        try:
            if int.from_bytes(twin.read_bytes(), "little") < since_ns:
                continue
            twin.with_name(twin.name.removesuffix("-atime") + "-cache").unlink(missing_ok=True)
            twin.unlink(missing_ok=True)
            removed += 1
        except OSError:
            continue
    return removed


def _repair_locked(directory: Path) -> tuple[int, int]:
    """:func:`repair` under JAX's own lock of the directory, so no entry is read mid-write."""
    import filelock

    try:
        with filelock.FileLock(directory / ".lockfile", timeout=10):
            return repair(directory)
    except filelock.Timeout:
        return 0, 0


def enable(directory=None, *, max_bytes: int = DEFAULT_MAX_BYTES, say=None) -> Path | None:
    """Turns on JAX's persistent compilation cache and the stored programs in ``directory``.

    Call it before the first compilation of the process: JAX decides once whether a process
    uses the cache (a second call re-points it, for tests). A directory that cannot be used
    leaves the cache off, said in one line (see the module docstring); so does the environment.

    Args:
        directory: where to keep compiled programs; default :func:`from_environment` (so
            ``JAXCONV_COMPILE_CACHE=0`` turns it off).
        max_bytes: size bound in bytes, > 0, of JAX's entries and, separately, of the stored
            programs; least recently used entries are evicted past it.
        say: called with each one-line message; default: printed to stderr.

    Returns:
        The directory in use, or None when the cache is off.

    Raises:
        ValueError: ``max_bytes`` is not a positive integer.
    """
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1:
        raise ValueError(f"compile_cache.enable: `max_bytes` must be a positive integer, got "
                         f"max_bytes={max_bytes!r}.")
    from_env = directory is None and bool(os.environ.get(ENV, "").strip())
    directory = from_environment() if directory is None else Path(directory).expanduser()
    from jaxconv.backend import executables

    _state.update(directory=None, said=set(), show=say or _say, watch=False)
    if directory is None:
        executables.use(None)
        return None
    reason = problem(directory)
    if reason is not None:
        _state["show"](f"jaxconv: compile cache off for this run: {directory} {reason}; "
                       f"{_fix(from_env or directory != default_directory())}.")
        executables.use(None)
        return None
    removed, repaired = _repair_locked(directory)
    if removed or repaired:
        parts = [f"removed {removed} damaged entr{'y' if removed == 1 else 'ies'} (they compile "
                 f"again)"] * bool(removed) + [f"repaired {repaired}"] * bool(repaired)
        _state["show"](f"jaxconv: compile cache {directory}: {', '.join(parts)}.")
    import jax
    from jax.experimental.compilation_cache import compilation_cache as jax_cache

    jax_cache.reset_cache()  # a second enable (tests) points JAX at the new directory
    jax.config.update("jax_enable_compilation_cache", True)
    jax.config.update("jax_compilation_cache_dir", str(directory))
    # Our programs compile in 0.05-1 s; JAX's default caches only those that took over 1 s.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    jax.config.update("jax_compilation_cache_max_size", int(max_bytes))
    _state.update(directory=directory, watch=True)
    _watch_warnings()
    executables.use(directory / "programs", max_bytes=max_bytes, say=_state["show"])
    return directory


def _watch_warnings() -> None:
    """Routes JAX's per-program cache warnings to :func:`_jax_failed` (once installed)."""
    show = warnings.showwarning
    if getattr(show, "_jaxconv_cache", False):
        return

    def showwarning(message, category, filename, lineno, file=None, line=None):
        if str(message).startswith(_JAX_MESSAGES) and _state["watch"]:
            _jax_failed(str(message))  # said once; the rest of them are this one's echo
            return
        show(message, category, filename, lineno, file, line)

    showwarning._jaxconv_cache = True  # type: ignore[attr-defined]
    warnings.showwarning = showwarning


def _jax_failed(message: str) -> None:
    """A read or write of JAX's cache failed mid-run: one line, and for a write (a full disk, a
    directory that became read-only) the cache is off for the rest of the run."""
    directory, reason = _state["directory"], message.split("': ", 1)[-1]
    if directory is None:  # already off
        return
    if message.startswith(_JAX_MESSAGES[1]):
        import jax
        from jax.experimental.compilation_cache import compilation_cache as jax_cache

        jax.config.update("jax_enable_compilation_cache", False)
        jax_cache.reset_cache()
        _state["directory"] = None
        _state["show"](f"jaxconv: compile cache off for the rest of this run: cannot write to "
                       f"{directory} ({reason}); {_fix(True)}.")
    elif "read" not in _state["said"]:
        _state["said"].add("read")
        _state["show"](f"jaxconv: compile cache {directory}: an entry could not be read "
                       f"({reason}); it compiles again, and the next start removes it.")
