"""Benchmark workloads, and the jaxconv and Flax step functions that run them.

A :class:`Workload` is one layer at one input shape: ``layer`` names a registered kind
(:func:`jaxconv.kinds.names`: ``"dense"``, ``"local"``, ``"regional"``, ``"conv"`` or one
registered since), ``input_shape`` one example without the batch (``(in_features,)`` for a kind
whose units read the whole input, ``(*spatial, C)`` for a windowed one). The kind's record says
everything else: its cost, its op (:meth:`jaxconv.kinds.Kind.apply`), its implementations, its
Flax and PyTorch peers, and the kind also timed beside it (regional: the locally-connected layer
of the same shape, whose weights it shares within regions). Each candidate becomes a pair of
callables of no arguments, a forward pass and a training step, that return arrays to block on.

The training step is the layer as it sits inside a network: the loss ``mean(y ** 2)``, gradients
for the parameters *and* the input, and a plain SGD update. The input gradient is what a first
layer would skip; it is the expensive part of Flax ``ConvLocal``'s backward pass.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp

from jaxconv import kinds, shapes
from jaxconv.backend import xla_cpu
from jaxconv.costs import counting
from jaxconv.validate import check_choice, check_int, check_shape

MODES = ("forward", "train")
LEARNING_RATE = 0.01


def _x(values) -> str:
    return "x".join(map(str, values))


@dataclasses.dataclass(frozen=True)
class Workload:
    """One layer at one input shape and batch size.

    Attributes:
        layer: the kind's name (:func:`jaxconv.kinds.names`).
        input_shape: one example: ``(in_features,)`` for a kind whose units read the whole input
            (dense), ``(*spatial, C)`` otherwise.
        features: output features ``F``.
        kernel_size: window per spatial dim (``()`` for dense).
        strides: step per spatial dim (``()`` for dense).
        padding: "SAME", "VALID" or "CIRCULAR" (ignored for dense).
        batch: examples per batch ``N``.
        modes: which of ``"forward"``, ``"train"`` to time.
        regions: regions per spatial dim (a kind that needs regions, else ``()``).
        dilation: spacing of the window taps per spatial dim (``()`` for dense).
        groups: channel groups (1 but for a kind that groups its channels).
    """

    layer: str
    input_shape: tuple[int, ...]
    features: int
    kernel_size: tuple[int, ...] = ()
    strides: tuple[int, ...] = ()
    padding: str = "VALID"
    batch: int = 128
    modes: tuple[str, ...] = MODES
    regions: tuple[int, ...] = ()
    dilation: tuple[int, ...] = ()
    groups: int = 1

    @property
    def kind(self) -> kinds.Kind:
        """The kind's record."""
        return kinds.get(self.layer, fn="bench")

    @property
    def name(self) -> str:
        """Short label, e.g. ``local 3x3 32->64 @14x14 s1 b128``."""
        if self.kind.whole_input:
            return f"{self.layer} {self.input_shape[0]}->{self.features} b{self.batch}"
        layer = self.layer + _x(self.regions)
        extra = ("" if all(d == 1 for d in self.dilation) else f" d{_x(self.dilation)}") + (
            "" if self.groups == 1 else f" g{self.groups}")
        return (f"{layer} {_x(self.kernel_size)} {self.input_shape[-1]}->{self.features} "
                f"@{_x(self.input_shape[:-1])} s{_x(self.strides)}{extra} {self.padding} "
                f"b{self.batch}")

    @property
    def settings(self) -> dict:
        """The layer's settings as the kind's methods take them (empty for dense)."""
        if self.kind.whole_input:
            return {}
        return {"kernel_size": self.kernel_size, "strides": self.strides, "padding": self.padding,
                "dilation": self.dilation or 1, "groups": self.groups,
                "regions": self.regions or None}

    def geometry(self) -> shapes.Geometry | None:
        """The window geometry (None for a kind whose units read the whole input)."""
        if self.kind.whole_input:
            return None
        return shapes.geometry("bench", self.input_shape[:-1], self.kernel_size,
                               strides=self.strides, padding=self.padding,
                               dilation=self.dilation or 1)

    def cost(self) -> counting.Cost:
        """Exact FLOP counts from shape arithmetic (:meth:`jaxconv.kinds.Kind.cost`)."""
        settings = self.settings
        return self.kind.cost(self.input_shape, self.features, settings.pop("kernel_size", None),
                              **settings, batch_size=self.batch)

    def flops(self, mode: str) -> int:
        cost = self.cost()
        return cost.forward_flops if mode == "forward" else cost.train_flops


