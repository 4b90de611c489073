"""The Flax model of every connectivity kind, with matched topology.

Each model is a stack of "spatial" layers, one per entry of ``channels``, each followed by a ReLU
and (optionally) a 2x2 max pool, then a head: flatten (or global average pool), an optional hidden
:class:`~jaxconv.layers.linen.Dense` layer, and a ``Dense(num_classes)`` classifier. The kinds
differ only in what a spatial layer is, and each kind's record says
(:meth:`jaxconv.kinds.Kind.spatial_layer`):

- ``conv``: :class:`jaxconv.linen.Conv`, one ``kernel_size`` window shared by every position;
- ``local``: :class:`jaxconv.linen.LocallyConnected`, the same window, own weights per position;
- ``regional``: :class:`jaxconv.linen.RegionalConv`, the same window, one kernel per block of
  ``regions`` x ``regions`` output positions (capped at the layer's output size; None: one per
  position), between the two;
- ``dense``: :class:`jaxconv.linen.Dense` from the whole flattened input to as many units as the
  conv layer has outputs, reshaped to the conv's ``(H', W', C')`` so pooling and the head match.

So every layer's activation has the same shape in every kind; only connectivity and weight
sharing change. The shapes are :func:`jaxconv.models.layer_shapes`'s. Layout is channels-last:
inputs ``(N, H, W, C)``; layer and parameter names are ``layer1, layer2, ..., hidden, head``.
"""

from __future__ import annotations

import functools
import math
import numbers

import jax
import jax.numpy as jnp
from flax import linen as nn

from jaxconv import kinds
from jaxconv.config import ModelConfig, replace_fields
from jaxconv.layers import linen
from jaxconv.models.topology import POOL, layer_names
from jaxconv.ops.pooling import max_pool

__all__ = ["Model", "activations", "build", "param_count"]

class Model(nn.Module):
    """A classifier of any registered kind, built from a :class:`ModelConfig`.

    Example:
        >>> model = build("conv", num_classes=10)
        >>> params = model.init(jax.random.key(0), jnp.ones((1, 8, 8, 1)))["params"]
        >>> params["layer1"]["kernel"].shape
        (3, 3, 1, 16)
        >>> model.apply({"params": params}, jnp.ones((2, 8, 8, 1))).shape
        (2, 10)
    """

    config: ModelConfig

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
        kind = kinds.get(cfg.kind)
        for index, features in enumerate(cfg.channels):
            name = f"layer{index + 1}"
            x = nn.relu(kind.spatial_layer(cfg, features, x, name))
            acts.append((name, x))
            if cfg.pool:
                x = max_pool(x, POOL["window"], POOL["strides"], POOL["padding"])
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
        config: a kind's name (``"dense"``, ``"local"``, ``"regional"``, ``"conv"`` or any
            registered in :mod:`jaxconv.kinds`), a ``ModelConfig`` or a dict of its fields.
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
    if isinstance(config, ModelConfig):
        return Model(replace_fields("build", ModelConfig, config, overrides))
    if isinstance(config, str):
        fields = {"kind": config}
    elif isinstance(config, dict):
        fields = dict(config)
    else:
        raise TypeError(f"build: `config` must be a kind name, a ModelConfig or a dict, got "
                        f"{type(config).__name__}: {config!r}.")
    return Model(replace_fields("build", ModelConfig, None, {**fields, **overrides}))


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
    return list(zip(layer_names(model.config), _activation_arrays(model, params, x)))


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
