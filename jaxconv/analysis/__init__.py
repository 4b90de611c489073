"""What a model costs, connects to and has learnt, measured; and the kinds compared.

- :mod:`jaxconv.analysis.summaries`: ``jaxconv.summary``, a Flax model's costs layer by layer on
  abstract values;
- :mod:`jaxconv.analysis.connectivity`: the lecture's table, every kind connecting one input;
- :mod:`jaxconv.analysis.receptive`: which inputs a unit is wired to, and which move it now;
- :mod:`jaxconv.analysis.probes`: accuracy against shift and per-layer equivariance;
- :mod:`jaxconv.analysis.similarity`: each position's filter against the mean filter.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Submodules load on first use (PEP 562): ``jaxconv.analysis.<name>`` works after ``import jaxconv``.
__all__ = ["connectivity", "probes", "receptive", "similarity", "summaries"]

if TYPE_CHECKING:  # what a type checker sees; at run time, __getattr__ below
    from jaxconv.analysis import connectivity, probes, receptive, similarity, summaries


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
