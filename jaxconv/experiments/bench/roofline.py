"""The machine's limits next to each row: bytes moved, arithmetic intensity, roofline shares, and
a float32 GEMM of the same FLOPs timed in the same rounds.

- **Bytes moved** is the compulsory traffic of a pass, every array read or written once: the
  forward pass reads the input, kernel and bias and writes the output; the training step adds
  the backward pass (reads the output gradient, input and kernel; writes the input, kernel and
  bias gradients) and the SGD update (reads parameters and gradients, writes parameters). An
  implementation that materialises patches moves ``patch_bytes`` more (``Cost.patch_bytes``,
  reported per row), and real programs move more than this floor; it is what a roofline uses.
- **Arithmetic intensity** is FLOPs per byte moved. Below ``peak FLOP/s / bandwidth`` a layer is
  memory-bound: its roofline is ``intensity * bandwidth``, above it the FLOP peak.
- **Bandwidth** is measured at start-up: a jitted ``a * 2 + 1`` over 64 MiB (1 GiB on an
  accelerator), read and written once, best of a few runs.
- **GEMM of the same FLOPs** (``--gemm-ratio``): a square float32 ``n x n`` product with
  ``2 n^3`` as close as possible to the row's FLOPs, timed as one more candidate of the same
  alternating rounds; ``x_gemm`` is the row's time over the GEMM's (1.0: as fast as a matrix
  product doing the same arithmetic).
"""

from __future__ import annotations

import math
import time

import jax
import jax.numpy as jnp

__all__ = ["bytes_moved", "gemm_candidate", "gemm_size", "measure_bandwidth", "roofline"]


def bytes_moved(workload, mode: str) -> int:
    """Compulsory bytes of ``workload`` in ``mode`` (see the module docstring)."""
    cost = workload.cost()
    n, item = workload.batch, cost.itemsize
    x, y = n * math.prod(cost.input_shape), n * math.prod(cost.output_shape)
    w, b = cost.weights, cost.biases
    forward = x + w + b + y
    if mode == "forward":
        return forward * item
    backward = y + x + w + x + w + b
    update = 2 * (w + b) + (w + b)
    return (forward + backward + update) * item


def measure_bandwidth(rounds: int = 3, nbytes: int | None = None) -> float:
    """Measured bytes per second of a jitted elementwise pass (read once, written once)."""
    if nbytes is None:
        nbytes = 64 * 2**20 if jax.default_backend() == "cpu" else 2**30
    a = jnp.ones((nbytes // 4,), jnp.float32)
    return 2 * nbytes / best_seconds(jax.jit(lambda a: a * 2 + 1), a, rounds)


def best_seconds(f, a, rounds: int) -> float:
    """The fastest of ``rounds`` timed calls ``f(a)`` (after one untimed call, which compiles)."""
    f(a).block_until_ready()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        f(a).block_until_ready()
        best = min(best, time.perf_counter() - start)
    return best


def roofline(flops: int, nbytes: int, seconds: float, peak_gflops: float | None,
             bandwidth: float | None) -> dict:
    """``intensity``, ``bandwidth_share`` (bytes/s over the measured bandwidth), and
    ``roofline_share`` (FLOP/s over ``min(peak, intensity * bandwidth)``) of one row."""
    intensity = flops / nbytes if nbytes else None
    out = {"bytes": nbytes, "intensity": intensity, "bandwidth_share": None,
           "roofline_share": None, "memory_bound": None}
    if bandwidth and seconds > 0:
        out["bandwidth_share"] = nbytes / seconds / bandwidth
        if peak_gflops and intensity is not None:
            limit = min(peak_gflops * 1e9, intensity * bandwidth)
            out["roofline_share"] = flops / seconds / limit
            out["memory_bound"] = intensity * bandwidth < peak_gflops * 1e9
    return out


def gemm_size(flops: int) -> int:
    """``n`` with ``2 n^3`` closest to ``flops`` (at least 1)."""
    return max(1, round((flops / 2) ** (1 / 3)))


def gemm_candidate(flops: int):
    """A callable of no arguments: the jitted float32 ``n x n`` product of :func:`gemm_size`."""
    n = gemm_size(flops)
    a = jax.random.normal(jax.random.key(2), (n, n), jnp.float32)
    b = jax.random.normal(jax.random.key(3), (n, n), jnp.float32)
    f = jax.jit(jnp.matmul)
    return lambda: f(a, b)