def make_workload(layer, input_shape, features, kernel_size: Any = 3, strides: Any = 1,
                  padding=None, batch=128, modes=MODES, regions=None) -> Workload:
    """Checks settings and builds a :class:`Workload` (errors name ``bench`` and the argument).

    ``layer`` is any registered kind; the kind's :meth:`~jaxconv.kinds.Kind.layer_settings` fill
    in its default padding and what it fixes itself (a depthwise kind: its groups).

    Example:
        >>> make_workload("local", (28, 28, 1), 32).name
        'local 3x3 1->32 @28x28 s1x1 VALID b128'
    """
    fn = "bench"
    kind = kinds.get(check_choice(fn, "layer", layer, kinds.names()))
    input_shape = check_shape(fn, "input", input_shape)
    if kind.whole_input and len(input_shape) != 1:
        raise ValueError(f"{fn}: a {layer} layer's `input` is one size (in_features), got "
                         f"input={input_shape!r}.")
    if not kind.whole_input and not 2 <= len(input_shape) <= 4:
        raise ValueError(f"{fn}: a {layer} layer's `input` is (*spatial, C) with 1-3 spatial dims, "
                         f"got input={input_shape!r}.")
    features = check_int(fn, "features", features)
    batch = check_int(fn, "batch", batch)
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise ValueError(f"{fn}: `modes` must be some of {', '.join(MODES)}, got modes={modes!r}.")
    if kind.needs_regions != (regions is not None):
        needing = ", ".join(k.name for k in kinds.registered() if k.needs_regions)
        raise ValueError(f"{fn}: `regions` is given for a layer that needs them ({needing}) and "
                         f"only for one, got layer={layer!r}, regions={regions!r}.")
    if kind.whole_input:
        return Workload(layer, input_shape, features, batch=batch, modes=tuple(modes))
    s = kind.layer_settings(input_shape, kernel_size=kernel_size, strides=strides,
                            padding=padding, regions=regions)
    geom = shapes.geometry(fn, input_shape[:-1], s["kernel_size"], strides=s["strides"],
                           padding=s["padding"], dilation=s["dilation"])
    groups = shapes.check_groups(fn, s["groups"], input_shape[-1], features)
    regions = () if regions is None else shapes.canonical_regions(fn, s["regions"], geom.out_spatial)
    padding = s["padding"].upper() if isinstance(s["padding"], str) else s["padding"]
    work = Workload(layer, input_shape, features, geom.window, geom.strides, padding, batch,
                    tuple(modes), regions, geom.dilation, groups)
    work.cost()  # the kind's own checks
    return work


def init_params(workload: Workload, key):
    """Parameters of the jaxconv layer: ``(kernel, bias)`` in the shapes the kind's cost gives."""
    cost = workload.cost()
    kshape, bshape = cost.kernel_shape, cost.bias_shape
    assert kshape is not None  # a layer's cost, never a pool's
    fan_in = math.prod(kshape[-(len(workload.kernel_size) + 2):-1])  # window * C (/ groups)
    kernel = jax.random.normal(key, kshape, jnp.float32) / math.sqrt(fan_in)
    return kernel, jnp.zeros(bshape, jnp.float32)


def input_batch(workload: Workload, key):
    return jax.random.normal(key, (workload.batch, *workload.input_shape), jnp.float32)


def implementations(workload: Workload) -> tuple[str, ...]:
    """The named implementations that can run ``workload`` (empty for a kind with one way)."""
    return workload.kind.implementations(workload.geometry(), workload.input_shape[-1],
                                         workload.features, workload.regions or None)


def auto_implementation(workload: Workload) -> str | None:
    """The implementation ``"auto"`` picks for ``workload`` (None for a kind with one way)."""
    return workload.kind.chosen_implementation(workload.geometry(), workload.input_shape[-1],
                                               workload.features, workload.regions or None)


def jaxconv_apply(workload: Workload, implementation: str = "auto"):
    """``apply(params, x) -> y`` for the jaxconv op (:meth:`jaxconv.kinds.Kind.apply`)."""
    return workload.kind.apply(workload.settings, implementation)


def peer_settings(workload: Workload) -> dict:
    """The settings the kind's Flax and PyTorch peers take: its own plus ``features``."""
    return {**workload.settings, "features": workload.features,
            "kernel_size": workload.kernel_size or None}


def flax_apply(workload: Workload):
    """``(apply, params)`` for the kind's Flax linen peer (:meth:`jaxconv.kinds.Kind.flax_peer`:
    Dense, Conv or ConvLocal; for a regional layer, ConvLocal of the same shape), or None for a
    kind without one."""
    module = workload.kind.flax_peer(peer_settings(workload))
    if module is None:
        return None
    x = jnp.zeros((1, *workload.input_shape), jnp.float32)
    return module.apply, module.init(jax.random.key(1), x)


def jax_steps(apply, params, x, library: str = "xla"):
    """``(forward, train, lower_train)``: jitted callables of no arguments, and a compiler hook.

    ``library`` (one of :data:`jaxconv.backend.xla_cpu.LIBRARIES` but ``"auto"``) picks where XLA runs
    the convolutions, products and reductions of both programs on the CPU. ``lower_train()``
    lowers and compiles the training step afresh and returns the seconds it took.
    """
    def loss(p, x):
        return jnp.mean(apply(p, x) ** 2)

    def train(p, x):
        grads, dx = jax.grad(loss, argnums=(0, 1))(p, x)
        return jax.tree.map(lambda a, g: a - LEARNING_RATE * g, p, grads), dx

    forward_jit = xla_cpu.jit(apply, library=library)
    train_jit = xla_cpu.jit(train, library=library)

    def lower_train() -> float:
        import time

        start = time.perf_counter()
        xla_cpu.jit(train, library=library).lower(params, x).compile()
        return time.perf_counter() - start

    return (lambda: forward_jit(params, x)), (lambda: train_jit(params, x)), lower_train


def resolve_library(workload: Workload, mode: str, library: str) -> str:
    """``library`` with ``"auto"`` decided by jaxconv's program for ``workload`` in ``mode``."""
    if library == "auto":
        library = _auto_library(workload, mode)
    # Where the option does nothing (another backend, an older jaxlib), XLA's choice is what runs.
    return library if library in xla_cpu.usable() else "xla"


def _auto_library(workload: Workload, mode: str) -> str:
    kernel, bias = init_params(workload, jax.random.key(0))
    x = input_batch(workload, jax.random.key(1))
    apply = jaxconv_apply(workload)
    if mode == "forward":
        return xla_cpu.resolve("auto", apply, (kernel, bias), x)
    grad = jax.grad(lambda p, x: jnp.mean(apply(p, x) ** 2), argnums=(0, 1))
    return xla_cpu.resolve("auto", grad, (kernel, bias), x)
