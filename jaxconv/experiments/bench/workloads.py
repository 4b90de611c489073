"""Benchmark workloads, and the jaxconv and Flax step functions that run them.

A :class:`Workload` is one layer at one input shape: ``layer`` is ``"dense"``, ``"conv"`` or
``"local"`` or ``"regional"`` (its peer: Flax ``ConvLocal`` and jaxconv's locally-connected layer
of the same shape, whose weights it shares within regions), ``input_shape`` one example without the
batch (``(in_features,)`` for dense,
``(*spatial, C)`` otherwise). Each candidate becomes a pair of callables of no arguments, a
forward pass and a training step, that return arrays to block on.

The training step is the layer as it sits inside a network: the loss ``mean(y ** 2)``, gradients
for the parameters *and* the input, and a plain SGD update. The input gradient is what a first
layer would skip; it is the expensive part of Flax ``ConvLocal``'s backward pass.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp

from jaxconv import ops, shapes
from jaxconv.backend import xla_cpu
from jaxconv.costs import counting
from jaxconv.ops import regional
from jaxconv.ops.local import IMPLEMENTATIONS, canonical_implementation, tiles_exactly

LAYERS = ("dense", "conv", "local", "regional")
MODES = ("forward", "train")
LEARNING_RATE = 0.01


@dataclasses.dataclass(frozen=True)
class Workload:
    """One layer at one input shape and batch size.

    Attributes:
        layer: ``"dense"``, ``"conv"``, ``"local"`` or ``"regional"``.
        input_shape: one example: ``(in_features,)`` for dense, ``(*spatial, C)`` otherwise.
        features: output features ``F``.
        kernel_size: window per spatial dim (``()`` for dense).
        strides: step per spatial dim (``()`` for dense).
        padding: "SAME", "VALID" or "CIRCULAR" (ignored for dense).
        batch: examples per batch ``N``.
        modes: which of ``"forward"``, ``"train"`` to time.
        regions: regions per spatial dim (``"regional"`` only, else ``()``).
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

    @property
    def name(self) -> str:
        """Short label, e.g. ``local 3x3 32->64 @14x14 s1 b128``."""
        if self.layer == "dense":
            return f"dense {self.input_shape[0]}->{self.features} b{self.batch}"
        spatial = "x".join(map(str, self.input_shape[:-1]))
        window = "x".join(map(str, self.kernel_size))
        stride = "x".join(map(str, self.strides))
        layer = self.layer + ("x".join(map(str, self.regions)) if self.regions else "")
        return (f"{layer} {window} {self.input_shape[-1]}->{self.features} @{spatial} "
                f"s{stride} {self.padding} b{self.batch}")

    def geometry(self) -> shapes.Geometry:
        return shapes.geometry("bench", self.input_shape[:-1], self.kernel_size,
                               strides=self.strides, padding=self.padding)

    def cost(self) -> counting.Cost:
        """Exact FLOP counts from shape arithmetic (:mod:`jaxconv.costs.counting`)."""
        if self.layer == "dense":
            return counting.dense_cost(self.input_shape[0], self.features, batch_size=self.batch)
        if self.layer == "regional":
            return counting.regional_cost(self.input_shape, self.features, self.kernel_size,
                                          regions=self.regions, strides=self.strides,
                                          padding=self.padding, batch_size=self.batch)
        count = counting.conv_cost if self.layer == "conv" else counting.local_cost
        return count(self.input_shape, self.features, self.kernel_size, strides=self.strides,
                     padding=self.padding, batch_size=self.batch)

    def flops(self, mode: str) -> int:
        cost = self.cost()
        return cost.forward_flops if mode == "forward" else cost.train_flops


