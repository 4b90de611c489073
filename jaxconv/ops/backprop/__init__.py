"""Backprop through dense, convolutional, locally-connected and pooling layers, derived by hand.

Each ``*_backward`` function takes a forward op's inputs and the output gradient ``dL/dy`` and
returns the gradients the chain rule gives, written step by step next to the derivation in
``docs/backprop.md``; :mod:`jaxconv.ops.backprop.check` compares them with ``jax.vjp`` of the ops
(``jaxconv backprop check`` runs it over every kind's grid), and
:mod:`jaxconv.ops.backprop.hand` installs them as the ops' VJP rules so a whole model can train on them.

Conventions as in :mod:`jaxconv.ops`: channels-last ``(N, *spatial, C)``; conv kernels
``(*window, C // groups, F)``; locally-connected kernels ``(*out_spatial, *window, C, F)``; regional kernels
``(*regions, *window, C, F)``.
"""

from jaxconv.ops.backprop import check, hand
from jaxconv.ops.backprop.conv import conv_backward, dense_backward
from jaxconv.ops.backprop.local import locally_connected_backward
from jaxconv.ops.backprop.pool import avg_pool_backward, max_pool_backward
from jaxconv.ops.backprop.regional import regional_conv_backward

__all__ = [
    "avg_pool_backward",
    "check",
    "conv_backward",
    "dense_backward",
    "hand",
    "locally_connected_backward",
    "max_pool_backward",
    "regional_conv_backward",
]
