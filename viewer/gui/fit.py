"""Does the window fit? Every shown widget checked from the real widgets: `problems`, `pages`.

A widget is listed when it is

- **below its minimum size**: smaller than a layout would ever make it (its explicit minimum,
  else its minimum size hint, or its size hint where its size policy may not shrink, and the
  height its width needs when its height depends on its width, as a wrapped label's);
- **clipped or elided**: a label whose text needs more room than it has, a combo box whose
  current text is cut, a tab whose title is shortened, a tool bar whose buttons went into its
  overflow menu;
- **outside**: not wholly inside the window, or inside its parent (a scroll area's contents
  are checked against the contents: they are reached by scrolling).

`pages` shows each page of a `jaxconv_viewer.gui.window.MainWindow` in turn and lists what does
not fit on it, with the page's live number and how large its pictures are drawn (screen pixels
per image pixel); the ``--report`` JSON's ``"layout"`` entry.
"""

from __future__ import annotations

from PyQt6.QtCore import QPoint, QRect, QSize
from PyQt6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QMenuBar,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QStyle,
    QStyleOptionComboBox,
    QTabBar,
    QToolBar,
    QWidget,
)

__all__ = ["describe", "minimum", "pages", "problems"]

_SHRINK = QSizePolicy.PolicyFlag.ShrinkFlag.value
_IGNORED = QSizePolicy.Policy.Ignored
#: What is checked for size and text: widgets a user reads or clicks, and the plots.
_LEAVES = (QLabel, QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit, QSlider, QProgressBar,
           QTabBar, QMenuBar, QToolBar)


def _is_plot(widget) -> bool:
    import pyqtgraph as pg

    return isinstance(widget, pg.GraphicsView)


def _axis_minimum(size: int, policy, hint: int, min_hint: int) -> int:
    if size > 0:
        return size
    if policy == _IGNORED:
        return 0
    return max(min_hint, 0) if policy.value & _SHRINK else max(hint, min_hint, 0)


def minimum(widget: QWidget) -> QSize:
    """The smallest size a layout gives ``widget`` (as Qt's own ``qSmartMinSize``), with the
    height its width needs when its height depends on its width."""
    policy, hint, low = widget.sizePolicy(), widget.sizeHint(), widget.minimumSizeHint()
    width = _axis_minimum(widget.minimumWidth(), policy.horizontalPolicy(), hint.width(),
                          low.width())
    height = _axis_minimum(widget.minimumHeight(), policy.verticalPolicy(), hint.height(),
                           low.height())
    if widget.hasHeightForWidth() and policy.verticalPolicy() != _IGNORED:
        height = max(height, widget.heightForWidth(widget.width()))
    return QSize(width, height)


def describe(widget: QWidget) -> str:
    """``ClassName 'its text' in Panel(kind)``: enough to find the widget."""
    text = ""
    for getter in ("text", "currentText", "title"):
        if hasattr(widget, getter) and callable(getattr(widget, getter)):
            try:
                text = str(getattr(widget, getter)())
            except TypeError:
                continue
            break
    text = " ".join(text.split())
    what = type(widget).__name__ + (f" '{text[:40]}{'…' * (len(text) > 40)}'" if text else "")
    panel = widget.parentWidget()
    while panel is not None and not type(panel).__module__.startswith("jaxconv_viewer.gui.panels"):
        panel = panel.parentWidget()
    if panel is not None:
        kind = getattr(panel, "kind", None)
        what += f" in {type(panel).__name__}" + (f"({kind})" if isinstance(kind, str) else "")
    return what


def _text_room(widget) -> QSize | None:
    """The room ``widget``'s text needs, where a layout does not already give it (None)."""
    if isinstance(widget, QLabel) and not widget.wordWrap() and widget.text():
        return widget.sizeHint()
    if isinstance(widget, QComboBox) and widget.currentText():
        option = QStyleOptionComboBox()
        widget.initStyleOption(option)
        text = widget.fontMetrics().horizontalAdvance(widget.currentText())
        style = widget.style()
        assert style is not None  # every widget has one (the application's)
        return style.sizeFromContents(QStyle.ContentsType.CT_ComboBox, option,
                                               QSize(text, widget.fontMetrics().height()), widget)
    if isinstance(widget, QLineEdit) and not isinstance(widget.parentWidget(), QAbstractSpinBox):
        return QSize(widget.fontMetrics().horizontalAdvance(widget.text()) + 8, 0)
    if isinstance(widget, QPushButton) and widget.text():  # its size hint keeps a style minimum
        style, text = widget.style(), widget.text().replace("&", "")
        assert style is not None  # every widget has one (the application's)
        margins = 2 * (style.pixelMetric(QStyle.PixelMetric.PM_ButtonMargin)
                       + style.pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth))
        return QSize(widget.fontMetrics().horizontalAdvance(text) + margins, 0)
    if isinstance(widget, QAbstractButton) and widget.text():  # check boxes, tool buttons
        return widget.sizeHint()
    return None


