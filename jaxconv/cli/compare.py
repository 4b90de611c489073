"""``jaxconv compare``: train dense, local and conv with matched topology and print one table."""

from __future__ import annotations

import json

from jaxconv import kinds
from jaxconv.cli.fields import add_alias, add_config_arguments, given_fields
from jaxconv.names import LECTURE_KINDS


def register(subparsers) -> None:
    from jaxconv.config import EXPERIMENT_TRAINING

    p = subparsers.add_parser(
        "compare", help="train dense, local and conv side by side",
        description="Train each kind with the same ModelConfig and TrainConfig (every field a "
                    "flag named after it) and print one table.")
    p.add_argument("--dataset", default="digits", help="dataset name or path (default digits)")
    p.add_argument("--models", default=",".join(LECTURE_KINDS),
                   help=f"comma-separated kinds, of {', '.join(kinds.names())}")
    add_experiment_arguments(p, EXPERIMENT_TRAINING)
    p.add_argument("--json", action="store_true", help='print {"models": [...]} as JSON')
    p.set_defaults(run=run)


def add_experiment_arguments(parser, training) -> None:
    """The ModelConfig (less ``kind`` and ``num_classes``, which the experiment sets) and
    TrainConfig flags, with ``training``'s values as the defaults, and the old spellings."""
    from jaxconv.config import ModelConfig, TrainConfig

    add_config_arguments(parser, ModelConfig, TrainConfig, defaults=(training,),
                         skip=("kind", "num_classes"))
    add_alias(parser, "--lr", "learning_rate", type=float)


def experiment_overrides(args) -> dict:
    """The ModelConfig and TrainConfig fields given, as overrides for :mod:`jaxconv.experiments`."""
    from jaxconv.config import ModelConfig, TrainConfig

    return {**given_fields(ModelConfig, args), **given_fields(TrainConfig, args)}


def parse_ints(text: str, flag: str) -> tuple[int, ...]:
    """``"16,32"`` -> ``(16, 32)``; anything else is a one-line ValueError naming ``flag``."""
    if not text.strip():
        return ()
    try:  # every item an int: "4,,4" or "4," is a typo, not (4, 4) or (4,)
        return tuple(int(s) for s in text.split(","))
    except ValueError:
        raise ValueError(f"{flag} must be comma-separated integers, got {text!r}.") from None


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
    from jaxconv.config import TrainConfig, replace_fields

    overrides = experiment_overrides(args)
    training = replace_fields("compare", TrainConfig, experiments.TRAINING,
                              given_fields(TrainConfig, args))
    if training.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {training.steps}.")
    kinds = tuple(k.strip() for k in args.models.split(",") if k.strip())
    result = experiments.compare(args.dataset, kinds=kinds, **overrides)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['dataset']}, {result['steps']} steps each, batch {training.batch_size}, "
              f"{training.optimizer} learning rate {training.learning_rate:g} "
              f"{training.schedule}; shifted = test images moved up/down/left/right, "
              f"zero-filled")
        print()
        print(table(result))
    return 0
