"""Which inputs a unit is connected to: theoretical and effective receptive fields.

A unit is one entry of a layer's activation of a `jaxconv.models.Model`: ``(layer, position,
channel)`` with ``position`` a ``(row, col)`` of a spatial layer's output (its ReLU output, before
the 2x2 pool that follows it), or None for the ``hidden`` and ``head`` vectors.

- `theoretical_field`: the input pixels the unit can depend on at all, from the model's geometry
  alone (`jaxconv.shapes.geometry` of every window and pool on the way down, no arrays). A dense
  layer wires each unit to its whole input, so every dense unit sees the whole image; a conv or
  locally-connected unit sees its window, widened by every window and pool below it: with stride
  products ``S_l = s_1 ... s_{l-1}``, the field of a layer-``L`` unit spans
  ``1 + sum_l (k_l - 1) S_l`` pixels per axis (fewer at a border, wrapped with CIRCULAR padding).
  Conv and locally-connected units of the same layer and position have the same field: the
  kinds differ in which weights a window uses, not in where the window is.
- `effective_field`: ``|d unit / d input|`` for one input image, by `jax.vjp` of the model's
  activations (compiled once per model and input shape): the pixels that do move the unit now.
  It lies inside the theoretical field, and is all zero when the unit's ReLU is off for that input.

Layout is channels-last: an input image is ``(H, W, C)``, fields are ``(H, W)``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxconv import kinds
from jaxconv.models import topology

__all__ = ["effective_field", "field_extent", "layer_names", "spatial_shapes",
           "theoretical_field"]

def layer_names(config) -> list[str]:
    """The model's activation names in call order: ``layer1, ..., hidden, head``
    (:func:`jaxconv.models.layer_names`)."""
    return topology.layer_names(getattr(config, "config", config))


def _spatial_layers(fn, config, input_shape):
    """The model's spatial layers (:func:`jaxconv.models.layer_shapes`), for ``fn``'s errors."""
    _check_input_shape(fn, input_shape)
    return [layer for layer in topology.layer_shapes(config, input_shape, fn=fn) if layer.spatial]


def spatial_shapes(config, input_shape) -> dict[str, tuple[int, ...]]:
    """Each spatial layer's output ``(H', W')`` (before its pool), from the model's walk.

    Example:
        >>> spatial_shapes(ModelConfig("conv", channels=(4, 8)), (8, 8, 1))
        {'layer1': (8, 8), 'layer2': (4, 4)}
    """
    return {layer.name: layer.window.out_spatial
            for layer in _spatial_layers("spatial_shapes", config, input_shape)
            if layer.window is not None}  # always: _spatial_layers keeps the windowed layers


def _check_input_shape(fn, input_shape):
    shape = tuple(input_shape)
    if len(shape) != 3 or not all(isinstance(n, int) and n > 0 for n in shape):
        raise ValueError(f"{fn}: `input_shape` must be (H, W, C) positive ints, got "
                         f"input_shape={input_shape!r}.")


def _back(indices, geom, axis):
    """Input indices along ``axis`` that the outputs ``indices`` read through window ``geom``."""
    n, k, s, d = (geom.in_spatial[axis], geom.window[axis], geom.strides[axis],
                  geom.dilation[axis])
    low = geom.pads[axis][0]
    out = set()
    for o in indices:
        for j in range(k):
            i = o * s - low + j * d
            if geom.circular:
                out.add(i % n)
            elif 0 <= i < n:
                out.add(i)
    return out


def _check_unit(fn, config, sizes, layer, position):
    names = layer_names(config)
    if layer not in names:
        raise ValueError(f"{fn}: `layer` must be one of {', '.join(names)}, got layer={layer!r}.")
    if layer not in sizes:
        if position is not None:
            raise ValueError(f"{fn}: layer {layer!r} is a vector, so `position` must be None, "
                             f"got position={position!r}.")
        return None
    size = sizes[layer]
    if (not isinstance(position, (tuple, list)) or len(position) != 2
            or not all(isinstance(p, (int, np.integer)) for p in position)
            or not all(0 <= p < n for p, n in zip(position, size))):
        raise ValueError(f"{fn}: `position` must be (row, col) inside the output {size} of layer "
                         f"{layer!r}, got position={position!r}.")
    return tuple(int(p) for p in position)


def theoretical_field(config, input_shape, layer: str, position=None) -> np.ndarray:
    """The input pixels a unit is wired to, through every layer below it.

    Args:
        config: a `jaxconv.models.ModelConfig` (or a model: its ``config`` is used).
        input_shape: ``(H, W, C)`` of one input image.
        layer: ``"layer1"``, ..., ``"hidden"`` or ``"head"``.
        position: ``(row, col)`` in the spatial layer's output; None for ``hidden``/``head``.

    Returns:
        bool array of shape (H, W): True where the unit's value can depend on the pixel.

    Raises:
        ValueError: unknown layer, a position outside the layer, or bad ``input_shape``.

    Example:
        >>> field = theoretical_field(ModelConfig("conv", channels=(4,), pool=False),
        ...                           (8, 8, 1), "layer1", (3, 3))
        >>> np.argwhere(field).min(0).tolist(), int(field.sum())
        ([2, 2], 9)
    """
    config = getattr(config, "config", config)
    chain = _spatial_layers("theoretical_field", config, input_shape)
    sizes = {spatial.name: spatial.window.out_spatial for spatial in chain
             if spatial.window is not None}  # always: the chain is the spatial layers
    position = _check_unit("theoretical_field", config, sizes, layer, position)
    h, w = input_shape[:2]
    if position is None or kinds.get(config.kind).whole_input:
        return np.ones((h, w), bool)  # wired to the whole input, or the flattened/pooled head
    depth = int(layer.removeprefix("layer"))
    rows, cols = {position[0]}, {position[1]}
    for index in reversed(range(depth)):
        window = chain[index].window
        rows, cols = _back(rows, window, 0), _back(cols, window, 1)
        pool = chain[index - 1].pool if index > 0 else None  # between layer index and index + 1
        if pool is not None:
            rows, cols = _back(rows, pool, 0), _back(cols, pool, 1)
    field = np.zeros((h, w), bool)
    field[np.ix_(sorted(rows), sorted(cols))] = True
    return field


def field_extent(field) -> tuple[int, int]:
    """Rows and columns a field spans (from its first to its last True pixel; (0, 0) if none)."""
    field = np.asarray(field, bool)
    if not field.any():
        return (0, 0)
    rows, cols = np.nonzero(field.any(1))[0], np.nonzero(field.any(0))[0]
    return (int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1))


def effective_field(model, params, image, layer: str, position=None, channel: int = 0):
    """``|d unit / d input|`` for one input image, summed over the input's channels.

    Args:
        model: a `jaxconv.models.Model`.
        params: its parameters.
        image: one input of shape (H, W, C).
        layer: ``"layer1"``, ..., ``"hidden"`` or ``"head"``.
        position: ``(row, col)`` in a spatial layer's output; None for ``hidden``/``head``.
        channel: the unit's channel (spatial layers) or index (vectors).

    Returns:
        float32 numpy array of shape (H, W), >= 0; zero outside `theoretical_field`.

    Raises:
        ValueError: unknown layer, position or channel, or an image that is not (H, W, C).

    Example:
        >>> effective_field(model, params, x[0], "layer1", (3, 3), channel=0).shape
        (8, 8)
    """
    from jaxconv.models import Model

    if not isinstance(model, Model):
        raise TypeError(f"effective_field: `model` must be a jaxconv.models.Model, got "
                        f"{type(model).__name__}.")
    image = np.asarray(image, np.float32)
    if image.ndim != 3:
        raise ValueError(f"effective_field: `image` must have shape (H, W, C), got shape "
                         f"{image.shape}.")
    config = model.config
    _check_input_shape("effective_field", image.shape)
    walk = topology.layer_shapes(config, image.shape, fn="effective_field")
    sizes = {spatial.name: spatial.window.out_spatial for spatial in walk
             if spatial.window is not None}  # the spatial layers (LayerShape.spatial)
    position = _check_unit("effective_field", config, sizes, layer, position)
    width = next(w.output_shape[-1] for w in walk if w.name == layer)
    if not isinstance(channel, (int, np.integer)) or not 0 <= channel < width:
        raise ValueError(f"effective_field: `channel` must be an int in [0, {width}) for layer "
                         f"{layer!r}, got channel={channel!r}.")
    # One cotangent per activation, zero but for the unit's one-hot: every layer shares a compile.
    cotangents = []
    for each in walk:
        cotangent = np.zeros((1, *each.output_shape), np.float32)
        if each.name == layer:
            cotangent[(0, *(position or ()), int(channel))] = 1.0
        cotangents.append(cotangent)
    return np.asarray(_input_gradient(model, params, image[None], cotangents))


@functools.partial(jax.jit, static_argnums=0)
def _input_gradient(model, params, x, cotangents):
    # Compiled once per model and input shape; the viewer calls it for every clicked unit.
    def every_layer(x):
        return [a for _, a in model.apply({"params": params}, x, return_activations=True)]

    _, pullback = jax.vjp(every_layer, x)
    (dx,) = pullback(cotangents)
    return jnp.abs(dx[0]).sum(axis=-1)
