"""What the worker hands the GUI: host numpy copies, no JAX arrays, no Qt.

`Snapshot` is made on the worker thread at the redraw rate and only read by the GUI thread.
`Counts` is made once per session (parameter counts do not change while training).
`History` holds one model's metrics in growing numpy buffers; `History.view` returns slices that
later appends never modify, so the GUI may keep them while the worker trains on.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

__all__ = ["Counts", "History", "LayerMaps", "ModelCounts", "Probe", "Snapshot", "Unit",
           "read_metrics_csv", "write_metrics_csv"]

_FIELDS = ("step", "time", "loss", "accuracy")


class Unit(NamedTuple):
    """One unit of a feature map: the same layer, channel and position exists in every column.

    Attributes:
        layer: ``"layer1"``, ..., ``"hidden"`` or ``"head"``.
        channel: its channel (spatial layers) or index (vectors).
        position: ``(row, col)`` in a spatial layer's output, None for a vector.
    """

    layer: str
    channel: int
    position: tuple[int, int] | None


@dataclasses.dataclass(frozen=True)
class Probe:
    """What the panels are asked to show: which input, moved how far, and which unit.

    Attributes:
        index: test image (wraps around).
        dy: rows the input moves down.
        dx: columns it moves right.
        unit: the clicked `Unit` whose receptive fields are drawn, or None.
        drawn: 0 to show test image ``index``; otherwise the version of ``drawing`` (each stroke
            counts up, so probes compare equal exactly when they show the same input).
        drawing: the user's own input (H, W, C) in [0, 1], used when ``drawn``; not compared.
    """

    index: int = 0
    dy: int = 0
    dx: int = 0
    unit: Unit | None = None
    drawn: int = 0
    drawing: np.ndarray | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def browse(self) -> tuple[int, int, int]:
        """``(index, dy, dx)``."""
        return (self.index, self.dy, self.dx)


@dataclasses.dataclass(frozen=True)
class ModelCounts:
    """One model's parameter count.

    Attributes:
        params: weights + biases.
        weights: kernel entries.
        biases: bias entries.
        param_bytes: bytes the parameters take.
        formulas: one ``"layer: formula"`` line per layer.
    """

    params: int
    weights: int
    biases: int
    param_bytes: int
    formulas: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Counts:
    """Parameter counts of the columns, plus the input and layer shapes the panels need.

    Attributes:
        models: column -> `ModelCounts`, in column order.
        input_shape: ``(H, W, C)``.
        class_names: label names.
        dataset: the dataset's name.
        datasets: every dataset name -> whether it loads offline now.
    """

    models: dict
    input_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    dataset: str
    datasets: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class LayerMaps:
    """One model's drawable state for one input.

    Attributes:
        kernels: layer name -> kernel (dense (in, out), conv (kh, kw, C, F), local
            (oh, ow, kh, kw, C, F)), in layer order.
        grads: layer name -> gradient of the loss with respect to that kernel, or None.
        in_shapes: layer name -> ``(H, W, C)`` of its input when each unit is wired to all of it
            (a spatial layer of a ``whole_input`` kind: its weights tile as images), else None.
        out_shapes: layer name -> ``(H, W, C)`` of such a layer's output, else None.
        features: ``[(name, activation)]`` for the probe input: (H, W, F) maps or (F,) vectors.
        probs: class probabilities for the probe input, shape (num_classes,).
        fields: the probe's unit's ``(theoretical, effective)`` receptive fields, (H, W) bool and
            (H, W) float ``|d unit / d input|`` (`jaxconv.analysis.receptive`); None without a unit.
        layer_kinds: layer name -> the kind (a name of `jaxconv.kinds`) of a spatial layer, None
            for a vector layer (``hidden``, ``head``); the weight maps' hints come from its record.
        similarity: the dial's column only: layer -> (rows, cols, F) likeness of each position's
            filter to the mean (`jaxconv_viewer.session.columns.filter_similarity`); else None.
    """

    kernels: dict
    grads: dict | None
    in_shapes: dict
    out_shapes: dict
    features: list
    probs: np.ndarray
    fields: tuple | None = None
    layer_kinds: dict = dataclasses.field(default_factory=dict)
    similarity: dict | None = None


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """Everything the panels draw at one moment.

    Attributes:
        step: steps every model has taken.
        models: column -> `LayerMaps`, in column order.
        history: column -> ``{"train": {...}, "test": {...}}`` arrays from `History.view`.
        image: the probe input after its shift, (H, W, C).
        label: its true label (None for a drawing).
        probe: the `Probe` drawn (a plain ``(index, dy, dx)`` is taken as ``Probe(index, dy, dx)``).
        num_samples: how many test images the picker can browse.
        pending: some model's receptive fields were left to the next snapshot (their program
            compiles then; `jaxconv_viewer.session.capture.take_snapshot`), which the worker takes unasked.
        compiling: the columns whose training step is still compiling (they start when it is
            ready; `jaxconv_viewer.session.startup`).
        growth: ``((layer, field), ...)``: the theoretical field, (H, W) bool, of the unit at the
            probe unit's place in every spatial layer of a windowed column (local, conv), from
            the first layer up (`jaxconv_viewer.session.capture.field_growth`); () without one.
    """

    step: int
    models: dict
    history: dict
    image: np.ndarray
    label: int | None
    probe: Probe
    num_samples: int
    pending: bool = False
    compiling: tuple = ()
    growth: tuple = ()


class History:
    """Growing metric buffers of one model: train rows every step, test rows on eval steps.

    Example:
        >>> h = History(); h.append("train", step=1, time=0.1, loss=2.3, accuracy=0.1)
        >>> h.view()["train"]["loss"].tolist()
        [2.299999952316284]
    """

    def __init__(self):
        self._data = {split: {f: np.zeros(256, np.float64 if f == "time" else np.float32)
                              for f in _FIELDS} for split in ("train", "test")}
        self._n = {"train": 0, "test": 0}

    def append(self, split: str, **row):
        """Adds one row (``step``, ``time``, ``loss``, ``accuracy``) to ``split``."""
        n, data = self._n[split], self._data[split]
        if n == len(data["step"]):  # grow by copying: views already handed out stay valid
            for f in _FIELDS:
                data[f] = np.concatenate([data[f], np.zeros_like(data[f])])
        for f in _FIELDS:
            data[f][n] = row[f]
        self._n[split] = n + 1

    def view(self) -> dict:
        """``{split: {field: array}}`` of the rows so far (slices; see the module docstring)."""
        return {s: {f: a[:self._n[s]] for f, a in d.items()} for s, d in self._data.items()}

    def to_rows(self, kind: str):
        """Rows ``(kind, split, step, time, loss, accuracy)`` for a CSV file."""
        for split, data in self.view().items():
            for i in range(len(data["step"])):
                yield (kind, split, int(data["step"][i]), float(data["time"][i]),
                       float(data["loss"][i]), float(data["accuracy"][i]))


_CSV_HEADER = ("kind", "split", "step", "time", "loss", "accuracy")


def write_metrics_csv(path, histories: dict) -> int:
    """Writes every model's metrics, one row per (kind, split, step); returns the row count.

    Args:
        path: the CSV file to write.
        histories: kind -> `History`.
    """
    import csv

    n = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(_CSV_HEADER)
        for kind, history in histories.items():
            for row in history.to_rows(kind):
                writer.writerow(row)
                n += 1
    return n


def read_metrics_csv(path, columns=()) -> dict:
    """Reads `write_metrics_csv`'s file back into column -> `History`.

    Args:
        path: the CSV file.
        columns: columns that get a `History` even without a row (in this order, first).

    Raises:
        ValueError: the header is not ``kind,split,step,time,loss,accuracy`` (names the path).
    """
    import csv

    histories = {kind: History() for kind in columns}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = tuple(next(reader, ()))
        if header != _CSV_HEADER:
            raise ValueError(f"read_metrics_csv: {str(path)!r} must start with the header "
                             f"{','.join(_CSV_HEADER)}, got {','.join(header)!r}.")
        for kind, split, step, time, loss, accuracy in reader:
            histories.setdefault(kind, History()).append(
                split, step=int(step), time=float(time), loss=float(loss), accuracy=float(accuracy))
    return histories
