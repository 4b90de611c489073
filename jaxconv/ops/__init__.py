"""The layer kinds as pure, jit-able functions: forward ops here, backward passes in ``backprop``.

- :mod:`jaxconv.ops.conv`: :func:`dense` and :func:`conv` (shared weights);
- :mod:`jaxconv.ops.local`: :func:`locally_connected` and Flax ``ConvLocal``'s kernel layout;
- :mod:`jaxconv.ops.regional`: :func:`regional_conv`, one kernel per region of the output;
- :mod:`jaxconv.ops.pooling`: :func:`max_pool` and :func:`avg_pool`;
- :mod:`jaxconv.ops.backprop`: each op's gradients derived by hand, checked against autodiff.

Conventions (see :mod:`jaxconv.shapes`): channels-last inputs ``(N, *spatial, C)`` with one or
more spatial dims; conv kernels ``(*window, C // groups, F)``; locally-connected kernels
``(*out_spatial, *window, C, F)``, one conv kernel per output position, so tiling a conv kernel over
the positions gives exactly :func:`conv`. Every argument is checked before ``lax`` sees it, and a
bad one raises a ``ValueError`` or ``TypeError`` that names the function, the argument and the
value.
"""

import importlib

from jaxconv.ops.conv import add_bias, conv, dense
from jaxconv.ops.local import from_flax_conv_local, locally_connected, to_flax_conv_local
from jaxconv.ops.pooling import avg_pool, max_pool
from jaxconv.ops.regional import regional_conv

__all__ = [
    "add_bias", "avg_pool", "conv", "dense", "from_flax_conv_local", "locally_connected",
    "max_pool", "regional_conv", "to_flax_conv_local",
]


def __getattr__(name: str):
    if name == "backprop":  # loads on first use: the forward ops need none of it
        return importlib.import_module("jaxconv.ops.backprop")
    raise AttributeError(f"module 'jaxconv.ops' has no attribute {name!r}")