def make_workload(layer, input_shape, features, kernel_size=3, strides=1, padding=None, batch=128,
                  modes=MODES, regions=None) -> Workload:
    """Checks settings and builds a :class:`Workload` (errors name ``bench`` and the argument).

    Example:
        >>> make_workload("local", (28, 28, 1), 32).name
        'local 3x3 1->32 @28x28 s1x1 VALID b128'
    """
    fn = "bench"
    if layer not in LAYERS:
        raise ValueError(f"{fn}: `layer` must be one of {', '.join(LAYERS)}, got layer={layer!r}.")
    input_shape = tuple(input_shape)
    if not input_shape or not all(isinstance(v, int) and v > 0 for v in input_shape):
        raise ValueError(f"{fn}: `input` must be positive integers, got input={input_shape!r}.")
    if layer == "dense" and len(input_shape) != 1:
        raise ValueError(f"{fn}: a dense layer's `input` is one size (in_features), got "
                         f"input={input_shape!r}.")
    if layer != "dense" and not 2 <= len(input_shape) <= 4:
        raise ValueError(f"{fn}: a {layer} layer's `input` is (*spatial, C) with 1-3 spatial dims, "
                         f"got input={input_shape!r}.")
    features = shapes.check_features(fn, "features", features)
    batch = shapes.check_features(fn, "batch", batch)
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise ValueError(f"{fn}: `modes` must be some of {', '.join(MODES)}, got modes={modes!r}.")
    if layer == "dense":
        return Workload(layer, input_shape, features, batch=batch, modes=tuple(modes))
    padding = padding or ("SAME" if layer == "conv" else "VALID")
    geom = shapes.geometry(fn, input_shape[:-1], kernel_size, strides=strides, padding=padding)
    if (layer == "regional") != (regions is not None):
        raise ValueError(f"{fn}: `regions` is given for a regional layer and only for one, got "
                         f"layer={layer!r}, regions={regions!r}.")
    regions = () if regions is None else shapes.canonical_regions(fn, regions, geom.out_spatial)
    return Workload(layer, input_shape, features, geom.window, geom.strides, padding.upper(), batch,
                    tuple(modes), regions)


def init_params(workload: Workload, key):
    """Parameters of the jaxconv layer: ``(kernel, bias)`` in jaxconv's layouts."""
    c, f = workload.input_shape[-1], workload.features
    if workload.layer == "dense":
        kshape, bshape = (c, f), (f,)
    elif workload.layer == "conv":
        kshape, bshape = shapes.conv_kernel_shape(workload.kernel_size, c, f), (f,)
    elif workload.layer == "regional":
        r = workload.regions
        kshape, bshape = shapes.regional_kernel_shape(r, workload.kernel_size, c, f), (*r, f)
    else:
        out = workload.geometry().out_spatial
        kshape, bshape = shapes.local_kernel_shape(out, workload.kernel_size, c, f), (*out, f)
    fan_in = math.prod(kshape[-(len(workload.kernel_size) + 2):-1])
    kernel = jax.random.normal(key, kshape, jnp.float32) / math.sqrt(fan_in)
    return kernel, jnp.zeros(bshape, jnp.float32)


def input_batch(workload: Workload, key):
    return jax.random.normal(key, (workload.batch, *workload.input_shape), jnp.float32)


def implementations(workload: Workload) -> tuple[str, ...]:
    """The locally-connected (or regional) implementations that can run ``workload`` (empty for
    other layers)."""
    if workload.layer == "regional":
        return regional.IMPLEMENTATIONS[1:]
    if workload.layer != "local":
        return ()
    return tuple(i for i in IMPLEMENTATIONS[1:] if i != "reshape" or tiles_exactly(workload.geometry()))


def auto_implementation(workload: Workload) -> str | None:
    """The implementation ``"auto"`` picks for ``workload`` (None for dense and conv)."""
    if workload.layer == "regional":
        return regional.choose_implementation(workload.geometry(), workload.regions)
    if workload.layer != "local":
        return None
    return canonical_implementation("bench", "auto", workload.geometry(), workload.input_shape[-1],
                                    workload.features)


def jaxconv_apply(workload: Workload, implementation: str = "auto"):
    """``apply(params, x) -> y`` for the jaxconv op."""
    w = workload
    if w.layer == "dense":
        return lambda p, x: ops.dense(x, p[0], p[1])
    if w.layer == "conv":
        return lambda p, x: ops.conv(x, p[0], p[1], strides=w.strides, padding=w.padding)
    if w.layer == "regional":
        return lambda p, x: ops.regional_conv(x, p[0], p[1], regions=w.regions, strides=w.strides,
                                              padding=w.padding, implementation=implementation)
    return lambda p, x: ops.locally_connected(x, p[0], p[1], strides=w.strides, padding=w.padding,
                                              implementation=implementation)


def flax_apply(workload: Workload):
    """``(apply, params)`` for the matching Flax linen layer (Dense, Conv or ConvLocal; for a
    regional layer, ConvLocal of the same shape: Flax has no regional layer)."""
    from flax import linen as nn

    w = workload
    if w.layer == "dense":
        module = nn.Dense(w.features)
    elif w.layer == "conv":
        module = nn.Conv(w.features, w.kernel_size, strides=w.strides, padding=w.padding)
    else:
        module = nn.ConvLocal(w.features, w.kernel_size, strides=w.strides, padding=w.padding)
    x = jnp.zeros((1, *w.input_shape), jnp.float32)
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
