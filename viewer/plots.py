"""pyqtgraph building blocks shared by the panels, each created once and updated in place.

Importing this module sets pyqtgraph's global options once: ``imageAxisOrder='row-major'`` (so
numpy arrays draw with row 0 at the top, as `viewer.tiling` makes them) and a light background.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt

from viewer import tiling

__all__ = ["COLORS", "ImagePanel", "curve", "plot_widget"]

pg.setConfigOptions(imageAxisOrder="row-major", background="w", foreground="k", antialias=True)

#: Line colour of each model kind, used in every shared plot.
COLORS = {"dense": "#d62728", "local": "#ff7f0e", "conv": "#1f77b4"}
_GAP = (150, 150, 150)  # NaN gaps between tiles show the view box's background


class ImagePanel(pg.GraphicsLayoutWidget):
    """One `ImageItem` in an aspect-locked view, with a colour bar for weights.

    Args:
        kind: ``"diverging"`` (weights: CET-D1, symmetric about zero, with a `ColorBarItem`),
            ``"sequential"`` (activations: viridis, levels 0..1) or ``"gray"`` (inputs, 0..1).
    """

    def __init__(self, kind: str = "diverging", parent=None):
        super().__init__(parent=parent)
        self.kind = kind
        self.ci.layout.setContentsMargins(2, 2, 2, 2)
        self.view = self.addViewBox(row=0, col=0, lockAspect=True, invertY=True,
                                    enableMouse=False)
        self.view.setBackgroundColor(_GAP)
        self.view.setMenuEnabled(False)
        self.image = pg.ImageItem()
        self.view.addItem(self.image)
        self.bar = None
        names = {"diverging": "CET-D1", "sequential": "viridis", "gray": None}
        if names[kind] is None:
            self.image.setColorMap(pg.ColorMap(pos=[0.0, 1.0], color=[(0, 0, 0), (255, 255, 255)]))
        else:
            self.image.setColorMap(pg.colormap.get(names[kind]))
        if kind == "diverging":
            self.bar = pg.ColorBarItem(values=(-1, 1), colorMap=pg.colormap.get("CET-D1"),
                                       interactive=False, width=12)
            self.bar.setImageItem(self.image)
            self.addItem(self.bar, row=0, col=1)
        self.levels = (0.0, 1.0)

    def set_data(self, array, levels=None):
        """Draws ``array`` (rows, cols); weights default to levels ``±max|array|``."""
        array = np.asarray(array, np.float32)
        if levels is None:
            levels = (0.0, 1.0)
            if self.kind == "diverging":
                limit = tiling.symmetric_limit(array)
                levels = (-limit, limit)
        self.levels = tuple(float(v) for v in levels)
        self.image.setImage(array, levels=self.levels, autoLevels=False)
        if self.bar is not None:
            self.bar.setLevels(self.levels)
        self.view.autoRange(padding=0.02)

    def data(self) -> np.ndarray:
        """The array drawn now."""
        return self.image.image


def plot_widget(title: str = "", *, left: str = "", bottom: str = "") -> pg.PlotWidget:
    """A small `PlotWidget` with a grid, mouse zoom off and the given labels."""
    widget = pg.PlotWidget()
    item = widget.getPlotItem()
    item.showGrid(x=True, y=True, alpha=0.25)
    item.setDownsampling(auto=True, mode="peak")  # long runs: draw what the pixels can show
    item.setClipToView(True)
    item.setMenuEnabled(False)
    item.hideButtons()
    widget.setMouseEnabled(x=False, y=False)
    for side in ("left", "bottom"):
        item.getAxis(side).enableAutoSIPrefix(False)  # "(x0.001)" after a translated unit reads badly
    set_labels(widget, title, left=left, bottom=bottom)
    return widget


def set_labels(widget: pg.PlotWidget, title: str, *, left: str = "", bottom: str = ""):
    """Retitles a plot (used when the language changes)."""
    item = widget.getPlotItem()
    item.setTitle(title, size="9pt")
    item.setLabel("left", left)
    item.setLabel("bottom", bottom)


def curve(widget: pg.PlotWidget, color: str, *, dashed: bool = False, name=None):
    """Adds one empty `PlotDataItem`, later filled with ``setData``."""
    style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
    return widget.plot([], [], pen=pg.mkPen(color, width=2 if not dashed else 1.5, style=style),
                       name=name)
