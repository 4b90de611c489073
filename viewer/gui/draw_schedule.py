"""`DrawSchedule`: which panel to redraw next, so no frame repaints the whole window. No Qt.

Every snapshot makes every drawing job stale; each frame runs a few stale jobs, taking turns
(round robin from the job after the last one drawn), so each panel is redrawn at the timer rate
divided by the number of jobs per frame, and a frame's cost stays small and even. The jobs are
those of the page shown (`set_jobs`): a hidden panel is not drawn.
"""

from __future__ import annotations

__all__ = ["DrawSchedule"]


class DrawSchedule:
    """Tracks the snapshot each job last drew.

    Args:
        jobs: the drawing jobs' names, in turn order.

    Example:
        >>> schedule = DrawSchedule(["a", "b", "c"])
        >>> schedule.new_snapshot(step=5); schedule.next_jobs(2)
        ['a', 'b']
        >>> _ = schedule.done("a", 5), schedule.done("b", 5)
        >>> schedule.next_jobs(2), schedule.shown
        (['c'], -1)
    """

    def __init__(self, jobs):
        self.jobs = list(jobs)
        self.version = 0
        self._drawn = {}  # job -> (version, step) it last drew
        self._turn = 0
        self.shown = -1  # the step every job has drawn (or a later one)

    def set_jobs(self, jobs) -> None:
        """Schedules ``jobs`` from now on (another page is shown); what each drew is kept."""
        self.jobs = list(jobs)
        self._turn = 0

    def new_snapshot(self, step: int) -> None:
        """A newer snapshot (of ``step``) arrived: every job is stale; ``done`` records the step."""
        del step
        self.version += 1

    def next_jobs(self, count: int) -> list:
        """Up to ``count`` stale jobs, in turn order."""
        order = self.jobs[self._turn:] + self.jobs[:self._turn]
        return [job for job in order if self._drawn.get(job, (None,))[0] != self.version][:count]

    def done(self, job, step: int) -> bool:
        """Records that ``job`` drew the current snapshot (of ``step``).

        Returns:
            True when this made `shown` move forward: every job now shows ``shown`` or later.
        """
        self._drawn[job] = (self.version, step)
        if job not in self.jobs:  # drawn for a page no longer shown
            return False
        self._turn = (self.jobs.index(job) + 1) % len(self.jobs)
        shown = min(self._drawn.get(j, (None, -1))[1] for j in self.jobs)
        moved = shown > self.shown
        self.shown = max(self.shown, shown)
        return moved

    def reset(self) -> None:
        """Forgets what was drawn (a new session starts from step 0)."""
        self._drawn.clear()
        self.shown = -1
