"""``jaxconv bench``: jaxconv's layers timed against Flax (and PyTorch on CPU) in one process.

The default workloads are the ones issue 6 measured: locally-connected layers where Flax
``ConvLocal`` is slowest, a 1000x1000 image seen through 10x10 non-overlapping windows, and the
conv and dense layers jaxconv must match. Ratios (``vs_flax``, ``vs_torch``: peer time divided by
jaxconv time) come from the same run, same shapes, alternating rounds; absolute times depend on
the machine and on what else runs on it.

Example:
    >>> report = run(default_workloads(quick=True), rounds=1, quick=True)  # doctest: +SKIP
    >>> print(format_table(report))  # doctest: +SKIP
"""

from __future__ import annotations

import jax

from jaxconv.backend import xla_cpu
from jaxconv.experiments.bench import roofline
from jaxconv.experiments.bench.runner import environment, matmul_peak, run_workload
from jaxconv.experiments.bench.workloads import Workload, make_workload
from jaxconv.validate import check_int

__all__ = ["Workload", "default_workloads", "format_table", "gemm_by_kind", "make_workload",
           "run"]


def default_workloads(quick: bool = False) -> list[Workload]:
    """The issue's workloads, or tiny ones with ``quick=True`` (a smoke run of every code path)."""
    if quick:
        return [
            make_workload("local", (6, 6, 2), 3, 3, batch=2),
            make_workload("local", (6, 6, 1), 2, 3, batch=2),
            make_workload("local", (8, 8, 1), 1, 4, strides=4, batch=2, modes=("forward",)),
            make_workload("conv", (6, 6, 2), 3, 3, batch=2),
            make_workload("regional", (6, 6, 2), 3, 3, batch=2, regions=2),
            make_workload("dense", (8,), 4, batch=2),
        ]
    return [
        make_workload("local", (14, 14, 32), 64, 3),
        make_workload("local", (28, 28, 1), 32, 3),
        make_workload("local", (1000, 1000, 1), 1, 10, strides=10, batch=8),
        make_workload("conv", (14, 14, 32), 64, 3),
        make_workload("regional", (28, 28, 1), 32, 3, regions=4),
        make_workload("dense", (6272,), 256),
    ]


def run(workloads, *, rounds: int = 10, quick: bool = False, variants: bool = False,
        use_torch: bool = True, cpu_library: str = "xla", gemm_ratio: bool = False,
        progress=None) -> dict:
    """Measures the matmul peak, then every workload; returns a JSON-ready report.

    Args:
        workloads: :class:`Workload` instances (see :func:`make_workload`).
        rounds: timing rounds per workload and mode (the median is reported).
        quick: use a small matmul for the peak (smoke runs).
        variants: also time every locally-connected (and regional) implementation by name.
        use_torch: compare with PyTorch when it is importable and the backend is the CPU.
        cpu_library: what XLA runs in Eigen instead of YNNPACK on the CPU, for every JAX peer
            alike: one of :data:`jaxconv.backend.xla_cpu.LIBRARIES` (``"xla"``, its default, moves
            nothing; ``"auto"`` is decided per workload and mode by jaxconv's program).
        gemm_ratio: also time a float32 GEMM of each row's FLOPs in the same rounds; every row
            gets ``x_gemm`` (its time over the GEMM's), see :mod:`jaxconv.experiments.bench.roofline`.
        progress: optional callable taking one line of text, called as workloads finish.

    Returns:
        ``{"environment": {...}, "results": [one dict per workload, mode and peer]}``.
    """
    rounds = check_int("bench", "rounds", rounds)
    workloads = list(workloads)
    if not all(isinstance(w, Workload) for w in workloads):
        raise TypeError("bench: `workloads` must be Workload instances (see make_workload).")
    xla_cpu.check_library("bench", cpu_library, "cpu_library")
    size = 256 if quick else (2048 if jax.default_backend() == "cpu" else 8192)
    peak = matmul_peak(size, rounds=2 if quick else 5)
    bandwidth = roofline.measure_bandwidth(nbytes=2**20 if quick else None)
    results = []
    for w in workloads:
        results += run_workload(w, rounds=rounds, peak_gflops=peak, variants=variants,
                                use_torch=use_torch, cpu_library=cpu_library,
                                gemm_ratio=gemm_ratio, bandwidth=bandwidth)
        if progress is not None:
            progress(f"done: {w.name}")
    report = {"environment": environment(peak, size, cpu_library, bandwidth), "results": results}
    if gemm_ratio:
        report["gemm_by_kind"] = gemm_by_kind(workloads, results)
    return report


