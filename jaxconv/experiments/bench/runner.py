"""Timing: warm-up, alternating rounds, medians, a measured matmul peak and compile times.

Every candidate of one workload and mode (jaxconv, Flax, PyTorch) is timed once per round, in a
fresh random order each round (seeded), so a burst of load from another process slows all of
them alike; the reported time is the median over rounds of the mean time per call within a round.
A fixed rotation is not enough: the candidate timed right after PyTorch would always pay for
PyTorch's worker threads still spinning, so samples are also separated by a short pause.
JAX calls end with ``block_until_ready``. Nothing here assumes a CPU: on a GPU or TPU the same
code runs, and only the PyTorch peer (CPU only) drops out.
"""

from __future__ import annotations

import math
import random
import statistics
import time

import jax
import jax.numpy as jnp

from jaxconv import kinds, validate
from jaxconv.backend import host_memory, xla_cpu
from jaxconv.experiments.bench import roofline, torch_peer
from jaxconv.experiments.bench.workloads import (
    Workload,
    auto_implementation,
    flax_apply,
    implementations,
    init_params,
    input_batch,
    jax_steps,
    jaxconv_apply,
    make_workload,
    resolve_library,
)

# Each timed sample runs the step enough times to last about this long.
SAMPLE_SECONDS = 0.05
# Pause between samples, so thread pools that spin after a call have gone idle.
PAUSE_SECONDS = 0.02


def _block(out):
    if hasattr(out, "block_until_ready") or isinstance(out, (tuple, list, dict)):
        return jax.block_until_ready(out)
    return out


def _calls_per_sample(fn) -> int:
    start = time.perf_counter()
    _block(fn())
    elapsed = time.perf_counter() - start
    return max(1, min(100, int(SAMPLE_SECONDS / max(elapsed, 1e-6))))


def time_alternating(candidates: dict, rounds: int) -> dict[str, list[float]]:
    """Milliseconds per call of each candidate, one sample per round, in random order each round.

    Args:
        candidates: name -> callable of no arguments (already compiled and warmed up).
        rounds: number of rounds; each round times every candidate once.

    Returns:
        name -> list of ``rounds`` samples (ms per call), in round order.
    """
    names = list(candidates)
    calls = {n: _calls_per_sample(candidates[n]) for n in names}
    samples = {n: [] for n in names}
    order = random.Random(0)
    for _ in range(rounds):
        for n in order.sample(names, len(names)):
            fn = candidates[n]
            time.sleep(PAUSE_SECONDS)
            start = time.perf_counter()
            for _ in range(calls[n]):
                out = fn()
            _block(out)  # pyright: ignore[reportPossiblyUnboundVariable]  # calls[n] >= 1
            samples[n].append((time.perf_counter() - start) / calls[n] * 1e3)
    return samples


def median_ratio(peer: list[float], mine: list[float]) -> float:
    """Median over rounds of ``peer / mine``: each ratio pairs samples taken moments apart, so a
    burst of outside load that spans a round cancels, where a ratio of medians would keep it."""
    return statistics.median(p / m for p, m in zip(peer, mine))


def matmul_peak(size: int, rounds: int = 3) -> float:
    """Measured float32 GFLOP/s of a ``size x size`` matmul on the default device (best of rounds)."""
    a = jax.random.normal(jax.random.key(0), (size, size), jnp.float32)
    return 2 * size ** 3 / roofline.best_seconds(jax.jit(lambda a: a @ a), a, rounds) / 1e9


def _candidates(workload: Workload, mode: str, variants: bool, use_torch: bool, library: str):
    """name -> (callable, compile seconds or None) for every peer of one workload and mode; every
    JAX peer is compiled for the same CPU ``library`` (see :mod:`jaxconv.backend.xla_cpu`)."""
    kernel, bias = init_params(workload, jax.random.key(0))
    x = input_batch(workload, jax.random.key(1))
    out = {}
    names = [("jaxconv", "auto")]
    if variants:
        names += [(f"jaxconv[{i}]", i) for i in implementations(workload)]
    for name, impl in names:
        forward, train, lower = jax_steps(jaxconv_apply(workload, impl), (kernel, bias), x,
                                          library)
        step = forward if mode == "forward" else train
        out[name] = (step, lower() if mode == "train" else None)
    companion = workload.kind.bench_companion  # regional: the local layer whose weights it shares
    if companion is not None:
        other = make_workload(companion, workload.input_shape, workload.features,
                              workload.kernel_size, workload.strides, workload.padding,
                              workload.batch, workload.modes,
                              (workload.regions or None) if kinds.get(companion).needs_regions
                              else None)
        step = jax_steps(jaxconv_apply(other), init_params(other, jax.random.key(0)), x, library)
        out[f"jaxconv {companion}"] = (step[0] if mode == "forward" else step[1],
                                       step[2]() if mode == "train" else None)
    flax = flax_apply(workload)
    if flax is not None:
        forward, train, lower = jax_steps(*flax, x, library)
        out["flax"] = (forward if mode == "forward" else train,
                       lower() if mode == "train" else None)
    if use_torch and jax.default_backend() == "cpu" and torch_peer.available():
        steps = torch_peer.steps(workload, kernel, bias, x)
        if steps is not None:
            out["torch"] = (steps[0] if mode == "forward" else steps[1], None)
    return out


