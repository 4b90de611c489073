"""How much memory an array takes on a TPU, where the two minor dims are stored in tiles.

A TPU keeps an array of rank >= 2 in tiles over its last two dims: ``(8, 128)`` for 4-byte
dtypes, ``(16, 128)`` for 2-byte (bfloat16 packs two rows per sublane: XLA prints
``T(8,128)(2,1)``) and ``(32, 128)`` for 1-byte dtypes. Each dim is rounded up to the tile, so an
activation ``(N, H, W, 3)`` in float32 takes ``128 / 3`` times its logical size: Flax issue 1733
("1.2% utilization: Unpadded (140.25M) Padded (10.96G)") is this effect. Rank-0 and rank-1 arrays
are stored in 1-D tiles of 256 values (``f32[128]{0:T(256)}`` in XLA's dumps).

This is the default row-major layout; XLA's layout assignment may pick another dim order for a
given op (conv activations sometimes get the batch dim minor), so treat the numbers as the cost of
the logical layout, which is what a model's shapes control.
"""

from __future__ import annotations

import dataclasses
import math

from jaxconv.costs.counting import itemsize
from jaxconv.validate import is_int

__all__ = ["TpuBytes", "layer_bytes", "padded_bytes", "padded_shape", "tile"]

LANES = 128
VECTOR_TILE = 256


def tile(dtype) -> tuple[int, int]:
    """The ``(sublanes, lanes)`` tile of the last two dims for ``dtype``.

    Example:
        >>> tile("bfloat16")
        (16, 128)
    """
    _, size = itemsize("tile", dtype)
    return (8 * max(1, 4 // size), LANES)


def _shape(fn: str, shape) -> tuple[int, ...]:
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__"):
        raise TypeError(f"{fn}: `shape` must be a tuple of ints, got shape={shape!r}.")
    if not all(is_int(v) for v in shape):
        raise TypeError(f"{fn}: `shape` must hold ints, got shape={shape!r}.")
    if any(v < 0 for v in shape):
        raise ValueError(f"{fn}: `shape` must not be negative, got shape={tuple(shape)!r}.")
    return tuple(int(v) for v in shape)


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def padded_shape(shape, dtype="float32") -> tuple[int, ...]:
    """The shape after rounding the minor dims up to whole tiles.

    Args:
        shape: logical shape (ints).
        dtype: element dtype; it sets the sublane count of the tile.

    Returns:
        Padded shape of the same rank (a scalar becomes ``(256,)``).

    Example:
        >>> padded_shape((32, 28, 28, 3))
        (32, 28, 32, 128)
    """
    shape = _shape("padded_shape", shape)
    if len(shape) <= 1:
        return (_round_up(shape[0] if shape else 1, VECTOR_TILE),)
    sublanes, lanes = tile(dtype)
    return (*shape[:-2], _round_up(shape[-2], sublanes), _round_up(shape[-1], lanes))


def padded_bytes(shape, dtype="float32") -> int:
    """Bytes of an array of ``shape`` on a TPU, tiles included.

    Example:
        >>> padded_bytes((3,)), padded_bytes((8, 128))
        (1024, 4096)
    """
    _, size = itemsize("padded_bytes", dtype)
    return math.prod(padded_shape(shape, dtype)) * size


@dataclasses.dataclass(frozen=True)
class TpuBytes:
    """Logical and TPU-padded bytes of some arrays.

    Attributes:
        logical: bytes of the values themselves.
        padded: bytes once each array's minor dims are rounded up to whole tiles.

    Example:
        >>> TpuBytes.of([(28, 28, 3)]).wasteful  # 3 channels padded to 128
        True
    """

    logical: int
    padded: int

    @property
    def waste(self) -> float:
        """Fraction of the padded bytes that hold padding (0.0 when nothing is held)."""
        return 0.0 if self.padded == 0 else 1.0 - self.logical / self.padded

    @property
    def wasteful(self) -> bool:
        """True when padding takes more than half the memory."""
        return self.waste > 0.5

    @classmethod
    def of(cls, arrays, dtype="float32") -> TpuBytes:
        """Sums over ``arrays``, an iterable of shapes."""
        _, size = itemsize("TpuBytes.of", dtype)
        arrays = [_shape("TpuBytes.of", s) for s in arrays]
        return cls(sum(math.prod(s) * size for s in arrays),
                   sum(padded_bytes(s, dtype) for s in arrays))


def layer_bytes(cost) -> tuple[TpuBytes, TpuBytes]:
    """``(parameters, output activations)`` of a :class:`~jaxconv.costs.counting.Cost` on a TPU.

    Example:
        >>> params, acts = layer_bytes(jaxconv.costs.counting.conv_cost((28, 28, 1), 8, 3))
        >>> params.padded, acts.padded  # kernel (3, 3, 1, 8) -> (3, 3, 8, 128), bias (8,) -> (256,)
        (37888, 458752)
    """
    arrays = [s for s in (cost.kernel_shape, cost.bias_shape) if s is not None]
    return (TpuBytes.of(arrays, cost.dtype),
            TpuBytes.of([(cost.batch_size, *cost.output_shape)], cost.dtype))
