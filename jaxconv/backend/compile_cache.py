"""JAX's persistent compilation cache, on for the ``jaxconv`` command and the viewer.

Compiling is most of a short run's time: the viewer's three models need a training step, an
evaluation, a feature map and their start states, 32 programs in all. With the cache a second
launch loads those programs from disk instead.
:func:`enable` points JAX at a directory in the user's cache directory (``platformdirs``:
``~/.cache/jaxconv/xla`` on Linux), caches every program however fast it compiled (JAX's default
keeps only those over one second), and bounds the directory's size, evicting the least recently
used entries (:data:`DEFAULT_MAX_BYTES`).

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

import os
from pathlib import Path

__all__ = ["DEFAULT_MAX_BYTES", "ENV", "default_directory", "enable", "from_environment"]

#: The environment variable: ``0``/``off``/``false``/``no`` turns the cache off, a path moves it.
ENV = "JAXCONV_COMPILE_CACHE"
#: The cache's size bound (bytes); the least recently used programs are evicted past it. The
#: viewer's run to its first step writes 32 programs, 0.6 MB: this holds hundreds of such runs.
DEFAULT_MAX_BYTES = 256 * 2**20
_OFF = ("0", "off", "false", "no")


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


def enable(directory=None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Path | None:
    """Turns on JAX's persistent compilation cache in ``directory``.

    Call it before the first compilation of the process: JAX decides once whether a process
    uses the cache.

    Args:
        directory: where to keep compiled programs; default :func:`from_environment` (so
            ``JAXCONV_COMPILE_CACHE=0`` turns it off).
        max_bytes: size bound of the directory in bytes, > 0; least recently used entries are
            evicted past it.

    Returns:
        The directory in use, or None when the environment turned the cache off.

    Raises:
        ValueError: ``max_bytes`` is not a positive integer.
    """
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1:
        raise ValueError(f"compile_cache.enable: `max_bytes` must be a positive integer, got "
                         f"max_bytes={max_bytes!r}.")
    directory = from_environment() if directory is None else Path(directory).expanduser()
    if directory is None:
        return None
    import jax

    directory.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(directory))
    # Our programs compile in 0.05-1 s; JAX's default caches only those that took over 1 s.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    jax.config.update("jax_compilation_cache_max_size", int(max_bytes))
    return directory
