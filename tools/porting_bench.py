"""Times Flax's linen layers against jaxconv's drop-ins of the same name, in one process.

Usage: python tools/porting_bench.py [--rounds 15]   (from the repository root)

For each layer the same constructor call builds ``flax.linen.X`` and ``jaxconv.layers.linen.X``; both get
the same parameters and batch. The forward pass and one SGD training step (loss, gradients and
update) are compiled with ``jax.jit`` and, for the step, also with ``jaxconv.backend.xla_cpu.jit`` (what
``jaxconv.train.fit`` uses on the CPU), and timed in interleaved rounds (Flax, jaxconv, Flax, ...).
The medians and their ratios are printed as a Markdown table, the one in docs/porting.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import jax
import jax.numpy as jnp
from flax import linen as nn

import jaxconv.layers.linen
from jaxconv.backend import xla_cpu

# (label, class name, constructor args, constructor kwargs, batch shape)
CASES = [
    ("ConvLocal 1->32, 3x3, 28x28, VALID", "ConvLocal", (32, (3, 3)), {"padding": "VALID"},
     (64, 28, 28, 1)),
    ("ConvLocal 16->32, 3x3, 14x14, SAME", "ConvLocal", (32, (3, 3)), {}, (64, 14, 14, 16)),
    ("ConvLocal 1->8, 10x10 stride 10, 100x100", "ConvLocal", (8, (10, 10)),
     {"strides": 10, "padding": "VALID"}, (16, 100, 100, 1)),
    ("Conv 16->32, 3x3, 14x14", "Conv", (32, (3, 3)), {}, (64, 14, 14, 16)),
    ("Dense 784->256", "Dense", (256,), {}, (64, 784)),
]


def _timed(fn, *args):
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def _programs(module, params, x):
    forward = jax.jit(module.apply)

    def loss(p):
        return jnp.mean(module.apply(p, x) ** 2)

    def step(p):
        grads = jax.grad(loss)(p)
        return jax.tree.map(lambda a, g: a - 0.01 * g, p, grads)

    step_jit, step_cpu = jax.jit(step), xla_cpu.jit(step)
    return (lambda: forward(params, x)), (lambda: step_jit(params)), (lambda: step_cpu(params))


def run(rounds: int) -> list[str]:
    rows = ["| layer (batch) | forward: Flax | jaxconv | speed-up | train step, jax.jit: Flax | "
            "jaxconv | speed-up | train step, xla_cpu.jit: Flax | jaxconv | speed-up |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for label, name, args, kwargs, shape in CASES:
        x = jax.random.normal(jax.random.key(0), shape)
        theirs, ours = getattr(nn, name)(*args, **kwargs), getattr(jaxconv.layers.linen, name)(*args, **kwargs)
        params = jax.jit(theirs.init)(jax.random.key(1), x)
        peers = {"flax": _programs(theirs, params, x), "jaxconv": _programs(ours, params, x)}
        times = {(peer, kind): [] for peer in peers for kind in (0, 1, 2)}
        for progs in peers.values():  # compile and warm up
            for prog in progs:
                _timed(prog)
                _timed(prog)
        for _ in range(rounds):
            for peer, progs in peers.items():
                for kind, prog in enumerate(progs):
                    times[peer, kind].append(_timed(prog))
        med = {key: statistics.median(v) * 1e3 for key, v in times.items()}
        cells = [f"{med['flax', k]:.2f} ms | {med['jaxconv', k]:.2f} ms | "
                 f"{med['flax', k] / med['jaxconv', k]:.1f}x" for k in (0, 1, 2)]
        rows.append(f"| {label} ({shape[0]}) | " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    print(f"jax {jax.__version__} on {jax.default_backend()} ({platform.processor() or platform.machine()}), "
          f"{args.rounds} interleaved rounds, medians")
    print("\n".join(run(args.rounds)))


if __name__ == "__main__":
    main()
