"""pyqtgraph building blocks shared by the panels, each created once and updated in place.

Importing this module sets pyqtgraph's global options once: ``imageAxisOrder='row-major'`` (so
numpy arrays draw with row 0 at the top, as `jaxconv_viewer.gui.tiling` makes them) and a light background.
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QGraphicsItem, QGraphicsRectItem

from jaxconv_viewer.gui import tiling, typeface

__all__ = ["GrowingRange", "ImagePanel", "curve", "nice_ceiling", "plot_widget",
           "refresh_axes", "rescale", "set_labels", "track_axes"]

#: Every axis drawn, so that `rescale` reaches them all (presentation mode, another language).
_AXES = weakref.WeakSet()
#: The smallest a plot may be squeezed to (pixels): below it, its axes' text overlaps.
PLOT_MIN = (170, 120)

# No antialiasing: at 20 Hz on a software-rendered window it costs more than it shows.
pg.setConfigOptions(imageAxisOrder="row-major", background="w", foreground="k", antialias=False)

_GAP = (150, 150, 150)  # NaN gaps between tiles show the view box's background


class ImagePanel(pg.GraphicsLayoutWidget):
    """One `ImageItem` in an aspect-locked view, with a colour bar for weights.

    Args:
        kind: ``"diverging"`` (weights: CET-D1, symmetric about zero, with a `ColorBarItem`),
            ``"sequential"`` (activations: viridis, levels 0..1), ``"heat"`` (gradient sizes:
            inferno) or ``"gray"`` (inputs, 0..1). An (H, W, 3) uint8 array draws as RGB.

    Signals:
        clicked(int, int): the row and column of the image pixel clicked.
        hovered(int, int): the pixel under the mouse, each time it changes; (-1, -1) once the
            mouse is off the image.
    """

    clicked = pyqtSignal(int, int)
    hovered = pyqtSignal(int, int)

    def __init__(self, kind: str = "diverging", parent=None):
        super().__init__(parent=parent)
        self.kind = kind
        # GraphicsLayout keeps its grid in the attribute `layout`, which shadows Qt's method.
        self.ci.layout.setContentsMargins(2, 2, 2, 2)  # pyright: ignore[reportAttributeAccessIssue]
        # self.addViewBox and self.addItem are self.ci's, bound by pyqtgraph at run time (its
        # setattr is invisible to pyright): the layout's own methods are called directly.
        self.view = self.ci.addViewBox(row=0, col=0, lockAspect=True, invertY=True,
                                    enableMouse=False)
        self.view.setBackgroundColor(_GAP)
        self.view.setMenuEnabled(False)
        self.image = pg.ImageItem()
        self.view.addItem(self.image)
        self.bar = None
        names = {"diverging": "CET-D1", "sequential": "viridis", "heat": "inferno", "gray": None}
        if names[kind] is None:
            self.image.setColorMap(pg.ColorMap(pos=[0.0, 1.0], color=[(0, 0, 0), (255, 255, 255)]))
        else:
            colormap = pg.colormap.get(names[kind])
            assert colormap is not None  # a name pyqtgraph ships
            self.image.setColorMap(colormap)
        if kind == "diverging":
            self.bar = pg.ColorBarItem(values=(-1, 1), colorMap=pg.colormap.get("CET-D1"),
                                       interactive=False, width=12)
            self.bar.setImageItem(self.image)
            self.bar.axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            track_axes(self.bar.axis)
            self.ci.addItem(self.bar, row=0, col=1)
        self.levels = (0.0, 1.0)
        self.marks = []  # outlines drawn by `mark`, created once and reused
        scene = self.scene()
        assert scene is not None  # pyqtgraph's GraphicsView makes its GraphicsScene in __init__
        # Qt types scene() as its QGraphicsScene; pyqtgraph's GraphicsScene adds the signal.
        scene.sigMouseClicked.connect(self._clicked)  # pyright: ignore[reportAttributeAccessIssue]
        self._hover = (-1, -1)

    def _clicked(self, event):
        if self.image.image is None or event.button() != Qt.MouseButton.LeftButton:
            return
        point = self.image.mapFromScene(event.scenePos())
        row, col = math.floor(point.y()), math.floor(point.x())
        if 0 <= row < self.image.image.shape[0] and 0 <= col < self.image.image.shape[1]:
            self.clicked.emit(row, col)

    def _pixel(self, scene_pos):
        """The image pixel at ``scene_pos``, or (-1, -1) off the image."""
        if self.image.image is None:
            return (-1, -1)
        point = self.image.mapFromScene(scene_pos)
        row, col = math.floor(point.y()), math.floor(point.x())
        inside = 0 <= row < self.image.image.shape[0] and 0 <= col < self.image.image.shape[1]
        return (row, col) if inside else (-1, -1)

    def mouseMoveEvent(self, ev):  # noqa: N802 - Qt's name; `ev` is GraphicsView's
        """Every move (the scene's own signal drops moves closer than 10 ms apart, and so could
        miss the pixel the mouse stops on)."""
        self._set_hover(self._pixel(self.mapToScene(ev.position().toPoint())))
        super().mouseMoveEvent(ev)

    def _set_hover(self, pixel):
        if pixel != self._hover:  # one signal per pixel crossed, not per mouse event
            self._hover = pixel
            self.hovered.emit(*pixel)

    def leaveEvent(self, ev):  # noqa: N802 - Qt's name; `ev` is GraphicsView's
        """The mouse left the widget: nothing is hovered."""
        self._set_hover((-1, -1))
        super().leaveEvent(ev)

    def mark(self, rects, color: str | list[str] = "#00c853"):
        """Outlines each ``(row, col, height, width)`` of ``rects`` (pixels); [] removes them.

        ``color`` is one colour for all, or a list of one per rectangle.
        """
        colors = [color] * len(rects) if isinstance(color, str) else list(color)
        while len(self.marks) < len(rects):
            item = QGraphicsRectItem()
            item.setZValue(10)
            self.view.addItem(item)
            self.marks.append(item)
        for i, item in enumerate(self.marks):
            if i < len(rects):
                row, col, height, width = rects[i]
                if item.pen().color().name() != colors[i]:
                    pen = pg.mkPen(colors[i], width=2)
                    pen.setCosmetic(True)  # two screen pixels wide at any zoom
                    item.setPen(pen)
                item.setRect(col, row, width, height)
            item.setVisible(i < len(rects))

    def marked(self) -> list:
        """The ``(row, col, height, width)`` outlines shown now."""
        return [(int(r.y()), int(r.x()), int(r.height()), int(r.width()))
                for r in (item.rect() for item in self.marks if item.isVisible())]

    def set_data(self, array, levels=None):
        """Draws ``array`` (rows, cols); weights default to levels ``±max|array|``."""
        array = np.asarray(array)
        array = array if array.dtype == np.uint8 else array.astype(np.float32)
        if levels is None and array.ndim == 3:
            levels = (0, 255)
        if levels is None:
            levels = (0.0, 1.0)
            if self.kind == "diverging":
                limit = _round_up(tiling.symmetric_limit(array))
                levels = (-limit, limit)
        levels = tuple(float(v) for v in levels)
        reshaped = self.image.image is None or self.image.image.shape != array.shape
        self.image.setImage(array, levels=levels, autoLevels=False)
        if self.bar is not None and levels != self.levels:  # repaint the bar's axis only then
            self.bar.setLevels(levels)
        self.levels = levels
        if reshaped:
            self.view.autoRange(padding=0.02)

    def data(self) -> np.ndarray | None:
        """The array drawn now (None before the first)."""
        return self.image.image

    def resizeEvent(self, ev):  # noqa: N802 - Qt's name; `ev` is GraphicsView's
        """The colour bar's axis is repainted whole (its cached picture would keep old ticks)."""
        super().resizeEvent(ev)
        bar = getattr(self, "bar", None)  # None: pyqtgraph's own call from __init__
        if bar is not None:
            bar.axis.picture = None
            bar.axis.update()

    # GraphicsView.scale(sx, sy) zooms; pyqtgraph calls it only from its own mouse zoom, which
    # this widget never enables (mouseEnabled stays False), so this name means the drawn scale.
    def scale(self) -> float:  # pyright: ignore[reportIncompatibleMethodOverride]  # see above
        """Screen pixels per image pixel as drawn now (0 before anything is drawn)."""
        if self.image.image is None:
            return 0.0
        rect = self.image.mapRectToDevice(self.image.boundingRect())
        return 0.0 if rect is None else rect.width() / max(1, self.image.image.shape[1])


