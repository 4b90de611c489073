"""`Startup`: every column's programs made ready side by side, in the background, so that each
column trains as soon as its own step is ready, and what a launch took, from process start.

No Qt. `jaxconv_viewer.session.session.Session.prepare` starts one thread per column; each gets
the column's feature maps, then its training step, then its evaluation and the shift measures
ready (`jaxconv.train.programs.precompile`: loaded from the store of compiled programs when a
launch before wrote them, else compiled). XLA compiles without holding Python's lock, so the
columns compile at once on as many cores as there are, and the cheapest is ready first;
`Session.rounds` trains each column from the moment its step is ready and says which are still
compiling (`compiling`).
"""

from __future__ import annotations

import os
import threading
import time

__all__ = ["Startup", "process_seconds"]

_T0 = time.perf_counter()


def process_seconds() -> float:
    """Seconds since this process started (Linux: from ``/proc``; elsewhere since this module was
    imported)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _T0


class Startup:
    """The background preparation of a session's columns.

    Args:
        jobs: column -> list of callables of no arguments, run in order on the column's own
            thread; the column's step is ready once the callable at index ``step_at`` returned.
            The jobs after it wait until every column's step is ready: compiling them sooner
            held back the other columns' steps (a cold launch took 62 s to its last first step
            against 35 s, load 7-9).
        step_at: index of the job that makes the training step ready.
        threads: at most this many columns prepare at once (default: one per core); XLA
            compiles without Python's lock, and more compiles than cores only share them.

    Attributes:
        first_step_s: column -> seconds from process start until its first step was taken.
        errors: column -> the exception that stopped its preparation.
    """

    def __init__(self, jobs: dict, *, step_at: int, threads: int | None = None):
        self._jobs, self._step_at = jobs, step_at
        self._slots = threading.BoundedSemaphore(max(1, threads or os.cpu_count() or 1))
        self._ready = {kind: threading.Event() for kind in jobs}
        self._done = {kind: threading.Event() for kind in jobs}
        self._changed = threading.Condition()
        self.first_step_s: dict = {}
        self.errors: dict = {}
        self._threads = [threading.Thread(target=self._run, args=(kind,), daemon=True,
                                          name=f"jaxconv-viewer startup {kind}") for kind in jobs]

    def start(self) -> Startup:
        """Starts every column's thread; returns self."""
        for thread in self._threads:
            thread.start()
        return self

    def _run(self, kind):
        jobs = self._jobs[kind]
        try:
            with self._slots:
                for job in jobs[:self._step_at + 1]:
                    job()
            self._signal(self._ready[kind])
            for event in self._ready.values():  # the rest once every column can train
                event.wait()
            with self._slots:
                for job in jobs[self._step_at + 1:]:
                    job()
        except Exception as error:  # noqa: BLE001 - raised where the column trains (ModelFailed)
            if not self._ready[kind].is_set():  # a later program fails again where it is used
                self.errors[kind] = error
        finally:
            self._signal(self._ready[kind])
            self._signal(self._done[kind])

    def _signal(self, event):
        with self._changed:
            event.set()
            self._changed.notify_all()

    def ready(self, kind) -> bool:
        """Whether column ``kind`` may train: its step is ready (or its preparation failed, which
        its training then reports)."""
        return self._ready[kind].is_set()

    def compiling(self) -> tuple:
        """The columns whose step is not ready yet, in column order."""
        return tuple(kind for kind, event in self._ready.items() if not event.is_set())

    def wait_any(self, kinds, timeout: float | None = None) -> None:
        """Blocks until one of ``kinds`` is ready (or ``timeout`` seconds pass)."""
        with self._changed:
            self._changed.wait_for(lambda: any(self.ready(k) for k in kinds), timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Blocks until every column's preparation has ended; True if it has."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for event in self._done.values():
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not event.wait(left):
                return False
        return True

    def stepped(self, kind) -> None:
        """Records column ``kind``'s first step (once)."""
        if kind not in self.first_step_s:  # (reading /proc each step cost 0.5 ms)
            self.first_step_s[kind] = process_seconds()