def _own_problems(widget: QWidget) -> list[str]:
    found = []
    size, low = widget.size(), minimum(widget)
    if size.width() < low.width() or size.height() < low.height():
        found.append(f"{size.width()}x{size.height()} below its minimum "
                     f"{low.width()}x{low.height()}")
    room = _text_room(widget)
    if room is not None and (size.width() < room.width() or size.height() < room.height()):
        found.append(f"text cut: {size.width()}x{size.height()} for "
                     f"{room.width()}x{room.height()}")
    if isinstance(widget, QTabBar):
        for i in range(widget.count()):
            rect, wanted = widget.tabRect(i), widget.tabSizeHint(i)
            if rect.width() < wanted.width() or not widget.rect().contains(rect):
                found.append(f"tab '{widget.tabText(i)}' elided or hidden")
    if isinstance(widget, QToolBar):
        extension = widget.findChild(QAbstractButton, "qt_toolbar_ext_button")
        if extension is not None and extension.isVisible():
            found.append("buttons moved to its overflow menu")
    if isinstance(widget, QMenuBar) and widget.sizeHint().width() > widget.width():
        found.append("menus moved to its overflow menu")
    return found


def _skipped(widget: QWidget) -> bool:
    """Parts of Qt's own composite widgets (checked through their owner) and its overflow
    buttons (checked as the tool bar's and menu bar's problem)."""
    parent = widget.parentWidget()
    return (isinstance(parent, (QAbstractSpinBox, QComboBox, QTabBar))
            or widget.objectName().startswith("qt_"))


def problems(window: QWidget, within: QSize | None = None) -> tuple[list[str], int]:
    """What of ``window``'s shown widgets does not fit, and how many widgets were checked.

    Args:
        window: a top-level widget, laid out (shown, events processed).
        within: the size the window should fit (default: its own).
    """
    bounds = QRect(QPoint(0, 0), within or window.size())
    found, checked = [], 0
    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or _skipped(widget):
            continue
        leaf = isinstance(widget, _LEAVES) or _is_plot(widget)
        if not leaf:
            continue
        checked += 1
        issues = _own_problems(widget)
        area = widget.parentWidget()
        while area is not None and not isinstance(area, QScrollArea):
            area = area.parentWidget()
        frame = area.widget() if area is not None else window
        assert frame is not None  # a page's scroll area always holds its contents
        place = QRect(widget.mapTo(frame, QPoint(0, 0)), widget.size())
        if not (frame.rect() if area is not None else bounds).contains(place):
            issues.append(f"outside the {'scrolled area' if area else 'window'} at "
                          f"({place.x()}, {place.y()}, {place.width()}x{place.height()})")
        parent = widget.parentWidget()
        if parent is not None and not parent.rect().contains(widget.geometry()):
            issues.append("sticks out of its parent")
        found += [f"{describe(widget)}: {issue}" for issue in issues]
    return found, checked


def pages(window, within: QSize | None = None) -> list[dict]:
    """Shows every page of ``window`` in turn (drawing it from the newest snapshot) and checks it.

    Returns:
        one ``{"page", "title", "claim", "number", "checked", "clipped", "scroll", "pictures",
        "facts"}`` per page, in tab order; ``"pictures"`` maps each picture (``weights dense``,
        ...) to the screen pixels one of its image pixels takes, ``"facts"`` gathers what the
        page's panels say they show (``facts()``: the lecture's table, the unit's fields, the
        fields' growth).
    """
    from jaxconv_viewer.gui.plots import ImagePanel

    shown = window.tabs.currentIndex()
    rows = []
    for index, page in enumerate(window.panels.pages):
        window.show_page(index)
        QApplication.processEvents()
        QApplication.processEvents()  # the second pass lays out what the first one resized
        clipped, checked = problems(window, within)
        if within is not None and (window.width() > within.width()
                                   or window.height() > within.height()):
            low = window.minimumSizeHint()  # Qt grows a window to its minimum: it did not fit
            clipped.insert(0, f"the window grew to {window.width()}x{window.height()} "
                              f"(its minimum is {low.width()}x{low.height()})")
        pictures, facts = {}, {}
        for image in page.findChildren(ImagePanel):
            if image.isVisible() and image.data() is not None:
                pictures[image.objectName() or describe(image)] = round(image.scale(), 2)
        for panel in page.findChildren(QWidget):  # what a panel says it shows, as numbers
            if panel.isVisible() and callable(getattr(panel, "facts", None)):
                facts.update(panel.facts())
        rows.append({"page": page.page.key, "title": page.page.title,
                     "claim": page.claim.text(), "number": page.number.text(),
                     "checked": checked, "clipped": clipped,
                     "scroll": page.page.scroll is not None, "pictures": pictures,
                     "facts": facts})
    window.show_page(shown)
    QApplication.processEvents()
    return rows
