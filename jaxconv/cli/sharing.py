"""``jaxconv experiment sharing``: the regional model from conv to locally-connected, on two tasks.

Prints a markdown table per task (or, with ``--json``, exactly ``{"tasks": [...]}`` as
:func:`jaxconv.sharing.sharing_experiment` returns it) and writes a PNG with matplotlib's Agg
backend (``--plot PATH``; default ``<out-dir>/sharing.png``; ``--no-plot`` to skip).
"""

from __future__ import annotations

import json
import os
import sys

from jaxconv.cli._paths import check_plot_path
from jaxconv.cli.compare import parse_ints


def register(sub) -> None:
    """Adds the ``sharing`` experiment to ``jaxconv experiment``'s subparsers."""
    from jaxconv.sharing import REGIONS, STEPS, TASKS

    p = sub.add_parser("sharing", help="regional weight sharing, from conv to local, on a "
                                       "shifted and an aligned task")
    p.add_argument("--regions", default=",".join(map(str, REGIONS)),
                   help=f"regions per dim to train, comma-separated (default "
                        f"{','.join(map(str, REGIONS))}; 1 is conv, 16 one per position)")
    p.add_argument("--tasks", default=",".join(TASKS),
                   help=f"which tasks, comma-separated (default {','.join(TASKS)})")
    p.add_argument("--steps", type=int, default=STEPS, help=f"steps per run (default {STEPS})")
    p.add_argument("--n-train", type=int, default=None,
                   help="training images per task (default 2000 shifted, 1000 aligned)")
    p.add_argument("--channels", default="16", help="channels of the layer (default 16)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--plot", help="PNG path (default <out-dir>/sharing.png)")
    p.add_argument("--out-dir", default=".", help="directory for the plot (default .)")
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
    from jaxconv.sharing import sharing_experiment

    if args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}.")
    tasks = tuple(t.strip() for t in args.tasks.split(",") if t.strip())
    path = None  # checked before the experiment runs, not after
    if not args.no_plot:
        path = args.plot or os.path.join(args.out_dir, "sharing.png")
        check_plot_path("--plot" if args.plot else "--out-dir", path)
    result = sharing_experiment(regions=parse_ints(args.regions, "--regions"), tasks=tasks,
                                n_train=args.n_train, steps=args.steps, seed=args.seed,
                                channels=parse_ints(args.channels, "--channels"))
    if path:
        plot(result, path)
    if args.json:
        print(json.dumps(result))
        if path:
            print(f"plot: {path}", file=sys.stderr)
    else:
        print(table(result))
        if path:
            print(f"plot: {path}")
    return 0
