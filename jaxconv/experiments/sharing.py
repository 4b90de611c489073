"""Weight sharing as a dial: the regional model from one kernel (conv) to one per position (local).

:func:`sharing_experiment` trains the ``"regional"`` model of :mod:`jaxconv.models` at several
``regions`` settings on two tasks built to pull in opposite directions:

- ``"shifted"`` (:func:`jaxconv.data.make_shifted`): glyphs seen only in the left half, tested in
  the right half. Only kernels shared across both halves can carry what was learnt to the right.
- ``"aligned"`` (:func:`jaxconv.data.make_aligned`): a glyph at a fixed left slot decides the
  class, a distractor glyph sits at a fixed right slot. A kernel shared by both slots responds to
  both glyphs alike; kernels per region can tell them apart.

Every run uses the same model (:data:`MODEL`: two 3x3 ``SAME`` layers of 16 and 32 channels, each
followed by a 2x2 max pool, then a global average pool and a linear head) and the same training
(:data:`jaxconv.experiments.TRAINING` with :data:`STEPS` steps); only ``regions`` changes, in
every spatial layer, capped at each layer's output size (16x16, then 8x8). At 16x16 inputs
``regions=16`` is one kernel per position in both layers: the locally-connected model. Results are plain dicts of
Python numbers; nothing here plots or imports Qt.
"""

from __future__ import annotations

import dataclasses
import time

from jaxconv import data, train
from jaxconv.config import ModelConfig, TrainConfig, experiment_configs
from jaxconv.experiments.lecture import TRAINING, train_model
from jaxconv.shapes import geometry
from jaxconv.validate import check_int

__all__ = ["MODEL", "REGIONS", "STEPS", "TASKS", "sharing_experiment"]

#: Regions per dim, from full sharing (1, a convolution) to none (16 at 16x16: locally connected).
REGIONS = (1, 2, 4, 8, 16)
#: The two tasks, in the order reported.
TASKS = ("shifted", "aligned")
#: The model every setting shares; only ``regions`` changes.
MODEL = ModelConfig("regional", channels=(16, 32), kernel_size=3, padding="SAME", pool=True,
                    global_pool=True, hidden=0)
#: Training steps per run by default (Adam, cosine decay, batch 64: TRAINING's other settings).
STEPS = 300
_TRAIN_SIZES = {"shifted": 2000, "aligned": 1000}


def _dataset(task: str, n_train, seed: int):
    n = _TRAIN_SIZES[task] if n_train is None else n_train
    return data.load(task, seed=seed, n_train=n, n_test=500)


def _effective_regions(model: ModelConfig, input_shape, regions: int) -> int:
    """What ``regions`` becomes in the first spatial layer (capped at its output size)."""
    out = geometry("sharing_experiment", input_shape[:-1], model.kernel_size,
                   strides=model.strides, padding=model.padding).out_spatial
    return min(regions, *out)


def sharing_experiment(*, regions=REGIONS, tasks=TASKS, n_train=None,
                       model: ModelConfig | None = None, training: TrainConfig | None = None,
                       **overrides) -> dict:
    """Test accuracy, parameters and training time of the regional model for each ``regions``.

    Args:
        regions: regions per dim to train, each >= 1 (capped at the layer's output size).
        tasks: which of ``"shifted"`` and ``"aligned"`` to run.
        n_train: training images per task (default 2000 for shifted, 1000 for aligned).
        model: the :class:`~jaxconv.models.ModelConfig` to use (its ``kind`` and ``regions`` are
            replaced); default :data:`MODEL`.
        training: the :class:`~jaxconv.train.TrainConfig`; default :data:`TRAINING` with
            :data:`STEPS` steps. Its ``seed`` also seeds the datasets.
        **overrides: fields of either config (``steps=50``, ``channels=(8,)``).

    Returns:
        ``{"tasks": [{"task", "steps", "n_train", "chance", "rows": [{"regions", "params",
        "test_accuracy", "train_seconds", "steps_per_second", "sharing"}, ...]}, ...]}``.
        ``test_accuracy`` is on unseen positions for ``"shifted"`` (its rows add
        ``accuracy_seen``); ``sharing`` names the end points (``"conv"``: one kernel,
        ``"local"``: one per position) and is ``"regional"`` between them.

    Example:
        >>> result = sharing_experiment(regions=(1, 16), steps=100)  # doctest: +SKIP
        >>> [row["regions"] for row in result["tasks"][0]["rows"]]  # doctest: +SKIP
        [1, 16]
    """
    fn = "sharing_experiment"
    regions = tuple(regions)
    if not regions:
        raise ValueError(f"{fn}: `regions` must name at least one setting, got regions=().")
    regions = tuple(check_int(fn, "regions", r) for r in regions)
    tasks = tuple(tasks)
    if not tasks or any(t not in TASKS for t in tasks):
        raise ValueError(f"{fn}: `tasks` must be a non-empty subset of {', '.join(TASKS)}, got "
                         f"tasks={tasks!r}.")
    if n_train is not None:
        n_train = check_int(fn, "n_train", n_train)
    if training is None:
        training = dataclasses.replace(TRAINING, steps=STEPS)
    model, training = experiment_configs(fn, model or MODEL, training, overrides)
    out = []
    for task in tasks:
        ds = _dataset(task, n_train, training.seed)
        rows = []
        for r in regions:
            config = dataclasses.replace(model, kind="regional", regions=r)
            start = time.perf_counter()
            net, params, summary = train_model(config, ds, training)
            seconds = time.perf_counter() - start
            effective = _effective_regions(config, ds.input_shape, r)
            outputs = geometry(fn, ds.input_shape[:-1], config.kernel_size,
                               strides=config.strides, padding=config.padding).out_spatial
            row = {"regions": effective, "params": summary["params"],
                   "test_accuracy": summary["test_accuracy"], "train_seconds": seconds,
                   "steps_per_second": summary["steps_per_second"],
                   "sharing": ("conv" if effective == 1 else
                               "local" if all(effective >= o for o in outputs) else "regional")}
            if task == "shifted":
                row["accuracy_seen"] = train.evaluate(net, params, *ds.extra["test_seen"])[1]
            rows.append(row)
        out.append({"task": task, "steps": training.steps, "n_train": len(ds.y_train),
                    "chance": 1.0 / ds.num_classes, "rows": rows})
    return {"tasks": out}
