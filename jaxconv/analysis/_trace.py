"""Runs a Flax model on abstract values and records each module call's shapes, allocating nothing.

Linen: ``jax.eval_shape(model.init, key, ShapeDtypeStruct)`` inside ``nn.intercept_methods``.
NNX: the model (built, or built abstractly with ``nnx.eval_shape`` from a constructor) is called
under ``nnx.eval_shape``; NNX has no interceptor, so, as Flax's own ``nnx.tabulate`` does, the
``__call__`` of each module class in the model is wrapped for the duration of the trace and
restored afterwards. Neither is thread-safe with other code calling those classes meanwhile.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
from flax import linen as nn
from flax import nnx

from jaxconv import validate


@dataclasses.dataclass
class Call:
    """One module call: where it sits, what it is, and the shapes in and out (batch included)."""

    path: tuple[str, ...]
    module: Any
    input_shape: tuple[int, ...] | None
    output_shape: tuple[int, ...] | None = None
    output_dtype: Any = None


def _shape(value):
    shape = getattr(value, "shape", None)
    return None if shape is None else tuple(int(v) for v in shape)


def _start(path, module, args) -> Call:
    return Call(tuple(str(p) for p in path), module, _shape(args[0]) if args else None)


def _finish(call: Call, out) -> None:
    call.output_shape, call.output_dtype = _shape(out), getattr(out, "dtype", None)


def _leaf_shapes(flat) -> dict[tuple[str, ...], dict[str, jax.ShapeDtypeStruct]]:
    """Groups ``(key path, leaf)`` pairs by owning module path: ``{module path: {name: leaf}}``."""
    owned: dict[tuple[str, ...], dict[str, jax.ShapeDtypeStruct]] = {}
    for keys, leaf in flat:
        names = [str(getattr(k, "key", getattr(k, "name", getattr(k, "idx", k)))) for k in keys]
        if names and names[-1] == "value":  # nnx.Variable leaves end in .value
            names = names[:-1]
        owned.setdefault(tuple(names[:-1]), {})[names[-1]] = leaf
    return owned


def trace_linen(model: nn.Module, x: jax.ShapeDtypeStruct):
    """Returns ``(calls, params by module path)`` of ``model.init`` on abstract ``x``."""
    calls: list[Call] = []

    def interceptor(next_fun, args, kwargs, context):
        if context.method_name != "__call__":
            return next_fun(*args, **kwargs)
        call = _start(context.module.path, context.module, args)
        calls.append(call)
        out = next_fun(*args, **kwargs)
        _finish(call, out)
        return out

    with nn.intercept_methods(interceptor), validate.abstract():
        variables = jax.eval_shape(model.init, jax.random.key(0), x)
    params = variables.get("params", {})
    return calls, _leaf_shapes(jax.tree_util.tree_flatten_with_path(params)[0])


def abstract_nnx(fn: str, model):
    """An NNX module given built, or built abstractly (no allocation) from ``model(rngs)``."""
    if isinstance(model, nnx.Module):
        return model
    if not callable(model):
        raise TypeError(f"{fn}: `model` must be a linen Module, an NNX Module or a constructor "
                        f"`lambda rngs: Model(..., rngs=rngs)`, got {type(model).__name__}.")
    def build():
        built = model(nnx.Rngs(0))
        if not isinstance(built, nnx.Module):
            raise TypeError(f"{fn}: the constructor `model` must return an NNX Module, got "
                            f"{type(built).__name__}.")
        return built

    with validate.abstract():
        return nnx.eval_shape(build)


def _wrap(cls, paths, calls, active):
    original = cls.__call__

    @functools.wraps(original)
    def recording(self, *args, **kwargs):
        if id(self) in active:  # an inherited __call__ wrapped twice: record once
            return original(self, *args, **kwargs)
        call = _start(paths.get(id(self), ("?",)), self, args)
        calls.append(call)
        active.add(id(self))
        try:
            out = original(self, *args, **kwargs)
        finally:
            active.discard(id(self))
        _finish(call, out)
        return out

    return recording


def trace_nnx(model: nnx.Module, x: jax.ShapeDtypeStruct):
    """Returns ``(calls, params by module path)`` of ``model(x)`` on abstract values."""
    calls: list[Call] = []

    def forward(module, inputs):
        paths = {id(m): tuple(str(p) for p in path) for path, m in nnx.iter_modules(module)}
        saved, active = {}, set()
        for _, m in nnx.iter_modules(module):
            cls = type(m)
            # The class's own __call__ (to wrap), not whether instances are callable.
            if cls not in saved and callable(getattr(cls, "__call__", None)):  # noqa: B004
                saved[cls] = cls.__dict__.get("__call__")
                cls.__call__ = _wrap(cls, paths, calls, active)
        try:
            return module(inputs)
        finally:
            for cls, original in saved.items():
                if original is None:
                    del cls.__call__
                else:
                    cls.__call__ = original

    with validate.abstract():
        nnx.eval_shape(forward, model, x)
    state = nnx.state(model, nnx.Param)
    return calls, _leaf_shapes(jax.tree_util.tree_flatten_with_path(state)[0])
