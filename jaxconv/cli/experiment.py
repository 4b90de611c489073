"""``jaxconv experiment shift|data-size|sharing``: the lecture's claims, measured, tabled, plotted.

Each prints a markdown table (or JSON with ``--json``) and writes a PNG with matplotlib's Agg
backend (``--plot PATH``; default ``<out-dir>/<name>.png``; ``--no-plot`` to skip).
"""

from __future__ import annotations

from jaxconv.cli import dsd, sharing
from jaxconv.cli._output import claimed, emit, plot_path
from jaxconv.cli.compare import add_experiment_arguments, experiment_overrides, parse_ints
from jaxconv.cli.paths import path_arg


def register(subparsers) -> None:
    import dataclasses

    from jaxconv.config import EXPERIMENT_TRAINING

    p = subparsers.add_parser("experiment", help="run one of the lecture's claims as an experiment")
    sub = p.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    shift = sub.add_parser("shift", help="train on glyphs on the left, test on the unseen right")
    shift.add_argument("--classes", type=int, default=5, help="number of glyphs, 2-8 (default 5)")
    size = sub.add_parser("data-size", help="test accuracy against training-set size")
    size.add_argument("--sizes", default=None,
                      help="comma-separated training-set sizes (default 64,128,256,512,1024; "
                           "dsd: 16, 32, ... 8192)")
    dsd.add_arguments(size)
    size.add_argument("--dataset", default="digits", help="dataset name or path (default digits)")
    add_experiment_arguments(shift, EXPERIMENT_TRAINING)
    add_experiment_arguments(size, dataclasses.replace(EXPERIMENT_TRAINING, steps=200))
    for q in (shift, size):
        q.add_argument("--json", action="store_true", help="print the result as JSON")
        q.add_argument("--plot", type=path_arg, help="PNG path (default <out-dir>/<experiment>.png)")
        q.add_argument("--out-dir", default=".", type=path_arg, help="directory for the plot (default .)")
        q.add_argument("--no-plot", action="store_true", help="write no PNG")
        q.set_defaults(run=run)
    sharing.register(sub)


def shift_table(result: dict) -> str:
    from jaxconv.experiments import markdown_table

    rows = [[m["model"], m["params"], m["accuracy_seen"], m["accuracy_unseen"]]
            for m in result["models"]]
    return markdown_table(["model", "parameters", "accuracy, seen positions",
                           "accuracy, unseen positions"], rows)


def data_size_table(result: dict) -> str:
    from jaxconv.experiments import markdown_table

    header = ["model", "parameters", *(f"n={n}" for n in result["sizes"])]
    return markdown_table(header, [[m["model"], m["params"], *m["accuracy"]]
                                   for m in result["models"]])


def _figure():
    import matplotlib

    matplotlib.use("Agg")  # no display needed, and never Qt from jaxconv
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(figsize=(6, 3.6), dpi=100)


def plot_shift(result: dict, path: str) -> None:
    """Grouped bars: accuracy at seen and unseen positions per model, with chance marked."""
    plt, fig, ax = _figure()
    names = [m["model"] for m in result["models"]]
    for offset, split in ((-0.2, "seen"), (0.2, "unseen")):
        ax.bar([i + offset for i in range(len(names))],
               [m[f"accuracy_{split}"] for m in result["models"]], width=0.4,
               label=f"{split} positions")
    ax.axhline(result["chance"], color="gray", linestyle="--", label="chance")
    ax.set_xticks(range(len(names)), names)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("test accuracy")
    ax.set_title(f"Trained on the left half, tested on the right ({result['classes']} glyphs)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_data_size(result: dict, path: str) -> None:
    """Test accuracy against training-set size, one line per model, log-scaled sizes."""
    plt, fig, ax = _figure()
    for m in result["models"]:
        ax.plot(result["sizes"], m["accuracy"], marker="o", label=m["model"])
    ax.set_xscale("log", base=2)
    ax.set_xlabel("training images")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"{result['dataset']}: accuracy against training-set size")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run(args) -> int:
    from jaxconv import experiments

    overrides = experiment_overrides(args)
    if overrides.get("steps", 1) < 1:
        raise ValueError(f"--steps must be >= 1, got {overrides['steps']}.")
    if args.experiment == "data-size" and args.task == "dsd":
        args.seed = 0 if args.seed is None else args.seed  # --steps None: the task's default
        return dsd.run(args)
    if args.experiment == "data-size" and args.sizes is None:
        args.sizes = "64,128,256,512,1024"
    name = "shift" if args.experiment == "shift" else "data-size"
    path = plot_path(args, f"{name}.png")  # checked before the experiment runs, not after
    with claimed(path):
        if args.experiment == "shift":
            result = experiments.shift_experiment(num_classes=args.classes, **overrides)
            table, plot = shift_table, plot_shift
        else:
            result = experiments.data_size_experiment(sizes=parse_ints(args.sizes, "--sizes"),
                                                      dataset=args.dataset, **overrides)
            table, plot = data_size_table, plot_data_size
        return emit(args, result, table, plot, path)
