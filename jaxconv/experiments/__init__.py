"""The lecture's claims, and the speed claims, as experiments that measure them.

- :mod:`jaxconv.experiments.lecture`: :func:`compare`, :func:`shift_experiment` and
  :func:`data_size_experiment` (re-exported here);
- :mod:`jaxconv.experiments.dsd`: samples each kind needs, against the proved bounds;
- :mod:`jaxconv.experiments.sharing`: the regional model from conv to local on two tasks;
- :mod:`jaxconv.experiments.bench`: what ``jaxconv bench`` times, against Flax and PyTorch;
- :mod:`jaxconv.experiments.backprop_check`: what ``jaxconv backprop check`` checks, every
  kind's hand-derived backward pass and the pools' against autodiff.

The lecture's names load on first use (PEP 562), so ``jaxconv.experiments.bench`` does not
import the training loop.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["TRAINING", "compare", "data_size_experiment", "markdown_table", "shift_experiment",
           "shift_images", "train_model"]

if TYPE_CHECKING:
    from jaxconv.experiments.lecture import (
        TRAINING,
        compare,
        data_size_experiment,
        markdown_table,
        shift_experiment,
        shift_images,
        train_model,
    )


_SUBMODULES = ("backprop_check", "bench", "dsd", "lecture", "sharing")


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"jaxconv.experiments.{name}")
    if name in __all__:
        value = getattr(importlib.import_module("jaxconv.experiments.lecture"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'jaxconv.experiments' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
