"""`ConnectionsPanel`: the clicked unit's receptive fields in every column, side by side.

For the same layer, channel and position in every column: the input pixels the unit is wired to
(its theoretical field, tinted in the kind's colour over the input) and the pixels that move it
for this input now (``|d unit / d input|``, its effective field, scaled to each model's largest
value). Both come with the snapshot (`jaxconv_viewer.session.session.Session.snapshot`, from
`jaxconv.analysis.receptive`).
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from jaxconv import kinds
from jaxconv_viewer.gui import unit_geometry as units
from jaxconv_viewer.gui.plots import ImagePanel
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
    """

    jobs = ()  # drawn at once with each snapshot: a click answers in the frame it arrives

    def __init__(self, columns, parent=None):
        super().__init__(parent)
        self.columns = tuple(columns)
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold; font-size: 15px;")
        self.unit_label = QLabel()
        self.unit_label.setWordWrap(True)
        self.row_labels = (QLabel(), QLabel())
        self.names = {kind: QLabel() for kind in self.columns}
        self.wired = {kind: ImagePanel("gray") for kind in self.columns}
        self.moves = {kind: ImagePanel("heat") for kind in self.columns}
        self.numbers = {kind: QLabel() for kind in self.columns}
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        for i, kind in enumerate(self.columns):
            self.names[kind].setStyleSheet(f"color: {kinds.get(kind).color}; font-weight: bold;")
            self.numbers[kind].setStyleSheet("font-size: 10px; color: #444;")
            self.numbers[kind].setWordWrap(True)
            grid.addWidget(self.names[kind], 0, i)
            grid.addWidget(self.wired[kind], 2, i)
            grid.addWidget(self.moves[kind], 4, i)
            grid.addWidget(self.numbers[kind], 5, i)
            for panel in (self.wired[kind], self.moves[kind]):
                panel.setMinimumSize(60, 60)
        grid.addWidget(self.row_labels[0], 1, 0, 1, len(self.columns))
        grid.addWidget(self.row_labels[1], 3, 0, 1, len(self.columns))
        for label in self.row_labels:
            label.setStyleSheet("font-size: 10px; color: #444;")
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.title)
        box.addWidget(self.unit_label)
        box.addLayout(grid)
        self._snapshot = None
        self.retranslate()

    def retranslate(self):
        """Re-reads every label in the current language."""
        self.title.setText(tr("connections"))
        self.row_labels[0].setText(tr("wired_to"))
        self.row_labels[1].setText(tr("moves_it"))
        for kind in self.columns:
            self.names[kind].setText(kind_label(kind, short=True))
        self.draw(self._snapshot)

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
        where = "" if unit.position is None else tr("at", row=unit.position[0],
                                                    col=unit.position[1])
        _set_text(self.unit_label, tr("unit_is", layer=unit.layer, channel=unit.channel, where=where))
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