def gemm_by_kind(workloads, results) -> dict:
    """jaxconv's time over a GEMM of the same FLOPs, per kind: ``{kind: [{"workload": name,
    "forward": x, "train": x}, ...]}`` from the jaxconv rows of a ``gemm_ratio`` run (a mode not
    run is None). 1.0 is a matrix product's speed, the limit of a layer that is all
    multiply-adds."""
    out: dict = {}
    for w in workloads:
        rows = {r["mode"]: r.get("x_gemm") for r in results
                if r["workload"] == w.name and r["impl"] == "jaxconv"}
        out.setdefault(w.layer, []).append({"workload": w.name, "forward": rows.get("forward"),
                                            "train": rows.get("train")})
    return out


def _num(value, fmt: str, suffix: str = "") -> str:
    return "-" if value is None else format(value, fmt) + suffix


def format_table(report: dict) -> str:
    """The report as a fixed-width text table, one row per workload, mode and peer."""
    env = report["environment"]
    gemm = any(r.get("x_gemm") is not None for r in report["results"])
    lines = [
        (f"device: {env['backend']} ({env['device']}, {env['processor']}, {env['cpu_count']} "
         f"cores)  jax {env['jax']}  flax {env['flax']}  torch {env['torch'] or '-'}"),
        (f"matmul peak: {env['peak_gflops']:.1f} GFLOP/s "
         f"({env['peak_matmul_size']}x{env['peak_matmul_size']} float32)  host memory: "
         + ("freed memory retained" if env.get("retained_freed_memory") else "default allocator")
         + f"  cpu library: {env.get('cpu_library', 'xla')}"
         + ("" if env.get("bandwidth_gbs") is None else
            f"  bandwidth: {env['bandwidth_gbs']:.1f} GB/s")),
        "",
        (f"{'workload':<44} {'mode':<8} {'impl':<18} {'ms':>9} {'GFLOP/s':>8} {'peak':>6} "
         f"{'vs flax':>8} {'vs torch':>8} {'compile s':>9} {'library':>8}"
         + (f" {'x gemm':>7} {'FLOP/B':>7} {'roof':>5}" if gemm else "")),
    ]
    for r in report["results"]:
        impl = r["impl"] + (f" ({r['chosen']})" if r["chosen"] else "")
        share = "-" if r["peak_share"] is None else f"{100 * r['peak_share']:.0f}%"
        lines.append(
            f"{r['workload']:<44} {r['mode']:<8} {impl:<18} {r['ms']:>9.2f} "
            f"{r['gflops']:>8.1f} {share:>6} {_num(r['vs_flax'], '.2f', 'x'):>8} "
            f"{_num(r['vs_torch'], '.2f', 'x'):>8} {_num(r['compile_s'], '.2f'):>9} "
            f"{r.get('cpu_library') or '-':>8}"
            + (f" {_num(r.get('x_gemm'), '.2f', 'x'):>7} {_num(r.get('intensity'), '.1f'):>7} "
               f"{_num(r.get('roofline_share') and 100 * r['roofline_share'], '.0f', '%'):>5}"
               if gemm else "")
        )
    by_kind = report.get("gemm_by_kind")
    if by_kind:
        lines += ["", "jaxconv's time over a float32 GEMM of the same FLOPs (1.00x: a matrix "
                      "product's speed), per kind:",
                  f"{'kind':<10} {'workload':<44} {'forward':>8} {'train':>8}"]
        for kind, rows in by_kind.items():
            for row in rows:
                lines.append(f"{kind:<10} {row['workload']:<44} "
                             f"{_num(row['forward'], '.2f', 'x'):>8} "
                             f"{_num(row['train'], '.2f', 'x'):>8}")
    return "\n".join(lines)
