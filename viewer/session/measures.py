"""`Prober`: accuracy against shift and the equivariance meter of the columns' models; no Qt.

Built by `jaxconv_viewer.session.session.Session.prepare` on the worker thread (it imports JAX), called by the
worker between training steps every few seconds, never by the GUI thread. The live measure runs on
a fixed test subset (the first ``PROBE_IMAGES`` test images, the same at every call, so the curves
move only because the models do); `Prober.report` measures the whole test set for ``--report``.

Shifts are ``(dx, dy)`` pairs: right and down in pixels (`jaxconv.analysis.probes.axis_shifts`), keyed
``"<dx>,<dy>"`` in reports and CSV files. The test images are zero-filled where they move in
(``"circular"`` for a CIRCULAR-padded model, the one shift such a conv commutes with exactly).
"""

from __future__ import annotations

import csv
import dataclasses

import numpy as np

__all__ = ["EQUIVARIANCE_IMAGES", "MAX_SHIFT", "PROBE_IMAGES", "ProbeResult", "Prober",
           "report_lines", "shift_key", "write_probe_csv"]

#: Shifts from -MAX_SHIFT to MAX_SHIFT pixels along each axis.
MAX_SHIFT = 3
#: Test images in the live accuracy-against-shift subset, and in the equivariance batch.
PROBE_IMAGES = 128
EQUIVARIANCE_IMAGES = 32


def shift_key(shift) -> str:
    """``(dx, dy) -> "dx,dy"``, the report's key.

    Example:
        >>> shift_key((-3, 0))
        '-3,0'
    """
    return f"{int(shift[0])},{int(shift[1])}"


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """One measurement of every column's model.

    Attributes:
        step: the training step measured.
        shifts: the ``(dx, dy)`` shifts, in order.
        shift_accuracy: kind -> float array (len(shifts),), accuracy under each shift.
        equivariance: kind -> ``{layer: float}``, ``||f(shift x) - shift f(x)|| / ||f(x)||``.
        images: test images the accuracies are measured on.
    """

    step: int
    shifts: tuple
    shift_accuracy: dict
    equivariance: dict
    images: int = 0

    def along(self, kind: str, axis: str):
        """``(offsets, accuracies)`` of ``kind`` along ``"x"`` or ``"y"``, offsets ascending."""
        index = 0 if axis == "x" else 1
        pairs = sorted((s[index], float(a)) for s, a in zip(self.shifts, self.shift_accuracy[kind])
                       if s[1 - index] == 0)
        return (np.array([p[0] for p in pairs], np.float32),
                np.array([p[1] for p in pairs], np.float32))


def _accuracy(model, shifts, mode, params, x, y, where):
    from jaxconv.analysis import probes

    logits = lambda x: model.apply({"params": params}, x)  # noqa: E731
    return probes.shift_accuracy(logits, x, y, shifts, mode=mode, where=where)


def _equivariance(model, mode, params, x):
    from jaxconv import models
    from jaxconv.analysis import probes

    features = lambda x: dict(models.activations(model, params, x))  # noqa: E731
    return probes.equivariance(features, x, mode=mode)


