"""`FieldGrowth`: one spot's receptive field in every layer of a windowed model, nested.

The snapshot carries the theoretical field, layer by layer, of the unit at the shown unit's place
(`jaxconv_viewer.session.capture.field_growth`); this draws each field's outline over the input,
from the first layer's window to the widest, with its size in pixels underneath. A dense unit
needs no picture: it is wired to the whole input from the first layer on.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from jaxconv_viewer.gui import typeface
from jaxconv_viewer.gui.plots import ImagePanel
from jaxconv_viewer.gui.wrapped import WrapLabel
from jaxconv_viewer.i18n import tr

__all__ = ["COLORS", "FieldGrowth", "field_box"]

#: One outline colour per layer, first to last (cycled beyond).
COLORS = ("#00c853", "#ffab00", "#d500f9", "#00b0ff")


def field_box(field):
    """The ``(row, col, height, width)`` a bool (H, W) field spans, or None if it is empty.

    Example:
        >>> f = np.zeros((5, 5), bool); f[1:4, 2:4] = True
        >>> field_box(f)
        (1, 2, 3, 2)
    """
    rows, cols = np.nonzero(np.asarray(field, bool).any(1))[0], np.nonzero(np.asarray(field).any(0))[0]
    if not rows.size:
        return None
    return (int(rows[0]), int(cols[0]), int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1))


class FieldGrowth(QWidget):
    """The input with one outline per layer: where one spot's unit of that layer looks."""

    jobs = ()  # drawn at once with each snapshot, as the connections

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = typeface.role(WrapLabel(), "title")
        self.image = ImagePanel("gray")
        self.image.setObjectName("growth")
        self.image.setMinimumSize(120, 120)
        self.caption = WrapLabel()
        self.boxes = []  # (layer, box) drawn now
        self._input = None
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.title)
        box.addWidget(self.image, 1)
        box.addWidget(self.caption)
        self.retranslate()

    def facts(self) -> dict:
        """What it shows, for ``--report``'s layout entry: each layer's field, rows x columns."""
        return {"growth": {name: [box[2], box[3]] for name, box in self.boxes}}

    def retranslate(self):
        """Re-reads every label in the current language."""
        self.title.setText(tr("growth_title"))
        self._caption()

    def _caption(self):
        if not self.boxes:
            self.caption.setText(tr("growth_none"))
            return
        sizes = [f'<span style="color:{COLORS[i % len(COLORS)]}">■</span>&nbsp;'
                 + tr("growth_layer", layer=name, h=box[2], w=box[3]).replace(" ", "&nbsp;")
                 for i, (name, box) in enumerate(self.boxes)]  # a size never split over lines
        assert self._input is not None  # set by `draw`, with the boxes
        h, w = self._input
        self.caption.setText(" ".join(sizes) + "<br>" + tr("growth_dense", h=h, w=w))

    def draw(self, snapshot, job=None):
        """Draws ``snapshot.growth`` over ``snapshot.image``."""
        del job  # drawn whole
        self.image.set_data(np.clip(snapshot.image.mean(axis=-1), 0, 1), levels=(0.0, 1.0))
        self._input = snapshot.image.shape[:2]
        self.boxes = [(name, box) for name, box in
                      ((name, field_box(field)) for name, field in snapshot.growth) if box]
        self.image.mark([box for _, box in self.boxes],
                        [COLORS[i % len(COLORS)] for i in range(len(self.boxes))])
        self._caption()
