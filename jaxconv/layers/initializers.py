"""Default initialisers, with fan-in computed per output position for locally-connected kernels.

A locally-connected kernel ``(*out_spatial, *window, C, F)`` holds one conv kernel per position, so
its fan-in is ``prod(window) * C``, as for a conv. Flax's ``ConvLocal`` initialises its fused
kernel with plain ``lecun_normal``, which counts the positions into the fan-in and so starts with
weights ``sqrt(positions)`` times too small; ours treats the position axes as batch axes.

Each initialiser is a callable ``(key, shape, dtype) -> array`` like ``jax.nn.initializers``' (the
same values for the same key), and also draws from the same distribution on the host with numpy
(:meth:`LecunNormal.host`). :func:`jaxconv.train.init_state` uses the host form: compiling
``model.init`` spends seconds in XLA on the random-number generator (1.9 s for the viewer's dense
model, 5.8 s for its locally-connected one, on the 2-core machine in ``docs/performance.md``),
drawing the same shapes with numpy takes milliseconds.
"""

from __future__ import annotations

import contextlib
import contextvars
import math

import jax.numpy as jnp
import numpy as np
from jax import nn

__all__ = ["LecunNormal", "Zeros", "default_bias_init", "default_kernel_init",
           "local_kernel_init", "recording"]

# Set while jaxconv.train traces a model's init to learn which initialiser made which parameter.
_RECORD: contextvars.ContextVar[list | None] = contextvars.ContextVar("jaxconv_init", default=None)
# JAX's truncated normal on [-2, 2] has this standard deviation; variance_scaling divides by it.
_TRUNCATED_STD = 0.87962566103423978


@contextlib.contextmanager
def recording():
    """While active, every call of a jaxconv initialiser appends ``(value, initialiser, shape,
    dtype)`` to the list this yields (``value`` is the array or tracer it returned)."""
    calls: list = []
    token = _RECORD.set(calls)
    try:
        yield calls
    finally:
        _RECORD.reset(token)


def _record(value, init, shape, dtype):
    calls = _RECORD.get()
    if calls is not None:
        calls.append((value, init, tuple(shape), dtype))
    return value


def _axes(axis, ndim: int) -> tuple[int, ...]:
    axis = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim for a in axis)


class LecunNormal:
    """LeCun normal: a normal truncated to two standard deviations, variance ``1 / fan_in``.

    ``batch_axis`` are axes counted neither into the fan-in nor the fan-out. With
    ``batch_leading=True`` the leading ``(ndim - 2) // 2`` axes are batch axes: the output
    positions of a locally-connected kernel ``(*out_spatial, *window, C, F)``.

    Example:
        >>> LecunNormal()(jax.random.key(0), (64, 10)).shape
        (64, 10)
    """

    def __init__(self, in_axis=-2, out_axis=-1, batch_axis=(), batch_leading: bool = False):
        self.in_axis, self.out_axis = in_axis, out_axis
        self.batch_axis, self.batch_leading = batch_axis, batch_leading

    def _batch(self, shape) -> tuple[int, ...]:
        if self.batch_leading:
            return tuple(range((len(shape) - 2) // 2))
        return _axes(self.batch_axis, len(shape))

    def fan_in(self, shape) -> int:
        """``prod(shape[in_axis])`` times the receptive field (axes that are neither in, out nor
        batch), as ``jax.nn.initializers.variance_scaling`` counts it."""
        ndim = len(shape)
        in_axes, out_axes = _axes(self.in_axis, ndim), _axes(self.out_axis, ndim)
        named = set(in_axes) | set(out_axes) | set(self._batch(shape))
        field = math.prod(d for i, d in enumerate(shape) if i not in named)
        return math.prod(shape[i] for i in in_axes) * field

    def __call__(self, key, shape, dtype=jnp.float32):
        init = nn.initializers.lecun_normal(in_axis=self.in_axis, out_axis=self.out_axis,
                                            batch_axis=self._batch(shape))
        return _record(init(key, shape, dtype), self, shape, dtype)

    def host(self, rng: np.random.Generator, shape, dtype=np.float32) -> np.ndarray:
        """The same distribution drawn with numpy: rejection-sampled onto [-2, 2], scaled.

        Drawn in blocks of :data:`HOST_BLOCK` values straight into the result, so the memory it
        takes beyond the result is one byte per value (which values to redraw) and one block:
        drawing all values as float64 at once took 5.25 times the float32 result on top of it.
        The values are the same as one draw of all of them (numpy's generator yields the same
        sequence in blocks), and the redraws come after the first pass in index order, as before.
        """
        count = math.prod(shape)
        std = math.sqrt(1.0 / max(1, self.fan_in(shape))) / _TRUNCATED_STD
        out = np.empty(count, dtype)
        outside = np.empty(count, bool)
        for start in range(0, count, HOST_BLOCK):
            values = rng.standard_normal(min(HOST_BLOCK, count - start))
            outside[start:start + len(values)] = np.abs(values) > 2
            out[start:start + len(values)] = values * std
        redraw = np.flatnonzero(outside)  # 4.6% of draws land outside; a few passes replace them
        del outside
        while redraw.size:
            values = rng.standard_normal(redraw.size)
            out[redraw] = values * std
            redraw = redraw[np.abs(values) > 2]
        return out.reshape(shape)


#: Values :meth:`LecunNormal.host` draws at a time (8 MB of float64).
HOST_BLOCK = 2**20


class Zeros:
    """All zeros; ``host`` gives numpy zeros."""

    def __call__(self, key, shape, dtype=jnp.float32):
        return _record(nn.initializers.zeros(key, shape, dtype), self, shape, dtype)

    def host(self, rng: np.random.Generator, shape, dtype=np.float32) -> np.ndarray:
        del rng
        return np.zeros(shape, dtype)


#: Kernel initialiser of the dense and conv layers: LeCun normal, variance ``1 / fan_in``.
default_kernel_init = LecunNormal()
#: Bias initialiser of every layer: zeros.
default_bias_init = Zeros()
#: LeCun normal over ``(*out_spatial, *window, C, F)``, fan-in ``prod(window) * C``.
local_kernel_init = LecunNormal(batch_leading=True)