class Prober:
    """Compiled shift-accuracy and equivariance measures of each kind's model.

    Args:
        models: kind -> `jaxconv.models.Model`.
        dataset: a `jaxconv.data.Dataset`; its test split is measured.
        max_shift: shifts cover -max_shift..max_shift on each axis (clipped to the image).
    """

    def __init__(self, models: dict, dataset, *, max_shift: int = MAX_SHIFT):
        from jaxconv.analysis import probes

        self.dataset = dataset
        h, w = dataset.input_shape[:2]
        k = max(0, min(max_shift, h - 1, w - 1))
        self.shifts = probes.axis_shifts(k)
        n = min(PROBE_IMAGES, len(dataset.y_test))
        self._x, self._y = dataset.x_test[:n], dataset.y_test[:n]
        self._eq_x = dataset.x_test[:min(EQUIVARIANCE_IMAGES, n)]
        self._accuracy, self._equivariance, self.models = {}, {}, {}
        for kind, model in models.items():
            self.set_model(kind, model)

    def set_model(self, kind: str, model) -> None:
        """Measures ``model`` as kind ``kind`` from now on (the sharing dial rebuilt its column)."""
        from jaxconv.backend.programs import Program
        from jaxconv.train.programs import describe

        self.models[kind] = model
        mode = "circular" if model.config.padding == "CIRCULAR" else "zeros"
        key, shifts = describe(model), tuple(tuple(int(v) for v in s) for s in self.shifts)
        where = ("jaxconv", "jaxconv_viewer")
        self._accuracy[kind] = Program(
            _accuracy, (model, shifts, mode), name="viewer_accuracy", library="xla",
            key=None if key is None else f"{key}|{shifts}|{mode}", packages=where)
        self._equivariance[kind] = Program(
            _equivariance, (model, mode), name="viewer_equivariance", library="xla",
            key=None if key is None else f"{key}|{mode}", packages=where)

    def prepare(self, kind: str, params) -> None:
        """Gets column ``kind``'s measures ready (compiled or loaded) for parameters shaped like
        ``params``, without running them (`jaxconv_viewer.session.startup`)."""
        where = np.ones(len(self._y), bool)
        self._accuracy[kind].prepare(params, self._x, self._y, where)
        self._equivariance[kind].prepare(params, self._eq_x)

    def measure(self, params: dict, step: int) -> ProbeResult:
        """Both measures of every kind on the fixed subset; ``params``: kind -> parameters."""
        import jax

        where = np.ones(len(self._y), bool)
        device = {kind: (self._accuracy[kind](params[kind], self._x, self._y, where),
                         self._equivariance[kind](params[kind], self._eq_x)) for kind in params}
        host = jax.device_get(device)
        return ProbeResult(int(step), self.shifts,
                           {k: np.asarray(a, np.float32) for k, (a, _) in host.items()},
                           {k: {n: float(v) for n, v in e.items()} for k, (_, e) in host.items()},
                           len(self._y))

    def whole_test_accuracy(self, kind: str, params) -> np.ndarray:
        """Accuracy under every shift over the whole test set, in subset-sized batches."""
        x, y, n = self.dataset.x_test, self.dataset.y_test, len(self._y)
        right = np.zeros(len(self.shifts))
        for start in range(0, len(y), n):
            xb, yb = x[start:start + n], y[start:start + n]
            where = np.arange(n) < len(yb)
            if len(yb) < n:  # pad the last batch: one compile for every batch
                xb = np.concatenate([xb, np.zeros((n - len(yb), *xb.shape[1:]), xb.dtype)])
                yb = np.concatenate([yb, np.zeros(n - len(yb), yb.dtype)])
            right += np.asarray(self._accuracy[kind](params, xb, yb, where)) * where.sum()
        return right / len(y)

    def default_unit_fields(self, params: dict):
        """The unit the window shows first for test image 0 (`capture.default_unit`) and, per
        model, how many input pixels move it (``|d unit / d input| > 0``: its effective field).

        Returns:
            ``(unit, {kind: pixels})``; ``(None, {})`` when the models have no spatial layer.
        """
        from jaxconv import models as jmodels
        from jaxconv.analysis import receptive
        from jaxconv_viewer.session.capture import default_unit

        image = np.asarray(self.dataset.x_test[0], np.float32)
        features = {kind: [(name, np.asarray(a[0])) for name, a in
                           jmodels.activations(self.models[kind], params[kind], image[None])]
                    for kind in params}
        unit = default_unit(features)
        if unit is None:
            return None, {}
        return unit, {kind: int(np.count_nonzero(receptive.effective_field(
            self.models[kind], params[kind], image, unit.layer, unit.position, unit.channel) > 0))
            for kind in params}

    def report(self, params: dict, step: int, *, dataset: str, head: str) -> dict:
        """The ``--report`` JSON: parameter count, whole-test-set accuracy, unshifted and
        shifted, equivariance and the default unit's effective field, one row per entry of
        ``params`` (column -> parameters), in its order.

        Returns:
            ``{"step", "dataset", "head", "shifts", "default_unit": [layer, channel, row, col],
            "models": [{"kind", "params", "test_accuracy", "shift_accuracy": {"dx,dy": float},
            "equivariance": {layer: float}, "effective_field_nonzero": int}]}``.
        """
        from jaxconv.models import param_count

        live = self.measure(params, step)
        unit, moving = self.default_unit_fields(params)
        rows = []
        for kind in params:
            accuracy = self.whole_test_accuracy(kind, params[kind])
            by_shift = {shift_key(s): float(a) for s, a in zip(self.shifts, accuracy)}
            rows.append({"kind": kind, "params": int(param_count(params[kind])),
                         "test_accuracy": by_shift["0,0"], "shift_accuracy": by_shift,
                         "equivariance": live.equivariance[kind],
                         "effective_field_nonzero": moving.get(kind)})
        return {"step": int(step), "dataset": dataset, "head": head,
                "test_images": int(len(self.dataset.y_test)),
                "equivariance_images": int(len(self._eq_x)),
                "default_unit": None if unit is None else [unit.layer, unit.channel,
                                                            *(unit.position or ())],
                "models": rows}


_CSV_HEADER = ("kind", "step", "measure", "key", "value")


def write_probe_csv(path, results) -> int:
    """Writes ``ProbeResult``s as rows ``kind,step,measure,key,value``; returns the row count.

    ``measure`` is ``shift_accuracy`` (``key`` ``"dx,dy"``) or ``equivariance`` (``key`` the
    layer).
    """
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(_CSV_HEADER)
        for result in results:
            for kind, accuracy in result.shift_accuracy.items():
                for shift, value in zip(result.shifts, accuracy):
                    writer.writerow((kind, result.step, "shift_accuracy", shift_key(shift),
                                     float(value)))
                    n += 1
                for layer, value in result.equivariance[kind].items():
                    writer.writerow((kind, result.step, "equivariance", layer, value))
                    n += 1
    return n


def report_lines(report: dict) -> list[str]:
    """What ``jaxconv-viewer --report`` prints of a report: a line per model (test accuracy, the
    worst accuracy 3 pixels away, the default unit's effective field) and the sharing dial's."""
    lines = []
    for row in report["models"]:
        far = min((row["shift_accuracy"][k] for k in ("3,0", "-3,0", "0,3", "0,-3")
                   if k in row["shift_accuracy"]), default=float("nan"))
        lines.append(f"{row['kind']:5s} test accuracy {row['test_accuracy']:.3f}, worst at 3 px "
                     f"{far:.3f}, default unit moved by {row['effective_field_nonzero']} input "
                     f"pixels")
    sharing = report.get("sharing")
    if sharing is not None:
        likeness = ", ".join(f"{k} {v:.3f}" for k, v in sharing["filter_similarity"].items())
        lines.append(f"sharing dial of the {sharing['column']} column: {sharing['kind']}, "
                     f"{sharing['regions']} regions per side; filter similarity to the mean: "
                     f"{likeness or 'none'}")
    return lines
