"""Model families with matched topology: ``dense``, ``local``, ``regional`` and ``conv``.

Each model is a stack of "spatial" layers, one per entry of ``channels``, each followed by a ReLU
and (optionally) a 2x2 max pool, then a head: flatten (or global average pool), an optional hidden
:class:`~jaxconv.layers.linen.Dense` layer, and a ``Dense(num_classes)`` classifier. The kinds differ
only in what a spatial layer is:

- ``conv``: :class:`jaxconv.layers.linen.Conv`, one ``kernel_size`` window shared by every position;
- ``local``: :class:`jaxconv.layers.linen.LocallyConnected`, the same window, own weights per position;
- ``regional``: :class:`jaxconv.layers.linen.RegionalConv`, the same window, one kernel per block of
  ``regions`` x ``regions`` output positions (capped at the layer's output size; None: one per
  position), between the two;
- ``dense``: :class:`jaxconv.layers.linen.Dense` from the whole flattened input to as many units as the
  conv layer has outputs, reshaped to the conv's ``(H', W', C')`` so pooling and the head match.

So every layer's activation has the same shape in every kind; only connectivity and weight
sharing change. Output shapes come from :mod:`jaxconv.shapes`. Layout is channels-last:
inputs ``(N, H, W, C)``; layer and parameter names are ``layer1, layer2, ..., hidden, head``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers

import jax
import jax.numpy as jnp
from flax import linen as nn

from jaxconv import shapes
from jaxconv.config import ModelConfig
from jaxconv.layers import linen
from jaxconv.names import KINDS, LECTURE_KINDS
from jaxconv.ops.pooling import max_pool

__all__ = ["KINDS", "LECTURE_KINDS", "Model", "ModelConfig", "activations", "build", "param_count"]

class Model(nn.Module):
    """A ``dense``, ``local``, ``regional`` or ``conv`` classifier built from a :class:`ModelConfig`.

    Example:
        >>> model = build("conv", num_classes=10)
        >>> params = model.init(jax.random.key(0), jnp.ones((1, 8, 8, 1)))["params"]
        >>> params["layer1"]["kernel"].shape
        (3, 3, 1, 16)
        >>> model.apply({"params": params}, jnp.ones((2, 8, 8, 1))).shape
        (2, 10)
    """

    config: ModelConfig

    def _spatial_layer(self, index: int, x):
        cfg, features, name = self.config, self.config.channels[index], f"layer{index + 1}"
        window = (cfg.kernel_size,) * (x.ndim - 2)  # a square window (an int is 1-D in Flax)
        if cfg.kind == "conv":
            return linen.Conv(features, window, strides=cfg.strides, padding=cfg.padding,
                              name=name)(x)
        if cfg.kind == "regional":
            out = shapes.geometry("Model", x.shape[1:-1], cfg.kernel_size, strides=cfg.strides,
                                  padding=cfg.padding).out_spatial
            regions = tuple(o if cfg.regions is None else min(cfg.regions, o)  # capped
                            for o in out)
            return linen.RegionalConv(features, window, regions, strides=cfg.strides,
                                      padding=cfg.padding, name=name)(x)
        if cfg.kind == "local":
            return linen.LocallyConnected(features, window, strides=cfg.strides,
                                          padding=cfg.padding, name=name)(x)
        geom = shapes.geometry("Model", x.shape[1:-1], cfg.kernel_size, strides=cfg.strides,
                               padding=cfg.padding)
        out_shape = (*geom.out_spatial, features)
        y = linen.Dense(math.prod(out_shape), name=name)(x.reshape(x.shape[0], -1))
        return y.reshape(x.shape[0], *out_shape)

    @nn.compact
    def __call__(self, x, *, return_activations: bool = False):
        """x: images of shape (N, H, W, C); returns logits (N, num_classes).

        With ``return_activations=True``, returns ``[(name, activation), ...]`` instead: each
        spatial layer's ReLU output (N, H', W', C'), then ``hidden`` (N, hidden) if any, then
        ``head``, the logits (N, num_classes).
        """
        if x.ndim != 4:
            raise ValueError(f"Model: `x` must have shape (N, H, W, C), got shape {x.shape}.")
        cfg, acts = self.config, []
        for index in range(len(cfg.channels)):
            x = nn.relu(self._spatial_layer(index, x))
            acts.append((f"layer{index + 1}", x))
            if cfg.pool:
                x = max_pool(x, 2, padding="SAME")
        if cfg.global_pool:
            x = jnp.mean(x, axis=tuple(range(1, x.ndim - 1)))
        else:
            x = x.reshape(x.shape[0], -1)
        if cfg.hidden:
            x = nn.relu(linen.Dense(cfg.hidden, name="hidden")(x))
            acts.append(("hidden", x))
        x = linen.Dense(cfg.num_classes, name="head")(x)
        acts.append(("head", x))
        return acts if return_activations else x


def build(config, /, **overrides) -> Model:
    """Builds a model from a kind name or a :class:`ModelConfig` (or its dict), with overrides.

    Args:
        config: ``"dense"``, ``"local"``, ``"regional"``, ``"conv"``, a ``ModelConfig`` or a dict
            of its fields.
        **overrides: ``ModelConfig`` fields replacing those of ``config``.

    Returns:
        A Flax linen :class:`Model`; ``model.config`` is the full ``ModelConfig``.

    Raises:
        ValueError: unknown kind or an invalid setting.
        TypeError: ``config`` of another type, or an unknown field name.

    Example:
        >>> build("local", num_classes=5, channels=(8,)).config.channels
        (8,)
    """
    if isinstance(config, str):
        fields = {"kind": config}
    elif isinstance(config, ModelConfig):
        fields = dataclasses.asdict(config)
    elif isinstance(config, dict):
        fields = dict(config)
    else:
        raise TypeError(f"build: `config` must be a kind name, a ModelConfig or a dict, got "
                        f"{type(config).__name__}: {config!r}.")
    known = {f.name for f in dataclasses.fields(ModelConfig)}
    unknown = sorted(set(fields) - known) + sorted(set(overrides) - known)
    if unknown:
        raise TypeError(f"build: unknown ModelConfig field(s) {unknown}; fields are "
                        f"{', '.join(sorted(known))}.")
    fields.update(overrides)
    if "channels" in fields and isinstance(fields["channels"], list):
        fields["channels"] = tuple(fields["channels"])
    return Model(ModelConfig(**fields))


def activations(model: Model, params, x) -> list[tuple[str, jax.Array]]:
    """Every layer's output for input ``x``, in order, as ``[(name, array), ...]``.

    Args:
        model: a :class:`Model`.
        params: its parameters (the ``"params"`` collection).
        x: images of shape (N, H, W, C).

    Returns:
        ``("layer1", (N, H1, W1, C1)), ..., ("hidden", (N, hidden)), ("head", (N, num_classes))``.

    Example:
        >>> [name for name, _ in activations(model, params, x)]
        ['layer1', 'layer2', 'hidden', 'head']
    """
    if not isinstance(model, Model):
        raise TypeError(f"activations: `model` must be a jaxconv.models.Model, got "
                        f"{type(model).__name__}.")
    x = jnp.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"activations: `x` must have shape (N, H, W, C), got shape {x.shape}.")
    cfg = model.config
    names = [f"layer{i + 1}" for i in range(len(cfg.channels))]
    names += ["hidden"] * bool(cfg.hidden) + ["head"]
    return list(zip(names, _activation_arrays(model, params, x)))


@functools.partial(jax.jit, static_argnums=0)
def _activation_arrays(model, params, x):
    # Compiled once per model and input shape: the viewer calls this at display rate.
    return [a for _, a in model.apply({"params": params}, x, return_activations=True)]


def param_count(params) -> int:
    """Total number of scalars in a parameter pytree.

    Example:
        >>> param_count({"kernel": jnp.ones((3, 3, 1, 16)), "bias": jnp.ones(16)})
        160
    """
    leaves = jax.tree.leaves(params)
    if params is None or not all(hasattr(leaf, "shape") or isinstance(leaf, numbers.Number)
                             for leaf in leaves):
        # None (jax's empty tree) or a tree of strings would count as 0 or junk; {} is 0.
        raise TypeError(f"param_count: `params` must be a pytree of arrays (e.g. "
                        f"model.init(key, x)['params']), got params={_short(params)}.")
    return int(sum(math.prod(jnp.shape(leaf)) for leaf in leaves))


def _short(value, limit=80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
