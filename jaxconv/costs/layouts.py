"""A windowed layer's parameters, by kind: the kernel and bias shapes and how they are counted.

Each layout is a function ``(fn, geom, channels, features, groups, regions) -> Params`` that
:func:`jaxconv.costs.counting.windowed_cost` asks for a layer's parameters; its FLOPs are the same
for every windowed kind. The built-in kinds name theirs in :mod:`jaxconv.kinds`; a new kind may
use one of these or write its own. Pure Python: ints and tuples, no arrays.

Example:
    >>> from jaxconv import shapes
    >>> conv_params("conv", shapes.geometry("conv", (28, 28), 3), 1, 8).formula
    'window * C * F = 9 * 1 * 8 = 72'
"""

from __future__ import annotations

import dataclasses
import math

from jaxconv import shapes

__all__ = ["Params", "conv_params", "local_params", "regional_params"]


def _n(value: int) -> str:
    return f"{value:,}"


@dataclasses.dataclass(frozen=True)
class Params:
    """A windowed layer's parameter shapes and how they are counted (what a kind's layout gives).

    Attributes:
        kernel: the kernel's shape.
        bias: the bias's shape.
        formula: how the kernel's entries are counted, e.g. ``"window * C * F = 9 * 1 * 8 = 72"``.
        bias_formula: how the bias's entries are counted.
        channels_text: how the FLOP formula names the channels a window tap reads (``"C"``,
            ``"C/groups"``).
    """

    kernel: tuple[int, ...]
    bias: tuple[int, ...]
    formula: str
    bias_formula: str
    channels_text: str = "C"


def conv_params(fn: str, geom: shapes.Geometry, channels: int, features: int, groups: int = 1,
                regions=None) -> Params:
    """A convolution's parameters: one kernel ``(*window, C // groups, F)`` and bias ``(F,)``."""
    kernel = shapes.conv_kernel_shape(geom.window, channels, features, groups)
    ctext = "C" if groups == 1 else "C/groups"
    formula = (f"window * {ctext} * F = {_n(geom.window_size)} * {_n(channels // groups)} * "
               f"{_n(features)} = {_n(math.prod(kernel))}")
    return Params(kernel, (features,), formula, f"F = {_n(features)}", ctext)


def local_params(fn: str, geom: shapes.Geometry, channels: int, features: int, groups: int = 1,
                 regions=None) -> Params:
    """A locally-connected layer's: a kernel per position ``(*out, *window, C, F)``, bias
    ``(*out, F)``."""
    kernel = shapes.local_kernel_shape(geom.out_spatial, geom.window, channels, features)
    bias = (*geom.out_spatial, features)
    formula = (f"positions * window * C * F = {_n(geom.num_positions)} * {_n(geom.window_size)} "
               f"* {_n(channels)} * {_n(features)} = {_n(math.prod(kernel))}")
    return Params(kernel, bias, formula, f"positions * F = {_n(geom.num_positions)} * "
                                         f"{_n(features)} = {_n(math.prod(bias))}")


def regional_params(fn: str, geom: shapes.Geometry, channels: int, features: int,
                    groups: int = 1, regions=None) -> Params:
    """A regional convolution's: a kernel per region ``(*regions, *window, C, F)``, bias
    ``(*regions, F)``; ``regions`` is checked against the output size."""
    regions = shapes.canonical_regions(fn, regions, geom.out_spatial)
    kernel = shapes.regional_kernel_shape(regions, geom.window, channels, features)
    bias, count = (*regions, features), math.prod(regions)
    formula = (f"regions * window * C * F = {_n(count)} * {_n(geom.window_size)} * "
               f"{_n(channels)} * {_n(features)} = {_n(math.prod(kernel))}")
    return Params(kernel, bias, formula, f"regions * F = {_n(count)} * {_n(features)} = "
                                         f"{_n(math.prod(bias))}")
