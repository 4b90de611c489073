"""`SessionCommands`: what `MainWindow` tells its session and worker (start, pause, reset, load).

Every command runs on the GUI thread and returns at once: a new session is prepared on a new
worker thread (`jaxconv_viewer.gui.worker.WorkerThreads`), and whatever reads or writes the training state
is a request the worker serves between two steps (`request`). The worker's answers come back as
signals, handled by the window (`MainWindow._prepared`, `_served`, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jaxconv_viewer.gui.worker import TrainWorker
from jaxconv_viewer.i18n import tr
from jaxconv_viewer.session.fields import FieldError
from jaxconv_viewer.session.session import Session, Settings

__all__ = ["SessionCommands"]


class SessionCommands:
    """`MainWindow`'s commands: needs ``controls``, ``columns``, ``panels``, ``schedule``,
    ``status``, ``threads``, ``build_panels`` and the worker-signal slots on the window."""

    if TYPE_CHECKING:  # MainWindow's (it and QMainWindow set them), for the checker alone
        _failed: Any
        _prepared: Any
        _served: Any
        _snapshot_taken: Any
        _state_changed: Any
        _update_number: Any
        build_panels: Any
        columns: Any
        controls: Any
        panels: Any
        probe: Any
        retranslate: Any
        schedule: Any
        show_error: Any
        show_status: Any
        status: Any
        threads: Any

    def start_session(self, settings: Settings, *, restore=None, running: bool = True):
        """Stops the current session, if any, and starts training a new one; a session with
        other columns (``settings.columns``, or those a restored session saved) gets new panels.

        Raises:
            OSError, ValueError: ``restore`` holds no readable session (the current one goes on).
        """
        session = Session(settings, restore=restore)
        self.stop_worker()
        self.session = session
        rebuild = session.settings.columns != tuple(self.columns)
        self.settings = self.session.settings
        self.snapshot = self._pending = None
        if rebuild:
            self.build_panels()
            self.retranslate()
        self.schedule.reset()
        self.worker = TrainWorker(self.session, running=running, steps_between=self.redraw_every)
        self.worker.set_probe(self.probe())
        self.worker.prepared.connect(self._prepared)
        self.worker.snapshot_taken.connect(self._snapshot_taken)
        self.worker.state_changed.connect(self._state_changed)
        self.worker.failed.connect(self._failed)
        self.worker.served.connect(self._served)
        for panel in self.panels.measured:  # accuracy against shift, equivariance
            self.worker.measured.connect(panel.draw)
        self.worker.measured.connect(self._update_number)
        for column in self.columns.values():
            column.set_counts(None)
        self.training = running
        self.status.preparing(tr("preparing", dataset=settings.dataset if restore is None
                                 else restore))
        self.threads.start(self.worker)

    def stop_worker(self, timeout_ms: int = 1500) -> bool:
        """Stops training and waits for the thread; True if it ended within ``timeout_ms``."""
        worker, self.worker = self.worker, None
        return worker is None or self.threads.stop(worker, timeout_ms)

    def request(self, name: str, *args) -> bool:
        """Asks the worker to run ``session.<name>(*args)`` between two steps; False if none runs.

        The answer comes as `served` and in the status bar.
        """
        if self.worker is None or not self.threads.alive(self.worker):
            self.show_error(tr("not_written", path=args[0] if args else "", error=tr("no_session")))
            return False
        self.worker.request(name, *args)
        return True

    def wait_for_threads(self, timeout_ms: int) -> bool:
        """Waits up to ``timeout_ms`` in all for every worker thread to end; True if they all did."""
        return self.threads.wait(timeout_ms)

    def threads_running(self) -> bool:
        """Whether a worker thread has not ended yet (one stuck in a compile, after `stop_worker`),
        or a start-up thread still compiles a column's programs (the session's `preparing`)."""
        session = getattr(self, "session", None)
        return self.threads.running() or (session is not None and session.preparing())

    def _settings_from_fields(self):
        try:
            settings, redraw = self.controls.settings(self.settings)
        except FieldError as error:
            self.show_error(str(error))
            return None
        self.redraw_every = redraw
        if self.worker is not None:
            self.worker.set_steps_between(redraw)
        return settings

    def start(self):
        """Start: resume, or restart with new settings if the fields changed."""
        self.status.clear_error()
        settings = self._settings_from_fields()
        if settings is None:
            return
        alive = self.worker is not None and self.threads.alive(self.worker)
        rate = settings.train.learning_rate
        if alive and settings != self.settings and settings == self.settings.with_fields(
                learning_rate=rate):
            # Only the learning rate changed (e.g. lowered after divergence): the models go on
            # from their weights, which the guard set back to the last that passed it.
            assert self.worker is not None  # alive
            self.worker.request("set_learning_rate", rate)
            self.settings = settings
            self.training = True
            self.worker.resume()
        elif settings != self.settings or not alive:
            self.start_session(settings, running=True)  # new settings, or the last start failed
        else:
            assert self.worker is not None  # alive (or the branch above ran)
            self.training = True
            self.worker.resume()

    def pause(self):
        """Pause after the current step."""
        self.status.clear_error()
        if self.worker is not None:
            self.worker.pause()

    def step_once(self):
        """One step of each model (pauses first)."""
        self.status.clear_error()
        if self.worker is not None:
            self.worker.pause()
            self.worker.step_once()

    def reset(self):
        """Fresh models from the fields' settings, paused."""
        self.status.clear_error()
        settings = self._settings_from_fields()
        if settings is not None:
            self.start_session(settings, running=False)

    def load_session(self, directory):
        """Continues a session saved by `Session.save`, paused."""
        try:
            # Session(None, restore=...) takes the saved settings; start_session reads settings
            # only when there is nothing to restore.
            self.start_session(None, restore=directory,  # pyright: ignore[reportArgumentType]
                               running=False)
        except Exception as error:  # noqa: BLE001 - a bad folder must not end the app
            self.show_error(tr("failed", error=f"{type(error).__name__}: {error}"))
            return
        self.controls.set_settings(self.settings, self.redraw_every)
        self.show_status(tr("loaded", path=directory))
