"""`WrapLabel`: a word-wrapped label that no splitter squeezes below the lines its text needs.

Qt gives a wrapped label the height its width needs only inside box layouts that ask for height
for width; a `QSplitter` asks a pane for its minimum size, and a wrapped `QLabel`'s minimum
height is a guess made for some other width, so a splitter can cut its last lines away. This
label's minimum height is its text's height at its width now, asked again whenever the width
changes. A label moved to another place (a page shows its panels) or given another font does
not know its next width: until it is laid out there (`unsettle`), it asks what a plain label
asks, so that its old, maybe narrower, width does not make the window grow for a moment.
"""

from __future__ import annotations

from PyQt6.QtCore import QSize
from PyQt6.QtWidgets import QLabel

__all__ = ["WrapLabel", "unsettle"]


class WrapLabel(QLabel):
    """A `QLabel` with word wrap on, whose minimum height follows its width."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.settled = False  # laid out at the width it has now

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """At least the height the text takes at the label's width now."""
        hint = super().minimumSizeHint()
        if self.settled and self.width() > 0 and self.text():
            return QSize(hint.width(), max(hint.height(), self.heightForWidth(self.width())))
        return hint

    def unsettle(self):
        """Its width is about to change (it moves, or its font does): no minimum from it yet."""
        self.settled = False

    def resizeEvent(self, a0):  # noqa: N802 - Qt's name (PyQt6 calls the event a0)
        """A new width may need another height: the layouts above ask again."""
        assert a0 is not None  # Qt always passes the event
        super().resizeEvent(a0)
        if a0.size().width() != a0.oldSize().width() or not self.settled:
            self.settled = True
            self.updateGeometry()


def unsettle(widget) -> None:
    """`WrapLabel.unsettle` every wrapped label in ``widget`` (and ``widget`` itself if one)."""
    for label in [widget, *widget.findChildren(WrapLabel)]:
        if isinstance(label, WrapLabel):
            label.unsettle()
