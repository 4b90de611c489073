"""Regional convolution: weight sharing as a dial between a convolution and a locally-connected layer.

The output positions are split into ``regions`` contiguous blocks per spatial dim, as
``numpy.array_split`` splits (when a dim does not divide, the first blocks are one position
larger: :func:`jaxconv.shapes.region_sizes`), and all positions of one block share one kernel.
``regions=1`` is :func:`jaxconv.ops.conv` (one kernel everywhere); ``regions=out_spatial`` is
:func:`jaxconv.ops.locally_connected` (one kernel per position).

Conventions as in :mod:`jaxconv.ops`: channels-last inputs ``(N, *spatial, C)``; regional kernels
``(*regions, *window, C, F)``; bias ``(*regions, F)`` (one per region) or ``(F,)`` (shared).

Two implementations compute the same sums:

- ``"grouped"``: each region's output block needs a slab of the padded input (its positions'
  windows). The slabs are gathered side by side on the channel axis, and one convolution with
  ``feature_group_count = prod(regions)`` applies region ``g``'s kernel to slab ``g``. Blocks that
  are one position short compute one extra output, which is dropped.
- ``"local"``: the kernel is repeated to one per position (a gather with constant indices, whose
  transpose sums each region's per-position gradients) and run through the locally-connected
  layer's ``"auto"`` implementation.

:func:`choose_implementation` is the ``"auto"`` rule. Measured on the 2-core CPU (shared with
other jobs, so noisy; batch 128, float32, ms per call, forward / training step with the input
gradient): at 3x3 1->32 @28x28, regions 2x2: grouped 14 / 207, local 2.1 / 11; regions 8x8:
grouped 16 / 2815, local 3.3 / 7.3. At 3x3 32->64 @14x14, regions 4x4: grouped 41 / 4264, local
28 / 153. XLA's CPU gradient of a grouped convolution is the slow part (20-400x), so ``"auto"``
picks ``"local"``; ``"grouped"`` stays as an independent second implementation (the tests check
one against the other) and for backends where grouped convolutions are fast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxconv import names, shapes, validate
from jaxconv.ops import _bias, _local_impl
from jaxconv.ops._checks import (
    bias_array,
    canonical_precision,
    check_channels,
    common_dtype,
    dimension_numbers,
    float_array,
    spatial_rank,
)
from jaxconv.validate import check_choice

__all__ = ["IMPLEMENTATIONS", "check_sizes", "choose_implementation", "expand_to_positions",
           "regional_conv", "regional_geometry"]

IMPLEMENTATIONS = ("auto", "grouped", "local")


def regional_geometry(fn: str, x, kernel, strides, padding, dilation, regions,
                      padding_modes=shapes.CONV_PADDING_MODES):
    """Checks a regional call's shapes; returns ``(geometry, regions)`` as plain tuples."""
    ndim = spatial_rank(fn, x)
    if kernel.ndim != 2 * ndim + 2:
        raise ValueError(f"{fn}: a {ndim}-D regional kernel must have shape "
                         f"(*regions, *window, C, F) (rank {2 * ndim + 2}), got kernel shape "
                         f"{tuple(kernel.shape)} for input shape {tuple(x.shape)}.")
    if kernel.shape[-2] != x.shape[-1]:
        raise ValueError(f"{fn}: input has {x.shape[-1]} channels but kernel expects "
                         f"{kernel.shape[-2]} (kernel shape {tuple(kernel.shape)}).")
    geom = shapes.geometry(fn, x.shape[1:-1], kernel.shape[ndim:2 * ndim], strides=strides,
                           padding=padding, dilation=dilation, padding_modes=padding_modes)
    regions = shapes.canonical_regions(fn, regions, geom.out_spatial)
    if tuple(kernel.shape[:ndim]) != regions:
        raise ValueError(f"{fn}: kernel has {tuple(kernel.shape[:ndim])} regions but "
                         f"regions={regions}: the kernel must have shape (*regions, *window, C, F), "
                         f"got kernel shape {tuple(kernel.shape)}.")
    check_channels(fn, x, kernel)
    return geom, regions


