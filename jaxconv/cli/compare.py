"""``jaxconv compare``: train dense, local and conv with matched topology and print one table."""

from __future__ import annotations

import json


def register(subparsers) -> None:
    p = subparsers.add_parser("compare", help="train dense, local and conv side by side")
    p.add_argument("--dataset", default="digits", help="dataset name or path (default digits)")
    p.add_argument("--steps", type=int, default=300, help="steps per model (default 300)")
    p.add_argument("--batch-size", type=int, default=64, help="examples per step (default 64)")
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate (default 3e-3)")
    p.add_argument("--schedule", default="cosine", help="constant, cosine (default) or "
                                                        "warmup_cosine")
    p.add_argument("--seed", type=int, default=0, help="seed for data split, params, batches")
    p.add_argument("--models", default="dense,local,conv", help="comma-separated kinds")
    add_model_arguments(p)
    p.add_argument("--json", action="store_true", help='print {"models": [...]} as JSON')
    p.set_defaults(run=run)


def add_model_arguments(parser) -> None:
    """``--channels`` and ``--hidden``: the topology every kind shares."""
    # Defaults are filled in by model_config, so `jaxconv train --resume` can tell a given flag.
    parser.add_argument("--channels",
                        help="channels of each spatial layer, comma-separated (default 16,32)")
    parser.add_argument("--hidden", type=int,
                        help="units of the dense layer before the classifier; 0 for none "
                             "(default 64)")


def parse_ints(text: str, flag: str) -> tuple[int, ...]:
    """``"16,32"`` -> ``(16, 32)``; anything else is a one-line ValueError naming ``flag``."""
    if not text.strip():
        return ()
    try:  # every item an int: "4,,4" or "4," is a typo, not (4, 4) or (4,)
        return tuple(int(s) for s in text.split(","))
    except ValueError:
        raise ValueError(f"{flag} must be comma-separated integers, got {text!r}.") from None


def given_model_fields(args) -> dict:
    """The ModelConfig fields the user gave with :func:`add_model_arguments`' flags."""
    out = {}
    if args.channels is not None:
        out["channels"] = parse_ints(args.channels, "--channels")
    if args.hidden is not None:
        out["hidden"] = args.hidden
    return out


def model_config(args) -> dict:
    """The ModelConfig fields of :func:`add_model_arguments`, with their defaults."""
    return {"channels": (16, 32), "hidden": 64, **given_model_fields(args)}


def table(result: dict) -> str:
    """The markdown table of a :func:`jaxconv.experiments.compare` result."""
    from jaxconv.experiments import markdown_table

    shifts = sorted(k for k in result["models"][0] if k.startswith("shift"))
    header = ["model", "parameters", "test accuracy", "final loss", "steps/s",
              *(f"accuracy, shifted {k[5:-9]} px" for k in shifts)]
    rows = [[m["model"], m["params"], m["test_accuracy"], m["final_loss"],
             None if m["steps_per_second"] is None else f"{m['steps_per_second']:.0f}",
             *(m[k] for k in shifts)] for m in result["models"]]
    return markdown_table(header, rows)


def run(args) -> int:
    from jaxconv import experiments

    if args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}.")
    kinds = tuple(k.strip() for k in args.models.split(",") if k.strip())
    result = experiments.compare(args.dataset, kinds=kinds, steps=args.steps,
                                 batch_size=args.batch_size, learning_rate=args.lr,
                                 schedule=args.schedule, seed=args.seed, **model_config(args))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['dataset']}, {result['steps']} steps each, batch {args.batch_size}, "
              f"Adam lr {args.lr:g} {args.schedule}; shifted = test images moved up/down/left/"
              f"right, zero-filled")
        print()
        print(table(result))
    return 0
