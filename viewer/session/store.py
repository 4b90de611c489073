"""A `jaxconv_viewer.session.session.Session` on disk: `save`, `restore`, `export_metrics`; no Qt.

Each reads the states, the histories and the step together, so none may run beside a training
step: the window asks the worker for them (`jaxconv_viewer.gui.worker.TrainWorker.request`), which serves
them between two steps. A saved session is a folder: ``session.json`` (settings, its columns
included, and step), ``metrics.csv``, and one orbax checkpoint folder per column (``dense/``,
``local/``, ``conv/`` by default).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from jaxconv_viewer.session.snapshot import read_metrics_csv, write_metrics_csv

__all__ = ["export_metrics", "restore", "save"]


def export_metrics(session, path) -> int:
    """Writes every model's metrics as CSV (`write_metrics_csv`); returns the row count.

    Beside it, ``<name>_probes.csv`` gets every accuracy-against-shift and equivariance
    measurement so far (`jaxconv_viewer.session.measures.write_probe_csv`).
    """
    from jaxconv_viewer.session.measures import write_probe_csv

    path = Path(path)
    write_probe_csv(path.with_name(f"{path.stem}_probes.csv"), session.measures)
    return write_metrics_csv(path, session.history)


def save(session, directory) -> Path:
    """Writes settings, metrics (CSV) and every column's train state (orbax) under ``directory``.

    Served between two steps, every state, the CSV and ``session.json`` hold one step.

    Raises:
        jaxconv.train.DirectoryBusyError: another process writes ``directory`` (named).
    """
    from jaxconv import train

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    states = dict(session.states)  # immutable pytrees: a consistent copy while training goes on
    # One writer at a time: a second viewer (or a run) saving into this folder is refused at
    # once, naming its pid and command (jaxconv.train.DirectoryBusyError).
    with train.DirectoryLock(directory, fn="save"):
        for kind in session.settings.columns:
            with train.Checkpointer(directory / kind, max_to_keep=1) as checkpointer:
                checkpointer.save(states[kind], config=session.models[kind].config,
                                  train_config=session.settings.train,
                                  metadata={"time": session.train_time[kind]})
        write_metrics_csv(directory / "metrics.csv", session.history)
        (directory / "session.json").write_text(json.dumps(
            {"settings": session.settings.to_json(), "step": session.step}, indent=1),
            encoding="utf-8")
    return directory


def restore(session, train):
    """Sets ``session``'s states, times, histories and step from ``session.restore_dir``.

    Args:
        train: the `jaxconv.train` module (imported by `Session.prepare`).
    """
    directory = Path(session.restore_dir)
    columns = session.settings.columns
    for kind in columns:
        checkpointer = train.Checkpointer(directory / kind, create=False)
        state, meta = checkpointer.restore(train.abstract_state(session.states[kind]))
        checkpointer.close()
        session.states[kind], session.train_time[kind] = state, float(meta.get("time", 0.0))
    session.history.update(read_metrics_csv(directory / "metrics.csv", columns))
    session.step = int(min(int(np.asarray(state.step)) for state in
                           (session.states[k] for k in columns)))
