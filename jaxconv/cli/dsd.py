"""``jaxconv experiment data-size --task dsd``: samples to a target accuracy on Lahoti et al.'s DSD.

Prints a markdown table (or JSON with ``--json``: :func:`jaxconv.experiments.dsd.dsd_experiment`'s dict) and
writes a PNG of the measured samples against d (or k), log-log, with the slopes the bounds
predict drawn through each kind's first measured point.
"""

from __future__ import annotations

from jaxconv.cli._output import claimed, emit, plot_path
from jaxconv.cli.compare import parse_ints

TASKS = ("dataset", "dsd")


def add_arguments(parser) -> None:
    """The DSD flags of ``jaxconv experiment data-size``."""
    parser.add_argument("--task", choices=TASKS, default="dataset",
                        help="dataset: accuracy against training-set size on --dataset (default); "
                             "dsd: samples to reach --target on Lahoti et al.'s Dynamic Signal "
                             "Distribution, conv vs local vs dense")
    parser.add_argument("--vary", choices=("d", "k"), default="d",
                        help="dsd: vary the patch dimension d (default) or the patch count k")
    parser.add_argument("--values", default="4,8,16,32",
                        help="dsd: values of the varied quantity (default 4,8,16,32)")
    parser.add_argument("--fixed", type=int, default=4,
                        help="dsd: the other quantity (default 4)")
    parser.add_argument("--kinds", default="conv,local,dense",
                        help="dsd: which kinds, comma-separated (default conv,local,dense)")
    parser.add_argument("--target", type=float, default=0.85,
                        help="dsd: test accuracy to reach (default 0.85)")


def table(result: dict) -> str:
    from jaxconv.experiments import markdown_table

    v = result["vary"]
    header = ["kind", *(f"{v}={x}" for x in result["values"]), "slope", "predicted slope"]
    rows = [[r["kind"], *(None if n is None else round(n) for n in r["samples"]), r["slope"],
             r["predicted_slope"]] for r in result["kinds"]]
    other = "k" if v == "d" else "d"
    return (f"samples to reach test accuracy {result['target']} ({other}={result['fixed']}, "
            f"{result['steps']} steps, seeds {result['seeds']}):\n\n" + markdown_table(header, rows))


def plot(result: dict, path: str) -> None:
    """Measured samples against the varied quantity, log-log, with the predicted slopes."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed, and never Qt from jaxconv
    import matplotlib.pyplot as plt

    from jaxconv.experiments.dsd import predicted_curve

    fig, ax = plt.subplots(figsize=(6, 3.8), dpi=100)
    values = result["values"]
    for i, row in enumerate(result["kinds"]):
        found = [(v, n) for v, n in zip(values, row["samples"]) if n is not None]
        if not found:
            continue
        color = f"C{i}"
        ax.plot(*zip(*found), marker="o", color=color,
                label=f"{row['kind']} measured (slope {row['slope'] or 0:.2f})")
        curve = predicted_curve(row["kind"], result["vary"], result["fixed"], values, *found[0])
        ax.plot(values, curve, linestyle="--", color=color,
                label=f"{row['kind']} predicted (slope {row['predicted_slope'] or 0:.2f})")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    other = "k" if result["vary"] == "d" else "d"
    ax.set_xlabel(f"{result['vary']} ({other} = {result['fixed']})")
    ax.set_ylabel(f"samples to {result['target']} test accuracy")
    ax.set_title("DSD: conv ~ k + d, local ~ k d, dense ~ k^2 d (Lahoti et al. 2024)", fontsize=9)
    if ax.get_legend_handles_labels()[0]:  # nothing to label when no kind reached the target
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run(args) -> int:
    from jaxconv.experiments.dsd import dsd_experiment

    path = plot_path(args, "data-size-dsd.png")  # checked before the experiment runs, not after
    sizes = None if args.sizes is None else parse_ints(args.sizes, "--sizes")
    with claimed(path):
        result = dsd_experiment(vary=args.vary, values=parse_ints(args.values, "--values"),
                                fixed=args.fixed, target=args.target, sizes=sizes,
                                steps=args.steps, seeds=(args.seed,),
                                kinds=tuple(k.strip() for k in args.kinds.split(",") if k.strip()))
        return emit(args, result, table, plot, path)
