"""Start-up: the window's modules load without JAX, so the window appears before the compile."""

import subprocess
import sys


def test_the_window_modules_do_not_import_jax():
    """The window must appear before JAX loads: only the worker thread imports it."""
    code = ("import sys, jaxconv_viewer.__main__, jaxconv_viewer.gui.window, jaxconv_viewer.bench; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'jaxconv', 'flax', "
            "'optax', 'orbax')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # Only jaxconv's JAX-free vocabulary, checks, shape arithmetic, kind records and settings
    # records (its lazy package face included).
    loaded = {m for m in eval(out.stdout.strip()) if not m.startswith("jaxconv.kinds.")}
    assert loaded <= {"jaxconv", "jaxconv.names", "jaxconv.config", "jaxconv.validate",
                      "jaxconv.shapes", "jaxconv.kinds"}, loaded


def _final_params(session):
    import jax

    return {kind: jax.device_get(session.states[kind].params) for kind in session.settings.columns}


def test_each_column_trains_as_soon_as_its_own_step_is_ready(monkeypatch):
    """A column whose step still compiles does not hold the others back; once it is ready it
    catches up, and every column ends exactly as when all started together."""
    import threading

    import jax
    import numpy as np
    from viewer_tiny import TINY

    from jaxconv.train import programs
    from jaxconv_viewer.session.session import Session

    settings = TINY.with_fields(steps=4, eval_every=2)
    together = Session(settings)
    together.prepare()
    together.startup.wait()
    assert list(together.rounds()) == [1, 2, 3, 4]

    gate, real = threading.Event(), programs.precompile

    def slow(model, *args, **kwargs):
        if model.config.kind == "local":
            assert gate.wait(120)
        return real(model, *args, **kwargs)

    monkeypatch.setattr(programs, "precompile", slow)
    session = Session(settings)
    session.prepare()
    for kind in ("dense", "conv"):  # (at most one compile per core: conv may start after dense)
        session.startup.wait_any([kind], timeout=120)
    rounds = session.rounds()
    assert [next(rounds), next(rounds)] == [0, 0]  # dense and conv train; local compiles
    assert session.compiling() == ("local",)
    snapshot = session.snapshot()
    assert snapshot.compiling == ("local",) and snapshot.step == 0
    assert [len(snapshot.history[k]["train"]["step"]) for k in ("dense", "local", "conv")] == [
        2, 0, 2]
    gate.set()
    assert list(rounds)[-1] == 4 and session.compiling() == ()
    assert all(len(session.history[k].view()["train"]["step"]) == 4 for k in settings.columns)
    assert all(len(session.history[k].view()["test"]["step"]) == 2 for k in settings.columns)
    for kind, params in _final_params(session).items():
        same = jax.tree.map(np.array_equal, params, _final_params(together)[kind])
        assert all(jax.tree.leaves(same)), kind
    report = session.startup_report()
    assert set(report["first_step_s"]) == set(settings.columns)
    assert report["first_step_s"]["local"] > report["first_step_s"]["dense"]
    assert report["window_s"] is None and set(report["programs"]) == {"compiled", "loaded",
                                                                       "stored"}