def check_sizes(fn: str, x_shape, itemsize: int, geom: shapes.Geometry, regions, features: int,
                padding, implementation: str = "auto") -> None:
    """Checks every array a regional call builds can exist, before any is built.

    As :func:`jaxconv.ops.conv`'s checks: XLA aborts the process (SIGABRT) on a shape whose byte
    size overflows int64 (``padding=2**31``), and an output of terabytes fails only when used.
    Both implementations pad the input in memory; ``"local"`` also builds a kernel per output
    position (and an index per position, so it is checked before the index is made), and
    ``"grouped"`` the slabs of every region side by side.

    Args:
        fn: the public function, for the message.
        x_shape: the input's shape ``(N, *spatial, C)``.
        itemsize: bytes per value of the computation.
        geom: the checked geometry.
        regions: regions per spatial dim, checked.
        features: output features ``F``.
        padding: as given, for the message.
        implementation: "auto", "grouped" or "local" (another name checks the common arrays).

    Raises:
        ValueError: naming the array, its shape and its bytes.
    """
    n, channels = int(x_shape[0]), int(x_shape[-1])
    hint = "jaxconv.costs.counting.regional_cost(input_shape, features, kernel_size, regions=...)"
    given = f"padding={padding!r}, strides={geom.strides}"
    validate.check_array_size(fn, f"the padded input ({given})",
                              (n, *geom.padded_spatial, channels), itemsize, hint=hint)
    validate.check_array_size(fn, f"the output (input shape {tuple(x_shape)}, {given})",
                              (n, *geom.out_spatial, features), itemsize, hint=hint)
    if implementation == "auto":
        implementation = choose_implementation(geom, regions)
    own = _OWN_ARRAYS.get(implementation)
    if own is not None:
        what, shape = own(n, channels, features, geom, regions)
        validate.check_array_size(fn, f"{what} ({given})", shape, itemsize, hint=hint)


def _repeated_kernel(n, channels, features, geom, regions):
    """``"local"`` builds a kernel per output position."""
    del n, regions
    return ("the kernel repeated to every output position",
            (*geom.out_spatial, *geom.window, channels, features))