def check_fits(workload: Workload) -> int:
    """Refuses a workload whose input, parameters and output alone exceed the memory this process
    can hold (``--input 100000x100000x1`` ran into XLA's ``RESOURCE_EXHAUSTED`` after 14 s).

    Returns:
        That lower bound in bytes (the training step's gradients come on top).

    Raises:
        ValueError: naming the workload, each part's bytes and the limit.
    """
    from jaxconv.validate import human_bytes as h

    cost = workload.cost()
    inputs = workload.batch * math.prod(workload.input_shape) * cost.itemsize
    parts = {"input": inputs, "parameters": cost.param_bytes, "output": cost.activation_bytes}
    total = sum(parts.values())
    shown = ", ".join(f"{k} {h(v)}" for k, v in parts.items())
    return validate.check_fits_memory("bench", f"workload {workload.name!r} ({shown})", total,
                                       hint="jaxconv count")


def run_workload(workload: Workload, *, rounds: int, peak_gflops: float, variants: bool = False,
                 use_torch: bool = True, cpu_library: str = "xla", gemm_ratio: bool = False,
                 bandwidth: float | None = None) -> list[dict]:
    """Times every peer of ``workload`` in each of its modes; one result dict per peer and mode.

    Each dict has ``workload``, ``mode``, ``impl`` (peer name), ``chosen`` (the implementation
    "auto" picked, for locally-connected layers), ``ms`` (median per call), ``gflops``,
    ``peak_share`` (of ``peak_gflops``), ``vs_flax`` and ``vs_torch`` (median over rounds of peer
    time / this time: above 1 means faster), ``compile_s`` (the training step's compile time, JAX
    peers only) and ``cpu_library`` (where XLA ran the JAX peers' products: ``cpu_library`` with
    ``"auto"`` decided by jaxconv's program, see :mod:`jaxconv.backend.xla_cpu`). The roofline fields
    (:func:`jaxconv.experiments.bench.roofline.roofline`): ``bytes``, ``intensity``, ``bandwidth_share``,
    ``roofline_share``, ``memory_bound``, and ``patch_bytes`` (what materialised patches add).
    With ``gemm_ratio``, a float32 GEMM of the same FLOPs is one more candidate (row ``"gemm"``)
    and every row has ``x_gemm``: median over rounds of its time / the GEMM's.
    """
    check_fits(workload)
    results = []
    for mode in workload.modes:
        library = resolve_library(workload, mode, cpu_library)
        candidates = _candidates(workload, mode, variants, use_torch, library)
        flops = workload.flops(mode)
        if gemm_ratio:
            candidates["gemm"] = (roofline.gemm_candidate(flops), None)
        for fn, _ in candidates.values():  # compile and warm up
            _block(fn())
            _block(fn())
        samples = time_alternating({n: c[0] for n, c in candidates.items()}, rounds)
        ms = {n: statistics.median(v) for n, v in samples.items()}
        nbytes = roofline.bytes_moved(workload, mode)
        for name, (_, compile_s) in candidates.items():
            gflops = flops / (ms[name] * 1e-3) / 1e9
            row_bytes = 3 * 4 * roofline.gemm_size(flops) ** 2 if name == "gemm" else nbytes
            results.append({
                "workload": workload.name,
                "mode": mode,
                "impl": name,
                "chosen": auto_implementation(workload) if name == "jaxconv" else None,
                "ms": ms[name],
                "gflops": gflops,
                "peak_share": gflops / peak_gflops if peak_gflops else None,
                "vs_flax": (median_ratio(samples["flax"], samples[name]) if "flax" in samples
                            else None),
                "vs_torch": (median_ratio(samples["torch"], samples[name]) if "torch" in samples
                             else None),
                "compile_s": compile_s,
                "flops": flops,
                "cpu_library": None if name in ("torch", "gemm") else library,
                "x_gemm": (median_ratio(samples[name], samples["gemm"]) if "gemm" in samples
                           else None),
                "patch_bytes": workload.cost().patch_bytes,
                **roofline.roofline(flops, row_bytes, ms[name] * 1e-3, peak_gflops, bandwidth),
            })
    return results


def environment(peak_gflops: float, peak_size: int, cpu_library: str = "xla",
                bandwidth: float | None = None) -> dict:
    """What the numbers were measured on: device, versions, the matmul peak."""
    import platform

    import flax

    info = {
        "backend": jax.default_backend(),
        "device": str(jax.devices()[0].device_kind),
        "machine": platform.machine(),
        "processor": _cpu_model(),
        "cpu_count": __import__("os").cpu_count(),
        "jax": jax.__version__,
        "flax": flax.__version__,
        "torch": None,
        "peak_gflops": peak_gflops,
        "peak_matmul_size": peak_size,
        "bandwidth_gbs": None if bandwidth is None else bandwidth / 1e9,
        "retained_freed_memory": host_memory.retaining_freed_memory(),
        "cpu_library": cpu_library,
        "cpu_libraries": list(xla_cpu.usable()),
    }
    if torch_peer.available():
        import torch  # pyright: ignore[reportMissingImports]  # torch: the bench's optional peer

        info["torch"] = torch.__version__
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown"
