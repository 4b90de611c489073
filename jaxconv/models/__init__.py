"""Model families with matched topology, one per connectivity kind, and their layer walk.

- :mod:`jaxconv.models.topology` (no JAX): :func:`layer_shapes` walks a
  :class:`~jaxconv.config.ModelConfig`'s layers (names, shapes, windows, pools);
  :func:`fitting_depth` says how many layers an input takes;
- :mod:`jaxconv.models.model`: the Flax :class:`Model`, :func:`build`, :func:`activations`,
  :func:`param_count` (loaded on first use, with Flax).

Example:
    >>> from jaxconv import models
    >>> models.build("local", channels=(8,)).config.kind
    'local'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from jaxconv.config import ModelConfig
from jaxconv.models.topology import POOL, LayerShape, fitting_depth, layer_names, layer_shapes
from jaxconv.names import KINDS, LECTURE_KINDS

__all__ = ["KINDS", "LECTURE_KINDS", "POOL", "LayerShape", "Model", "ModelConfig", "activations",
           "build", "fitting_depth", "layer_names", "layer_shapes", "param_count"]

_MODEL = ("Model", "activations", "build", "param_count")

if TYPE_CHECKING:
    from jaxconv.models.model import Model, activations, build, param_count


def __getattr__(name: str) -> Any:
    if name in _MODEL:
        value = getattr(importlib.import_module("jaxconv.models.model"), name)
        globals()[name] = value
        return value
    if name in ("model", "topology"):
        return importlib.import_module(f"jaxconv.models.{name}")
    raise AttributeError(f"module 'jaxconv.models' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
