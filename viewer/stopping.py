"""How the viewer's runs end well: outputs checked before training, a signal said in one line.

``--report`` and ``--screenshot`` are checked writable before any training (they used to fail
after it, minutes later). SIGINT and SIGTERM (:mod:`jaxconv.cli.signals`) end ``--report`` with
the report of the steps trained so far and the window by closing it, each in one line, exit
status 130 or 143; a second signal leaves at once.
"""

from __future__ import annotations

import os
import sys

__all__ = ["CloseOnSignal", "check_outputs", "report_stopped"]


# Formats QPixmap.save writes with Qt's own plugins.
_SCREENSHOT_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "xbm", "xpm")


def check_outputs(args) -> str | None:
    """``--report`` and ``--screenshot`` writable (a folder that exists, not a directory, a
    format Qt writes), checked before the minutes of training: one line, or None."""
    from jaxconv.cli.paths import check_writable_file

    try:
        if args.report:
            check_writable_file("--report", args.report)
        if args.screenshot:
            suffix = os.path.splitext(args.screenshot)[1].lstrip(".").lower()
            if suffix not in _SCREENSHOT_FORMATS:
                return (f"--screenshot: {args.screenshot!r} has format {suffix or '(none)'!r}, "
                        f"which the screenshot cannot be written as; use one of "
                        f"{', '.join(_SCREENSHOT_FORMATS)}.")
            check_writable_file("--screenshot", args.screenshot)
    except ValueError as err:
        return str(err)
    return None


def report_stopped(session, path, stop) -> int:
    """``--report`` stopped by a signal: the report of the steps trained so far, in one line."""
    where = f"at step {session.step} of {session.settings.train.steps}"
    if session.step < 1:
        print(f"\njaxconv-viewer: stopped by {stop.name} before the first step; nothing is "
              f"written.", file=sys.stderr)
        return stop.code
    session.report(path)  # a second signal leaves at once, without it
    print(f"\njaxconv-viewer: stopped by {stop.name} {where}; wrote {path} at step "
          f"{session.step}.", file=sys.stderr)
    return stop.code


class CloseOnSignal:
    """SIGINT or SIGTERM closes the window (stopping its worker) instead of raising in a Qt slot,
    which would abort; a timer lets Python's handler run while Qt's loop waits."""

    def __init__(self, window):
        from PyQt6.QtCore import QTimer

        from jaxconv.cli import signals

        self.signum = None
        self._tick = QTimer()
        self._tick.timeout.connect(lambda: None)
        self._tick.start(200)
        signals.deliver_to(self._close(window))

    def _close(self, window):
        def close(signum):
            self.signum = signum
            window.close()
        return close

    def said(self, window) -> int:
        """0, or after a signal its exit status, having said in one line where it stopped."""
        if self.signum is None:
            return 0
        from jaxconv.cli import signals

        step = window.shown_step
        where = f"at step {step}" if step >= 1 else "before the first step was drawn"
        print(f"\njaxconv-viewer: stopped by {signals.name(self.signum)} {where}; nothing is "
              f"written (the window saves with its Save button).", file=sys.stderr)
        return 128 + self.signum
