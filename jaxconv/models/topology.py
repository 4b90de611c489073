"""A model's layers walked from its settings alone: names, shapes, windows and pools; no JAX.

The one place that knows a `jaxconv.models.Model`'s topology (as stax's ``serial`` walks its
``init_fun`` chain): each spatial layer's window (`jaxconv.shapes.geometry` of ``kernel_size``,
``strides``, ``padding``), the 2x2 max pool after it (`POOL`, when ``config.pool``), then the head:
the last maps flattened or averaged (``global_pool``), the optional ``hidden`` layer and the
classifier. The model itself (`jaxconv.models.model`), receptive fields, depth fitting and the
viewer's feature-map layout all read it. Layout is channels-last: one example is ``(H, W, C)``.

Example:
    >>> [(layer.name, layer.output_shape) for layer in layer_shapes(ModelConfig("conv"), (8, 8, 1))]
    [('layer1', (8, 8, 16)), ('layer2', (4, 4, 32)), ('hidden', (64,)), ('head', (10,))]
"""

from __future__ import annotations

import dataclasses
import math

from jaxconv import kinds, shapes
from jaxconv.config import ModelConfig
from jaxconv.validate import check_shape

__all__ = ["POOL", "LayerShape", "fitting_depth", "layer_names", "layer_shapes"]

#: The pool after every spatial layer when ``ModelConfig.pool``: 2x2, stride 2, SAME (odd sizes
#: round up).
POOL = {"window": 2, "strides": 2, "padding": "SAME"}


@dataclasses.dataclass(frozen=True)
class LayerShape:
    """One layer of a model, from its settings.

    Attributes:
        name: ``"layer1"``, ..., ``"hidden"`` or ``"head"`` (the parameter and activation name).
        kind: the spatial layer's connectivity kind (a name of `jaxconv.kinds`); ``"dense"`` for
            ``hidden`` and ``head``.
        input_shape: one example's input to the layer, ``(H, W, C)`` or ``(features,)``.
        output_shape: its activation (before the pool), ``(H', W', C')`` or ``(units,)``.
        window: a spatial layer's window on its input (`jaxconv.shapes.Geometry`), else None.
        pool: the pool after a spatial layer (`jaxconv.shapes.Geometry`), or None.
    """

    name: str
    kind: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    window: shapes.Geometry | None = None
    pool: shapes.Geometry | None = None

    @property
    def spatial(self) -> bool:
        """Whether the layer has spatial maps (``layer1``, ...), not a vector."""
        return self.window is not None

    @property
    def pooled_shape(self) -> tuple[int, ...]:
        """The shape the next layer reads: the output after the pool, if any."""
        if self.pool is None:
            return self.output_shape
        return (*self.pool.out_spatial, self.output_shape[-1])


def layer_names(config: ModelConfig) -> list[str]:
    """The model's layer (and activation) names in call order: ``layer1, ..., hidden, head``."""
    return ([f"layer{i + 1}" for i in range(len(config.channels))]
            + ["hidden"] * bool(config.hidden) + ["head"])


def _spatial(config: ModelConfig, index: int, spatial, channels, label: str) -> LayerShape:
    """Spatial layer ``index`` on ``(*spatial, channels)``; ``label`` starts its errors."""
    features = config.channels[index]
    s = kinds.get(config.kind).model_settings(config, (*spatial, channels), fn=label)
    window = shapes.geometry(label, spatial, s["kernel_size"], strides=s["strides"],
                             padding=s["padding"], dilation=s["dilation"])
    pool = None
    if config.pool:
        pool = shapes.geometry(label, window.out_spatial,
                               POOL["window"], strides=POOL["strides"], padding=POOL["padding"],
                               window_name="pool window")
    return LayerShape(f"layer{index + 1}", config.kind, (*spatial, channels),
                      (*window.out_spatial, features), window, pool)


def layer_shapes(config: ModelConfig, input_shape, *, fn: str = "layer_shapes"
                 ) -> tuple[LayerShape, ...]:
    """Every layer of the model ``config`` describes, on inputs of ``input_shape`` (H, W, C).

    Args:
        config: a :class:`~jaxconv.config.ModelConfig` (or a model: its ``config`` is used).
        input_shape: one example's shape ``(H, W, C)``.
        fn: the caller's name, for error messages.

    Raises:
        ValueError: ``input_shape`` is not three positive ints, or a layer's window does not fit
            its input (the message names the layer; see :func:`fitting_depth`).
    """
    config = getattr(config, "config", config)
    shape = check_shape(fn, "input_shape", input_shape, "one image, (H, W, C)")
    if len(shape) != 3:
        raise ValueError(f"{fn}: `input_shape` must be (H, W, C), got input_shape={shape!r}.")
    kinds.get(config.kind, fn=fn)
    layers, current = [], shape
    for index in range(len(config.channels)):
        layer = _spatial(config, index, current[:-1], current[-1], f"{fn}: layer{index + 1}")
        layers.append(layer)
        current = layer.pooled_shape
    units = current[-1] if config.global_pool else math.prod(current)
    if config.hidden:
        layers.append(LayerShape("hidden", "dense", (units,), (config.hidden,)))
        units = config.hidden
    layers.append(LayerShape("head", "dense", (units,), (config.num_classes,)))
    return tuple(layers)


def fitting_depth(config: ModelConfig, input_shape) -> tuple[int, str | None]:
    """How many of ``config``'s spatial layers an input of ``input_shape`` (H, W, C) takes.

    Each layer's window, then its pool, shrink the maps; a layer whose input has become too
    small for its window ends the count. Only ``"VALID"`` padding (or an explicit one) shrinks a
    map below a window: ``"SAME"`` keeps at least one position and a ``"CIRCULAR"`` window
    wider than its input wraps around it (as Flax's), so those models take any depth.

    Returns:
        ``(layers, reason)``: ``len(config.channels)`` and None when all fit, else the number
        that fit and why the next one does not.

    Example:
        >>> fitting_depth(ModelConfig("conv", channels=(8, 16, 32), padding="VALID"), (8, 8, 1))[0]
        2
    """
    config = getattr(config, "config", config)
    shape = check_shape("fitting_depth", "input_shape", input_shape, "one image, (H, W, C)")
    current = shape
    for index in range(len(config.channels)):
        try:
            layer = _spatial(config, index, current[:-1], current[-1], f"layer{index + 1}")
        except ValueError as error:
            return index, str(error)
        current = layer.pooled_shape
    return len(config.channels), None
