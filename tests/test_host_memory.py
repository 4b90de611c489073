"""retain_freed_memory: large blocks come from the heap and stay there (checked with glibc's mallinfo2).

Each check runs in a fresh interpreter because the setting is process-wide.
"""

import subprocess
import sys

import pytest

from jaxconv.backend import host_memory

needs_glibc = pytest.mark.skipif(not host_memory.glibc_available(), reason="needs glibc")

# Allocates and frees a 64 MiB array and reports, from glibc's mallinfo2, the bytes held in
# mmap-ed blocks while it lives and the heap's size after it is freed.
_PROBE = """
import ctypes, sys
import numpy as np
from jaxconv.backend import host_memory

class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
if not hasattr(libc, "mallinfo2"):
    print("no-mallinfo2"); sys.exit(0)
libc.mallinfo2.restype = Mallinfo2
if sys.argv[1] in ("retain", "restore"):
    assert host_memory.retain_freed_memory() is True
    assert host_memory.retaining_freed_memory() is True
if sys.argv[1] == "restore":
    assert host_memory.retain_freed_memory(False) is True
    assert host_memory.retaining_freed_memory() is False
block = np.ones(16 * 2**20, np.float32)
mapped = libc.mallinfo2().hblkhd
del block
print(mapped, libc.mallinfo2().arena)
"""


def _probe(mode):
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True,
                         check=True).stdout.split()
    if out == ["no-mallinfo2"]:
        pytest.skip("glibc older than 2.33 (no mallinfo2)")
    return [int(v) for v in out]


@needs_glibc
def test_default_allocator_maps_large_blocks_and_returns_them():
    mapped, heap_after_free = _probe("default")
    assert mapped >= 64 * 2**20
    assert heap_after_free < 64 * 2**20


@needs_glibc
def test_retained_blocks_come_from_the_heap_and_stay_after_free():
    mapped, heap_after_free = _probe("retain")
    assert mapped < 64 * 2**20
    assert heap_after_free >= 64 * 2**20


@needs_glibc
def test_retain_then_restore_defaults():
    mapped, heap_after_free = _probe("restore")
    assert mapped >= 64 * 2**20
    assert heap_after_free < 64 * 2**20


def test_enable_must_be_a_bool():
    with pytest.raises(TypeError, match=r"retain_freed_memory: `enable` must be True or False, "
                                        r"got enable='yes'\."):
        host_memory.retain_freed_memory("yes")


class _RefusingLibc:
    """Stands in for glibc whose mallopt refuses every setting (returns 0)."""

    @staticmethod
    def mallopt(param, value):
        return 0


def test_refused_setting_raises_and_keeps_state(monkeypatch):
    monkeypatch.setattr(host_memory, "_glibc", lambda: _RefusingLibc)
    with pytest.raises(OSError, match=r"retain_freed_memory: glibc's mallopt\(-4, 0\) failed\."):
        host_memory.retain_freed_memory()
    assert host_memory.retaining_freed_memory() is False


def test_without_glibc_nothing_changes(monkeypatch, capsys):
    from jaxconv.cli import main

    monkeypatch.setattr(host_memory, "_glibc", lambda: None)
    assert host_memory.glibc_available() is False
    assert host_memory.retain_freed_memory() is False
    assert host_memory.retaining_freed_memory() is False
    assert main(["bench", "--quick", "--json", "--no-torch", "--layer", "dense", "--input", "8",
                 "--features", "4", "--batch", "2", "--mode", "forward", "--rounds", "1",
                 "--retain-freed-memory"]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip() == ("bench: --retain-freed-memory needs glibc's malloc; timing with "
                                    "the default allocator.")
    assert '"retained_freed_memory": false' in captured.out
