"""Kernels drawn as images: a dense layer's units as templates of their input, a locally-connected
layer's filters on the grid of their positions, a conv layer's few kernels. Pure numpy, no Qt.

Conventions follow jaxconv: dense kernels ``(in_features, units)`` where the first layer's
``in_features`` is a flattened ``(H, W, C)`` image; conv kernels ``(kh, kw, C, F)``;
locally-connected kernels ``(oh, ow, kh, kw, C, F)``. Every mosaic is a float32 array
``(rows, cols)`` in row-major order, tiles apart by NaN gaps (`jaxconv_viewer.gui.tiling.tile`).
"""

from __future__ import annotations

import numpy as np

from jaxconv_viewer.gui.tiling import tile

__all__ = ["TEMPLATES", "conv_kernel_grid", "dense_templates", "dense_unit_grid",
           "dense_weight_images", "local_kernel_grid", "template_units", "weight_mosaic"]


def dense_weight_images(kernel, input_shape, *, max_units: int = 64) -> np.ndarray:
    """Each hidden unit's incoming weights as an image of the input, channels side by side.

    Args:
        kernel: first dense layer's kernel of shape (H * W * C, units).
        input_shape: ``(H, W, C)`` of one input image.
        max_units: draw at most this many units (the first ones).

    Returns:
        array of shape (min(units, max_units), H, W * C).
    """
    kernel = np.asarray(kernel, np.float32)
    h, w, c = input_shape
    if kernel.ndim != 2 or kernel.shape[0] != h * w * c:
        raise ValueError(
            f"dense_weight_images: kernel must have shape ({h * w * c}, units) for input "
            f"{tuple(input_shape)}, got shape {kernel.shape}."
        )
    units = kernel[:, :max_units].T.reshape(-1, h, w, c)
    return units.transpose(0, 1, 3, 2).reshape(-1, h, c * w)


def dense_unit_grid(kernel, in_shape, out_shape, feature: int = 0, *, pad: int = 1) -> np.ndarray:
    """The units of one output channel of a dense layer shaped like a conv layer's output.

    jaxconv's ``dense`` model reshapes a dense layer's ``oh * ow * F`` units to ``(oh, ow, F)``;
    this draws, for channel ``feature``, the unit at each position as an image of the whole input,
    in an oh x ow grid: the dense counterpart of `local_kernel_grid`.

    Args:
        kernel: kernel of shape (H * W * C, oh * ow * F).
        in_shape: ``(H, W, C)`` of the layer's input.
        out_shape: ``(oh, ow, F)`` of its output.
        feature: which output channel; clipped to [0, F).
        pad: pixels between tiles.

    Returns:
        mosaic of oh x ow tiles, each (H, W * C).
    """
    kernel = np.asarray(kernel, np.float32)
    oh, ow, f = out_shape
    if kernel.ndim != 2 or kernel.shape[1] != oh * ow * f:
        raise ValueError(
            f"dense_unit_grid: kernel must have shape (in, {oh * ow * f}) for output "
            f"{tuple(out_shape)}, got shape {kernel.shape}."
        )
    units = kernel.reshape(-1, oh * ow, f)[:, :, min(max(int(feature), 0), f - 1)]
    return tile(dense_weight_images(units, in_shape, max_units=oh * ow), cols=ow, pad=pad)


#: Templates per side drawn of a dense layer whose units sit on a grid (`dense_templates`).
TEMPLATES = 3


def template_units(kernel, out_shape, feature: int = 0, centre=None,
                   n: int = TEMPLATES) -> list[tuple[int, int]]:
    """Which ``n * n`` units of channel ``feature`` of a dense layer on an ``(oh, ow, F)`` grid
    `dense_templates` draws: the unit at ``centre`` and those whose weights have grown most.

    A unit's weights move only while it fires, so its weight norm (its starting weights are
    noise of one size for all) says how much it has learned: the largest are the templates that
    show most. In reading order (row, then column), so that they stay put as they grow.

    Args:
        kernel: kernel of shape (H * W * C, oh * ow * F).
        out_shape: ``(oh, ow, F)``.
        feature: the output channel; clipped to [0, F).
        centre: ``(row, col)`` of a unit that must be among them (None: the map's centre).
        n: templates per side.

    Example:
        >>> k = np.zeros((4, 3 * 3 * 1)); k[:, 8] = 1.0  # only the unit at (2, 2) has learned
        >>> template_units(k, (3, 3, 1), centre=(0, 0), n=1), template_units(k, (3, 3, 1), n=2)[:2]
        ([(0, 0)], [(0, 0), (0, 1)])
    """
    oh, ow, f = out_shape
    units = np.asarray(kernel, np.float32).reshape(-1, oh, ow, f)[..., min(max(int(feature), 0),
                                                                         f - 1)]
    centre = (oh // 2, ow // 2) if centre is None else (min(max(int(centre[0]), 0), oh - 1),
                                                         min(max(int(centre[1]), 0), ow - 1))
    norms = np.sqrt(np.square(units).sum(axis=0)).reshape(-1)
    order = [divmod(int(i), ow) for i in np.argsort(-norms, kind="stable")]
    chosen = [centre] + [p for p in order if p != centre][:min(n * n, oh * ow) - 1]
    return sorted(chosen)


