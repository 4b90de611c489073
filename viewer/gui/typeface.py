"""The bundled CJK font: registered with Qt once, used when the language is Simplified Chinese.

``fonts/NotoSansSC-viewer.otf`` holds every character of the viewer's ``zh_CN`` labels (see
`jaxconv_viewer.i18n.font_subset`), so Chinese renders on machines with no CJK font installed.
"""

from __future__ import annotations

from PyQt6.QtGui import QFont, QFontDatabase
from PyQt6.QtWidgets import QApplication

from jaxconv_viewer.i18n.font_subset import FONT_PATH

__all__ = ["install", "use_for"]

_state = {"family": None, "default": None}


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
        font = QFont(_state["default"])
        font.setFamilies([family, *_state["default"].families()])
        QApplication.setFont(font)
    else:
        QApplication.setFont(_state["default"])
