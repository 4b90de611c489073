"""`TrainWorker`: drives a training job's generator on a `QThread`, handing snapshots to the GUI.

The job is any object with three methods, all called on the worker's thread:

- ``prepare()``: the slow start (import JAX, load the data, build and compile); its return value
  is emitted as `prepared`.
- ``rounds()``: a plain generator; each ``next`` trains every model one step and yields the step.
- ``snapshot(probe)``: host numpy copies of what the panels draw, for input ``probe``; one
  whose ``pending`` attribute is True is followed by another without being asked for.
- ``measure()`` (optional): the accuracy-against-shift and equivariance measures, run every
  ``measure_every_s`` seconds while training (or less often: never more than a fifth of the time
  goes to it) and after every paused step; emitted as `measured`. A paused start measures at
  once, unless the job's ``measures_untrained`` (optional, default True) is False; never while
  the job's ``compiling()`` (optional) names a model whose step is not ready yet.
- any other method named in `TrainWorker.request` (the viewer's ``save``, ``export_metrics``):
  whatever reads or writes the training state runs here, between steps, never beside one.

The worker checks its commands between yields (napari's ``GeneratorWorker`` shape). It never
touches a widget: it emits signals, which Qt queues to the GUI thread. Snapshots are made only
when the GUI asks (`request_snapshot`, called from the redraw timer) and something changed, so
the device-to-host copies run at the redraw rate, not at the step rate.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import traceback

from PyQt6.QtCore import QObject, QThread, pyqtSignal

__all__ = ["Served", "TrainWorker", "WorkerThreads"]


@dataclasses.dataclass(frozen=True)
class Served:
    """What `TrainWorker.request` asked for and got.

    Attributes:
        name: the job's method that ran.
        args: its arguments.
        result: what it returned (None when it raised).
        error: the exception it raised, or None.
        step: the worker's last step when it ran: the state it read or wrote is that step's.
    """

    name: str
    args: tuple
    result: object
    error: BaseException | None
    step: int


class TrainWorker(QObject):
    """Runs ``job`` on whatever thread `run` is called on (normally a `QThread`).

    Signals:
        prepared(object): ``job.prepare()``'s result, once.
        snapshot_taken(object): ``job.snapshot(probe)``'s result.
        state_changed(bool, int): whether it is running, and the last step.
        failed(object): an exception from the job; training pauses, the worker stays alive.
        measured(object): ``job.measure()``'s result (when the job has ``measure``).
        served(object): a `Served`, once per `request`, whether or not the call raised (a failed
            save does not pause training).
        finished(): `run` returned (after `stop`, or when ``prepare`` failed).

    Example:
        >>> thread = QThread(); worker = TrainWorker(job); worker.moveToThread(thread)
        >>> thread.started.connect(worker.run); thread.start(); worker.resume()
    """

    prepared = pyqtSignal(object)
    snapshot_taken = pyqtSignal(object)
    state_changed = pyqtSignal(bool, int)
    failed = pyqtSignal(object)
    served = pyqtSignal(object)
    measured = pyqtSignal(object)
    finished = pyqtSignal()

    def __init__(self, job, *, running: bool = False, steps_between: int = 1,
                 measure_every_s: float = 3.0):
        super().__init__()
        self.job = job
        self._cond = threading.Condition()
        self._running = running
        self._pending = 0  # single steps asked for while paused
        self._stop = False
        self._wanted = False  # the GUI asked for a snapshot
        self._dirty = True  # something changed since the last snapshot
        self._since = 0  # steps since the last snapshot
        self._steps_between = max(1, int(steps_between))
        self._probe = None
        self._requests = []  # (name, args) for job methods to run between steps
        self._reported = None  # the last (running, step) reported by state_changed
        self._measures = callable(getattr(job, "measure", None))
        self._measure_every_s = float(measure_every_s)
        self._measured = (None, -float("inf"), 0.0)  # the step last measured, when, how long it took
        self.step = 0

    # Commands: called from the GUI thread, thread-safe.
    def _command(self, **changes):
        with self._cond:
            for name, value in changes.items():
                setattr(self, name, value)
            self._cond.notify_all()

    def resume(self):
        """Trains continuously."""
        self._command(_running=True)

    def pause(self):
        """Stops after the current step."""
        self._command(_running=False)

    def step_once(self):
        """Trains one step of every model (while paused)."""
        with self._cond:
            self._pending += 1
            self._cond.notify_all()

    def stop(self):
        """Makes `run` return after the current step; the thread may then quit."""
        self._command(_stop=True, _running=False)

    def request_snapshot(self):
        """Asks for one snapshot, sent once something has changed."""
        self._command(_wanted=True)

    def set_probe(self, probe):
        """Sets what ``job.snapshot`` draws (the selected input and its shift); redraws at once."""
        self._command(_probe=probe, _dirty=True, _since=self._steps_between)

    def request(self, name: str, *args):
        """Runs ``job.<name>(*args)`` on the worker thread between two steps; answers `served`.

        Saving or exporting while the worker trains must not read the states mid-step: a request
        waits for the step in flight, runs before the next one, and the step it saw is reported.
        """
        if not isinstance(name, str) or not callable(getattr(self.job, name, None)):
            raise ValueError(f"TrainWorker.request: `name` must name a method of the job, got "
                             f"name={name!r}.")
        with self._cond:
            self._requests.append((name, args))
            self._cond.notify_all()

    def set_steps_between(self, steps: int):
        """While running, take a snapshot at most every ``steps`` steps."""
        self._command(_steps_between=max(1, int(steps)))

    @property
    def running(self) -> bool:
        """Whether it trains continuously now."""
        return self._running

    # The loop: runs on the worker thread.
    def _next_action(self):
        with self._cond:
            while not self._stop:
                if self._requests:
                    return "request", self._requests.pop(0)
                step, at, took = self._measured
                if self._measures and step != self.step and not self._compiling() and (
                        not self._running or not self._preparing()) and (
                        not self._running
                        or time.monotonic() - at >= max(self._measure_every_s, 4 * took)):
                    return "measure", None
                snap = self._wanted and self._dirty and (
                    self._since >= self._steps_between or not self._running)
                if snap:
                    self._wanted = False
                    return "snapshot", self._probe
                if self._running or self._pending:
                    if self._running:
                        self._report(True)
                    self._pending = max(0, self._pending - 1)
                    return "step", None
                self._report(False)  # every pause is reported, whatever it interrupted
                self._cond.wait()
            return "stop", None

    def _compiling(self) -> bool:
        """Whether some model's step still compiles (the job's optional ``compiling()``): its
        measures wait, so that measuring never holds back a model that could start training."""
        return self._job_says("compiling")

    def _preparing(self) -> bool:
        """Whether the job's programs are still being made ready elsewhere (its optional
        ``preparing()``): while it trains, its measures wait for them instead of holding back
        the snapshots (a cold launch drew its last column's first step 6-9 s later)."""
        return self._job_says("preparing")

    def _job_says(self, name: str) -> bool:
        """The job's optional query ``name()`` as a bool; False where the job has none."""
        query = getattr(self.job, name, None)
        return bool(query()) if callable(query) else False

    def _report(self, running: bool):
        """Emits `state_changed` when running starts or stops, or the paused step moves."""
        key = (running, None if running else self.step)
        if key != self._reported:
            self._reported = key
            self.state_changed.emit(running, self.step)

    def run(self):
        """Prepares the job, then steps and snapshots as commanded until `stop`."""
        try:
            try:
                self.prepared.emit(self.job.prepare())
            except Exception as error:  # noqa: BLE001 - any failure is shown, never raised into Qt
                self._fail(error)
                return
            rounds = self.job.rounds()
            # Training starts first: the first measure (and its compile) comes a period after
            # the first step has been taken (itself a compile), or at once while paused (before
            # any step only if the job's ``measures_untrained`` allows it).
            untrained = getattr(self.job, "measures_untrained", True)
            self._measured = (None if untrained else self.step, float("inf"), 0.0)
            while True:
                action, payload = self._next_action()
                if action == "stop":
                    return
                if action == "request":
                    assert payload is not None  # a request is (name, args)
                    self._serve(*payload)
                    if payload[0] in getattr(self.job, "RESTARTS_ROUNDS", ()):
                        rounds = self.job.rounds()  # later steps use the changed settings
                    continue
                if action == "measure":
                    began = time.monotonic()
                    try:
                        self.measured.emit(self.job.measure())
                    except Exception as error:  # noqa: BLE001
                        self._fail(error)
                    now = time.monotonic()  # the first call compiles: not a measure of cost
                    first = self._measured[0] is None
                    self._measured = (self.step, now, 0.0 if first else now - began)
                    continue
                if action == "snapshot":
                    snapshot = None
                    try:
                        snapshot = self.job.snapshot(payload)
                        self.snapshot_taken.emit(snapshot)
                    except Exception as error:  # noqa: BLE001
                        self._fail(error)
                    with self._cond:  # a probe set during the snapshot still wants its own;
                        # a pending snapshot (a part left to the next one) wants the next, unasked
                        pending = bool(getattr(snapshot, "pending", False))
                        self._dirty, self._since = self._probe is not payload or pending, 0
                        self._wanted = self._wanted or pending
                    continue
                try:
                    self.step = next(rounds)
                except StopIteration:  # the job's step budget is spent: pause there
                    rounds = self.job.rounds()
                    self._command(_running=False, _pending=0)
                    continue
                except Exception as error:  # noqa: BLE001 - NaN, bad settings: shown, not raised
                    rounds = self.job.rounds()  # the job resumes from its last good state
                    self._fail(error)
                    continue
                with self._cond:
                    self._dirty, self._since = True, self._since + 1
                    if self._measured[1] == float("inf"):
                        self._measured = (None, time.monotonic(), 0.0)
        finally:
            self.finished.emit()

    def _serve(self, name, args):
        try:
            result, error = getattr(self.job, name)(*args), None
        except Exception as caught:  # noqa: BLE001 - reported to the GUI, training goes on
            traceback.print_exception(caught)
            result, error = None, caught
        self.served.emit(Served(name, args, result, error, self.step))

    def _fail(self, error):
        if not isinstance(error, FloatingPointError):  # divergence is an event, not a crash
            traceback.print_exception(error)
        with self._cond:
            self._running, self._pending = False, 0
            # Nothing new to measure until a step succeeds (and no compile to wait for on close).
            self._measured = (self.step, time.monotonic(), self._measured[2])
        self.failed.emit(error)


class WorkerThreads:
    """Runs each `TrainWorker` on its own `QThread`, and keeps every thread until it has ended.

    A stopped worker may still be inside a step or a compile, which cannot be interrupted; its
    thread is kept (a `QThread` destroyed while running aborts the process) and waited for by
    `wait`.

    Args:
        parent: the `QObject` owning the threads (the window).
    """

    def __init__(self, parent):
        self.parent = parent
        self.threads = {}  # worker -> its thread

    def start(self, worker: TrainWorker) -> QThread:
        """Moves ``worker`` to a new thread and starts it."""
        self.threads = {w: t for w, t in self.threads.items() if t.isRunning()}
        thread = QThread(self.parent)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.finished.connect(thread.quit)
        self.threads[worker] = thread
        thread.start()
        return thread

    def stop(self, worker: TrainWorker, timeout_ms: int) -> bool:
        """Disconnects ``worker``'s signals, stops it; True if its thread ended within the time."""
        for signal in (worker.prepared, worker.snapshot_taken, worker.state_changed, worker.failed,
                       worker.served, worker.measured):
            try:
                signal.disconnect()  # a late signal from an old session must not be drawn
            except TypeError:  # nothing was connected
                pass
        worker.stop()
        thread = self.threads[worker]
        thread.quit()
        return thread.wait(timeout_ms)

    def wait(self, timeout_ms: int) -> bool:
        """Waits up to ``timeout_ms`` in all for every thread; True if they all ended."""
        deadline = time.monotonic() + timeout_ms / 1000
        for thread in self.threads.values():
            thread.wait(max(0, int(1000 * (deadline - time.monotonic()))))
        return not self.running()

    def alive(self, worker: TrainWorker) -> bool:
        """Whether ``worker``'s thread still runs (it ends when ``prepare`` failed, or on stop)."""
        thread = self.threads.get(worker)
        return thread is not None and thread.isRunning()

    def running(self) -> bool:
        """Whether some thread has not ended yet."""
        return any(thread.isRunning() for thread in self.threads.values())
