"""The ``jaxconv`` command: one sub-command per module in this package.

Each sub-command module has ``register(subparsers)``, which adds its parser and sets ``run`` (a
function of the parsed arguments returning an exit code). Building the parser loads no JAX: the
choices come from :mod:`jaxconv.names` and each ``run`` imports what it needs (a test pins it).
A ``ValueError`` or ``TypeError`` raised by the library becomes one line on stderr and exit
status 2, like argparse's own usage errors. An ``OSError`` (a file that cannot be written, a
dataset that cannot be downloaded) or an XLA runtime error (out of memory) becomes one line and
exit status 1; ``JAXCONV_VERBOSE=1`` adds the traceback. SIGINT (Ctrl-C) and SIGTERM end
every command in one line saying where it stopped and what is kept, exit status 130 or 143
(:mod:`jaxconv.cli.signals`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from jaxconv.cli import signals

# Sub-command modules, in the order `jaxconv --help` lists them.
COMMANDS = ("info", "count", "train", "compare", "experiment", "backprop", "bench")
# Sub-commands that compile programs; they use JAX's persistent compilation cache unless told not
# to (jaxconv.backend.compile_cache). The bench times compilation, so it never reads a cached program.
CACHED = ("train", "compare", "experiment", "backprop")

# XLA's runtime errors (RESOURCE_EXHAUSTED when a buffer cannot be allocated), by name so that
# this module does not import JAX.
_RUNTIME_ERRORS = ("JaxRuntimeError", "XlaRuntimeError")


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit 2 (no usage block).

    The usage block argparse prints first buries the one line that says what is wrong;
    ``--help`` still prints it. Sub-parsers inherit the class.
    """

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every sub-command registered."""
    parser = OneLineParser(
        prog="jaxconv",
        description="Dense vs locally-connected vs convolutional layers: count, train, compare.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"jaxconv.cli.{name}").register(subparsers)
    for name in CACHED:
        subparsers.choices[name].add_argument(
            "--no-compile-cache", dest="compile_cache", action="store_false",
            help="do not read or write JAX's persistent compilation cache (also: "
                 "JAXCONV_COMPILE_CACHE=0; default ~/.cache/jaxconv/xla, bounded)")
    return parser


def main(argv=None) -> int:
    """Entry point of the ``jaxconv`` console script."""
    try:
        with signals.handled("jaxconv"):  # from the first moment: parsing can take a while
            return _main(argv)
    except signals.Stopped as stop:  # before the command started
        signals.caught()
        print(f"\njaxconv: stopped by {stop.name} while starting; nothing is kept.",
              file=sys.stderr)
        return stop.code


def _main(argv) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "compile_cache", False):
        from jaxconv.backend import compile_cache

        compile_cache.enable()
    prefix = f"jaxconv {args.command}"
    signals.named(prefix)
    try:
        return int(args.run(args) or 0)
    except signals.Stopped as stop:
        signals.caught()
        # The command said what it keeps (train), else where it was and that nothing is kept.
        print(stop.message or f"\n{prefix}: stopped by {stop.name}{signals.position(stop)}; "
                              f"nothing is kept: it writes its results only at the end.",
              file=sys.stderr)
        return stop.code
    except (ValueError, TypeError) as err:
        print(f"jaxconv {args.command}: error: {err}", file=sys.stderr)
        # A checkpoint that cannot be written (a full disk) is the machine's fault: status 1.
        return int(getattr(err, "exit_status", 2))
    except Exception as err:  # noqa: BLE001 - only these two kinds, re-raised otherwise
        # FloatingPointError: the divergence guard stopped a run (compare, experiment; train
        # reports and saves it itself).
        if not (isinstance(err, (OSError, FloatingPointError))
                or type(err).__name__ in _RUNTIME_ERRORS):
            raise
        if os.environ.get("JAXCONV_VERBOSE", "") not in ("", "0"):
            traceback.print_exception(err)
        text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"jaxconv {args.command}: error: {type(err).__name__}: {text}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