def cache_axes(item) -> None:
    """Caches each axis of a `PlotItem` as a pixmap.

    Without the cache every repaint of a curve replays the axis's text drawing, the costliest paint
    in the window; the cache is dropped whenever pyqtgraph updates the axis (new range or labels).
    """
    for name in ("left", "bottom", "right", "top"):
        axis = item.getAxis(name)
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        track_axes(axis)


def track_axes(*axes) -> None:
    """Gives ``axes`` the tick font of the current scale, now and at every `rescale`."""
    for axis in axes:
        _AXES.add(axis)
        axis.setStyle(tickFont=typeface.font("note"))


def refresh_axes() -> None:
    """Repaints every tracked axis whole: an axis cached as a pixmap keeps its old picture in
    the part that did not move when its plot is resized."""
    for axis in list(_AXES):
        axis.picture = None
        axis.update()


def rescale() -> None:
    """Every tracked axis's ticks at the current `jaxconv_viewer.gui.typeface` scale (the
    titles follow `set_labels`, which ``retranslate`` calls)."""
    for axis in list(_AXES):
        axis.setStyle(tickFont=typeface.font("note"))


def _round_up(x: float) -> float:
    """``x`` rounded up to two significant digits, so colour bars change only now and then."""
    scale = 10.0 ** (np.floor(np.log10(x)) - 1)
    return float(np.ceil(x / scale) * scale)


