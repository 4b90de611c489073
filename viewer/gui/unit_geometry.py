"""Where a unit sits in the drawn mosaics, and how its receptive fields are drawn: pure numpy.

The feature strip (`jaxconv_viewer.gui.tiling.feature_strip`) lays every layer's `tiling.feature_mosaic` side by
side; `locate_feature` turns a pixel of it back into the `jaxconv_viewer.session.snapshot.Unit` drawn there and
`feature_rect` finds a unit's pixel. `weight_rect` finds the tile of a weight mosaic
(`kernel_tiles.weight_mosaic`) holding the weights a unit uses: a dense unit's own weights over the
whole input, a locally-connected position's own kernel, or the conv layer's one shared kernel.
Rectangles are ``(row, col, height, width)`` in mosaic pixels.
"""

from __future__ import annotations

import numpy as np

from jaxconv_viewer.gui import kernel_tiles, tiling
from jaxconv_viewer.session.snapshot import Unit

__all__ = ["feature_rect", "field_rgb", "locate_feature", "weight_rect"]

MAX_MAPS = 64  # as tiling.feature_mosaic's default
GAP = 2  # as feature_strip's default


def _blocks(features, gap):
    """(name, activation, first column, mosaic shape) of each layer in the strip."""
    x0 = 0
    for name, activation in features:
        shape = tiling.feature_mosaic(activation).shape
        yield name, np.asarray(activation), x0, shape
        x0 += shape[1] + gap


def locate_feature(features, row: int, col: int, *, gap: int = GAP) -> Unit | None:
    """The unit drawn at pixel (``row``, ``col``) of the feature strip, or None (a gap).

    Args:
        features: ``[(name, activation)]`` as `jaxconv_viewer.session.snapshot.LayerMaps.features`.
        row, col: pixel of the strip.
        gap: columns between layers.

    Example:
        >>> locate_feature([("layer1", np.zeros((4, 4, 2)))], 1, 7)
        Unit(layer='layer1', channel=1, position=(1, 2))
    """
    for name, a, x0, (height, width) in _blocks(features, gap):
        if not (x0 <= col < x0 + width and 0 <= row < height):
            continue
        r, c = row, col - x0
        if a.ndim == 1:
            index = r * width + c
            return Unit(name, index, None) if index < a.size else None
        h, w, f = a.shape
        cols = tiling.grid_shape(min(f, MAX_MAPS))[1]
        (tr, y), (tc, x) = divmod(r, h + 1), divmod(c, w + 1)
        channel = tr * cols + tc
        if y == h or x == w or channel >= min(f, MAX_MAPS):
            return None
        return Unit(name, channel, (y, x))
    return None


def feature_rect(features, unit: Unit, *, gap: int = GAP):
    """The strip pixel ``(row, col, 1, 1)`` where ``unit`` is drawn, or None if it is not."""
    for name, a, x0, (_, width) in _blocks(features, gap):
        if name != unit.layer:
            continue
        if a.ndim == 1:
            return (unit.channel // width, x0 + unit.channel % width, 1, 1)
        h, w, f = a.shape
        if unit.position is None or unit.channel >= min(f, MAX_MAPS):
            return None
        tr, tc = divmod(unit.channel, tiling.grid_shape(min(f, MAX_MAPS))[1])
        return (tr * (h + 1) + unit.position[0], x0 + tc * (w + 1) + unit.position[1], 1, 1)
    return None


def weight_rect(kernel, in_shape, out_shape, unit: Unit):
    """The tile of `kernel_tiles.weight_mosaic`'s drawing of ``kernel`` that ``unit`` uses, or None.

    The mosaic must be drawn for ``feature=unit.channel`` (the column's channel picker).

    Args:
        kernel: the unit's layer's kernel: dense (in, units), conv (kh, kw, C, F), local
            (oh, ow, kh, kw, C, F).
        in_shape: ``(H, W, C)`` of a dense spatial layer's input, else None.
        out_shape: ``(oh, ow, F)`` of a dense spatial layer's output, else None.
        unit: the `Unit`; a dense spatial layer's mosaic must be drawn with ``centre`` its
            position (`kernel_tiles.dense_templates`).
    """
    shape = np.shape(kernel)
    if len(shape) == 6 and unit.position is not None:  # its own position's kernel
        kh, kw, c = shape[2:5]
        r, col = unit.position
        return (r * (kh + 1), col * (kw * c + 1), kh, kw * c)
    if len(shape) == 4:  # the one shared kernel: every input channel of output channel `unit`
        kh, kw, c, f = shape
        if unit.channel >= min(f, MAX_MAPS):
            return None
        if c > 1:
            return (unit.channel * (kh + 1), 0, kh, c * (kw + 1) - 1)
        tr, tc = divmod(unit.channel, tiling.grid_shape(min(f, MAX_MAPS))[1])
        return (tr * (kh + 1), tc * (kw + 1), kh, kw)
    if len(shape) == 2:
        if in_shape is not None and out_shape is not None and unit.position is not None:
            h, w, c = in_shape  # dense_templates with this unit: its own, an image of the input
            chosen = kernel_tiles.template_units(kernel, out_shape, unit.channel, unit.position)
            place = (unit.position[0], unit.position[1])
            r, col = divmod(chosen.index(place), min(kernel_tiles.TEMPLATES, len(chosen)))
            return (r * (h + 1), col * (w * c + 1), h, w * c)
        if unit.position is None:  # a matrix drawn one row per unit
            return (unit.channel, 0, 1, shape[0])
    return None


def field_rgb(image, theoretical, color) -> np.ndarray:
    """The input in gray with the theoretical field tinted ``color`` and the rest darkened.

    Args:
        image: the input (H, W, C) in [0, 1].
        theoretical: bool (H, W): the pixels the unit is wired to.
        color: ``"#rrggbb"``.

    Returns:
        uint8 array of shape (H, W, 3).
    """
    gray = np.clip(np.asarray(image, np.float32).mean(axis=-1), 0, 1)[..., None]
    tint = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], np.float32) / 255
    inside = 0.45 * tint + 0.55 * gray
    outside = 0.25 * gray
    return (255 * np.where(np.asarray(theoretical, bool)[..., None], inside, outside)).astype(np.uint8)
