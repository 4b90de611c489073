"""``jaxconv experiment sharing``: the regional model from conv to locally-connected, on two tasks.

Prints a markdown table per task (or, with ``--json``, exactly ``{"tasks": [...]}`` as
:func:`jaxconv.experiments.sharing.sharing_experiment` returns it) and writes a PNG with matplotlib's Agg
backend (``--plot PATH``; default ``<out-dir>/sharing.png``; ``--no-plot`` to skip).
"""

from __future__ import annotations

from typing import Any

from jaxconv.cli._output import claimed, emit, plot_path
from jaxconv.cli.compare import parse_ints
from jaxconv.cli.paths import path_arg


def register(sub) -> None:
    """Adds the ``sharing`` experiment to ``jaxconv experiment``'s subparsers."""
    # Defaults live in jaxconv.experiments.sharing, which imports JAX: resolved in run(), not at parse time.
    p = sub.add_parser("sharing", help="regional weight sharing, from conv to local, on a "
                                       "shifted and an aligned task")
    p.add_argument("--regions", default=None,
                   help="regions per dim to train, comma-separated (default "
                        "jaxconv.experiments.sharing.REGIONS: 1 = conv ... one per position)")
    p.add_argument("--tasks", default=None,
                   help="which of shifted, aligned, comma-separated (default both)")
    p.add_argument("--steps", type=int, default=None,
                   help="steps per run (default jaxconv.experiments.sharing.STEPS)")
    p.add_argument("--n-train", type=int, default=None,
                   help="training images per task (default 2000 shifted, 1000 aligned)")
    p.add_argument("--channels", default=None,
                   help="channels of each spatial layer, comma-separated (default "
                        "jaxconv.experiments.sharing.MODEL's)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--plot", type=path_arg, help="PNG path (default <out-dir>/sharing.png)")
    p.add_argument("--out-dir", default=".", type=path_arg, help="directory for the plot (default .)")
    p.add_argument("--no-plot", action="store_true", help="write no PNG")
    p.set_defaults(run=run)


def table(result: dict) -> str:
    """One markdown table per task: regions, parameters, accuracy, training seconds."""
    from jaxconv.experiments import markdown_table

    parts = []
    for task in result["tasks"]:
        seen = task["task"] == "shifted"
        header = ["regions", "sharing", "parameters", "test accuracy"]
        header += ["accuracy, seen positions"] * seen + ["train s"]
        rows = [[r["regions"], r["sharing"], r["params"], r["test_accuracy"],
                 *([r["accuracy_seen"]] if seen else []), r["train_seconds"]]
                for r in task["rows"]]
        what = "test at unseen positions" if seen else "class at the left slot"
        parts.append(f"{task['task']} ({what}; {task['n_train']} training images, "
                     f"{task['steps']} steps, chance {task['chance']:.2f}):\n\n"
                     + markdown_table(header, rows))
    return "\n\n".join(parts)


def plot(result: dict, path: str) -> None:
    """Test accuracy (left) and parameters (right) against regions per dim, one line per task."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed, and never Qt from jaxconv
    import matplotlib.pyplot as plt

    fig, (acc, params) = plt.subplots(1, 2, figsize=(8, 3.4), dpi=100)
    for task in result["tasks"]:
        regions = [r["regions"] for r in task["rows"]]
        acc.plot(regions, [r["test_accuracy"] for r in task["rows"]], marker="o",
                 label=task["task"])
        params.plot(regions, [r["params"] for r in task["rows"]], marker="o", label=task["task"])
    chance = result["tasks"][0]["chance"]
    acc.axhline(chance, color="gray", linestyle="--", label="chance")
    for ax in (acc, params):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("regions per dim (1 = conv, max = local)")
    params.set_yscale("log")
    acc.set_ylim(0, 1.05)
    acc.set_ylabel("test accuracy")
    params.set_ylabel("parameters")
    acc.legend(fontsize=8)
    acc.set_title("accuracy against sharing", fontsize=10)
    params.set_title("parameters against sharing", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run(args) -> int:
    from jaxconv.experiments.sharing import REGIONS, STEPS, TASKS, sharing_experiment

    steps = STEPS if args.steps is None else args.steps
    if steps < 1:
        raise ValueError(f"--steps must be >= 1, got {steps}.")
    tasks = TASKS if args.tasks is None else tuple(
        t.strip() for t in args.tasks.split(",") if t.strip())
    regions = REGIONS if args.regions is None else parse_ints(args.regions, "--regions")
    channels: dict[str, Any] = {} if args.channels is None else {
        "channels": parse_ints(args.channels, "--channels")}
    path = plot_path(args, "sharing.png")  # checked before the experiment runs, not after
    with claimed(path):
        result = sharing_experiment(regions=regions, tasks=tasks, n_train=args.n_train,
                                    steps=steps, seed=args.seed, **channels)
        return emit(args, result, table, plot, path)
