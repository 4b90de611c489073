"""jaxconv: dense, locally-connected and convolutional layers, side by side, in JAX.

The pure functions live in :mod:`jaxconv.ops` (re-exported here); Flax wrappers in
:mod:`jaxconv.linen` and :mod:`jaxconv.nnx`; shape arithmetic in :mod:`jaxconv.shapes`; every
name a setting can take in :mod:`jaxconv.names`; the settings records in :mod:`jaxconv.config`.

``import jaxconv`` loads no JAX: the subpackages and the re-exported functions load on first use
(PEP 562), so ``jaxconv.shapes``, ``jaxconv.names``, ``jaxconv.config`` and ``jaxconv --help``
stay pure Python while ``jaxconv.conv`` and ``jaxconv.linen`` work as they always did. Importing
jaxconv never imports Qt.
"""

from __future__ import annotations

import importlib
from importlib import metadata as _metadata
from typing import TYPE_CHECKING, Any

try:
    __version__ = _metadata.version("jaxconv")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"

# Subpackages and modules reachable as attributes, loaded on first use (``__all__`` lists the
# ones ``import jaxconv`` has always given; the others are documented as imported by name).
_SUBMODULES = ("backprop", "bench", "compile_cache", "config", "connectivity", "counting", "data",
               "dsd", "experiments", "host_memory", "initializers", "linen", "models", "names",
               "nnx", "ops", "pooling", "receptive", "regional", "shapes", "sharing", "similarity",
               "summaries", "tpu", "train", "xla_cpu")
# Functions re-exported at the top, by the module that defines them.
_FUNCTIONS = {
    "avg_pool": "jaxconv.ops",
    "compare_connectivity": "jaxconv.connectivity",
    "conv": "jaxconv.ops",
    "dense": "jaxconv.ops",
    "from_flax_conv_local": "jaxconv.ops",
    "locally_connected": "jaxconv.ops",
    "max_pool": "jaxconv.ops",
    "regional_conv": "jaxconv.ops",
    "summary": "jaxconv.summaries",
    "to_flax_conv_local": "jaxconv.ops",
}

__all__ = [
    "avg_pool",
    "backprop",
    "compare_connectivity",
    "conv",
    "counting",
    "data",
    "dense",
    "experiments",
    "from_flax_conv_local",
    "linen",
    "locally_connected",
    "max_pool",
    "models",
    "nnx",
    "regional_conv",
    "shapes",
    "summary",
    "to_flax_conv_local",
    "tpu",
    "train",
]

if TYPE_CHECKING:  # what a type checker and an IDE see; at run time, __getattr__ below
    from jaxconv import (
        backprop,
        counting,
        data,
        experiments,
        linen,
        models,
        nnx,
        shapes,
        tpu,
        train,
    )
    from jaxconv.connectivity import compare_connectivity
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
    from jaxconv.summaries import summary


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"jaxconv.{name}")  # the import sets the attribute
    if name in _FUNCTIONS:
        value = getattr(importlib.import_module(_FUNCTIONS[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'jaxconv' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})
