"""`CountsPanel`: the columns' parameter counts as bars on a log scale."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from jaxconv import kinds
from jaxconv_viewer.gui import typeface
from jaxconv_viewer.gui.plots import PLOT_MIN, cache_axes
from jaxconv_viewer.i18n import kind_label, tr

__all__ = ["CountsPanel", "decade"]


_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def decade(k: int) -> str:
    """``10`` with ``k`` as a superscript: decade(6) == "10⁶"."""
    return "10" + str(k).translate(_SUPERSCRIPTS)


class CountsPanel(pg.PlotWidget):
    """Each column's parameter count as a bar on a log scale, the exact count above each.

    Args:
        columns: the columns' kinds, left to right.
    """

    jobs = ()  # drawn with each count (`set_counts`), not from snapshots

    def __init__(self, columns, parent=None):
        super().__init__(parent=parent)
        self.columns = tuple(columns)
        n = len(self.columns)
        self.counts = np.ones(n)
        self.bars = pg.BarGraphItem(x=np.arange(n), height=np.zeros(n), width=0.6,
                                    brushes=[pg.mkBrush(kinds.get(k).color) for k in self.columns])
        self.addItem(self.bars)
        self.labels = [pg.TextItem("", anchor=(0.5, 1.0), color="k") for _ in self.columns]
        for label in self.labels:
            self.addItem(label)
        item = self.getPlotItem()
        assert item is not None  # a PlotWidget makes its PlotItem in __init__
        item.setMenuEnabled(False)
        item.hideButtons()
        cache_axes(item)
        self.setMouseEnabled(x=False, y=False)
        # pyqtgraph binds the PlotItem's range setter at run time; pyright sees Qt's.
        self.setXRange(-0.6, n - 0.4, padding=0)  # pyright: ignore[reportCallIssue]
        self.setMinimumSize(*PLOT_MIN)
        self.retranslate()

    def retranslate(self):
        """Re-reads the title and bar names in the current language (and the type's scale)."""
        item = self.getPlotItem()
        assert item is not None  # a PlotWidget makes its PlotItem in __init__
        item.setTitle(tr("counts"), size=f"{typeface.points(1.0):.1f}pt")
        for label in self.labels:
            label.setFont(typeface.font("note"))
        self.getAxis("bottom").setTicks([[(i, kind_label(k, short=True))
                                          for i, k in enumerate(self.columns)]])

    def set_counts(self, counts):
        """Draws column -> parameter count (a dict of ints)."""
        self.counts = np.array([max(1, counts[k]) for k in self.columns], np.float64)
        heights = np.log10(self.counts)
        self.bars.setOpts(height=heights)
        # Room above the tallest bar for its count (a quarter of the range), and at most six
        # decade ticks: one a decade crowded the 100-pixel axis into an unreadable column.
        top = heights.max() * 1.3 + 0.5
        step = max(1, math.ceil(top / 6))
        # pyqtgraph binds the PlotItem's range setter at run time; pyright sees Qt's.
        self.setYRange(0, top, padding=0)  # pyright: ignore[reportCallIssue]
        self.getAxis("left").setTicks([[(k, decade(k)) for k in range(0, int(top) + 1, step)]])
        for i, label in enumerate(self.labels):
            label.setText(f"{int(self.counts[i]):,}")
            label.setPos(i, heights[i])
