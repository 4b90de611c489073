"""The viewer's type: the bundled CJK font, text roles, and the presentation scale.

``fonts/NotoSansSC-viewer.otf`` holds every character of the viewer's ``zh_CN`` labels (see
`jaxconv_viewer.i18n.font_subset`), so Chinese renders on machines with no CJK font installed.

Text sizes are roles, not pixels: a label made with `role` ("claim", "count", "title", ...) gets
the application font scaled by its role's factor, and by the presentation scale (`set_scale`:
1 on a desk, `PRESENTATION_SCALE` on a projector). `apply` re-reads every role under a widget,
so a language (another family) or a scale change reaches every label; a style sheet sets only a
label's colour, never its size, or it would not follow.
"""

from __future__ import annotations

from typing import TypeVar

from PyQt6.QtGui import QFont, QFontDatabase
from PyQt6.QtWidgets import QApplication, QWidget

from jaxconv_viewer.i18n.font_subset import FONT_PATH

_W = TypeVar("_W", bound=QWidget)  # role() hands back the widget it was given, as its own type

__all__ = ["PRESENTATION_SCALE", "ROLES", "apply", "font", "install", "points", "role", "scale",
           "set_scale", "use_for"]

#: Role -> (size factor, bold).
ROLES = {
    "claim": (1.3, False),  # a page's claim, read from the back row
    "number": (1.15, True),  # the live number backing it
    "count": (1.9, True),  # a model's parameter count
    "title": (1.2, True),  # a panel's title
    "heading": (1.0, True),  # a column's name, a sub-title
    "note": (0.9, False),  # a caption, a formula, a hint
}
#: How much larger every text is in presentation mode.
PRESENTATION_SCALE = 1.3

_state = {"family": None, "default": None, "scale": 1.0}


def install() -> str | None:
    """Registers the bundled font (once) and returns its family, or None if Qt refused it."""
    if _state["family"] is None:
        font_id = QFontDatabase.addApplicationFont(str(FONT_PATH))
        families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
        _state["family"] = families[0] if families else ""
        _state["default"] = QApplication.font()
    return _state["family"] or None


def use_for(language: str) -> None:
    """Makes the bundled font the application font for ``zh_CN``; restores the default otherwise."""
    family = install()
    if family is None:
        return
    if language == "zh_CN":
        chosen = QFont(_state["default"])
        chosen.setFamilies([family, *_state["default"].families()])
        QApplication.setFont(chosen)
    else:
        QApplication.setFont(_state["default"])


def scale() -> float:
    """The presentation scale now (1.0 outside presentation mode)."""
    return _state["scale"]


def set_scale(factor: float) -> None:
    """Scales every text by ``factor`` from the next `apply` on (1.0: as the desktop's)."""
    _state["scale"] = float(factor)


def points(factor: float = 1.0) -> float:
    """The application font's point size times ``factor`` and the presentation scale."""
    size = QApplication.font().pointSizeF()
    return (size if size > 0 else 9.0) * factor * _state["scale"]


def font(name: str | None = None) -> QFont:
    """The font of role ``name`` of `ROLES` (None: body text) at the current scale."""
    factor, bold = ROLES[name] if name is not None else (1.0, False)
    chosen = QFont(QApplication.font())
    chosen.setPointSizeF(points(factor))
    chosen.setBold(bold)
    return chosen


def role(widget: _W, name: str, color: str | None = None) -> _W:
    """Gives ``widget`` role ``name`` of `ROLES` (and a text colour); returns it."""
    if name not in ROLES:
        raise ValueError(f"role: `name` must be one of {', '.join(ROLES)}, got name={name!r}.")
    widget.setProperty("role", name)
    widget.setFont(font(name))
    if color is not None:
        widget.setStyleSheet(f"color: {color};")
    return widget


def apply(root: QWidget) -> None:
    """Re-reads the fonts of ``root`` (body text at the current scale) and of every role under it."""
    root.setFont(font())
    for widget in root.findChildren(QWidget):
        name = widget.property("role")
        if name:
            widget.setFont(font(name))
