"""What a model connects to and what it has learnt, measured.

- :mod:`jaxconv.analysis.receptive`: which inputs a unit is wired to, and which move it now;
- :mod:`jaxconv.analysis.probes`: accuracy against shift and per-layer equivariance;
- :mod:`jaxconv.analysis.similarity`: each position's filter against the mean filter.
"""

from __future__ import annotations

import importlib

# Submodules load on first use (PEP 562): ``jaxconv.analysis.<name>`` works after ``import jaxconv``.
__all__ = ["probes", "receptive", "similarity"]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
