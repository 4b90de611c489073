"""jaxconv: dense, locally-connected and convolutional layers, side by side, in JAX.

The pure functions live in :mod:`jaxconv.ops` (re-exported here); Flax wrappers in
:mod:`jaxconv.linen` and :mod:`jaxconv.nnx`; shape arithmetic in :mod:`jaxconv.shapes`.
Importing jaxconv never imports Qt.
"""

from jaxconv import backprop, counting, data, experiments, linen, models, nnx, shapes, tpu, train
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

__version__ = "0.1.0"

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
