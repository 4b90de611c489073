"""The lecture's claims as experiments: train ``dense``, ``local`` and ``conv`` side by side.

- :func:`compare`: the three kinds with matched topology on one dataset: parameters, accuracy,
  speed, and accuracy on test images shifted by a pixel or two.
- :func:`shift_experiment`: glyphs seen only in the left half, tested in the right half; weight
  sharing plus a global pool carries what was learnt to positions never seen.
- :func:`data_size_experiment`: test accuracy against the number of training images.

Each takes the same two configs as the rest of the library: a :class:`~jaxconv.models.ModelConfig`
shared by every kind and a :class:`~jaxconv.train.TrainConfig` (default :data:`TRAINING`), or
their fields as keyword overrides.

Each returns plain dicts of Python numbers (JSON-ready); :func:`markdown_table` prints them. Images
are channels-last (N, H, W, C); nothing here plots or imports Qt.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

from jaxconv import data, models, train
from jaxconv import kinds as registered_kinds
from jaxconv.analysis.probes import (
    shift_images,  # re-exported: the experiments' shifts are the probes'
)
from jaxconv.config import EXPERIMENT_TRAINING, ModelConfig, TrainConfig, experiment_configs
from jaxconv.names import LECTURE_KINDS

__all__ = ["TRAINING", "compare", "data_size_experiment", "markdown_table", "shift_experiment",
           "shift_images", "train_model"]


#: The experiments' training settings unless told otherwise (see
#: :data:`jaxconv.config.EXPERIMENT_TRAINING`).
TRAINING = EXPERIMENT_TRAINING


def _check_kinds(fn, kinds):
    kinds = tuple(kinds)
    known = registered_kinds.names()
    bad = [k for k in kinds if k not in known]
    if bad or not kinds:
        raise ValueError(f"{fn}: `kinds` must be a non-empty subset of {', '.join(known)}, "
                         f"got kinds={kinds!r}.")
    return kinds


def train_model(config, dataset, training: TrainConfig | None = None):
    """Trains one model to ``training.steps``; returns ``(model, params, summary)``.

    Args:
        config: a kind name or a :class:`~jaxconv.models.ModelConfig`; its ``num_classes`` is
            the dataset's.
        dataset: a :class:`jaxconv.data.Dataset`.
        training: a :class:`~jaxconv.train.TrainConfig`; default :data:`TRAINING`.

    ``summary`` holds ``model``, ``params`` (count), ``test_accuracy``, ``test_loss``,
    ``final_loss`` (last training batch) and ``steps_per_second`` (from step 2 on, so that
    compilation is not counted).
    """
    model = models.build(config, num_classes=dataset.num_classes)
    first = last = None
    for last in train.fit(model, dataset, training or TRAINING):
        first = last if first is None else first
    if last is None:
        raise ValueError(f"train_model: `steps` must be positive, got "
                         f"steps={(training or TRAINING).steps!r}.")
    assert first is not None  # set on the first step, with last
    timed = last.step - first.step
    seconds = last.elapsed - first.elapsed
    rate = timed / seconds if timed and seconds > 0 else None
    assert last.state is not None  # the final step carries the state
    params = last.state.params
    return model, params, {
        "model": model.config.kind, "params": models.param_count(params),
        "test_accuracy": last.test_accuracy, "test_loss": last.test_loss,
        "final_loss": last.loss, "steps_per_second": rate,
    }


def compare(dataset="digits", *, kinds=LECTURE_KINDS, model: ModelConfig | None = None,
            training: TrainConfig | None = None, shifts=(1, 2), **overrides) -> dict:
    """Trains each kind with the same topology and settings and measures it.

    Args:
        dataset: a dataset name for :func:`jaxconv.data.load` or a ``Dataset``.
        kinds: which of ``dense``, ``local``, ``conv`` to train.
        model: the :class:`~jaxconv.models.ModelConfig` every kind shares (its ``kind`` is
            replaced by each of ``kinds``); default ``ModelConfig("conv")``.
        training: the :class:`~jaxconv.train.TrainConfig` of every run; default
            :data:`TRAINING`. Its ``seed`` also seeds the dataset's split.
        shifts: pixel offsets; for each ``k``, ``shift{k}_accuracy`` is the mean test accuracy
            over the test images moved ``k`` pixels up, down, left and right (zero-filled).
        **overrides: fields of ``ModelConfig`` or ``TrainConfig`` replacing those of ``model``
            and ``training`` (``steps=100``, ``channels=(8,)``).

    Returns:
        ``{"dataset": name, "steps": steps, "models": [summary, ...]}``; each summary as in
        :func:`train_model` plus the ``shift{k}_accuracy`` entries.

    Example:
        >>> [m["test_accuracy"] > 0.9 for m in compare("digits", steps=300)["models"]]
        [True, True, True]
    """
    kinds = _check_kinds("compare", kinds)
    model, training = experiment_configs("compare", model, training, overrides)
    ds = data.load(dataset, seed=training.seed) if isinstance(dataset, str) else dataset
    rows = []
    for kind in kinds:
        net, params, row = train_model(dataclasses.replace(model, kind=kind), ds, training)
        for k in shifts:
            accs = [train.evaluate(net, params, shift_images(ds.x_test, dy, dx), ds.y_test)[1]
                    for dy, dx in ((k, 0), (-k, 0), (0, k), (0, -k))]
            row[f"shift{k}_accuracy"] = float(np.mean(accs))
        rows.append(row)
    return {"dataset": ds.name, "steps": training.steps, "models": rows}


def shift_experiment(*, kinds=LECTURE_KINDS, num_classes=5, n_train=2000,
                     model: ModelConfig | None = None, training: TrainConfig | None = None,
                     **overrides) -> dict:
    """Train on glyphs in the left half of the canvas, test on the right half (never seen).

    Every kind gets the same topology with a global-average-pool head (``global_pool=True``
    unless ``model`` or an override says otherwise), so only connectivity and weight sharing
    differ. ``model``, ``training`` and ``overrides`` are as in :func:`compare`.

    Returns:
        ``{"classes": num_classes, "chance": 1 / num_classes, "steps": steps,
        "models": [{"model", "params", "accuracy_seen", "accuracy_unseen"}, ...]}``.
    """
    kinds = _check_kinds("shift_experiment", kinds)
    model, training = experiment_configs("shift_experiment", model, training, overrides, global_pool=True)
    ds = data.load("shifted", seed=training.seed, n_train=n_train, num_classes=num_classes)
    rows = []
    for kind in kinds:
        net, params, summary = train_model(dataclasses.replace(model, kind=kind), ds, training)
        row = {"model": kind, "params": summary["params"]}
        for split in ("seen", "unseen"):
            row[f"accuracy_{split}"] = train.evaluate(net, params, *ds.extra[f"test_{split}"])[1]
        rows.append(row)
    return {"classes": ds.num_classes, "chance": 1.0 / ds.num_classes, "steps": training.steps,
            "models": rows}


def data_size_experiment(*, kinds=LECTURE_KINDS, sizes=(64, 128, 256, 512, 1024),
                         dataset="digits", model: ModelConfig | None = None,
                         training: TrainConfig | None = None, **overrides) -> dict:
    """Test accuracy of each kind trained on the first ``n`` of a fixed shuffle, for each size.

    Every run takes the same number of steps (200 unless told otherwise, batch 64), so a small
    set is seen for more epochs; the test set is always the full one. ``model``, ``training``
    and ``overrides`` are as in :func:`compare`.

    Returns:
        ``{"dataset": name, "sizes": [...], "steps": steps,
        "models": [{"model", "params", "accuracy": [one per size]}, ...]}``.
    """
    kinds = _check_kinds("data_size_experiment", kinds)
    if training is None:
        training = dataclasses.replace(TRAINING, steps=200)
    model, training = experiment_configs("data_size_experiment", model, training, overrides)
    ds = data.load(dataset, seed=training.seed) if isinstance(dataset, str) else dataset
    sizes = tuple(sizes)
    # typeshed's numbers.Integral declares no comparisons; every Integral has them.
    if not sizes or any(not isinstance(n, numbers.Integral)
                        or not 64 <= n <= len(ds.y_train)  # pyright: ignore[reportOperatorIssue]
                        for n in sizes):
        raise ValueError(f"data_size_experiment: `sizes` must be ints in [64, "
                         f"{len(ds.y_train)}] (a batch to the whole training set), got "
                         f"sizes={sizes!r}.")
    rows = []
    for kind in kinds:
        row = {"model": kind, "params": None, "accuracy": []}
        for n in sizes:
            subset = data.Dataset(ds.x_train[:n], ds.y_train[:n], ds.x_test, ds.y_test,
                                  ds.class_names, f"{ds.name}[:{n}]")
            _, _, summary = train_model(dataclasses.replace(model, kind=kind), subset, training)
            row["params"] = summary["params"]
            row["accuracy"].append(summary["test_accuracy"])
        rows.append(row)
    return {"dataset": ds.name, "sizes": list(sizes), "steps": training.steps, "models": rows}


def markdown_table(header, rows) -> str:
    """A GitHub markdown table; floats get 3 decimals (4 significant digits past 1000).

    Example:
        >>> print(markdown_table(["model", "acc"], [["conv", 0.9712]]))
        | model | acc |
        |---|---|
        | conv | 0.971 |
    """
    def cell(v):
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 1000 else f"{v:.4g}"
        if isinstance(v, int) and not isinstance(v, bool):
            return f"{v:,}"
        return "n/a" if v is None else str(v)

    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"markdown_table: each row must have {len(header)} cells, got "
                             f"{len(row)}: {row!r}.")
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines)
