"""`Session`: models of matched topology trained side by side, the job `TrainWorker` drives.

No Qt here. JAX and the jaxconv training pieces are imported in `Session.prepare`, which runs on
the worker thread, so the window appears before JAX has loaded. One model per column
(``settings.columns``: dense, local and conv unless told otherwise); each ``next`` of
`Session.rounds` trains them the same steps through `jaxconv.train.fit`: one step each at first,
then as many per compiled dispatch as make a dispatch take a few milliseconds (the same number
for all, so their states are current at every yield). A model's "wall
time" is the time spent inside its own training steps, so the time axis compares the kinds' speed;
a step that compiled or ran the test-set evaluation counts as an average step instead.
What the panels draw is made by `jaxconv_viewer.session.capture`; saving and restoring is
`jaxconv_viewer.session.store`.
"""

from __future__ import annotations

import dataclasses
import json
import time
import warnings
from pathlib import Path

import numpy as np

from jaxconv_viewer.session.capture import shift_one
from jaxconv_viewer.session.settings import HEADS, Settings, fit_depth
from jaxconv_viewer.session.snapshot import Counts, History, Snapshot

__all__ = ["HEADS", "ModelFailed", "Session", "Settings", "shift_one"]


class ModelFailed(RuntimeError):
    """One column's model failed; ``kind`` names the column and ``error`` is what its training
    raised."""

    def __init__(self, kind: str, error: BaseException):
        super().__init__(f"{kind}: {type(error).__name__}: {error}")
        self.kind, self.error = kind, error

# fit's long-compile warning is shown in the status line instead (Session.compile_notice).
warnings.filterwarnings("ignore", message="fit: compiling may take", module=r"viewer\.session")


