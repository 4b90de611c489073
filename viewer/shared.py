"""Panels shared by the three kinds: the input picker, the parameter-count bars, the metric plots."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from viewer.i18n import tr
from viewer.plots import (
    COLORS,
    GrowingRange,
    ImagePanel,
    cache_axes,
    curve,
    plot_widget,
    set_labels,
)
from viewer.snapshot import KINDS

__all__ = ["CountsPanel", "InputPanel", "MetricsPanel"]


class InputPanel(QWidget):
    """Browse test images, shift the selected one, and see each model's prediction.

    Signals:
        probe_changed(object): ``(index, dy, dx)`` whenever the sample or its shift changes.
    """

    probe_changed = pyqtSignal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.dy = self.dx = 0
        self._class_names = ()
        self._label = None
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold; font-size: 15px;")
        self.image = ImagePanel("gray")
        self.sample_label = QLabel()
        self.sample = QSpinBox()
        self.sample.setRange(0, 0)
        self.sample.setWrapping(True)
        self.previous, self.next = QPushButton("◀"), QPushButton("▶")
        self.arrows = {(-1, 0): QPushButton("↑"), (1, 0): QPushButton("↓"),
                       (0, -1): QPushButton("←"), (0, 1): QPushButton("→")}
        self.centre = QPushButton()
        self.shift_label = QLabel()
        self.shift_label.setWordWrap(True)
        self.truth = QLabel()
        self.predictions = {kind: (QLabel(), QProgressBar()) for kind in KINDS}
        self._lay_out()
        self.sample.valueChanged.connect(lambda _: self._changed())
        self.previous.clicked.connect(lambda: self.sample.stepBy(-1))
        self.next.clicked.connect(lambda: self.sample.stepBy(1))
        for (dy, dx), button in self.arrows.items():
            button.clicked.connect(lambda _=False, dy=dy, dx=dx: self.shift(dy, dx))
        self.centre.clicked.connect(lambda: self.shift(-self.dy, -self.dx))
        self.retranslate()

    def _lay_out(self):
        browse = QHBoxLayout()
        for widget in (self.sample_label, self.previous, self.sample, self.next):
            browse.addWidget(widget)
        pad = QGridLayout()
        pad.addWidget(self.arrows[(-1, 0)], 0, 1)
        pad.addWidget(self.arrows[(0, -1)], 1, 0)
        pad.addWidget(self.centre, 1, 1)
        pad.addWidget(self.arrows[(0, 1)], 1, 2)
        pad.addWidget(self.arrows[(1, 0)], 2, 1)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.title)
        self.image.setMinimumHeight(90)
        self.image.setMaximumHeight(200)
        box.addWidget(self.image, 1)
        box.addLayout(browse)
        box.addLayout(pad)
        box.addWidget(self.shift_label)
        box.addWidget(self.truth)
        for kind, (label, bar) in self.predictions.items():
            label.setStyleSheet(f"color: {COLORS[kind]}; font-weight: bold;")
            bar.setRange(0, 100)
            bar.setTextVisible(False)
            bar.setMaximumHeight(8)
            box.addWidget(label)
            box.addWidget(bar)

    def retranslate(self):
        """Re-reads every label in the current language."""
        self.title.setText(tr("input"))
        self.sample_label.setText(tr("sample"))
        self.centre.setText(tr("centre"))
        self.shift_label.setText(tr("shift", dy=self.dy, dx=self.dx))
        self.truth.setText(tr("label_is", name=self._name(self._label)))
        for kind, (label, _) in self.predictions.items():
            label.setText(tr("no_prediction", kind=tr(f"short_{kind}")))

    def _name(self, label):
        if label is None:
            return "—"
        return self._class_names[label] if label < len(self._class_names) else str(label)

    def set_samples(self, count: int, class_names):
        """Lets the picker browse ``count`` images labelled by ``class_names``."""
        self._class_names = tuple(class_names)
        self.sample.setRange(0, max(0, count - 1))

    def probe(self):
        """``(index, dy, dx)`` as chosen now."""
        return (self.sample.value(), self.dy, self.dx)

    def shift(self, dy: int, dx: int):
        """Moves the input by ``dy`` rows and ``dx`` columns (the arrow keys and buttons)."""
        self.dy, self.dx = self.dy + dy, self.dx + dx
        self._changed()

    def _changed(self):
        self.shift_label.setText(tr("shift", dy=self.dy, dx=self.dx))
        self.probe_changed.emit(self.probe())

    def draw(self, snapshot):
        """Draws the snapshot's input and each model's prediction for it."""
        self.image.set_data(snapshot.image.mean(axis=-1), levels=(0.0, 1.0))
        self._label = snapshot.label
        drawn = snapshot.label is None and getattr(snapshot.probe, "drawn", 0)
        self.truth.setText(tr("your_drawing") if drawn
                           else tr("label_is", name=self._name(snapshot.label)))
        for kind, (label, bar) in self.predictions.items():
            probs = snapshot.models[kind].probs
            if not np.all(np.isfinite(probs)):  # a diverged model predicts nothing: not "0 (nan%)"
                label.setText(f"{tr(f'short_{kind}')}: —")
                bar.setValue(0)
                continue
            best = int(np.argmax(probs))
            label.setText(tr("prediction", kind=tr(f"short_{kind}"), name=self._name(best),
                             confidence=float(probs[best])))
            bar.setValue(round(100 * float(probs[best])))


_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def decade(k: int) -> str:
    """``10`` with ``k`` as a superscript: decade(6) == "10⁶"."""
    return "10" + str(k).translate(_SUPERSCRIPTS)


class CountsPanel(pg.PlotWidget):
    """The three parameter counts as bars on a log scale, the exact count above each."""

    def __init__(self, parent=None):
        super().__init__(parent=parent)
        self.counts = np.ones(len(KINDS))
        self.bars = pg.BarGraphItem(x=np.arange(len(KINDS)), height=np.zeros(len(KINDS)), width=0.6,
                                    brushes=[pg.mkBrush(COLORS[k]) for k in KINDS])
        self.addItem(self.bars)
        self.labels = [pg.TextItem("", anchor=(0.5, 1.0), color="k") for _ in KINDS]
        for label in self.labels:
            self.addItem(label)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        cache_axes(item)
        self.setMouseEnabled(x=False, y=False)
        self.setXRange(-0.6, len(KINDS) - 0.4, padding=0)
        self.retranslate()

    def retranslate(self):
        """Re-reads the title and bar names in the current language."""
        self.getPlotItem().setTitle(tr("counts"), size="9pt")
        self.getAxis("bottom").setTicks([[(i, tr(f"short_{k}")) for i, k in enumerate(KINDS)]])

    def set_counts(self, counts):
        """Draws kind -> parameter count (a dict of ints)."""
        self.counts = np.array([max(1, counts[k]) for k in KINDS], np.float64)
        heights = np.log10(self.counts)
        self.bars.setOpts(height=heights)
        # Room above the tallest bar for its count (a quarter of the range), and at most six
        # decade ticks: one a decade crowded the 100-pixel axis into an unreadable column.
        top = heights.max() * 1.3 + 0.5
        step = max(1, math.ceil(top / 6))
        self.setYRange(0, top, padding=0)
        self.getAxis("left").setTicks([[(k, decade(k)) for k in range(0, int(top) + 1, step)]])
        for i, label in enumerate(self.labels):
            label.setText(f"{int(self.counts[i]):,}")
            label.setPos(i, heights[i])


class MetricsPanel(QWidget):
    """Loss and accuracy of all three kinds against step and against each model's wall time.

    Train curves are solid, test curves dashed; colours are the kinds'.
    """

    PLOTS = (("loss", "step"), ("accuracy", "step"), ("loss", "time"), ("accuracy", "time"))

    def __init__(self, parent=None):
        super().__init__(parent)
        # A legend line above the plots, not inside one: no curve can run under it.
        self.legend = QLabel()
        row = QHBoxLayout()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.legend)
        outer.addLayout(row, 1)
        self.plots, self.curves, self.ranges = {}, {}, {}
        for what, axis in self.PLOTS:
            plot = plot_widget()
            self.ranges[what, axis] = GrowingRange(plot, (0, 1) if what == "accuracy" else None)
            self.plots[what, axis] = plot
            row.addWidget(plot)
            for kind in KINDS:
                for split in ("train", "test"):
                    self.curves[what, axis, kind, split] = curve(plot, COLORS[kind],
                                                                 dashed=split == "test")
        self.retranslate()

    def retranslate(self):
        """Re-reads every title, axis and legend entry in the current language."""
        for (what, axis), plot in self.plots.items():
            key = "vs_step" if axis == "step" else "vs_time"
            set_labels(plot, tr(key, what=tr(what)),
                       bottom=tr("step") if axis == "step" else tr("wall_time"))
        names = "&nbsp;&nbsp;".join(f'<b style="color:{COLORS[kind]}">━ {tr(f"short_{kind}")}</b>'
                                     for kind in KINDS)
        self.legend.setText(f"{names}&nbsp;&nbsp;&nbsp;{tr('line_styles')}")

    def draw(self, history, only=None):
        """Draws kind -> ``{"train"|"test": {"step", "time", "loss", "accuracy"}}``.

        Args:
            history: the metrics of every kind.
            only: redraw just this ``(what, axis)`` plot of `PLOTS`; None redraws all four.
        """
        for (what, axis, kind, split), item in self.curves.items():
            if only is not None and (what, axis) != only:
                continue
            data = history[kind][split]
            item.setData(data[axis], data[what])
        for key, keeper in self.ranges.items():
            if only is None or key == only:
                runs = [history[k][s] for k in KINDS for s in ("train", "test")]
                keeper.update([r[key[1]] for r in runs], [r[key[0]] for r in runs])
