"""The Flax modules: :mod:`jaxconv.layers.linen` and :mod:`jaxconv.layers.nnx` wrap the ops.

``jaxconv.linen`` and ``jaxconv.nnx`` are these two modules under their drop-in names
(``from jaxconv.linen import Conv`` as ``from flax.linen import Conv``); their initialisers are
:mod:`jaxconv.layers.initializers`. Importing this package loads Flax only when a module is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Submodules load on first use (PEP 562): ``jaxconv.layers.<name>`` works after ``import jaxconv``.
__all__ = ["initializers", "linen", "nnx"]

if TYPE_CHECKING:  # what a type checker sees; at run time, __getattr__ below
    from jaxconv.layers import initializers, linen, nnx


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
