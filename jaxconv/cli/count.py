"""``jaxconv count``: the lecture's table (dense vs locally-connected vs conv) for any sizes.

Nothing is allocated: the counts are Python ints from :mod:`jaxconv.costs.counting`. Example::

    jaxconv count --input 1000x1000 --kernel-size 10      # 10^12, 10^8 and 100 weights
    jaxconv count --input 28x28x3 --kernel-size 5 --features 8 --tpu --json

The flags are spelt as the library's arguments; the old ``--kernel``, ``--stride`` and ``--batch``
stay as hidden aliases.
"""

from __future__ import annotations

from jaxconv.analysis.connectivity import compare_connectivity
from jaxconv.cli.fields import add_alias

_INPUT_HELP = ("input size without batch: W (1-D), HxW (2-D, 1 channel), HxWxC (2-D) or DxHxWxC "
               "(3-D); e.g. 1000x1000")


def dims(name: str, text: str) -> tuple[int, ...]:
    """Parses ``"1000x1000"`` into ``(1000, 1000)``, naming the option in the error."""
    parts = text.lower().replace("*", "x").split("x")
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"`{name}` must be integers separated by 'x' (e.g. 1000x1000), got "
                         f"{name} {text!r}.") from None


def _one_or_all(name: str, text: str):
    values = dims(name, text)
    return values[0] if len(values) == 1 else values


def input_shape(text: str) -> tuple[int, ...]:
    """``--input`` as ``(*spatial, C)``: two numbers mean H x W with one channel."""
    values = dims("--input", text)
    if len(values) == 1:
        return (values[0], 1)
    if len(values) == 2:
        return (*values, 1)
    if len(values) in (3, 4):
        return values
    raise ValueError(f"`--input` must have 1 to 4 sizes ({_INPUT_HELP}), got --input {text!r}.")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "count", help="parameters, bytes and FLOPs of dense vs locally-connected vs conv",
        description="Count what connecting an input densely, locally and convolutionally costs. "
                    "Bytes are in decimal SI units (1 kB = 1000 B).")
    parser.add_argument("--input", required=True, metavar="HxW[xC]", help=_INPUT_HELP)
    parser.add_argument("--kernel-size", dest="kernel", metavar="K[xK]",
                        help="window size, e.g. 10 (required)")
    parser.add_argument("--strides", dest="stride", default="1", metavar="S[xS]",
                        help="stride (default 1)")
    parser.add_argument("--padding", default="SAME",
                        help="SAME (default), VALID, CIRCULAR, REFLECT or CAUSAL (1-D)")
    parser.add_argument("--features", default=1, type=int, metavar="F",
                        help="output channels of the local and conv layers (default 1)")
    parser.add_argument("--hidden", default=None, metavar="HxW",
                        help="hidden units of the dense layer (default: the conv output size)")
    parser.add_argument("--dtype", default="float32", help="parameter dtype (default float32)")
    parser.add_argument("--batch-size", dest="batch", default=1, type=int, metavar="N",
                        help="batch size for FLOPs and activations (default 1)")
    parser.add_argument("--no-bias", action="store_true", help="layers without biases")
    parser.add_argument("--regions", default=None, metavar="R[xR]",
                        help="add a regional row: output positions split into R blocks per dim, "
                             "one kernel per block (between local and conv)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--tpu", action="store_true",
                        help="add bytes padded to TPU tiles (8x128 for float32)")
    add_alias(parser, "--kernel", "kernel")
    add_alias(parser, "--stride", "stride")
    add_alias(parser, "--batch", "batch", type=int)
    parser.set_defaults(run=run)


def run(args) -> int:
    if args.kernel is None:
        raise ValueError("--kernel-size is required (the window, e.g. 10).")
    table = compare_connectivity(
        input_shape(args.input), kernel_size=_one_or_all("--kernel-size", args.kernel),
        strides=_one_or_all("--strides", args.stride), padding=args.padding,
        features=args.features,
        hidden=None if args.hidden is None else dims("--hidden", args.hidden),
        use_bias=not args.no_bias, batch_size=args.batch, dtype=args.dtype, tpu=args.tpu,
        regions=None if args.regions is None else _one_or_all("--regions", args.regions))
    print(table.to_json() if args.json else table)
    return 0