class Session:
    """Trains the columns' models in lockstep and makes `Snapshot`s of them.

    Args:
        settings: a `Settings`.
        restore: a directory written by `save` to continue from (its settings are used).

    Attributes:
        settings: the `Settings` trained (``prepare`` may cut the depth to fit the images).
        models, states, grads: column -> model, train state, last gradients.
        feature_fns: column -> compiled ``(params, x) -> {layer: activation}``.
        train_time: column -> seconds spent in its own training steps (the time axis).
        history: column -> `History` of its metrics.
    """

    def __init__(self, settings: Settings | None = None, *, restore=None):
        if restore is not None:
            saved = json.loads((Path(restore) / "session.json").read_text(encoding="utf-8"))
            settings = Settings.from_json(saved["settings"])
        self.settings = settings or Settings()
        self.restore_dir = restore
        self.step = 0
        self.dataset = self.counts = self.prober = self.depth_note = None
        self.compile_notice = self._unmeasured = None
        self.measures = []  # every ProbeResult so far, oldest first
        self.models, self.states, self.grads, self.feature_fns = {}, {}, {}, {}
        self.fields_asked = set()  # models asked for receptive fields (jaxconv_viewer.session.capture.take_snapshot)
        self.history = {kind: History() for kind in self.settings.columns}
        # What the launch took, from process start: the window fills "window_s" and the time
        # each column's first step was drawn ("first_step_s"); see `startup_report`.
        self.launch: dict = {}
        self.train_time = {kind: 0.0 for kind in self.settings.columns}

    def prepare(self) -> Counts:
        """Loads the data, builds and counts the models, makes their initial (or restored) states."""
        from jaxconv.backend import compile_cache

        compile_cache.enable()  # before the first compile; JAXCONV_COMPILE_CACHE=0 turns it off

        from jaxconv import data, train
        from jaxconv_viewer.session import columns as building

        s = self.settings
        # Never download from the viewer: a set that is not cached fails at once, with a message.
        self.dataset = data.load(s.dataset, seed=s.train.seed, n_train=s.n_train, n_test=s.n_test,
                                 download=False)
        # The default depth suits 28x28 images: on smaller ones, as many layers as fit, said.
        self.settings, self.depth_note = fit_depth(s, self.dataset.input_shape, s.dataset)
        if self.restore_dir is not None:  # the dial's column as it was saved (jaxconv_viewer.session.columns)
            self.settings = building.restored_settings(self.settings, self.restore_dir)
        s = self.settings
        tx = train.make_tx(s.train)  # the transform fit trains with: its state's structure
        counted = {}
        self.compile_notice = None
        for kind in s.columns:  # the dial's column's kind follows the dial (jaxconv_viewer.session.columns)
            column = building.build_column(self, kind, tx)
            if column.notice and self.compile_notice is None:  # e.g. 100x100 window on 8x8 digits
                self.compile_notice = (kind, column.notice)
            self.models[kind], self.states[kind] = column.model, column.state
            counted[kind], self.feature_fns[kind] = column.counts, column.features
        if self.restore_dir is not None:
            self._restore(train)
        from jaxconv_viewer.session.measures import Prober

        self.prober = Prober(self.models, self.dataset)
        self.startup = self._start_programs()
        # Not measured (nor compiled) here: the first trained step comes first, and the worker's
        # first `measure` measures these starting parameters too, as the panels' first point.
        # Closing the window during that compile does not wait for it (jaxconv_viewer.__main__).
        self._unmeasured = (self.step, self._params())
        self.counts = Counts(counted, self.dataset.input_shape, self.dataset.class_names,
                             self.dataset.name, {name: data.is_cached(name) for name in data.DATASETS})
        return self.counts

    def _start_programs(self):
        """Gets every column's programs ready in the background, each on its own thread
        (`jaxconv_viewer.session.startup`): its feature maps (every column's first drawing needs
        them), its training step, its evaluation and its shift measures."""
        import jax

        from jaxconv.train import programs
        from jaxconv_viewer.session.startup import Startup

        assert self.dataset is not None and self.prober is not None  # start() sets both
        prober = self.prober
        config, shape = self._fit_config(1), self.dataset.input_shape
        image = jax.ShapeDtypeStruct((1, *shape), np.float32)
        tests = len(self.dataset.y_test)

        def column_jobs(kind):
            model, state = self.models[kind], self.states[kind]
            return [lambda: self.feature_fns[kind].prepare(state.params, image),
                    lambda: programs.precompile(model, shape, config, state=state,
                                                test_examples=tests),
                    lambda: prober.prepare(kind, state.params)]  # once all can train

        return Startup({kind: column_jobs(kind) for kind in self.settings.columns},
                       step_at=1).start()

    def compiling(self) -> tuple:
        """The columns whose training step is still compiling (they start when it is ready)."""
        startup = getattr(self, "startup", None)
        return () if startup is None else startup.compiling()

    def preparing(self) -> bool:
        """Whether some column's programs (its evaluation, its shift measures) are still being
        made ready on the start-up threads; the worker measures once they are."""
        startup = getattr(self, "startup", None)
        return startup is not None and not startup.wait(0)

    @property
    def measures_untrained(self) -> bool:
        """Whether the worker may measure before the first step (while paused at the start):
        not while a model is announced as slow to compile (`compile_notice`); its measures
        compile once it has trained."""
        return self.compile_notice is None

    RESTARTS_ROUNDS = ("set_learning_rate", "set_regions")  # requests after which `rounds` restarts

    def set_regions(self, regions):
        """Rebuilds the dial's column with ``regions`` per dim, None: one kernel per position
        (a worker request; `jaxconv_viewer.session.columns.set_regions`). Returns its new `ModelCounts`."""
        from jaxconv_viewer.session import columns as building

        self._unmeasured = None  # the dial column's old parameters: not measured any more
        return building.set_regions(self, regions)

    def set_learning_rate(self, learning_rate: float) -> float:
        """Continues with another learning rate from the states as they are (a worker request).

        Raises:
            ValueError: not a finite number > 0.
        """
        from jaxconv.validate import check_float

        lr = check_float("Session.set_learning_rate", "learning_rate", learning_rate, 0,
                         low_open=True)
        self.settings = self.settings.with_fields(learning_rate=lr)
        return lr

    def rounds(self):
        """Yields the step after every model has taken it; ends at ``settings.train.steps``.

        Raises:
            ModelFailed: a model diverged (its ``error`` is the `jaxconv.train.DivergenceError`:
                a NaN, a loss far above its running minimum, or a jump of the parameter norm);
                its state is set back to the newest
                one that passed the guard, and a new `rounds` continues from the states as they
                are (with the settings' learning rate at that time).
        """
        from jaxconv import train
        from jaxconv.train import dispatch

        s = self.settings
        columns = s.columns
        at = {kind: int(np.asarray(self.states[kind].step)) for kind in columns}
        first = {kind: at[kind] + 1 for kind in columns}
        # One step per dispatch until the steps have been timed, then the same k for all,
        # so that their dispatches end on the same steps: a round is yielded only there, where
        # every state is current (a pause or a save never sees a state behind its curves).
        # At the start each column trains from the moment its own step is ready
        # (jaxconv_viewer.session.startup); k stays 1 until all do.
        k, timed = 1, {kind: [] for kind in columns}
        runs = self._runs(train, 1)
        startup = getattr(self, "startup", None)
        while min(at.values()) < s.train.steps:
            current = True
            waiting = [] if startup is None else [c for c in columns if not startup.ready(c)]
            # While some step compiles, the others train ahead; then the ones behind catch up
            # (the others wait), and all train in step again.
            low = min(at.values())
            active = [c for c in columns if c not in waiting and at[c] < s.train.steps
                      and (waiting or at[c] == low)]
            if not active:
                assert startup is not None  # columns wait only while it prepares them
                startup.wait_any(waiting)  # nothing to train until a step is ready
                continue
            for kind in active:
                if startup is not None and kind in startup.errors:
                    raise ModelFailed(kind, startup.errors.pop(kind))
                began = time.perf_counter()
                try:
                    result = next(runs[kind])
                except train.DivergenceError as error:
                    self.states[kind] = error.state
                    raise ModelFailed(kind, error) from error
                spent = time.perf_counter() - began
                if result.test_loss is not None or result.step == first[kind]:
                    spent = self.train_time[kind] / max(1, result.step - 1)  # compile or test pass
                elif k == 1:
                    timed[kind].append(spent)
                self.train_time[kind] += spent
                if result.state is None:  # inside a multi-step dispatch
                    current = False
                else:
                    self.states[kind], self.grads[kind] = result.state, result.grads
                row = dict(step=result.step, time=self.train_time[kind])
                self.history[kind].append("train", loss=result.loss, accuracy=result.accuracy, **row)
                if result.test_loss is not None:
                    self.history[kind].append("test", loss=result.test_loss,
                                              accuracy=result.test_accuracy, **row)
                at[kind] = result.step
                if startup is not None:
                    startup.stepped(kind)
            self.step = min(at.values())  # the step every model has taken
            if k == 1 and not waiting and all(len(t) >= 2 for t in timed.values()):
                k = dispatch.choose_steps(max(min(t) for t in timed.values()),
                                          self.STEPS_PER_DISPATCH)
                if k > 1:  # the new program compiles on its first step: not counted as time
                    runs, first = self._runs(train, k), {kind: self.step + 1 for kind in columns}
            if current:
                yield self.step

    #: The most steps of each model one dispatch runs (see `jaxconv.train.dispatch`). 1: on the
    #: 2-core CPU measured, the loop program ran the default conv model's steps 3-5x slower than
    #: single-step dispatches, so the viewer keeps one step per dispatch; raise it where the loop
    #: pays (tiny models, accelerators).
    STEPS_PER_DISPATCH = 1

    def _fit_config(self, steps_per_dispatch: int):
        return dataclasses.replace(self.settings.train, steps_per_dispatch=steps_per_dispatch,
                                   return_grads=True)

    def _runs(self, train, steps_per_dispatch: int) -> dict:
        config = self._fit_config(steps_per_dispatch)
        return {kind: train.fit(self.models[kind], self.dataset, config, state=self.states[kind])
                for kind in self.settings.columns}

    def _params(self) -> dict:
        """Column -> its parameters now."""
        return {k: self.states[k].params for k in self.settings.columns}

    def snapshot(self, probe=None) -> Snapshot:
        """Host copies of every model's kernels, gradients and features for input ``probe``
        (a `Probe`, or ``(index, dy, dx)``); see `jaxconv_viewer.session.capture.take_snapshot`."""
        from jaxconv_viewer.session.capture import take_snapshot

        return take_snapshot(self, probe)

    def measure(self):
        """Measures accuracy against shift and equivariance now; returns the `ProbeResult`.

        The worker calls it between steps every few seconds (`TrainWorker.measured`). The first
        call also measures the parameters `prepare` made, at their step (the same programs: no
        compile of its own), so the measures begin where training began.
        """
        assert self.prober is not None  # start() sets it
        if self._unmeasured is not None:
            step, params = self._unmeasured
            self._unmeasured = None
            if step != self.step:
                self.measures.append(self.prober.measure(params, step))
        result = self.prober.measure(self._params(), self.step)
        if not self.measures or self.measures[-1].step != result.step:
            self.measures.append(result)
        else:
            self.measures[-1] = result
        return result

    def report(self, path=None) -> dict:
        """The ``--report`` JSON of the models as they are (see `jaxconv_viewer.session.measures.Prober.report`),
        with ``"columns"`` and ``"sharing"`` (`jaxconv_viewer.session.columns.sharing_report`; None
        without a dial).

        Args:
            path: also write it to this file (indented JSON).
        """
        assert self.dataset is not None and self.prober is not None  # start() sets both
        report = self.prober.report(self._params(), self.step, dataset=self.dataset.name,
                                    head=self.settings.head)
        from jaxconv_viewer.session.columns import sharing_report

        report["columns"] = list(self.settings.columns)
        report["sharing"] = sharing_report(self)  # the dial's column and its filter likeness
        report["startup"] = self.startup_report()
        if path is not None:
            Path(path).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        return report

    def startup_report(self) -> dict:
        """The ``--report`` JSON's ``"startup"``, seconds from process start: ``window_s`` (the
        window shown; None without one), ``first_step_s`` (column -> its first step drawn, or
        taken when no window draws it) and ``programs`` (``{"compiled": n, "loaded": n,
        "stored": n}``: compiled by XLA, loaded from the caches, of which from the store of
        compiled programs without tracing; `jaxconv.backend.executables.counts`)."""
        from jaxconv.backend import executables

        startup = getattr(self, "startup", None)
        taken = {} if startup is None else dict(startup.first_step_s)
        drawn = self.launch.get("first_step_s") or {}
        return {"window_s": self.launch.get("window_s"),
                "first_step_s": {kind: drawn.get(kind, taken.get(kind))
                                 for kind in self.settings.columns},
                "programs": executables.counts()}

    def export_metrics(self, path) -> int:
        """Writes every model's metrics as CSV, and the shift measures beside it; returns the row
        count (a worker request: `jaxconv_viewer.session.store.export_metrics`)."""
        from jaxconv_viewer.session import store

        return store.export_metrics(self, path)

    def save(self, directory) -> Path:
        """Writes settings, metrics and every column's train state under ``directory`` (a worker
        request, served between two steps: `jaxconv_viewer.session.store.save`)."""
        from jaxconv_viewer.session import store

        return store.save(self, directory)

    def _restore(self, train):
        from jaxconv_viewer.session import store

        store.restore(self, train)