def _slabs(n, channels, features, geom, regions):
    """``"grouped"`` gathers every region's slab of the padded input side by side."""
    del features
    span = shapes.effective_window(geom.window, geom.dilation)
    block = tuple(-(-o // r) for o, r in zip(geom.out_spatial, regions))
    slabs = tuple((b - 1) * s + k for b, s, k in zip(block, geom.strides, span))
    return "the regions' input slabs side by side", (n, *slabs, math.prod(regions) * channels)


_OWN_ARRAYS = {"grouped": _slabs, "local": _repeated_kernel}


def choose_implementation(geom: shapes.Geometry, regions: tuple[int, ...]) -> str:
    """The implementation ``"auto"`` picks: ``"local"`` (measured faster everywhere on CPU, see
    the module docstring). A function of static shapes, so it can change per shape later.

    Example:
        >>> choose_implementation(shapes.geometry("f", (8, 8), 3), (2, 2))
        'local'
    """
    del geom, regions
    return "local"


def _region_index(geom: shapes.Geometry, regions) -> tuple[np.ndarray, ...]:
    """Per dim, the region of each output position (constant indices)."""
    return tuple(np.asarray(shapes.region_of_position(o, r), np.int32)
                 for o, r in zip(geom.out_spatial, regions))


def expand_to_positions(array, geom: shapes.Geometry, regions, first: int = 0):
    """Repeats a per-region array (axes ``first..first+ndim`` are regions) to one per position.

    Args:
        array: e.g. a kernel (*regions, *window, C, F) or a bias (*regions, F).
        geom: the layer's geometry.
        regions: regions per spatial dim.
        first: index of the first region axis.

    Returns:
        The array with its region axes replaced by ``geom.out_spatial``.
    """
    for axis, index in enumerate(_region_index(geom, regions), start=first):
        if index.size != array.shape[axis]:  # one region per position: nothing to repeat
            array = jnp.take(array, index, axis=axis)
    return array


def _regional_local(x, kernel, geom, regions, precision):
    per_position = expand_to_positions(kernel, geom, regions)
    name = _local_impl.choose_implementation(geom, x.shape[-1], kernel.shape[-1])
    return _local_impl.local_apply(name, x, per_position, geom, precision)


def _regional_grouped(x, kernel, geom, regions, precision):
    ndim, n, channels, features = geom.ndim, x.shape[0], x.shape[-1], kernel.shape[-1]
    groups = math.prod(regions)
    span = shapes.effective_window(geom.window, geom.dilation)
    xp = _local_impl.pad_spatial(x, geom, 1)  # (N, *padded, C)
    # Each block is computed as if it had the largest block's size, `block` positions; its slab of
    # the padded input starts at its first position's window. Zeros past the end feed the extra
    # outputs of short blocks, which are dropped below.
    block = tuple(-(-o // r) for o, r in zip(geom.out_spatial, regions))
    slabs = tuple((b - 1) * s + k for b, s, k in zip(block, geom.strides, span))
    starts = [np.cumsum((0,) + shapes.region_sizes(o, r)[:-1]) for o, r in zip(geom.out_spatial,
                                                                                regions)]
    need = [int(st[-1]) * s + w for st, s, w in zip(starts, geom.strides, slabs)]
    extra = [max(0, m - p) for m, p in zip(need, geom.padded_spatial)]
    if any(extra):
        xp = jnp.pad(xp, ((0, 0), *((0, e) for e in extra), (0, 0)))
    for d in range(ndim):  # (N, ..., P_d, ...) -> (N, ..., R_d, slab_d, ...)
        index = starts[d][:, None] * geom.strides[d] + np.arange(slabs[d])[None, :]
        xp = jnp.take(xp, np.asarray(index, np.int32), axis=1 + 2 * d)
    # (N, R1, S1, R2, S2, C) -> (N, S1, S2, R1 * R2 * C): region-major groups on the channel axis.
    order = (0, *range(2, 2 * ndim + 1, 2), *range(1, 2 * ndim, 2), 2 * ndim + 1)
    lhs = xp.transpose(order).reshape(n, *slabs, groups * channels)
    # (*regions, *window, C, F) -> (*window, C, G * F): output group g is region g's kernel.
    rhs = kernel.reshape(groups, *geom.window, channels, features)
    rhs = jnp.moveaxis(rhs, 0, -2).reshape(*geom.window, channels, groups * features)
    y = lax.conv_general_dilated(lhs, rhs, geom.strides, ((0, 0),) * ndim,
                                 rhs_dilation=geom.dilation,
                                 dimension_numbers=dimension_numbers(ndim),
                                 feature_group_count=groups, precision=precision)
    # (N, *block, R1 * R2 * F) -> (N, R1, B1, R2, B2, F) -> (N, R1 * B1, R2 * B2, F).
    y = y.reshape(n, *block, *regions, features)
    order = (0, *(v for d in range(ndim) for v in (1 + ndim + d, 1 + d)), 2 * ndim + 1)
    y = y.transpose(order).reshape(n, *(r * b for r, b in zip(regions, block)), features)
    for d in range(ndim):  # keep each block's real positions
        if geom.out_spatial[d] != regions[d] * block[d]:
            sizes = shapes.region_sizes(geom.out_spatial[d], regions[d])
            keep = np.concatenate([j * block[d] + np.arange(size) for j, size in enumerate(sizes)])
            y = jnp.take(y, np.asarray(keep, np.int32), axis=1 + d)
    return y


_IMPLEMENTATIONS = {"grouped": _regional_grouped, "local": _regional_local}


def regional_conv(x, kernel, bias=None, *, regions, strides: int | Sequence[int] = 1,
                  padding=names.LOCAL_PADDING, dilation: int | Sequence[int] = 1,
                  precision=None, implementation="auto"):
    """Convolution whose kernel is shared within regions of the output, not across them.

    Args:
        x: input of shape (N, *spatial, C), 1-3 spatial dims.
        kernel: weights of shape (*regions, *window, C, F).
        bias: optional bias of shape (*regions, F) (one per region) or (F,) (shared).
        regions: int or one int per spatial dim: each output dim is split into that many
            contiguous blocks, as ``numpy.array_split`` splits (the first blocks one position
            larger when it does not divide). At least 1, at most the output size.
        strides: int or one int per spatial dim.
        padding: default ``names.LOCAL_PADDING`` ("VALID", as the locally-connected layer);
            "SAME", "CIRCULAR",
            "REFLECT", "CAUSAL" (1-D), an int, or one (low, high) pair per spatial dim.
        dilation: spacing between kernel taps; int or one per spatial dim.
        precision: ``lax.Precision`` or its name.
        implementation: "auto" (default, :func:`choose_implementation`), "grouped" or "local";
            all give the same result (see the module docstring).

    Returns:
        Array of shape (N, *out_spatial, F).

    Example:
        >>> regional_conv(jnp.ones((1, 6, 6, 2)), jnp.ones((2, 2, 3, 3, 2, 4)), regions=2).shape
        (1, 4, 4, 4)
    """
    fn = "regional_conv"
    x, kernel = float_array(fn, "x", x), float_array(fn, "kernel", kernel)
    geom, regions = regional_geometry(fn, x, kernel, strides, padding, dilation, regions)
    features = kernel.shape[-1]
    bias = bias_array(fn, bias, ((*regions, features), (features,)))
    precision = canonical_precision(fn, precision)
    implementation = check_choice(fn, "implementation", implementation, IMPLEMENTATIONS)
    if implementation == "auto":
        implementation = choose_implementation(geom, regions)
    dtype = common_dtype(x, kernel, bias)
    check_sizes(fn, x.shape, np.dtype(dtype).itemsize, geom, regions, features, padding,
                implementation)
    y = _IMPLEMENTATIONS[implementation](x.astype(dtype), kernel.astype(dtype), geom, regions,
                                         precision)
    if bias is None:
        return y
    if bias.ndim > 1:
        bias = expand_to_positions(bias, geom, regions)
    return _bias.add_bias(y, bias.astype(y.dtype))
