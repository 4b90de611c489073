"""`TrainWorker` on a real QThread, driving a fake job (no JAX): signals, pause, step, stop, errors."""

import threading

import pytest
from PyQt6.QtCore import QThread

from jaxconv_viewer.gui.worker import TrainWorker


class FakeJob:
    """Counts steps; optionally fails at a given step or stops after `limit` steps."""

    def __init__(self, fail_at=None, limit=None, fail_prepare=False):
        self.step, self.fail_at, self.limit, self.fail_prepare = 0, fail_at, limit, fail_prepare
        self.snapshots = []
        self.in_step = False
        self.during_snapshot = None  # called inside snapshot, as the GUI may at any moment

    def prepare(self):
        if self.fail_prepare:
            raise FileNotFoundError("no such dataset")
        return {"kinds": 3}

    def rounds(self):
        while self.limit is None or self.step < self.limit:
            if self.step == self.fail_at:
                self.fail_at = None
                raise FloatingPointError("loss is nan")
            self.in_step = True  # a request served now would see a half-taken step
            self.step += 1
            self.in_step = False
            yield self.step

    def save(self, directory):
        if directory == "unwritable":
            raise PermissionError(directory)
        return (directory, self.step, self.in_step, threading.current_thread())

    def snapshot(self, probe):
        if self.during_snapshot is not None:
            self.during_snapshot()
        self.snapshots.append((self.step, probe))
        return {"step": self.step, "probe": probe}


@pytest.fixture
def start(qtbot):
    threads = []

    def start_(job, **kwargs):
        thread, worker = QThread(), TrainWorker(job, **kwargs)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.finished.connect(thread.quit)
        threads.append((thread, worker))
        with qtbot.waitSignal(worker.prepared, timeout=5000) as blocker:
            thread.start()
        assert blocker.args == [{"kinds": 3}]
        return worker

    yield start_
    for thread, worker in threads:
        worker.stop()
        thread.quit()
        assert thread.wait(5000)


def test_snapshot_only_when_asked_and_newer(qtbot, start):
    job = FakeJob()
    worker = start(job)
    with qtbot.waitSignal(worker.snapshot_taken, timeout=5000) as blocker:
        worker.request_snapshot()
    assert blocker.args[0] == {"step": 0, "probe": None}
    with qtbot.waitSignal(worker.state_changed, timeout=5000) as blocker:
        worker.step_once()
    assert blocker.args == [False, 1]
    with qtbot.waitSignal(worker.snapshot_taken, timeout=5000) as blocker:
        worker.set_probe((5, 1, -1))
        worker.request_snapshot()
    assert blocker.args[0] == {"step": 1, "probe": (5, 1, -1)}
    assert len(job.snapshots) == 2


def test_resume_trains_and_pause_stops(qtbot, start):
    job = FakeJob()
    worker = start(job)
    worker.resume()
    qtbot.waitUntil(lambda: job.step > 20, timeout=5000)
    with qtbot.waitSignal(worker.state_changed, timeout=5000, check_params_cb=lambda r, s: not r):
        worker.request_snapshot()  # a pause is reported even when it lands during a snapshot
        worker.pause()
    stopped = job.step
    with qtbot.waitSignal(worker.snapshot_taken, timeout=5000) as blocker:
        worker.set_probe("moved")  # something changed, so a snapshot is due
        worker.request_snapshot()
    assert blocker.args[0] == {"step": stopped, "probe": "moved"} and job.step == stopped


def test_failure_is_reported_and_training_can_go_on(qtbot, start):
    job = FakeJob(fail_at=3)
    worker = start(job)
    with qtbot.waitSignal(worker.failed, timeout=5000) as blocker:
        worker.resume()
    assert isinstance(blocker.args[0], FloatingPointError)
    assert not worker.running and job.step == 3
    with qtbot.waitSignal(worker.state_changed, timeout=5000):
        worker.step_once()
    assert job.step == 4


def test_step_budget_pauses_without_failing(qtbot, start):
    job = FakeJob(limit=7)
    worker = start(job)
    with qtbot.assertNotEmitted(worker.failed):
        with qtbot.waitSignal(worker.state_changed, timeout=5000,
                              check_params_cb=lambda running, step: step == 7 and not running):
            worker.resume()


def test_failed_prepare_finishes(qtbot):
    thread, worker = QThread(), TrainWorker(FakeJob(fail_prepare=True))
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.finished.connect(thread.quit)
    with qtbot.waitSignals([worker.failed, worker.finished], timeout=5000):
        thread.start()
    assert thread.wait(5000)


def test_stop_while_running_ends_the_thread(qtbot, start):
    job = FakeJob()
    worker = start(job)
    worker.resume()
    qtbot.waitUntil(lambda: job.step > 5, timeout=5000)
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.stop()


def test_a_request_runs_on_the_worker_thread_between_steps(qtbot, start):
    job = FakeJob()
    worker = start(job)
    worker.resume()
    qtbot.waitUntil(lambda: job.step > 5, timeout=5000)
    with qtbot.waitSignal(worker.served, timeout=5000) as blocker:
        worker.request("save", "here")
    served = blocker.args[0]
    directory, step, in_step, thread = served.result
    assert served.name == "save" and served.args == ("here",) and served.error is None
    assert directory == "here" and not in_step and step == served.step
    assert thread is not threading.main_thread()
    assert worker.running  # training went on
    qtbot.waitUntil(lambda: job.step > step + 3, timeout=5000)


