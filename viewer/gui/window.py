"""`MainWindow`: session -> worker -> panels -> pages, with menus, shortcuts and the redraw timer.

The worker trains on its own `QThread`; this window only asks it for snapshots (every other tick
of a 20 Hz `QTimer`), keeps the newest one and draws the page shown in small pieces over the next
ticks, so no single frame repaints the whole window. Which panels there are and what they draw
is one table, `jaxconv_viewer.gui.layout.PANELS`; which page shows them, another,
`jaxconv_viewer.gui.pages.PAGES` (one lesson per page, `PagingMixin`). The window has one column
per kind of its settings' ``columns``, and builds its panels again when a session with other
columns starts. Nothing here imports JAX, so the window appears before the first compile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt6.QtCore import QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut
from PyQt6.QtWidgets import QMainWindow, QMenu

from jaxconv_viewer.gui import files, layout, typeface
from jaxconv_viewer.gui.commands import SessionCommands
from jaxconv_viewer.gui.draw_schedule import DrawSchedule
from jaxconv_viewer.gui.paging import PagingMixin
from jaxconv_viewer.gui.panels.sharing import DialMixin
from jaxconv_viewer.gui.probe import ProbeMixin
from jaxconv_viewer.gui.status import StatusLine
from jaxconv_viewer.gui.worker import WorkerThreads
from jaxconv_viewer.i18n import LANGUAGES, current_language, kind_label, set_language, tr
from jaxconv_viewer.session.session import ModelFailed, Settings

if TYPE_CHECKING:
    from jaxconv_viewer.gui.panels.column import ModelColumn
    from jaxconv_viewer.gui.panels.connections import ConnectionsPanel
    from jaxconv_viewer.gui.panels.controls import ControlsPanel
    from jaxconv_viewer.gui.panels.counts import CountsPanel
    from jaxconv_viewer.gui.panels.drawing import DrawPanel
    from jaxconv_viewer.gui.panels.growth import FieldGrowth
    from jaxconv_viewer.gui.panels.input import InputPanel
    from jaxconv_viewer.gui.panels.lecture import LectureTable
    from jaxconv_viewer.gui.panels.metrics import MetricsPanel
    from jaxconv_viewer.gui.panels.sharing import SharingDial, SimilarityPanel
    from jaxconv_viewer.gui.panels.shift import ProbePanels

__all__ = ["MainWindow", "REDRAW_HZ"]

#: Frames per second of the redraw timer; a snapshot is asked for every SNAPSHOT_EVERY frames,
#: and each frame runs at most JOBS_PER_TICK drawing jobs (a column's maps, a plot's curves).
#: One job a frame: with two, a frame's jobs and the repaints they cause (a metrics plot's
#: paint alone reaches 25-35 ms) made the event loop's p99 lateness 84-93 ms against 52-54 ms
#: with one, in the same session (load average 4.3-5.6 on 2 cores); every panel still redraws
#: twice a second while training, and a new probe (a stroke, a shift, a unit) is drawn at once.
REDRAW_HZ = 20
SNAPSHOT_EVERY = 2
JOBS_PER_TICK = 1
#: How long closing waits for the worker; a thread still compiling is left to `jaxconv_viewer.__main__`.
CLOSE_WAIT_MS = 1500
#: The window's size before it is fitted to the screen (`jaxconv_viewer.__main__`).
DEFAULT_SIZE = (1600, 960)


class MainWindow(SessionCommands, DialMixin, ProbeMixin, PagingMixin, QMainWindow):
    """The viewer's window; it starts training ``settings`` at once when ``running``.

    Each panel of `jaxconv_viewer.gui.layout.PANELS` is an attribute named by its place, set by
    `build_panels` (the annotations below only tell the type checker); the pages show them.

    Signals:
        snapshot_drawn(int): every panel now shows this step (or a later one).
        served(object): a `jaxconv_viewer.gui.worker.Served`: a `request` (save, export) was carried out.
    """

    snapshot_drawn = pyqtSignal(int)
    served = pyqtSignal(object)

    if TYPE_CHECKING:
        controls: ControlsPanel
        drawing: DrawPanel
        columns: dict[str, ModelColumn]
        dial: SharingDial | None
        similarity: SimilarityPanel | None
        metrics: MetricsPanel
        probes: ProbePanels
        input: InputPanel
        connections: ConnectionsPanel
        growth: FieldGrowth
        counts: CountsPanel
        lecture: LectureTable

    def __init__(self, settings: Settings | None = None, *, running: bool = True,
                 redraw_every: int = 1):
        super().__init__()
        self.settings = settings or Settings()
        self.redraw_every = redraw_every
        self.session = self.worker = None
        self.threads = WorkerThreads(self)
        self.snapshot = self._pending = None
        self.training = False
        self.unit = None  # the `Unit` whose connections are shown (`ProbeMixin`)
        self.unit_chosen = False  # clicked by the user; until then the default unit follows
        self._drawn = 0  # version of the drawing sent to the worker
        self.status = StatusLine()
        bar = self.statusBar()
        assert bar is not None  # QMainWindow makes its status bar on first ask
        bar.addWidget(self.status, 1)
        self._make_menus()
        self._make_view_menu()
        self.build_panels()
        for key, (dy, dx) in (("Up", (-1, 0)), ("Down", (1, 0)), ("Left", (0, -1)),
                              ("Right", (0, 1))):  # once: the input panel they move may be rebuilt
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(lambda dy=dy, dx=dx: self.input.shift(dy, dx))
        self._ticks = 0
        self.timer = QTimer(self)
        self.timer.setInterval(1000 // REDRAW_HZ)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self.retranslate()
        self.resize(*DEFAULT_SIZE)
        self.start_session(self.settings, running=running)

    def build_panels(self):
        """Makes every panel of `jaxconv_viewer.gui.layout.PANELS` for ``settings.columns``, lays them
        out (the old ones go) and wires them; a new drawing schedule lists their jobs."""
        self.panels = layout.build(self)
        self.setCentralWidget(self.panels.central)  # deletes the old panels
        self.schedule = DrawSchedule(self.panels.jobs)
        self._place_controls()
        self._connect()
        self._connect_dial()
        self._page_changed(self.tabs.currentIndex())

    def _make_menus(self):
        bar = self.menuBar()
        self.file_menu = bar.addMenu("")
        self.actions = files.add_file_actions(self, self.file_menu)
        self.language_menu = QMenu(self)  # after the View menu (`_make_view_menu`)
        group = QActionGroup(self)
        for code, name in LANGUAGES.items():
            action = QAction(name, self)
            action.setCheckable(True)
            action.setChecked(code == current_language())
            action.triggered.connect(lambda _=False, code=code: self.set_language(code))
            group.addAction(action)
            self.language_menu.addAction(action)
            self.actions[f"lang_{code}"] = action

    def _connect(self):
        self.controls.start_clicked.connect(self.start)
        self.controls.pause_clicked.connect(self.pause)
        self.controls.step_clicked.connect(self.step_once)
        self.controls.reset_clicked.connect(self.reset)
        self.controls.field_rejected.connect(self.show_error)  # as typed, not only on Start
        self.controls.gradients_toggled.connect(
            lambda on: [column.set_gradients(on) for column in self.columns.values()])
        self.input.probe_changed.connect(self._probe_changed)
        self.connections.pixel_clicked.connect(self.select_pixel)
        self.drawing.drawing_changed.connect(self._drawing_changed)
        self.drawing.from_sample_clicked.connect(self._draw_from_sample)
        for column in self.columns.values():
            column.unit_clicked.connect(self.select_unit)
            column.unit_hovered.connect(self.hover_unit)
            if self.unit is not None:  # the shown unit outlined in the new columns too
                column.set_unit(self.unit)

    @property
    def shown_step(self) -> int:
        """The step every panel shows (or a later one); -1 before the first snapshot is drawn."""
        return self.schedule.shown

    # Worker signals (queued to this thread).
    def _prepared(self, counts):
        if list(counts.models) != list(self.columns):  # queued before its session was stopped
            return
        notice = getattr(self.session, "compile_notice", None)
        if notice is not None:  # stays up until a trained step is drawn
            self.status.announce(*notice)
        if getattr(self.session, "depth_note", None):  # fewer layers than asked: the fields too
            self.settings = self.session.settings
            self.controls.set_settings(self.settings, self.redraw_every)
            self.status.show_note(self.session.depth_note)
        for kind, column in self.columns.items():
            column.set_counts(counts.models[kind])
        self.counts.set_counts({kind: c.params for kind, c in counts.models.items()})
        self._dial_prepared(counts)
        self.input.set_samples(0, counts.class_names)
        self.drawing.set_shape(counts.input_shape)
        self.controls.set_available(counts.datasets)
        self._status_for(self.training, 0)
        self._update_number()

    def _snapshot_taken(self, snapshot):
        if list(snapshot.models) != list(self.columns):  # an old session's, of other columns
            return
        if self.snapshot is not None and snapshot.probe != self.snapshot.probe:
            self._pending = None
            self._show(snapshot)  # a stroke or a click answers now, not on the next tick
        else:
            self._pending = snapshot  # drawn on the next tick; older ones are simply replaced

    def _state_changed(self, running, step):
        self.training = running
        self._status_for(running, step)
        if not running and self.snapshot is not None:  # paused: the unit firing most now
            self.follow_default_unit(self.snapshot)

    def _failed(self, error):
        self.training = False  # the worker pauses on any failure
        from jaxconv.train import DivergenceError

        if isinstance(error, ModelFailed) and isinstance(error.error, DivergenceError):
            cause = error.error  # a column's model diverged (else its programs failed to build)
            self.show_error(tr("non_finite", kind=kind_label(error.kind, short=True),
                               step=cause.step, reason=cause.reason, good=cause.good_step))
        else:
            self.show_error(tr("failed", error=f"{type(error).__name__}: {error}"))

    def _served(self, served):
        if self._dial_served(served):
            pass
        elif served.error is not None:
            self.show_error(tr("not_written", path=served.args[0],
                               error=f"{type(served.error).__name__}: {served.error}"))
        else:
            self.show_status(tr("saved_at", path=served.args[0], step=served.step))
        self.served.emit(served)

    def _tick(self):
        self._ticks += 1
        if self.worker is not None and self._ticks % SNAPSHOT_EVERY == 0:
            self.worker.request_snapshot()
        snapshot, self._pending = self._pending, None
        if snapshot is not None:
            self._show(snapshot)
        if self.snapshot is None:
            return
        self.status.progress(self.training)
        for job in self.schedule.next_jobs(JOBS_PER_TICK):
            self._draw_job(job)

    def _show(self, snapshot):
        """Makes ``snapshot`` the shown one: input, predictions, connections; maps if it moved."""
        if snapshot is not None:
            probe_moved = self.snapshot is not None and snapshot.probe != self.snapshot.probe
            self.snapshot = snapshot
            self.schedule.new_snapshot(snapshot.step)
            if self.input.sample.maximum() != snapshot.num_samples - 1:
                self.input.sample.setMaximum(snapshot.num_samples - 1)
            self.follow_default_unit(snapshot)
            for panel in self.panels.each_snapshot:  # the input, the connections
                if self._visible((panel,)):
                    panel.draw(snapshot)
            if self.training:
                self._status_for(True, snapshot.step)
            if probe_moved:  # the invariance probe answers at once: every map, this frame
                for column in self.columns.values():
                    if column.features_job in self.schedule.jobs:
                        self._draw_job(column.features_job)
            if not self.schedule.jobs:  # a page drawn whole with each snapshot
                self.schedule.shown = max(self.schedule.shown, snapshot.step)
                self.snapshot_drawn.emit(self.schedule.shown)
            elif probe_moved and snapshot.step <= self.schedule.shown:
                # Another unit or input at a step already drawn: what depends on the probe was
                # drawn above, the rest is that step's (a paused window's new default unit, which
                # a --page screenshot waits for).
                self.snapshot_drawn.emit(self.schedule.shown)
            self._update_number()

    def _draw_job(self, job):
        snapshot = self.snapshot
        self.panels.job_panel[job].draw(snapshot, job)
        if self.schedule.done(job, snapshot.step):
            self.snapshot_drawn.emit(self.schedule.shown)

    # Status, language, files.
    def _status_for(self, running, step):
        trained = self.snapshot is not None and self.snapshot.step > 0
        self.status.state(running, step, trained, getattr(self.snapshot, "compiling", ()))

    def show_status(self, text):
        """Shows ``text`` in the status bar (replacing an error)."""
        self.status.show_status(text)

    def show_error(self, text):
        """Shows ``text`` in the status bar in red; it stays until the next button press."""
        self.status.show_error(text)

    def set_language(self, code: str):
        """Switches every label to language ``code`` (a key of `jaxconv_viewer.i18n.LANGUAGES`)."""
        set_language(code)
        typeface.use_for(code)
        self.actions[f"lang_{code}"].setChecked(True)
        self.set_type_scale(typeface.scale())  # every role in the new family, then the labels

    def retranslate(self):
        """Re-reads every label of the window and its panels."""
        self.setWindowTitle(tr("app_title"))
        self.file_menu.setTitle(tr("menu_file"))
        self.language_menu.setTitle(tr("menu_language"))
        for key in ("save_session", "load_session", "export_png", "export_csv", "quit"):
            self.actions[key].setText(tr(key))
        for panel in self.panels.every:
            panel.retranslate()
        self.retranslate_pages()
        if self.snapshot is not None:
            for panel in self.panels.each_snapshot:
                panel.draw(self.snapshot)
        self.status.retranslate()
        if not self.status.error and self.worker is not None:
            self._status_for(self.training, self.snapshot.step if self.snapshot else 0)

    def closeEvent(self, a0):  # noqa: N802 - Qt's name (PyQt6 calls the event a0)
        """Stops the worker and waits for its thread before the window goes."""
        assert a0 is not None  # Qt always passes the event
        self.timer.stop()
        self.stop_worker(timeout_ms=0)
        self.wait_for_threads(CLOSE_WAIT_MS)
        a0.accept()
