"""jaxconv: dense, locally-connected and convolutional layers, side by side, in JAX.

The package is grouped by idea, one direction of dependency from the top of this list down:

- :mod:`jaxconv.names`, :mod:`jaxconv.validate`, :mod:`jaxconv.shapes`, :mod:`jaxconv.config`:
  the vocabulary, the argument checks, shape arithmetic and the two settings records (no JAX);
- :mod:`jaxconv.kinds`: one record per connectivity kind (dense, local, regional, conv), the
  only place that knows what a kind is;
- :mod:`jaxconv.ops`: the pure functions and their hand-derived backward passes;
- :mod:`jaxconv.linen`, :mod:`jaxconv.nnx` (files in :mod:`jaxconv.layers`): Flax modules;
- :mod:`jaxconv.models`: matched models of every kind, and their layer walk;
- :mod:`jaxconv.costs`, :mod:`jaxconv.analysis`: what a model costs, connects to and has learnt;
- :mod:`jaxconv.backend`: XLA:CPU, host-memory and compile-cache tuning;
- :mod:`jaxconv.data`, :mod:`jaxconv.train`, :mod:`jaxconv.experiments`, :mod:`jaxconv.cli`.

``import jaxconv`` loads no JAX: the subpackages and the re-exported functions load on first use
(PEP 562), so ``jaxconv.shapes``, ``jaxconv.names``, ``jaxconv.config`` and ``jaxconv --help``
stay pure Python while ``jaxconv.conv`` and ``jaxconv.linen`` work as they always did. Importing
jaxconv never imports Qt.

Modules that moved into these folders keep importing from their old paths (``jaxconv.counting``,
``jaxconv.xla_cpu``, ...) for one release, with a ``DeprecationWarning`` naming the new home
(:data:`MOVED`); ``jaxconv.linen`` and ``jaxconv.nnx`` are the drop-in names and stay.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from importlib import metadata as _metadata
from typing import TYPE_CHECKING, Any

try:
    __version__ = _metadata.version("jaxconv")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"

# Subpackages and modules reachable as attributes, loaded on first use (``__all__`` lists the
# ones ``import jaxconv`` gives; the others are documented as imported by name).
_SUBMODULES = ("analysis", "backend", "cli", "config", "costs", "data", "experiments", "kinds",
               "layers", "models", "names", "ops", "shapes", "train", "validate")

#: The drop-in names of the Flax modules: ``from jaxconv.linen import Conv`` as in Flax.
ALIASES = {"jaxconv.linen": "jaxconv.layers.linen", "jaxconv.nnx": "jaxconv.layers.nnx"}

#: Old module paths (before the modules were grouped into folders) and their homes now. Each
#: still imports, with a DeprecationWarning, until jaxconv 0.3.
MOVED = {
    "jaxconv.backprop": "jaxconv.ops.backprop",
    "jaxconv.bench": "jaxconv.experiments.bench",
    "jaxconv.compile_cache": "jaxconv.backend.compile_cache",
    "jaxconv.connectivity": "jaxconv.analysis.connectivity",
    "jaxconv.counting": "jaxconv.costs.counting",
    "jaxconv.dsd": "jaxconv.experiments.dsd",
    "jaxconv.host_memory": "jaxconv.backend.host_memory",
    "jaxconv.initializers": "jaxconv.layers.initializers",
    "jaxconv.pooling": "jaxconv.ops.pooling",
    "jaxconv.probes": "jaxconv.analysis.probes",
    "jaxconv.receptive": "jaxconv.analysis.receptive",
    "jaxconv.regional": "jaxconv.ops.regional",
    "jaxconv.sharing": "jaxconv.experiments.sharing",
    "jaxconv.similarity": "jaxconv.analysis.similarity",
    "jaxconv.summaries": "jaxconv.analysis.summaries",
    "jaxconv.tpu": "jaxconv.costs.tpu",
    "jaxconv.xla_cpu": "jaxconv.backend.xla_cpu",
}

# Functions re-exported at the top, by the module that defines them.
_FUNCTIONS = {
    "avg_pool": "jaxconv.ops",
    "compare_connectivity": "jaxconv.analysis.connectivity",
    "conv": "jaxconv.ops",
    "dense": "jaxconv.ops",
    "from_flax_conv_local": "jaxconv.ops",
    "locally_connected": "jaxconv.ops",
    "max_pool": "jaxconv.ops",
    "regional_conv": "jaxconv.ops",
    "summary": "jaxconv.analysis.summaries",
    "to_flax_conv_local": "jaxconv.ops",
}

__all__ = [
    "analysis",
    "avg_pool",
    "compare_connectivity",
    "conv",
    "costs",
    "data",
    "dense",
    "experiments",
    "from_flax_conv_local",
    "kinds",
    "linen",
    "locally_connected",
    "max_pool",
    "models",
    "nnx",
    "ops",
    "regional_conv",
    "shapes",
    "summary",
    "to_flax_conv_local",
    "train",
]

if TYPE_CHECKING:  # what a type checker and an IDE see; at run time, __getattr__ below
    from jaxconv import analysis, costs, data, experiments, kinds, models, ops, shapes, train
    from jaxconv.analysis.connectivity import compare_connectivity
    from jaxconv.analysis.summaries import summary
    from jaxconv.layers import linen, nnx
    from jaxconv.ops import (
        avg_pool,
        conv,
        dense,
        from_flax_conv_local,
        locally_connected,
        max_pool,
        regional_conv,
        to_flax_conv_local,
    )


def _home(fullname: str) -> str | None:
    """The module ``fullname`` (an alias, an old path, or one inside an old package) is now."""
    for table in (ALIASES, MOVED):
        for old, new in table.items():
            if fullname == old or fullname.startswith(old + "."):
                return new + fullname[len(old):]
    return None


def _warn_moved(fullname: str, home: str) -> None:
    old = next((o for o in MOVED if fullname == o or fullname.startswith(o + ".")), None)
    if old is not None:
        warnings.warn(f"{fullname} moved to {home}; the old path works until jaxconv 0.3.",
                      DeprecationWarning, stacklevel=3)


class _Loader(importlib.abc.Loader):
    """Hands out the module at its new home under its old name (the same module object)."""

    def __init__(self, home: str):
        self.home = home

    def create_module(self, spec):
        return importlib.import_module(self.home)

    def exec_module(self, module):  # already executed at its home
        pass


class _MovedFinder(importlib.abc.MetaPathFinder):
    """Finds ``jaxconv.linen``, ``jaxconv.counting``, ... at their homes (see :data:`MOVED`)."""

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith("jaxconv."):
            return None
        home = _home(fullname)
        if home is None:
            return None
        _warn_moved(fullname, home)
        return importlib.util.spec_from_loader(fullname, _Loader(home))


if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
    sys.meta_path.append(_MovedFinder())


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"jaxconv.{name}")  # the import sets the attribute
    if name in _FUNCTIONS:
        value = getattr(importlib.import_module(_FUNCTIONS[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if f"jaxconv.{name}" in ALIASES or f"jaxconv.{name}" in MOVED:
        return importlib.import_module(f"jaxconv.{name}")
    raise AttributeError(f"module 'jaxconv' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})
