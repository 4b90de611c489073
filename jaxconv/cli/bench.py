"""``jaxconv bench``: time jaxconv's layers against Flax (and PyTorch on CPU) in one process.

Without ``--layer`` it runs the default workloads (issue 6's); with ``--layer`` it runs the one
layer described by ``--input``, ``--features``, ``--kernel``, ``--stride``, ``--padding`` and
``--batch``. ``--quick`` runs tiny shapes and two rounds: a smoke test, not a measurement.
"""

from __future__ import annotations

import json
import sys

from jaxconv import kinds
from jaxconv.cli.fields import add_alias
from jaxconv.names import CPU_LIBRARIES


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench", help="time dense/conv/locally-connected layers against Flax and PyTorch")
    # Every registered kind, a kind registered from outside included (read when the parser is built).
    parser.add_argument("--layer", choices=kinds.names(),
                        help="benchmark one layer (a connectivity kind) instead of the default "
                             "workloads")
    parser.add_argument("--input", default="28x28x1",
                        help="one example's shape, e.g. 28x28x1 (spatial x channels) or 784 (dense)")
    parser.add_argument("--features", type=int, default=32, help="output features")
    parser.add_argument("--kernel-size", dest="kernel", default="3", help="window, e.g. 3 or 3x5")
    parser.add_argument("--strides", dest="stride", default="1", help="stride, e.g. 1 or 2x2")
    parser.add_argument("--padding", default=None,
                        help="SAME, VALID or CIRCULAR (default: the kind's own, SAME for conv, "
                             "VALID for local and regional)")
    parser.add_argument("--regions", default=None,
                        help="regions per dim of a layer that needs them, e.g. 4 or 2x4 "
                             "(--layer regional)")
    parser.add_argument("--batch-size", dest="batch", type=int, default=128,
                        help="examples per batch")
    parser.add_argument("--mode", choices=("both", "forward", "train"), default="both",
                        help="time the forward pass, the training step, or both")
    parser.add_argument("--rounds", type=int, default=None,
                        help="timing rounds, median reported (default 10, or 2 with --quick)")
    parser.add_argument("--variants", action="store_true",
                        help="also time every locally-connected implementation by name")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    parser.add_argument("--quick", action="store_true", help="tiny shapes, few rounds (smoke run)")
    parser.add_argument("--retain-freed-memory", action="store_true",
                        help="keep freed host memory for reuse (glibc) before timing, for every "
                             "peer alike: XLA's CPU temporaries then stop page-faulting")
    parser.add_argument("--cpu-library", choices=CPU_LIBRARIES, default="xla",
                        help="what XLA runs in Eigen instead of YNNPACK on the CPU, for every JAX "
                             "peer alike: xla (nothing, its default), eigen-<kinds> (the named "
                             "kinds of conv, dot, reduce), eigen (all), or auto (per workload, "
                             "from jaxconv's program); see jaxconv.backend.xla_cpu")
    parser.add_argument("--gemm-ratio", action="store_true",
                        help="also time a float32 GEMM of each row's FLOPs in the same rounds and "
                             "show each row's time over it (x gemm), its FLOP/byte and roofline "
                             "share")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_alias(parser, "--kernel", "kernel")  # the old spellings, for one release
    add_alias(parser, "--stride", "stride")
    add_alias(parser, "--batch", "batch", type=int)
    parser.set_defaults(run=run)


_WORKLOAD_DEFAULTS = {"input": "28x28x1", "features": 32, "kernel": "3", "stride": "1",
                      "padding": None, "batch": 128, "mode": "both", "regions": None}


def _ints(name: str, text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in str(text).lower().split("x"))
    except ValueError:
        raise ValueError(f"bench: `--{name}` must be integers joined by 'x', e.g. 28x28x1, "
                         f"got {text!r}.") from None
    return values


def _one_or_all(values):
    return values[0] if len(values) == 1 else values


def workloads_from_args(args):
    """The workloads the arguments ask for."""
    from jaxconv.experiments import bench

    if args.layer is None:
        # The default workloads fix their own shapes: a workload flag would be ignored silently.
        for flag, default in _WORKLOAD_DEFAULTS.items():
            if getattr(args, flag) != default:
                raise ValueError(f"bench: `--{flag}` needs `--layer` (the default workloads fix "
                                 f"their own shapes), got --{flag}={getattr(args, flag)!r}.")
        return bench.default_workloads(quick=args.quick)
    if args.regions is not None and not kinds.get(args.layer).needs_regions:
        raise ValueError(f"bench: `--regions` is for a layer with regions, got --layer "
                         f"{args.layer} (which has none) with --regions={args.regions!r}.")
    modes = ("forward", "train") if args.mode == "both" else (args.mode,)
    kernel, stride = _ints("kernel-size", args.kernel), _ints("strides", args.stride)
    return [bench.make_workload(
        args.layer, _ints("input", args.input), args.features,
        kernel[0] if len(kernel) == 1 else kernel, stride[0] if len(stride) == 1 else stride,
        args.padding, args.batch, modes,
        None if args.regions is None else _one_or_all(_ints("regions", args.regions)))]


def run(args) -> int:
    from jaxconv.backend import host_memory
    from jaxconv.experiments import bench

    workloads = workloads_from_args(args)
    if args.retain_freed_memory and not host_memory.retain_freed_memory():
        print("bench: --retain-freed-memory needs glibc's malloc; timing with the default "
              "allocator.", file=sys.stderr)
    rounds = args.rounds if args.rounds is not None else (2 if args.quick else 10)
    progress = None if args.json else (lambda line: print(line, file=sys.stderr, flush=True))
    report = bench.run(workloads, rounds=rounds, quick=args.quick, variants=args.variants,
                       use_torch=not args.no_torch, cpu_library=args.cpu_library,
                       gemm_ratio=args.gemm_ratio, progress=progress)
    print(json.dumps(report, indent=1) if args.json else bench.format_table(report))
    return 0
