"""Panels of the shift probes: accuracy against input shift, and the equivariance meter.

Both draw a `jaxconv_viewer.session.measures.ProbeResult`, which the worker measures every few seconds on its own
thread (`TrainWorker.measured`); here only ``setData`` / ``setOpts`` run, on items made once.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from jaxconv import kinds
from jaxconv_viewer.gui import typeface
from jaxconv_viewer.gui.plots import (
    PLOT_MIN,
    cache_axes,
    curve,
    nice_ceiling,
    plot_widget,
    set_labels,
)
from jaxconv_viewer.gui.wrapped import WrapLabel
from jaxconv_viewer.i18n import tr

__all__ = ["EquivariancePanel", "ProbePanels", "ShiftAccuracyPanel"]


class ShiftAccuracyPanel(QWidget):
    """Each column's test accuracy for inputs moved -k..k pixels: solid across, dashed down.

    Args:
        columns: the columns' kinds.
    """

    def __init__(self, columns, parent=None):
        super().__init__(parent)
        self.plot = plot_widget()
        # pyqtgraph binds the PlotItem's range setter at run time; pyright sees Qt's.
        self.plot.setYRange(0, 1, padding=0.02)  # pyright: ignore[reportCallIssue]
        self.caption = typeface.role(WrapLabel(), "note")
        self.curves = {(kind, axis): curve(self.plot, kinds.get(kind).color, dashed=axis == "y")
                       for kind in columns for axis in ("x", "y")}
        self.result = None
        self._range = None
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.plot, 1)
        box.addWidget(self.caption)
        self.retranslate()

    def retranslate(self):
        """Re-reads the title, axes and caption in the current language."""
        set_labels(self.plot, tr("shift_accuracy"), bottom=tr("shift_px"))
        self._caption()

    def _caption(self):
        r = self.result
        self.caption.setText(tr("shift_axes", n="—" if r is None else r.images,
                                step="—" if r is None else r.step))

    def draw(self, result):
        """Draws a `jaxconv_viewer.session.measures.ProbeResult`."""
        self.result = result
        for (kind, axis), item in self.curves.items():
            if kind in result.shift_accuracy:
                item.setData(*result.along(kind, axis))
        k = max(max(abs(dx), abs(dy)) for dx, dy in result.shifts)
        if k != self._range:  # set once per session: the axis text is not repainted each time
            self._range = k
            # pyqtgraph binds the PlotItem's range setter at run time; pyright sees Qt's.
            self.plot.setXRange(-max(k, 1), max(k, 1), padding=0.05)  # pyright: ignore[reportCallIssue]
        self._caption()


class EquivariancePanel(pg.PlotWidget):
    """Per spatial layer, one bar per column: ``||f(shift x) - shift f(x)|| / ||f(x)||``.

    Args:
        columns: the columns' kinds, whose bars stand left to right in this order.
    """

    #: The width of one layer's group of bars (a layer is 1 apart from the next).
    GROUP = 0.78

    def __init__(self, columns, parent=None):
        super().__init__(parent=parent)
        self.columns = tuple(columns)
        self.bar_width = self.GROUP / len(self.columns)  # 0.26 for the lecture's three
        self.bars = {kind: pg.BarGraphItem(x=[], height=[], width=self.bar_width,
                                           brush=pg.mkBrush(kinds.get(kind).color))
                     for kind in self.columns}
        for bar in self.bars.values():
            self.addItem(bar)
        item = self.getPlotItem()
        assert item is not None  # a PlotWidget makes its PlotItem in __init__
        item.setMenuEnabled(False)
        item.hideButtons()
        item.showGrid(y=True, alpha=0.25)
        cache_axes(item)
        self.setMouseEnabled(x=False, y=False)
        self.setMinimumSize(*PLOT_MIN)
        self.layers, self.top, self.values = (), None, {}
        self.retranslate()

    def retranslate(self):
        """Re-reads the title and axis in the current language."""
        set_labels(self, tr("equivariance"), left=tr("equivariance_axis"))

    def draw(self, result):
        """Draws a `jaxconv_viewer.session.measures.ProbeResult`'s equivariance errors."""
        self.values = result.equivariance
        layers = tuple(next(iter(self.values.values()), {}))
        if layers != self.layers:
            self.layers = layers
            self.getAxis("bottom").setTicks([list(enumerate(layers))])
            # pyqtgraph binds the PlotItem's range setter at run time; pyright sees Qt's.
            self.setXRange(-0.6, len(layers) - 0.4, padding=0)  # pyright: ignore[reportCallIssue]
        top, middle = 0.0, (len(self.columns) - 1) / 2
        for i, kind in enumerate(self.columns):
            heights = np.array([self.values.get(kind, {}).get(name, np.nan) for name in layers],
                               np.float64)
            self.bars[kind].setOpts(x=np.arange(len(layers)) + (i - middle) * self.bar_width,
                                    height=np.nan_to_num(heights))
            top = max(top, float(np.nanmax(heights, initial=0.0)))
        top = nice_ceiling(max(top, 0.1))
        if top != self.top:  # the axis is repainted only when the scale changes
            self.top = top
            # pyqtgraph binds the PlotItem's range setter at run time; pyright sees Qt's.
            self.setYRange(0, top, padding=0.02)  # pyright: ignore[reportCallIssue]


class ProbePanels(QWidget):
    """The two probe panels, one above the other (each as wide as a model column), drawn together
    with each measure the worker makes (`TrainWorker.measured`), not from snapshots.

    A page may place either on its own (`parts`); `gather` puts them back here.

    Args:
        columns: the columns' kinds.
    """

    jobs = ()

    def __init__(self, columns, parent=None):
        super().__init__(parent)
        self.shift = ShiftAccuracyPanel(columns)
        self.equivariance = EquivariancePanel(columns)
        self.parts = {"shift": self.shift, "equivariance": self.equivariance}
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        self.gather()

    def gather(self):
        """Puts both panels back here, one above the other."""
        box = self.layout()
        assert isinstance(box, QVBoxLayout)  # set in __init__
        for panel in self.parts.values():
            box.addWidget(panel, 1)
            panel.show()

    def retranslate(self):
        """Re-reads both panels' labels."""
        self.shift.retranslate()
        self.equivariance.retranslate()

    def draw(self, result, job=None):
        """Draws a `jaxconv_viewer.session.measures.ProbeResult` in both panels."""
        del job  # drawn whole
        self.shift.draw(result)
        self.equivariance.draw(result)