def test_a_failed_request_is_served_with_its_error_and_training_goes_on(qtbot, start):
    job = FakeJob()
    worker = start(job)
    worker.resume()
    with qtbot.assertNotEmitted(worker.failed):
        with qtbot.waitSignal(worker.served, timeout=5000) as blocker:
            worker.request("save", "unwritable")
    assert isinstance(blocker.args[0].error, PermissionError) and blocker.args[0].result is None
    assert worker.running


def test_a_request_while_paused_is_served_at_once(qtbot, start):
    job = FakeJob()
    worker = start(job)
    with qtbot.waitSignal(worker.served, timeout=5000) as blocker:
        worker.request("save", "there")
    assert blocker.args[0].result[:3] == ("there", 0, False) and job.step == 0


def test_a_request_must_name_a_method_of_the_job(start):
    worker = start(FakeJob())
    with pytest.raises(ValueError, match=r"TrainWorker.request: `name` must name a method of the "
                                         r"job, got name='delete_everything'"):
        worker.request("delete_everything")


def test_a_probe_set_during_a_snapshot_gets_a_snapshot_of_its_own(qtbot, start):
    job = FakeJob()
    worker = start(job)
    job.during_snapshot = lambda: (setattr(job, "during_snapshot", None),
                                   worker.set_probe("drawn while busy"), worker.request_snapshot())
    taken = []
    worker.snapshot_taken.connect(taken.append)
    worker.set_probe("first")
    worker.request_snapshot()
    qtbot.waitUntil(lambda: len(taken) == 2, timeout=5000)
    assert [t["probe"] for t in taken] == ["first", "drawn while busy"]


def test_a_pending_snapshot_is_followed_by_another_unasked(qtbot, start):
    # jaxconv_viewer.session.capture.take_snapshot leaves a model's first receptive fields to the next snapshot
    # and says so: the worker takes that one without waiting to be asked.
    import types

    job = FakeJob()
    made = []
    job.snapshot = lambda probe: made.append(probe) or types.SimpleNamespace(
        probe=probe, pending=len(made) == 1)
    worker = start(job)
    taken = []
    worker.snapshot_taken.connect(taken.append)
    worker.set_probe("unit")
    worker.request_snapshot()  # asked once, answered twice
    qtbot.waitUntil(lambda: len(taken) == 2, timeout=5000)
    qtbot.wait(200)
    assert [t.pending for t in taken] == [True, False] and made == ["unit", "unit"]


class MeasuredJob(FakeJob):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.measured_at = []

    def measure(self):
        self.measured_at.append((self.step, self.in_step, threading.current_thread()))
        return self.step


def test_a_paused_start_measures_the_untrained_models_unless_the_job_says_not_yet(qtbot, start):
    # Session.prepare measures nothing (the first step comes first): the worker does it, at once
    # while paused, and not before a step while a model is announced as slow to compile.
    job = MeasuredJob()
    start(job)
    qtbot.waitUntil(lambda: [step for step, _, _ in job.measured_at] == [0], timeout=5000)
    slow = MeasuredJob()
    slow.measures_untrained = False
    worker = start(slow)
    qtbot.wait(300)
    assert slow.measured_at == []
    with qtbot.waitSignal(worker.measured, timeout=5000, check_params_cb=lambda s: s == 1):
        worker.step_once()
    assert [step for step, _, _ in slow.measured_at] == [1]


def test_measures_run_between_steps_on_the_worker_thread(qtbot, start):
    job = MeasuredJob()
    worker = start(job, measure_every_s=0.0)  # paused: a step taken is measured at once
    with qtbot.waitSignal(worker.measured, timeout=10_000, check_params_cb=lambda s: s == 1):
        worker.step_once()
    with qtbot.waitSignal(worker.measured, timeout=10_000, check_params_cb=lambda s: s >= 3):
        worker.resume()
    worker.pause()
    assert all(not in_step and thread is not threading.main_thread()
               for _, in_step, thread in job.measured_at)
    assert len({step for step, _, _ in job.measured_at}) == len(job.measured_at)  # once per step


def test_while_training_measures_wait_until_the_job_is_prepared(qtbot, start):
    # A cold launch: the measures' programs compile on the start-up threads; measuring before
    # they are ready would hold the worker (and the columns' first drawn steps) until they are.
    job = MeasuredJob(limit=10_000)
    job.ready = threading.Event()
    job.preparing = lambda: not job.ready.is_set()
    worker = start(job, measure_every_s=0.0)
    qtbot.waitUntil(lambda: len(job.measured_at) == 1, timeout=5000)  # paused: at once
    worker.resume()
    qtbot.waitUntil(lambda: job.step > 50, timeout=5000)
    assert [step for step, _, _ in job.measured_at] == [0]  # the paused start's, before training
    job.ready.set()
    qtbot.waitUntil(lambda: len(job.measured_at) > 1, timeout=5000)
    worker.pause()
