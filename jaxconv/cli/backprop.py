"""``jaxconv backprop check``: hand-derived gradients against JAX's autodiff, op by op."""

from __future__ import annotations

import json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "backprop", help="check the hand-derived gradients of every op against autodiff")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check", help="largest relative difference from jax.vjp per op, over small configurations")
    check.add_argument("--json", action="store_true", help="print JSON")
    check.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    check.add_argument("--quick", action="store_true",
                       help="one or two configurations per op instead of the full grid")
    check.set_defaults(run=run_check)


def run_check(args) -> int:
    """Prints one line per op (or JSON); exit status 1 if any op exceeds the tolerance."""
    from jaxconv.experiments import backprop_check

    report = backprop_check.check_all(seed=args.seed, quick=args.quick)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{'op':<18} {'configs':>7}  {'max rel error':>13}  ok   (tolerance "
              f"{report['tolerance']:.0e}, precision=highest)")
        for row in report["ops"]:
            print(f"{row['op']:<18} {row['configs']:>7}  {row['max_rel_error']:>13.2e}  "
                  f"{'yes' if row['ok'] else 'NO'}")
    return 0 if all(row["ok"] for row in report["ops"]) else 1
