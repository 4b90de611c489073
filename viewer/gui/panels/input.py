"""`InputPanel`: browse the test images, shift one, draw your own, and see each column's prediction.

The drawing canvas (`jaxconv_viewer.gui.panels.drawing.DrawPanel`) sits inside the panel, behind
its *Draw* button, so every page that shows the input offers drawing one too.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from jaxconv import kinds
from jaxconv_viewer.gui import typeface
from jaxconv_viewer.gui.plots import ImagePanel
from jaxconv_viewer.gui.wrapped import WrapLabel
from jaxconv_viewer.i18n import kind_label, tr

__all__ = ["InputPanel"]


class InputPanel(QWidget):
    """Browse test images, shift the selected one, and see each column's prediction; drawn at
    once with every new snapshot.

    Args:
        columns: the columns' kinds, top to bottom.

    Signals:
        probe_changed(object): ``(index, dy, dx)`` whenever the sample or its shift changes.
    """

    probe_changed = pyqtSignal(object)
    jobs = ()  # drawn at once with each snapshot: a shift answers in the frame it arrives

    def __init__(self, columns, parent=None):
        super().__init__(parent)
        self.dy = self.dx = 0
        self._class_names = ()
        self._label = None
        self.title = typeface.role(QLabel(), "title")
        self.image = ImagePanel("gray")
        self.image.setObjectName("input")
        self.draw_button = QToolButton()
        self.draw_button.setCheckable(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.image)
        self.drawing = None  # the `DrawPanel`, once `add_drawing` has placed it
        self.sample_label = QLabel()
        self.sample = QSpinBox()
        self.sample.setRange(0, 0)
        self.sample.setWrapping(True)
        self.previous, self.next = QToolButton(), QToolButton()
        self.previous.setText("◀")
        self.next.setText("▶")
        self.arrows = {(-1, 0): QToolButton(), (1, 0): QToolButton(), (0, -1): QToolButton(),
                       (0, 1): QToolButton()}
        for (dy, dx), button in self.arrows.items():
            button.setText({(-1, 0): "↑", (1, 0): "↓", (0, -1): "←", (0, 1): "→"}[dy, dx])
        self.centre = QToolButton()
        self.shift_label = typeface.role(WrapLabel(), "note")
        self.truth = QLabel()
        self.predictions = {kind: (QLabel(), QProgressBar()) for kind in columns}
        self._lay_out()
        self.draw_button.toggled.connect(self._show_canvas)
        self.sample.valueChanged.connect(lambda _: self._changed())
        self.previous.clicked.connect(lambda: self.sample.stepBy(-1))
        self.next.clicked.connect(lambda: self.sample.stepBy(1))
        for (dy, dx), button in self.arrows.items():
            button.clicked.connect(lambda _=False, dy=dy, dx=dx: self.shift(dy, dx))
        self.centre.clicked.connect(lambda: self.shift(-self.dy, -self.dx))
        self.retranslate()

    def _lay_out(self):
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.draw_button)
        browse = QHBoxLayout()
        for widget in (self.sample_label, self.previous, self.sample, self.next):
            browse.addWidget(widget)
        browse.addStretch(1)
        pad = QHBoxLayout()  # one row: the panel stays short enough for a 720-pixel screen
        for key in ((0, -1), (-1, 0), (1, 0), (0, 1)):
            pad.addWidget(self.arrows[key])
        pad.addWidget(self.centre)
        pad.addStretch(1)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.setSpacing(3)
        box.addLayout(top)
        self.image.setMinimumSize(120, 120)
        box.addWidget(self.stack, 1)
        box.addLayout(browse)
        box.addLayout(pad)
        box.addWidget(self.shift_label)
        box.addWidget(self.truth)
        for kind, (label, bar) in self.predictions.items():  # a name, then its bar, in one row
            label.setStyleSheet(f"color: {kinds.get(kind).color}; font-weight: bold;")
            bar.setRange(0, 100)
            bar.setTextVisible(False)
            bar.setFixedHeight(8)
            bar.setMinimumWidth(30)
            line = QHBoxLayout()
            line.addWidget(label, 3)
            line.addWidget(bar, 2)
            box.addLayout(line)

    def add_drawing(self, drawing):
        """Places the `DrawPanel` ``drawing`` behind the *Draw* button."""
        self.drawing = drawing
        self.stack.addWidget(drawing)

    def _show_canvas(self, on: bool):
        if self.drawing is not None:
            self.stack.setCurrentWidget(self.drawing if on else self.image)

    def retranslate(self):
        """Re-reads every label in the current language."""
        self.title.setText(tr("input"))
        self.draw_button.setText(tr("draw_button"))
        self.draw_button.setToolTip(tr("draw_title"))
        self.sample_label.setText(tr("sample"))
        self.centre.setText(tr("centre"))
        self.shift_label.setText(tr("shift", dy=self.dy, dx=self.dx))
        self.truth.setText(tr("label_is", name=self._name(self._label)))
        for kind, (label, _) in self.predictions.items():
            label.setText(tr("no_prediction", kind=kind_label(kind, short=True)))

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

    def draw(self, snapshot, job=None):
        """Draws the snapshot's input and each column's prediction for it."""
        del job  # drawn whole
        self.image.set_data(snapshot.image.mean(axis=-1), levels=(0.0, 1.0))
        self._label = snapshot.label
        drawn = snapshot.label is None and getattr(snapshot.probe, "drawn", 0)
        self.truth.setText(tr("your_drawing") if drawn
                           else tr("label_is", name=self._name(snapshot.label)))
        for kind, (label, bar) in self.predictions.items():
            probs = snapshot.models[kind].probs
            if not np.all(np.isfinite(probs)):  # a diverged model predicts nothing: not "0 (nan%)"
                label.setText(tr("no_prediction", kind=kind_label(kind, short=True)))
                bar.setValue(0)
                continue
            best = int(np.argmax(probs))
            label.setText(tr("prediction", kind=kind_label(kind, short=True), name=self._name(best),
                             confidence=float(probs[best])))
            bar.setValue(round(100 * float(probs[best])))
