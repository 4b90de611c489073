"""jaxconv: dense, locally-connected and convolutional layers, side by side, in JAX.

The pure functions live in :mod:`jaxconv.ops` (re-exported here); Flax wrappers in
:mod:`jaxconv.linen` and :mod:`jaxconv.nnx`; shape arithmetic in :mod:`jaxconv.shapes`.
Importing jaxconv never imports Qt.
"""

from jaxconv import linen, nnx, shapes
from jaxconv.ops import (
    avg_pool,
    conv,
    dense,
    from_flax_conv_local,
    locally_connected,
    max_pool,
    to_flax_conv_local,
)

__version__ = "0.1.0"

__all__ = [
    "avg_pool",
    "conv",
    "dense",
    "from_flax_conv_local",
    "linen",
    "locally_connected",
    "max_pool",
    "nnx",
    "shapes",
    "to_flax_conv_local",
]