def nice_ceiling(x: float) -> float:
    """The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten that is >= ``x`` (> 0).

    Example:
        >>> nice_ceiling(130), nice_ceiling(0.52)
        (150.0, 0.6)
    """
    power = 10.0 ** np.floor(np.log10(x))
    for step in (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if step * power >= x * (1 - 1e-9):
            return float(f"{step * power:.12g}")  # 0.6, not 0.6000000000000001
    return float(10 * power)


class GrowingRange:
    """Keeps a plot's axes at ``[0, nice_ceiling(max)]``, changing them only when data outgrows them.

    Auto-ranging a growing curve changes the range, and so repaints the axis text, on every
    update; this repaints the axes only a few times per decade of steps.

    Args:
        widget: the `PlotWidget`.
        fixed_y: a fixed ``(low, high)`` y range (accuracy), or None to grow from 0 like x.
    """

    def __init__(self, widget, fixed_y=None):
        self.widget, self.x, self.y = widget, 0.0, 0.0
        if fixed_y is not None:
            widget.setYRange(*fixed_y, padding=0.02)
        self.fixed_y = fixed_y

    def update(self, xs, ys):
        """Grows the ranges to hold every finite value of the arrays ``xs`` and ``ys``."""
        x = max((float(np.nanmax(a)) for a in xs if len(a)), default=0.0)
        finite = [a[np.isfinite(a)] for a in ys if len(a)]
        y = max((float(a.max()) for a in finite if a.size), default=0.0)
        if x > self.x:
            self.x = nice_ceiling(x)
            self.widget.setXRange(0, self.x, padding=0.02)
        if self.fixed_y is None and y > self.y:
            self.y = nice_ceiling(y)
            self.widget.setYRange(0, self.y, padding=0.02)


def plot_widget(title: str = "", *, left: str = "", bottom: str = "") -> pg.PlotWidget:
    """A small `PlotWidget` with a grid, mouse zoom off and the given labels."""
    widget = pg.PlotWidget()
    widget.setMinimumSize(*PLOT_MIN)
    item = widget.getPlotItem()
    assert item is not None  # a PlotWidget makes its PlotItem in __init__
    item.showGrid(x=True, y=True, alpha=0.25)
    item.setDownsampling(auto=True, mode="peak")  # long runs: draw what the pixels can show
    item.setClipToView(True)
    item.setMenuEnabled(False)
    item.hideButtons()
    widget.setMouseEnabled(x=False, y=False)
    for side in ("left", "bottom"):
        item.getAxis(side).enableAutoSIPrefix(False)  # "(x0.001)" after a translated unit reads badly
    cache_axes(item)
    set_labels(widget, title, left=left, bottom=bottom)
    return widget


def set_labels(widget: pg.PlotWidget, title: str, *, left: str = "", bottom: str = ""):
    """Retitles a plot (used when the language changes)."""
    item = widget.getPlotItem()
    assert item is not None  # a PlotWidget makes its PlotItem in __init__
    size = f"{typeface.points(1.0):.1f}pt"
    item.setTitle(title, size=size)
    item.setLabel("left", left, **{"font-size": size})
    item.setLabel("bottom", bottom, **{"font-size": size})


def curve(widget: pg.PlotWidget, color: str, *, dashed: bool = False, name=None):
    """Adds one empty `PlotDataItem`, later filled with ``setData``."""
    style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
    return widget.plot([], [], pen=pg.mkPen(color, width=2 if not dashed else 1.5, style=style),
                       name=name)
