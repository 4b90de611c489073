"""`MainWindow`: session -> worker -> panels -> window, with menus, shortcuts and the redraw timer.

The worker trains on its own `QThread`; this window only asks it for snapshots (every other tick
of a 30 Hz `QTimer`), keeps the newest one and draws it in small pieces over the next ticks, so
no single frame repaints the whole window. Nothing here imports JAX, so the window appears before
the first compile.
"""

from __future__ import annotations

import time
from pathlib import Path

from PyQt6.QtCore import QThread, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut
from PyQt6.QtWidgets import (QFileDialog, QGridLayout, QLabel, QMainWindow, QMessageBox,
                             QWidget)

from viewer import typeface
from viewer.column import ModelColumn
from viewer.controls import ControlsPanel, FieldError
from viewer.i18n import LANGUAGES, current_language, set_language, tr
from viewer.session import Session, Settings
from viewer.shared import CountsPanel, InputPanel, MetricsPanel
from viewer.snapshot import KINDS, write_metrics_csv
from viewer.worker import TrainWorker

__all__ = ["MainWindow", "REDRAW_HZ"]

#: Frames per second of the redraw timer; a snapshot is asked for every SNAPSHOT_EVERY frames,
#: and each frame runs at most JOBS_PER_TICK drawing jobs (a column's maps, a plot's curves).
REDRAW_HZ = 30
SNAPSHOT_EVERY = 3
JOBS_PER_TICK = 2
#: How long closing waits for the worker; a thread still compiling is left to `viewer.__main__`.
CLOSE_WAIT_MS = 1500


