"""Host-memory allocator settings that decide how fast XLA runs on the CPU.

XLA's CPU runtime takes every step's temporaries (patch matrices, gradients) from ``malloc``.
glibc's ``malloc`` hands any block over 128 KiB-32 MiB back to the operating system when it is
freed (``mmap``/``munmap``, and trimming the heap top), so the next step gets fresh pages and
pays a page fault for each 4 KiB of them. On the 2-core machine in ``docs/performance.md`` a
locally-connected training step took 48-58 ms with about 9,400 minor page faults and 21 ms of
kernel time per step, and 33-40 ms with 2,200-3,800 faults and 6-8 ms with freed memory kept.

:func:`retain_freed_memory` tells glibc to keep freed memory in the process and reuse it. It is
the same switch as starting Python with ``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=4000000000``
in the environment, but can be made after start-up, from a notebook. It changes the whole
process (every library in it), so jaxconv never makes it on import: ``jaxconv bench
--retain-freed-memory`` and users who ask for it do. The cost is resident memory: the process
keeps its peak heap size until it exits.

Example:
    >>> from jaxconv.backend import host_memory
    >>> host_memory.retain_freed_memory()  # doctest: +SKIP
    True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

__all__ = ["glibc_available", "retain_freed_memory", "retaining_freed_memory"]

# mallopt parameter numbers from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
# glibc's documented defaults, restored by retain_freed_memory(False).
_DEFAULT_TRIM_THRESHOLD = 128 * 1024
_DEFAULT_MMAP_MAX = 65536
# The largest trim threshold mallopt takes (an int); freed memory below it is never returned.
_KEEP_ALL = 2**31 - 1

_retaining = False


@functools.cache
def _glibc():
    """The process's C library if it is glibc (it has ``mallopt``), else None."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return None
    libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    libc.mallopt.restype = ctypes.c_int
    return libc


def glibc_available() -> bool:
    """Whether the C library is glibc, the allocator that :func:`retain_freed_memory` tunes."""
    return _glibc() is not None


def retaining_freed_memory() -> bool:
    """Whether :func:`retain_freed_memory` is in effect in this process."""
    return _retaining


def retain_freed_memory(enable: bool = True) -> bool:
    """Keeps freed host memory in the process for reuse; ``enable=False`` restores the defaults.

    With it, large blocks come from the heap instead of fresh ``mmap`` pages and the heap is never
    trimmed, so XLA's per-step temporaries on the CPU stop paying a page fault per 4 KiB. It only
    changes glibc's ``malloc`` (Linux with glibc); elsewhere (macOS, Windows, musl) it does nothing
    and returns False. It affects the whole process, not just jaxconv.

    Args:
        enable: True to keep freed memory, False to go back to glibc's defaults (blocks over
            the dynamic threshold are ``mmap``-ed and returned to the system when freed).

    Returns:
        True when the setting was applied, False when the C library is not glibc.

    Raises:
        TypeError: if ``enable`` is not a bool.
        OSError: if glibc refuses the setting.
    """
    global _retaining
    if not isinstance(enable, bool):
        raise TypeError(f"retain_freed_memory: `enable` must be True or False, got "
                        f"enable={enable!r}.")
    libc = _glibc()
    if libc is None:
        return False
    settings = (((_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, _KEEP_ALL)) if enable else
                ((_M_MMAP_MAX, _DEFAULT_MMAP_MAX), (_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)))
    for param, value in settings:
        if libc.mallopt(param, value) != 1:
            raise OSError(f"retain_freed_memory: glibc's mallopt({param}, {value}) failed.")
    _retaining = enable
    return True
