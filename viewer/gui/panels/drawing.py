"""`DrawPanel`: draw your own input, at the dataset's size, and feed it to the three models.

The canvas holds one (H, W) float32 image in [0, 1] (the dataset's input size, set when the
session is prepared) and paints it scaled up, one square per pixel. A stroke paints a soft disc
of radius ``max(0.5, min(H, W) / 14)`` pixels (2 px on 28x28, as thick as a pen stroke in MNIST)
along the mouse path; the eraser paints zeros. Every change emits `DrawPanel.drawing_changed`;
the window sends the drawing to the worker as the probe, so predictions and feature maps follow
while you draw, paused or training.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QImage, QPainter
from PyQt6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from jaxconv_viewer.i18n import tr

__all__ = ["Canvas", "DrawPanel", "paint_stroke"]


def paint_stroke(image, start, end, radius: float, value: float) -> np.ndarray:
    """Paints a soft line of discs from ``start`` to ``end`` (``(row, col)`` floats) into ``image``.

    Args:
        image: (H, W) float32 in [0, 1]; a new array is returned.
        start, end: points in pixel units (pixel ``(i, j)`` covers ``[i, i + 1) x [j, j + 1)``).
        radius: disc radius in pixels.
        value: 1.0 paints ink (brush), 0.0 removes it (eraser).

    Example:
        >>> paint_stroke(np.zeros((3, 3), np.float32), (1.5, 0.5), (1.5, 2.5), 0.5, 1.0)[1].tolist()
        [1.0, 1.0, 1.0]
    """
    image = np.array(image, np.float32)
    h, w = image.shape
    (r0, c0), (r1, c1) = start, end
    steps = max(1, int(np.ceil(2 * max(abs(r1 - r0), abs(c1 - c0)))))
    t = np.linspace(0.0, 1.0, steps + 1)
    points = np.stack([r0 + t * (r1 - r0), c0 + t * (c1 - c0)], axis=1)  # (P, 2)
    rows, cols = np.mgrid[0:h, 0:w]
    centres = np.stack([rows + 0.5, cols + 0.5], axis=-1).reshape(-1, 1, 2)
    distance = np.sqrt(((centres - points[None]) ** 2).sum(-1)).min(axis=1).reshape(h, w)
    cover = np.clip(radius + 0.5 - distance, 0.0, 1.0).round(4).astype(np.float32)
    if value > 0:
        return np.maximum(image, cover * value)
    return np.minimum(image, 1.0 - cover)


class Canvas(QWidget):
    """A drawable (H, W) image; `changed` is emitted after every painted mouse event.

    Signals:
        changed(): the image changed.
    """

    changed = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.image = np.zeros((8, 8), np.float32)
        self.erasing = False
        self._last = None  # the stroke's last point, or None between strokes
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)

    @property
    def radius(self) -> float:
        """Brush radius in image pixels."""
        return max(0.5, min(self.image.shape) / 14)

    def set_image(self, image):
        """Replaces the drawing with ``image`` (H, W) in [0, 1]; emits `changed`."""
        self.image = np.clip(np.asarray(image, np.float32), 0.0, 1.0)
        self.update()
        self.changed.emit()

    def _square(self) -> QRectF:
        h, w = self.image.shape
        side = min(self.width() / w, self.height() / h)
        return QRectF((self.width() - side * w) / 2, (self.height() - side * h) / 2,
                      side * w, side * h)

    def _point(self, position: QPointF):
        square = self._square()
        h, w = self.image.shape
        return ((position.y() - square.top()) / square.height() * h,
                (position.x() - square.left()) / square.width() * w)

    def paintEvent(self, a0):  # noqa: N802 - Qt's name (PyQt6 calls the event a0)
        """Draws the image scaled up, nearest neighbour, on a gray surround."""
        pixels = np.ascontiguousarray((255 * self.image).astype(np.uint8))
        h, w = pixels.shape
        # PyQt6 takes any buffer (no copy); its stubs say bytes.
        qimage = QImage(pixels.data, w, h, w,  # pyright: ignore[reportCallIssue, reportArgumentType]
                        QImage.Format.Format_Grayscale8)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(150, 150, 150))
        painter.drawImage(self._square(), qimage)
        painter.end()

    def mousePressEvent(self, a0):  # noqa: N802
        """Starts a stroke."""
        assert a0 is not None  # Qt always passes the event
        self._last = self._point(a0.position())
        self._paint(self._last)

    def mouseMoveEvent(self, a0):  # noqa: N802
        """Continues the stroke from its last point (no stroke: nothing)."""
        assert a0 is not None  # Qt always passes the event
        if self._last is not None:
            self._paint(self._point(a0.position()))

    def mouseReleaseEvent(self, a0):  # noqa: N802
        """Ends the stroke."""
        assert a0 is not None  # Qt always passes the event
        if self._last is not None:
            self._paint(self._point(a0.position()))
        self._last = None

    def _paint(self, point):
        self.image = paint_stroke(self.image, self._last, point, self.radius,
                                  0.0 if self.erasing else 1.0)
        self._last = point
        self.update()
        self.changed.emit()


class DrawPanel(QWidget):
    """The canvas with brush, eraser, clear, "start from this sample" and "use my drawing".

    Signals:
        drawing_changed(object): the drawing as (H, W, C) float32 while "use" is on, else None.
        from_sample_clicked(): the user wants the shown input copied onto the canvas.
    """

    drawing_changed = pyqtSignal(object)
    from_sample_clicked = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.channels = 1
        self.canvas = Canvas()
        self.buttons = {name: QToolButton() for name in ("brush", "eraser", "clear", "from_sample")}
        for name in ("brush", "eraser"):
            self.buttons[name].setCheckable(True)
        self.buttons["brush"].setChecked(True)
        self._tools = QButtonGroup(self)
        self._tools.addButton(self.buttons["brush"])
        self._tools.addButton(self.buttons["eraser"])
        self.use = QCheckBox()
        rows = (QHBoxLayout(), QHBoxLayout())
        for name in ("brush", "eraser", "clear"):
            rows[0].addWidget(self.buttons[name])
        rows[1].addWidget(self.buttons["from_sample"])
        rows[1].addWidget(self.use)
        for layout in rows:
            layout.addStretch(1)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(3)
        box.addWidget(self.canvas, 1)
        box.addLayout(rows[0])
        box.addLayout(rows[1])
        self.buttons["eraser"].toggled.connect(lambda on: setattr(self.canvas, "erasing", on))
        self.buttons["clear"].clicked.connect(
            lambda: self.canvas.set_image(np.zeros_like(self.canvas.image)))
        self.buttons["from_sample"].clicked.connect(self.from_sample_clicked)
        self.canvas.changed.connect(self._stroke)
        self.use.toggled.connect(lambda _: self._emit())
        self.retranslate()

    def retranslate(self):
        """Re-reads every label in the current language."""
        self.setToolTip(tr("draw_title"))
        for name, button in self.buttons.items():
            button.setText(tr(name))
        self.use.setText(tr("use_drawing"))

    def set_shape(self, input_shape):
        """A blank canvas of the dataset's ``(H, W, C)``."""
        self.channels = int(input_shape[-1])
        blocked = self.canvas.blockSignals(True)
        self.canvas.set_image(np.zeros(tuple(input_shape[:2]), np.float32))
        self.canvas.blockSignals(blocked)
        self._emit()

    def load(self, image):
        """Starts from ``image`` (H, W, C) in [0, 1] (its channel mean), and uses the drawing."""
        self.canvas.set_image(np.asarray(image, np.float32).mean(axis=-1))

    def drawing(self):
        """The drawing as (H, W, C) float32, or None while "use" is off."""
        if not self.use.isChecked():
            return None
        return np.repeat(self.canvas.image[..., None], self.channels, axis=-1)

    def _stroke(self):
        if not self.use.isChecked():
            self.use.setChecked(True)  # drawing means: show me what the models make of it
        else:
            self._emit()

    def _emit(self):
        self.drawing_changed.emit(self.drawing())
