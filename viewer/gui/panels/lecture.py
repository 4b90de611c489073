"""`LectureTable`: the lecture's layer counted three ways (`jaxconv.analysis.connectivity`).

A 1000x1000 one-channel image connected to a hidden layer of the same size: every pixel to every
unit (10^12 weights, 4 TB of float32), each unit to its own 10x10 window (10^8, 400 MB), or one
10x10 window shared by every unit (100 weights, 400 B). Counted, not typed in: the rows are
`compare_connectivity`'s, one per registered kind that connects an image.
"""

from __future__ import annotations

import math

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from jaxconv import kinds
from jaxconv.validate import human_bytes
from jaxconv_viewer.gui import typeface
from jaxconv_viewer.gui.panels.counts import decade
from jaxconv_viewer.gui.wrapped import WrapLabel
from jaxconv_viewer.i18n import kind_label, tr

__all__ = ["LECTURE", "LectureTable", "power_text"]

#: The lecture's example: input (H, W, C) and window side.
LECTURE = {"input_shape": (1000, 1000, 1), "kernel_size": 10}


def power_text(n: int) -> str:
    """``n`` as a power of ten when it is one (``10¹²``), else with thousands separators.

    Example:
        >>> power_text(10**12), power_text(100), power_text(1234)
        ('10¹²', '10²', '1,234')
    """
    if n >= 10:
        k = round(math.log10(n))
        if 10 ** k == n:
            return decade(k)
    return f"{n:,}"


class LectureTable(QWidget):
    """One row per kind: weights, their bytes in float32, and the share of dense's weights."""

    jobs = ()  # counted once, at construction

    def __init__(self, parent=None):
        super().__init__(parent)
        # Counted here, not at import: the window's modules load no more of jaxconv than they
        # need to appear (the count itself is shape arithmetic, no JAX).
        from jaxconv.analysis.connectivity import compare_connectivity

        self.table = compare_connectivity(LECTURE["input_shape"],
                                          kernel_size=LECTURE["kernel_size"])
        self.title = typeface.role(WrapLabel(), "title")
        self.headers = [typeface.role(QLabel(), "heading") for _ in range(4)]
        self.names = [typeface.role(QLabel(), "heading", kinds.get(row.layer).color)
                      for row in self.table.rows]
        self.cells = [[typeface.role(QLabel(), "number") for _ in range(3)]
                      for _ in self.table.rows]
        self.note = typeface.role(WrapLabel(), "note")
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        for j, label in enumerate(self.headers):
            grid.addWidget(label, 0, j)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for i, row in enumerate(self.table.rows):
            grid.addWidget(self.names[i], i + 1, 0)
            for j, label in enumerate(self.cells[i]):
                label.setAlignment(right)
                grid.addWidget(label, i + 1, j + 1)
            self.cells[i][0].setText(power_text(row.weights))
            self.cells[i][1].setText(human_bytes(row.weight_bytes))
            self.cells[i][2].setText(_share(self.table.ratio_to_dense(row)))
        for j in range(1, 4):
            self.headers[j].setAlignment(right)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.title)
        box.addLayout(grid)
        box.addWidget(self.note)
        box.addStretch(1)
        self.retranslate()

    def facts(self) -> dict:
        """What it shows, for ``--report``'s layout entry: one row per kind."""
        return {"lecture": [{"kind": row.layer, "weights": row.weights, "bytes": row.weight_bytes,
                             "vs_dense": self.cells[i][2].text()}
                            for i, row in enumerate(self.table.rows)]}

    def retranslate(self):
        """Re-reads every label in the current language."""
        side = LECTURE["input_shape"][0]
        self.title.setText(tr("lecture_title", side=side, k=LECTURE["kernel_size"]))
        for label, key in zip(self.headers, ("lecture_kind", "lecture_weights", "lecture_bytes",
                                             "lecture_share")):
            label.setText(tr(key))
        for label, row in zip(self.names, self.table.rows):
            label.setText(kind_label(row.layer, short=True))
        self.note.setText(tr("lecture_note"))


def _share(ratio: float) -> str:
    """``1``, ``1/10⁴``: a weight count's share of dense's."""
    if ratio >= 1:
        return "1"
    return f"1/{power_text(round(1 / ratio))}"
