"""What a layer costs, from its settings alone: parameters, FLOPs and bytes, no arrays.

- :mod:`jaxconv.costs.counting`: one layer's :class:`~jaxconv.costs.counting.Cost`, exact Python
  ints for any size;
- :mod:`jaxconv.costs.tpu`: TPU tile padding of arrays;
- :mod:`jaxconv.costs.table`: the plain-text tables the reports print.

A whole model's costs (``jaxconv.summary``) and the lecture's table of every kind are
:mod:`jaxconv.analysis`'s: they ask the kinds (:mod:`jaxconv.kinds`), which ask these counters.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Submodules load on first use (PEP 562): ``jaxconv.costs.<name>`` works after ``import jaxconv``.
__all__ = ["counting", "layouts", "table", "tpu"]

if TYPE_CHECKING:  # what a type checker sees; at run time, __getattr__ below
    from jaxconv.costs import counting, layouts, table, tpu


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
