"""`StatusLine`: the window's status-bar text: the training state, an error, or a long compile.

Three kinds of text, in order of precedence: an error (red) stays until the next button press;
a long-compile notice (`announce`, from `jaxconv.train.preflight.compile_warning`) stays until a
trained step is drawn, and while training runs it counts the seconds the compile has taken so
far (XLA reports no progress of its own, so the time is the progress shown); otherwise the
training state ("Training — step 12", "Paused at step 12").
"""

from __future__ import annotations

import time

from jaxconv_viewer.gui.wrapped import WrapLabel
from jaxconv_viewer.i18n import kind_label, tr

__all__ = ["StatusLine"]


class StatusLine(WrapLabel):
    """The status bar's label; ``text()`` is what the user reads (a long error wraps: the bar
    grows a line rather than cut it)."""

    def __init__(self, parent=None):
        super().__init__(parent=parent)
        self.error = False  # an error is up: it stays until the next button press
        self._notice = None  # the long-compile notice, while it is up
        self._began = None  # when training started under the notice (monotonic seconds)
        self._shown_seconds = None

    def setText(self, a0: str | None):  # noqa: N802 - Qt's names
        """Shows ``a0``; the status bar grows to the lines it takes."""
        super().setText(a0)
        self._fit_bar()

    def resizeEvent(self, a0):  # noqa: N802 - Qt's name (PyQt6 calls the event a0)
        """Another width may take another number of lines."""
        super().resizeEvent(a0)
        self._fit_bar()

    def _fit_bar(self):
        # A status bar sizes itself to its widgets once, when they are added; a message that
        # wraps to a second line later would be cut, so its minimum follows the text.
        bar = self.parentWidget()
        if bar is not None and self.width() > 0:
            needed = self.heightForWidth(self.width()) + bar.height() - self.height()
            if needed != bar.minimumHeight():
                bar.setMinimumHeight(max(0, needed))

    @property
    def compiling(self) -> bool:
        """Whether a long-compile notice is up."""
        return self._notice is not None

    def show_status(self, text: str):
        """Shows ``text`` (replacing an error)."""
        self.error = False
        self.setStyleSheet("")
        self.setText(text)

    def show_error(self, text: str):
        """Shows ``text`` in red; it stays until `show_status` or `clear_error`."""
        self.error = True
        self.setStyleSheet("color: #b00020; font-weight: bold;")
        self.setText(text)

    def show_note(self, text: str):
        """Shows ``text`` in dark amber, kept as an error is: a setting was changed to fit."""
        self.error = True
        self.setStyleSheet("color: #8a5a00; font-weight: bold;")
        self.setText(text)

    def clear_error(self):
        """A button was pressed: the next state line may replace the error."""
        self.error = False

    def preparing(self, text: str):
        """A new session starts: shows ``text``; an old session's notice is gone."""
        self._notice = None
        self.show_status(text)

    def announce(self, kind: str, notice: str):
        """Shows that column ``kind``'s compile is expected to be long (unless an error is up)."""
        self._notice, self._began, self._shown_seconds = (kind, notice), None, None
        if not self.error:
            self.show_status(self._notice_text())

    def progress(self, running: bool):
        """Called every frame: while training runs under a notice, the seconds it has taken."""
        if self._notice is None or self.error or not running:
            return
        now = time.monotonic()
        if self._began is None:
            self._began = now
        seconds = int(now - self._began)
        if seconds != self._shown_seconds:
            self._shown_seconds = seconds
            self.show_status(self._notice_text(seconds))

    def state(self, running: bool, step: int, trained: bool, compiling=()):
        """The state line, unless an error is up, or a notice whose compile has not ended.

        Args:
            running: training runs.
            step: the last step.
            trained: a trained step (step >= 1) has been drawn, so every compile has ended.
            compiling: the columns whose step still compiles (the others already train).
        """
        if self._notice is not None:
            if not trained:
                return
            self._notice = None
        if not self.error:
            text = tr("running" if running else "paused", step=step)
            if compiling:
                kinds = ", ".join(kind_label(kind, short=True) for kind in compiling)
                text = tr("still_compiling", text=text, kinds=kinds)
            self.show_status(text)

    def retranslate(self):
        """The notice in the current language (the state line is redrawn by `state`)."""
        if self._notice is not None and not self.error:
            self.show_status(self._notice_text(self._shown_seconds))

    def _notice_text(self, seconds=None) -> str:
        assert self._notice is not None  # its callers show a notice that is up
        kind, notice = self._notice
        text = tr("compile_long", kind=kind_label(kind, short=True), notice=notice)
        return text if seconds is None else f"{text} {tr('compiling_for', seconds=seconds)}"
