"""Default initialisers, with fan-in computed per output position for locally-connected kernels.

A locally-connected kernel ``(*out_spatial, *window, C, F)`` holds one conv kernel per position, so
its fan-in is ``prod(window) * C``, as for a conv. Flax's ``ConvLocal`` initialises its fused
kernel with plain ``lecun_normal``, which counts the positions into the fan-in and so starts with
weights ``sqrt(positions)`` times too small; ours treats the position axes as batch axes.
"""

from __future__ import annotations

from jax import nn

#: Kernel initialiser of the dense and conv layers: LeCun normal, variance ``1 / fan_in``.
default_kernel_init = nn.initializers.lecun_normal()
#: Bias initialiser of every layer: zeros.
default_bias_init = nn.initializers.zeros


def local_kernel_init(key, shape, dtype=None):
    """LeCun normal over ``(*out_spatial, *window, C, F)``, fan-in ``prod(window) * C``."""
    ndim = (len(shape) - 2) // 2
    init = nn.initializers.lecun_normal(in_axis=-2, out_axis=-1, batch_axis=tuple(range(ndim)))
    return init(key, shape, dtype) if dtype is not None else init(key, shape)
