"""What a layer or a model costs, from its settings alone: parameters, FLOPs and bytes.

- :mod:`jaxconv.costs.counting`: one layer's :class:`~jaxconv.costs.counting.Cost`, exact Python
  ints for any size;
- :mod:`jaxconv.costs.connectivity`: the lecture's table, every kind connecting one input;
- :mod:`jaxconv.costs.summaries`: ``jaxconv.summary``, a Flax model layer by layer on abstract
  values;
- :mod:`jaxconv.costs.tpu`: TPU tile padding of arrays;
- :mod:`jaxconv.costs.table`: the plain-text tables they print.
"""

from __future__ import annotations

import importlib

# Submodules load on first use (PEP 562): ``jaxconv.costs.<name>`` works after ``import jaxconv``.
__all__ = ["connectivity", "counting", "summaries", "table", "tpu"]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
