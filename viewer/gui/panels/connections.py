"""`ConnectionsPanel`: the clicked unit's receptive fields in every column, side by side.

For the same layer, channel and position in every column: the input pixels the unit is wired to
(its theoretical field, tinted in the kind's colour over the input) and the pixels that move it
for this input now (``|d unit / d input|``, its effective field, scaled to each model's largest
value). Both come with the snapshot (`jaxconv_viewer.session.session.Session.snapshot`, from
`jaxconv.analysis.receptive`).
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from jaxconv import kinds
from jaxconv_viewer.gui import typeface
from jaxconv_viewer.gui import unit_geometry as units
from jaxconv_viewer.gui.plots import ImagePanel
from jaxconv_viewer.gui.wrapped import WrapLabel
from jaxconv_viewer.i18n import kind_label, tr

__all__ = ["ConnectionsPanel", "field_numbers"]


def _set_text(label, text):
    if label.text() != text:  # an unchanged label costs no layout pass
        label.setText(text)


def field_numbers(fields) -> tuple[int, int]:
    """Pixels wired to the unit and pixels that move it (``|d unit / d input| > 0``)."""
    theoretical, effective = fields
    return int(np.count_nonzero(theoretical)), int(np.count_nonzero(effective > 0))


class ConnectionsPanel(QWidget):
    """Two rows (wired to, moves it now) by one column per model of input-sized images, drawn
    with every new snapshot (`draw`).

    Args:
        columns: the columns' kinds, left to right.

    Signals:
        pixel_clicked(int, int): the input pixel (row, column) clicked in a "wired to" picture:
            the unit of the shown layer that looks there is wanted.
    """

    jobs = ()  # drawn at once with each snapshot: a click answers in the frame it arrives
    pixel_clicked = pyqtSignal(int, int)

    def __init__(self, columns, parent=None):
        super().__init__(parent)
        self.columns = tuple(columns)
        self.title = typeface.role(QLabel(), "title")
        self.unit_label = WrapLabel()
        self.row_labels = (typeface.role(WrapLabel(), "note"), typeface.role(WrapLabel(), "note"))
        self.names = {kind: typeface.role(QLabel(), "heading", kinds.get(kind).color)
                      for kind in self.columns}
        self.wired = {kind: ImagePanel("gray") for kind in self.columns}
        self.moves = {kind: ImagePanel("heat") for kind in self.columns}
        self.numbers = {kind: WrapLabel() for kind in self.columns}
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(2)
        for kind in self.columns:
            self.wired[kind].setObjectName(f"wired {kind}")
            self.moves[kind].setObjectName(f"moves {kind}")
            typeface.role(self.numbers[kind], "note")
            self.wired[kind].clicked.connect(self.pixel_clicked)
            for panel in (self.wired[kind], self.moves[kind]):
                panel.setMinimumSize(60, 60)
        self.wide = None
        self._arrange(False)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.title)
        box.addWidget(self.unit_label)
        box.addLayout(self.grid, 1)
        self._snapshot = None
        self.retranslate()

    def _arrange(self, wide: bool):
        """Wide: one row, each model's two pictures side by side; else a row of each."""
        if wide == self.wide:
            return
        self.wide, grid, n = wide, self.grid, len(self.columns)
        for i, kind in enumerate(self.columns):
            if wide:
                grid.addWidget(self.names[kind], 2, 2 * i, 1, 2)
                grid.addWidget(self.wired[kind], 3, 2 * i)
                grid.addWidget(self.moves[kind], 3, 2 * i + 1)
                grid.addWidget(self.numbers[kind], 4, 2 * i, 1, 2)
            else:
                grid.addWidget(self.names[kind], 0, i)
                grid.addWidget(self.wired[kind], 2, i)
                grid.addWidget(self.moves[kind], 4, i)
                grid.addWidget(self.numbers[kind], 5, i)
        span = 2 * n if wide else n
        grid.addWidget(self.row_labels[0], 0 if wide else 1, 0, 1, span)
        grid.addWidget(self.row_labels[1], 1 if wide else 3, 0, 1, span)
        for row in range(6):
            grid.setRowStretch(row, 1 if row in ((3,) if wide else (2, 4)) else 0)
        self._label_rows()

    def resizeEvent(self, a0):  # noqa: N802 - Qt's name (PyQt6 calls the event a0)
        """One row when the panel is at least three times as wide as it is high."""
        assert a0 is not None  # Qt always passes the event
        self._arrange(a0.size().width() >= 3 * a0.size().height())
        super().resizeEvent(a0)

    def _label_rows(self):
        wide = bool(self.wide)
        self.row_labels[0].setText(tr("wired_left") if wide else tr("wired_to"))
        self.row_labels[1].setText(tr("moves_right") if wide else tr("moves_it"))

    def retranslate(self):
        """Re-reads every label in the current language."""
        self.title.setText(tr("connections"))
        self._label_rows()
        for kind in self.columns:
            self.names[kind].setText(kind_label(kind, short=True))
        self.draw(self._snapshot)

    def facts(self) -> dict:
        """What it shows, for ``--report``'s layout entry: the unit, and per column the pixels
        wired to it and the pixels that move it."""
        snapshot = self._snapshot
        unit = None if snapshot is None else snapshot.probe.unit
        fields = {kind: list(field_numbers(snapshot.models[kind].fields)) for kind in self.columns
                  if snapshot is not None and unit is not None
                  and snapshot.models[kind].fields is not None}
        return {"unit": None if unit is None else [unit.layer, unit.channel,
                                                   *(unit.position or ())],
                "fields": fields}

    def draw(self, snapshot, job=None):
        """Draws the fields of ``snapshot.probe.unit`` (a hint to click one when there is none)."""
        del job  # drawn whole
        self._snapshot = snapshot
        unit = None if snapshot is None else snapshot.probe.unit
        if unit is None:
            _set_text(self.unit_label, tr("click_a_unit"))
            for kind in self.columns:
                _set_text(self.numbers[kind], "")
            return
        assert snapshot is not None  # the unit is the snapshot's
        where = "" if unit.position is None else tr("at", row=unit.position[0],
                                                    col=unit.position[1])
        _set_text(self.unit_label, tr("unit_is", layer=unit.layer, channel=unit.channel, where=where)
                  + " " + tr("click_the_input"))
        for kind in self.columns:
            fields = snapshot.models[kind].fields
            if fields is None:
                _set_text(self.numbers[kind], "—")
                continue
            theoretical, effective = fields
            self.wired[kind].set_data(units.field_rgb(snapshot.image, theoretical,
                                                      kinds.get(kind).color))
            top = float(effective.max())
            self.moves[kind].set_data(effective, levels=(0.0, top if top > 0 else 1.0))
            wired, moving = field_numbers(fields)
            _set_text(self.numbers[kind], tr("field_numbers", wired=wired, moving=moving) if moving
                      else tr("unit_off", wired=wired))
