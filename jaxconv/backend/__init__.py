"""Tuning the machine under the library, never its math.

- :mod:`jaxconv.backend.xla_cpu`: where XLA runs a CPU program's convolutions, products and
  reductions (YNNPACK or Eigen), and ``jit`` with those options;
- :mod:`jaxconv.backend.host_memory`: keep freed host memory for reuse (XLA's CPU temporaries);
- :mod:`jaxconv.backend.compile_cache`: JAX's persistent compilation cache and the store of
  compiled programs in the user cache, turned off in one line when they cannot be used;
- :mod:`jaxconv.backend.executables`: the store of whole compiled programs, loaded without tracing;
- :mod:`jaxconv.backend.programs`: ``Program``, a compiled function stored, loaded and shared.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Submodules load on first use (PEP 562): ``jaxconv.backend.<name>`` works after ``import jaxconv``.
__all__ = ["compile_cache", "executables", "host_memory", "programs", "xla_cpu"]

if TYPE_CHECKING:  # what a type checker sees; at run time, __getattr__ below
    from jaxconv.backend import compile_cache, executables, host_memory, programs, xla_cpu


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