class MainWindow(QMainWindow):
    """The viewer's window; it starts training ``settings`` at once when ``running``.

    Signals:
        snapshot_drawn(int): every panel now shows this step (or a later one).
    """

    snapshot_drawn = pyqtSignal(int)

    def __init__(self, settings: Settings | None = None, *, running: bool = True,
                 redraw_every: int = 1):
        super().__init__()
        self.settings = settings or Settings()
        self.redraw_every = redraw_every
        self.session = self.worker = self.thread_ = None
        self._threads = []  # every worker thread started, kept until it has ended
        self.snapshot = self._pending = None
        self.training = False
        self.controls = ControlsPanel(self.settings, redraw_every)
        self.columns = {kind: ModelColumn(kind) for kind in KINDS}
        self.input = InputPanel()
        self.counts = CountsPanel()
        self.metrics = MetricsPanel()
        self.status = QLabel()
        self.statusBar().addWidget(self.status, 1)
        self._lay_out()
        self._make_menus()
        self._connect()
        self._ticks = self._turn = self._version = 0
        self._drawn = {}  # drawing job -> version of the snapshot it last drew
        self._drawn_step, self._shown = {}, -1  # drawing job -> step it last drew; their minimum
        self.timer = QTimer(self)
        self.timer.setInterval(1000 // REDRAW_HZ)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self.retranslate()
        self.resize(1680, 1020)
        self.start_session(self.settings, running=running)

    def _lay_out(self):
        right = QWidget()
        box = QGridLayout(right)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.input, 0, 0)
        box.addWidget(self.counts, 1, 0)
        box.setRowStretch(0, 0)
        box.setRowStretch(1, 1)
        self.counts.setMinimumHeight(200)
        self.controls.setFixedWidth(280)
        right.setFixedWidth(280)
        grid = QGridLayout()
        grid.addWidget(self.controls, 0, 0, 2, 1)
        for i, kind in enumerate(KINDS):
            grid.addWidget(self.columns[kind], 0, 1 + i)
        grid.addWidget(right, 0, 4)
        grid.addWidget(self.metrics, 1, 1, 1, 4)
        grid.setRowStretch(0, 4)
        grid.setRowStretch(1, 1)
        self.metrics.setMinimumHeight(190)
        central = QWidget()
        central.setLayout(grid)
        self.setCentralWidget(central)

    def _make_menus(self):
        bar = self.menuBar()
        self.file_menu = bar.addMenu("")
        self.actions = {}
        for key, slot, shortcut in (("save_session", self.save_session_dialog, "Ctrl+S"),
                                    ("load_session", self.load_session_dialog, "Ctrl+O"),
                                    ("export_png", self.export_png_dialog, "Ctrl+E"),
                                    ("export_csv", self.export_csv_dialog, None),
                                    ("quit", self.close, "Ctrl+Q")):
            action = self.file_menu.addAction("")
            action.triggered.connect(slot)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            self.actions[key] = action
        self.language_menu = bar.addMenu("")
        group = QActionGroup(self)
        for code, name in LANGUAGES.items():
            action = QAction(name, self, checkable=True)
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
        self.controls.gradients_toggled.connect(
            lambda on: [column.set_gradients(on) for column in self.columns.values()])
        self.input.probe_changed.connect(self._probe_changed)
        for key, (dy, dx) in (("Up", (-1, 0)), ("Down", (1, 0)), ("Left", (0, -1)),
                              ("Right", (0, 1))):
            QShortcut(QKeySequence(key), self, activated=lambda dy=dy, dx=dx: self.input.shift(dy, dx))

    # Sessions and the worker.
    def start_session(self, settings: Settings, *, restore=None, running: bool = True):
        """Stops the current session, if any, and starts training a new one.

        Raises:
            OSError, ValueError: ``restore`` holds no readable session (the current one goes on).
        """
        session = Session(settings, restore=restore)
        self.stop_worker()
        self.session = session
        self.settings = self.session.settings
        self.snapshot = self._pending = None
        self._drawn_step, self._shown = {}, -1
        self.worker = TrainWorker(self.session, running=running, steps_between=self.redraw_every)
        self.worker.set_probe(self.input.probe())
        self.thread_ = QThread(self)
        self._threads = [t for t in self._threads if t.isRunning()] + [self.thread_]
        self.worker.moveToThread(self.thread_)
        self.thread_.started.connect(self.worker.run)
        self.worker.finished.connect(self.thread_.quit)
        self.worker.prepared.connect(self._prepared)
        self.worker.snapshot_ready.connect(self._snapshot_ready)
        self.worker.state_changed.connect(self._state_changed)
        self.worker.failed.connect(self._failed)
        for column in self.columns.values():
            column.set_counts(None)
        self.training = running
        self._show_status(tr("preparing", dataset=settings.dataset if restore is None else restore))
        self.thread_.start()

    def stop_worker(self, timeout_ms: int = 1500) -> bool:
        """Stops training and waits for the thread; True if it ended within ``timeout_ms``."""
        if self.worker is None:
            return True
        worker, thread = self.worker, self.thread_
        self.worker = None
        for signal in (worker.prepared, worker.snapshot_ready, worker.state_changed, worker.failed):
            try:
                signal.disconnect()  # a late signal from the old session must not be drawn
            except TypeError:  # nothing was connected
                pass
        worker.stop()
        thread.quit()
        return thread.wait(timeout_ms)

    @property
    def shown_step(self) -> int:
        """The step every panel shows (or a later one); -1 before the first snapshot is drawn."""
        return self._shown

    def wait_for_threads(self, timeout_ms: int) -> bool:
        """Waits up to ``timeout_ms`` in all for every worker thread to end; True if they all did."""
        deadline = time.monotonic() + timeout_ms / 1000
        for thread in self._threads:
            thread.wait(max(0, int(1000 * (deadline - time.monotonic()))))
        return not self.threads_running()

    def threads_running(self) -> bool:
        """Whether a worker thread has not ended yet (one stuck in a compile, after `stop_worker`)."""
        return any(thread.isRunning() for thread in self._threads)

    def _settings_from_fields(self):
        try:
            settings, redraw = self.controls.settings(self.settings)
        except FieldError as error:
            self._show_error(str(error))
            return None
        self.redraw_every = redraw
        if self.worker is not None:
            self.worker.set_steps_between(redraw)
        return settings

    def start(self):
        """Start: resume, or restart with new settings if the fields changed."""
        settings = self._settings_from_fields()
        if settings is None:
            return
        if settings != self.settings or self.worker is None:
            self.start_session(settings, running=True)
        else:
            self.training = True
            self.worker.resume()

    def pause(self):
        """Pause after the current step."""
        if self.worker is not None:
            self.worker.pause()

    def step_once(self):
        """One step of each model (pauses first)."""
        if self.worker is not None:
            self.worker.pause()
            self.worker.step_once()

    def reset(self):
        """Fresh models from the fields' settings, paused."""
        settings = self._settings_from_fields()
        if settings is not None:
            self.start_session(settings, running=False)

    # Worker signals (queued to this thread).
    def _prepared(self, counts):
        for kind, column in self.columns.items():
            column.set_counts(counts.models[kind])
        self.counts.set_counts({kind: counts.models[kind].params for kind in KINDS})
        self.input.set_samples(0, counts.class_names)
        self.controls.set_available(counts.datasets)
        self._status_for(self.training, 0)

    def _snapshot_ready(self, snapshot):
        self._pending = snapshot  # drawn on the next tick; older ones are simply replaced

    def _state_changed(self, running, step):
        self.training = running
        self._status_for(running, step)

    def _failed(self, error):
        kind = getattr(error, "kind", None)
        if kind is not None:
            self._show_error(tr("non_finite", kind=tr(f"short_{kind}")))
        else:
            self._show_error(tr("failed", error=f"{type(error).__name__}: {error}"))

    def _probe_changed(self, probe):
        if self.worker is not None:
            self.worker.set_probe(probe)

    def _tick(self):
        self._ticks += 1
        if self.worker is not None and self._ticks % SNAPSHOT_EVERY == 0:
            self.worker.request_snapshot()
        snapshot, self._pending = self._pending, None
        if snapshot is not None:
            probe_moved = self.snapshot is not None and snapshot.probe != self.snapshot.probe
            self.snapshot, self._version = snapshot, self._version + 1
            if self.input.sample.maximum() != snapshot.num_samples - 1:
                self.input.sample.setMaximum(snapshot.num_samples - 1)
            self.input.draw(snapshot)
            if self.training:
                self._status_for(True, snapshot.step)
            if probe_moved:  # the invariance probe answers at once: every map, this frame
                for kind in KINDS:
                    self._draw_job(kind)
        if self.snapshot is None:
            return
        # The rest takes turns, JOBS_PER_TICK per frame, so no frame repaints the whole window.
        for _ in range(JOBS_PER_TICK):
            stale = [j for j in self._job_order() if self._drawn.get(j) != self._version]
            if not stale:
                break
            self._draw_job(stale[0])
        shown = min(self._drawn_step.get(job, -1) for job in self._job_order())
        if shown > self._shown:  # every panel now shows this step or a later one
            self._shown = shown
            self.snapshot_drawn.emit(shown)

    def _job_order(self):
        """Drawing jobs, starting after the last one drawn (round robin)."""
        jobs = [*KINDS, *(f"curves_{kind}" for kind in KINDS), *MetricsPanel.PLOTS]
        turn = self._turn % len(jobs)
        return jobs[turn:] + jobs[:turn]

    def _draw_job(self, job):
        snapshot = self.snapshot
        if job in self.columns:
            self.columns[job].draw(snapshot.models[job])
        elif isinstance(job, str):
            kind = job.removeprefix("curves_")
            self.columns[kind].draw_curves(snapshot.history[kind])
        else:
            self.metrics.draw(snapshot.history, only=job)
        self._drawn[job] = self._version
        self._drawn_step[job] = snapshot.step
        jobs = [*KINDS, *(f"curves_{kind}" for kind in KINDS), *MetricsPanel.PLOTS]
        self._turn = jobs.index(job) + 1

    # Status, language, files.
    def _status_for(self, running, step):
        self._show_status(tr("running" if running else "paused", step=step))

    def _show_status(self, text):
        self.status.setStyleSheet("")
        self.status.setText(text)

    def _show_error(self, text):
        self.status.setStyleSheet("color: #b00020; font-weight: bold;")
        self.status.setText(text)

    def set_language(self, code: str):
        """Switches every label to language ``code`` (a key of `viewer.i18n.LANGUAGES`)."""
        set_language(code)
        typeface.use_for(code)
        self.actions[f"lang_{code}"].setChecked(True)
        self.retranslate()

    def retranslate(self):
        """Re-reads every label of the window and its panels."""
        self.setWindowTitle(tr("app_title"))
        self.file_menu.setTitle(tr("menu_file"))
        self.language_menu.setTitle(tr("menu_language"))
        for key in ("save_session", "load_session", "export_png", "export_csv", "quit"):
            self.actions[key].setText(tr(key))
        for panel in (self.controls, *self.columns.values(), self.input, self.counts, self.metrics):
            panel.retranslate()
        if self.snapshot is not None:
            self.input.draw(self.snapshot)
        if self.status.styleSheet() == "" and self.worker is not None:
            self._status_for(self.training, self.snapshot.step if self.snapshot else 0)

    def export_panels(self, directory) -> list[Path]:
        """Saves the window and each panel as PNG files in ``directory``; returns their paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        panels = {"window": self, "input": self.input, "counts": self.counts,
                  "metrics": self.metrics, **{f"column_{k}": c for k, c in self.columns.items()}}
        paths = []
        for name, widget in panels.items():
            path = directory / f"{name}.png"
            if not widget.grab().save(str(path)):
                raise OSError(f"export_panels: could not write {str(path)!r}.")
            paths.append(path)
        return paths

    def export_csv(self, path) -> int:
        """Writes every model's metrics to ``path``; returns the number of rows."""
        return write_metrics_csv(path, self.session.history)

    def _guard(self, action, *args):
        try:
            result = action(*args)
        except Exception as error:  # noqa: BLE001 - a file error must not end the app
            self._show_error(tr("failed", error=f"{type(error).__name__}: {error}"))
            QMessageBox.warning(self, tr("error"), str(error))
            return None
        self._show_status(tr("saved", path=args[0]))
        return result

    def export_png_dialog(self):
        directory = QFileDialog.getExistingDirectory(self, tr("choose_folder"))
        if directory:
            self._guard(self.export_panels, directory)

    def export_csv_dialog(self):
        path, _ = QFileDialog.getSaveFileName(self, tr("export_csv"), "metrics.csv", "CSV (*.csv)")
        if path:
            self._guard(self.export_csv, path)

    def save_session_dialog(self):
        directory = QFileDialog.getExistingDirectory(self, tr("save_session"))
        if directory:
            self._guard(self.session.save, directory)

    def load_session_dialog(self):
        directory = QFileDialog.getExistingDirectory(self, tr("load_session"))
        if directory:
            self.load_session(directory)

    def load_session(self, directory):
        """Continues a session saved by `Session.save`, paused."""
        try:
            self.start_session(None, restore=directory, running=False)
        except Exception as error:  # noqa: BLE001 - a bad folder must not end the app
            self._show_error(tr("failed", error=f"{type(error).__name__}: {error}"))
            return
        self.controls.set_settings(self.settings, self.redraw_every)
        self._show_status(tr("loaded", path=directory))

    def closeEvent(self, event):  # noqa: N802 - Qt's name
        """Stops the worker and waits for its thread before the window goes."""
        self.timer.stop()
        self.stop_worker(timeout_ms=0)
        self.wait_for_threads(CLOSE_WAIT_MS)
        event.accept()
