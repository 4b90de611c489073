"""Placing the window on the screen, and the headless run: screenshots, the layout check, the report.

`place` shows the window at ``--window-size`` or fitted to the screen (maximised on a laptop or a
projector), in presentation mode when asked. `shoot_when_trained` waits for ``--steps`` steps to be
drawn, saves the screenshot (one per page for a name with ``{page}``), checks the layout of every
page from the real widgets (`jaxconv_viewer.gui.paging.PagingMixin.layout_report`), asks the
worker for the report and adds the layout to it, then closes the window.
"""

from __future__ import annotations

import json
import sys
import time

from PyQt6.QtCore import QSize, Qt, QTimer

from jaxconv_viewer.gui import typeface
from jaxconv_viewer.session.measures import report_lines
from jaxconv_viewer.session.startup import process_seconds

__all__ = ["place", "print_layout", "shoot_when_trained"]


def place(app, window, args):
    """Shows the window at ``--window-size``, or fitted to the screen: maximised on a laptop or
    projector screen smaller than its default size (or than the size asked, with its frame);
    presentation mode when asked. Offscreen there is no screen to fit."""
    screen = app.primaryScreen()
    real = app.platformName() != "offscreen" and screen is not None
    room = screen.availableGeometry() if real and screen is not None else None  # real: it is
    width, height = args.window_size or (window.width(), window.height())
    window.resize(width, height)
    if args.presentation and not real:  # the size asked, the type of presentation mode
        window.set_type_scale(typeface.PRESENTATION_SCALE)
    if args.presentation and real:
        window.show()
        window.set_presentation(True)
    elif room is not None and (room.width() < width + 16 or room.height() < height + 40):
        window.showMaximized()  # a laptop screen (the title bar and frame take some of it)
    else:
        window.show()


def print_layout(layout):
    """One line: what of the window does not fit, at the desktop and presentation type sizes."""
    width, height = layout["window"]
    print(f"jaxconv-viewer: layout at {width}x{height}: {len(layout['clipped'])} clipped widgets "
          f"on {len(layout['pages'])} pages, {len(layout['presentation']['clipped'])} in "
          f"presentation mode", flush=True)
    lines = [*layout["clipped"], *(f"settings open: {line}" for line in layout["settings"]),
             *(f"presentation: {line}" for line in layout["presentation"]["clipped"])]
    for line in lines[:10]:
        print(f"jaxconv-viewer:   {line}", flush=True)


def shoot_when_trained(app, window, args, outcome, started: float):
    """After ``--steps`` steps: the screenshot(s), the layout check (with ``--report``), then
    the report the worker writes; the window closes when all are done."""
    steps, path, report = args.steps, args.screenshot, args.report
    drawn = window.session.launch.setdefault("first_step_s", {})  # the report's "startup"

    def each_drawn():
        """Each column's first trained step, once a snapshot holding it is wholly drawn (the
        columns start apart, so the step every column has taken does not say it)."""
        if window.snapshot is None or window.schedule.next_jobs(1):
            return
        for kind, history in window.snapshot.history.items():
            if kind not in drawn and len(history["train"]["step"]):
                drawn[kind] = process_seconds()
                print(f"jaxconv-viewer: first step of {kind} drawn at {drawn[kind]:.2f} s",
                      flush=True)
        if len(drawn) == len(window.snapshot.history):
            poll.stop()

    poll = QTimer(window)
    poll.setInterval(20)
    poll.timeout.connect(each_drawn)
    poll.start()

    def check(*_):
        if window.shown_step >= 1 and not outcome.get("first_drawn"):  # launch to first step
            outcome["first_drawn"] = True  # (jaxconv_viewer.bench times this line)
            print(f"jaxconv-viewer: step {window.shown_step} drawn after "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
        shot = window.snapshot  # the unit shown has its fields: the pictures are of one unit
        settled = shot is not None and shot.probe.unit == window.unit and not shot.pending
        if (window.shown_step >= steps and not window.training and settled
                and not outcome.get("shooting")):
            outcome["shooting"] = True
            QTimer.singleShot(100, shoot)  # let the layout settle after the last draw

    def save(target):
        ok = window.grab().save(target)
        print(f"jaxconv-viewer: {'wrote' if ok else 'could not write'} {target} at step "
              f"{min(window.shown_step, steps)}")
        outcome["code"] = outcome["code"] or (0 if ok else 1)

    def shoot():
        if path and "{page}" in path:
            shown = window.tabs.currentIndex()
            for index, page in enumerate(window.panels.pages):
                window.show_page(index)
                app.processEvents()
                save(path.format(page=page.page.key))
            window.show_page(shown)
        elif path:
            save(path)
        if report:  # the size asked, or less where a real screen gave the window less
            width, height = args.window_size or (window.width(), window.height())
            within = QSize(min(width, window.width()), min(height, window.height()))
            outcome["layout"] = window.layout_report(within)
            if window.request("report", report):
                return  # the worker writes it between steps; `reported` closes the window
        window.close()

    def reported(served):
        if served.name != "report":
            return
        if served.error is not None:
            print(f"jaxconv-viewer: report failed: {served.error}", file=sys.stderr)
            outcome["code"] = 1
        else:
            written = json.loads(open(report, encoding="utf-8").read())
            written["layout"] = outcome["layout"]
            with open(report, "w", encoding="utf-8") as f:
                f.write(json.dumps(written, indent=1) + "\n")
            for line in report_lines(written):
                print(f"jaxconv-viewer: {line}")
            print_layout(outcome["layout"])
            print(f"jaxconv-viewer: wrote {report} at step {served.step}")
        window.close()

    def failed(error):
        if isinstance(error, FloatingPointError) and not outcome.get("shooting"):
            # Divergence: the window shows it (red status, the weights that passed the guard);
            # write the PNG of that, and exit 1.
            print(f"jaxconv-viewer: training diverged: {error}", file=sys.stderr)
            outcome["shooting"] = True
            QTimer.singleShot(100, lambda: (shoot(), outcome.update(code=1)))
            return
        print(f"jaxconv-viewer: training failed: {type(error).__name__}: {error}", file=sys.stderr)
        outcome["code"] = 1
        window.close()

    # The worker's signals come from its thread: queue them to this one (after the window's slots).
    queued = Qt.ConnectionType.QueuedConnection
    window.snapshot_drawn.connect(check)
    window.served.connect(reported)
    window.worker.state_changed.connect(check, queued)
    window.worker.failed.connect(failed, queued)