def dense_templates(kernel, in_shape, out_shape, feature: int = 0, centre=None, *,
                    n: int = TEMPLATES, pad: int = 1, units=None) -> np.ndarray:
    """``n`` x ``n`` units of one channel of a dense layer shaped like a conv layer's output, each
    drawn as a template over its whole input: the unit at ``centre`` and those that learned most.

    A dense layer of jaxconv's ``dense`` model has a unit at every position and channel of its
    ``(oh, ow, F)`` output, each wired to the whole ``(H, W, C)`` input; drawing all ``oh * ow``
    of them (`dense_unit_grid`) makes each template a few screen pixels wide. These few
    (`template_units`) are large enough to read.

    Args:
        kernel: kernel of shape (H * W * C, oh * ow * F).
        in_shape: ``(H, W, C)`` of the layer's input.
        out_shape: ``(oh, ow, F)`` of its output.
        feature: which output channel; clipped to [0, F).
        centre: ``(row, col)`` of a unit that must be among them (None: the map's centre).
        n: templates per side.
        pad: pixels between tiles.
        units: the ``(row, col)`` positions to draw (default `template_units` of ``kernel``:
            give the weights' choice to draw their gradient at the same places).

    Returns:
        mosaic of n x n tiles (fewer on a smaller map), each (H, W * C), in the units' order.
    """
    kernel = np.asarray(kernel, np.float32)
    oh, ow, f = out_shape
    if kernel.ndim != 2 or kernel.shape[1] != oh * ow * f:
        raise ValueError(
            f"dense_templates: kernel must have shape (in, {oh * ow * f}) for output "
            f"{tuple(out_shape)}, got shape {kernel.shape}."
        )
    units = template_units(kernel, out_shape, feature, centre, n) if units is None else units
    grid = kernel.reshape(-1, oh, ow, f)[..., min(max(int(feature), 0), f - 1)]
    chosen = np.stack([grid[:, r, c] for r, c in units], axis=1)
    return tile(dense_weight_images(chosen, in_shape, max_units=len(units)),
                cols=min(n, len(units)), pad=pad)


def local_kernel_grid(kernel, feature: int = 0, *, pad: int = 1) -> np.ndarray:
    """The locally-connected kernels of one output feature, one tile per output position.

    Args:
        kernel: kernel of shape (oh, ow, kh, kw, C, F).
        feature: which output feature (channel) to draw; clipped to [0, F).
        pad: pixels between tiles.

    Returns:
        mosaic of oh x ow tiles, each (kh, kw * C) (input channels side by side).
    """
    kernel = np.asarray(kernel, np.float32)
    if kernel.ndim != 6:
        raise ValueError(
            f"local_kernel_grid: kernel must have shape (oh, ow, kh, kw, C, F), got {kernel.shape}."
        )
    oh, ow, kh, kw, c, f = kernel.shape
    k = kernel[..., min(max(int(feature), 0), f - 1)]  # (oh, ow, kh, kw, C)
    tiles = k.transpose(0, 1, 2, 4, 3).reshape(oh * ow, kh, c * kw)
    return tile(tiles, cols=ow, pad=pad)


def conv_kernel_grid(kernel, *, pad: int = 1, max_features: int = 64) -> np.ndarray:
    """A conv kernel as a grid: one row per output channel, one column per input channel.

    With one input channel the filters are laid out in a square-ish grid instead of a column.

    Args:
        kernel: kernel of shape (kh, kw, C, F).
        pad: pixels between tiles.
        max_features: draw at most this many output channels.

    Returns:
        mosaic of min(F, max_features) x C tiles of (kh, kw) (one input channel: `grid_shape`).
    """
    kernel = np.asarray(kernel, np.float32)
    if kernel.ndim != 4:
        raise ValueError(f"conv_kernel_grid: kernel must have shape (kh, kw, C, F), got {kernel.shape}.")
    kh, kw, c, f = kernel.shape
    f = min(f, max_features)
    tiles = kernel[..., :f].transpose(3, 2, 0, 1).reshape(f * c, kh, kw)
    return tile(tiles, cols=c if c > 1 else None, pad=pad)


def weight_mosaic(kernel, in_shape=None, out_shape=None, *, feature: int = 0,
                  centre=None, units=None) -> np.ndarray:
    """Any jaxconv kernel as one image: picks the drawing by the kernel's rank.

    Args:
        kernel: dense (in, units), conv (kh, kw, C, F) or local (oh, ow, kh, kw, C, F) kernel.
        in_shape: ``(H, W, C)`` of a dense layer's input when it is an image, else None.
        out_shape: ``(oh, ow, F)`` of a dense layer's output when it is reshaped to maps.
        feature: output channel drawn by dense-as-maps and locally-connected kernels.
        centre: dense-as-maps: the ``(row, col)`` whose template is drawn among
            `dense_templates` (None: the map's centre).
        units: dense-as-maps: the positions drawn (default: `template_units` of ``kernel``).

    Returns:
        float32 array of shape (rows, cols).
    """
    kernel = np.asarray(kernel, np.float32)
    if kernel.ndim == 6:
        return local_kernel_grid(kernel, feature)
    if kernel.ndim == 4:
        return conv_kernel_grid(kernel)
    if kernel.ndim == 2:
        fits = in_shape is not None and kernel.shape[0] == int(np.prod(in_shape))
        if fits and out_shape is not None and kernel.shape[1] == int(np.prod(out_shape)):
            return dense_templates(kernel, in_shape, out_shape, feature, centre, units=units)
        if fits:
            return tile(dense_weight_images(kernel, in_shape), pad=1)
        return kernel.T  # one row per unit
    raise ValueError(f"weight_mosaic: kernel must have 2, 4 or 6 dimensions, got shape {kernel.shape}.")
