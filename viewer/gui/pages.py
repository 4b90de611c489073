"""The window's pages, one lesson each, in the lecture's order: `PAGES`.

Each page is a claim, the live number that backs it, and a few large panels in splitters. One
panel exists once, whatever the pages: showing a page moves the panels it names into its places
(`PageWidget.fill`), so the input, the drawing, the unit picked and the pickers are the same on
every page, and every panel trains on under the same session. A page names its panels by their
place in the window (`jaxconv_viewer.gui.layout.find`): ``input``, ``weights:dense`` (a part of a
column), ``weights:*`` (that part of every column, side by side), ``shift`` (a part of the
probes)... The *All panels* page holds every panel, as the dashboard of earlier versions did, in
a scroll area: the only page that needs one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QScrollArea, QSplitter, QVBoxLayout, QWidget

from jaxconv_viewer.gui import lessons, typeface
from jaxconv_viewer.gui.wrapped import WrapLabel, unsettle
from jaxconv_viewer.i18n import tr

__all__ = ["PAGES", "Page", "PageWidget", "Slot"]


@dataclasses.dataclass(frozen=True)
class Split:
    """Panels side by side (``horizontal``) or one above the other, in a `QSplitter`.

    Attributes:
        items: panel names (``"weights:*"``: one per column) or nested `Split`s.
        stretch: each item's share of the length (default: equal).
    """

    horizontal: bool
    items: tuple
    stretch: tuple = ()


def row(*items, stretch=()) -> Split:
    """Items side by side."""
    return Split(True, items, tuple(stretch))


def column(*items, stretch=()) -> Split:
    """Items one above the other."""
    return Split(False, items, tuple(stretch))


@dataclasses.dataclass(frozen=True)
class Page:
    """One page of the window.

    Attributes:
        key: its name (``--page``, the report's ``layout`` entry).
        arrangement: a `Split` of its panels.
        number: ``number(window) -> str``, the live number under the claim (`lessons`); None: no
            claim, no number (the *All panels* page).
        scroll: the panels need at least this size (pixels) and scroll inside it when the window
            is smaller; None: they fit the window.
    """

    key: str
    arrangement: Split
    number: Callable | None = None
    scroll: tuple | None = None

    @property
    def title(self) -> str:
        """The tab's title in the current language."""
        return tr(f"page_{self.key}")


PAGES = (
    Page("costs", column(row("card:*"), row("lecture", "counts", stretch=(3, 2)),
                         stretch=(2, 3)), lessons.costs),
    Page("wiring", row("input", column(row("weights:*"), row("connections", "growth",
                                                              stretch=(3, 1)), stretch=(4, 3)),
                       stretch=(1, 5)), lessons.wiring),
    Page("sharing", row("input", column(row("dial+similarity", "shift", "equivariance"),
                                        row("features:*"), stretch=(1, 1)),
                        stretch=(1, 5)), lessons.sharing),
    Page("learning", row("metrics", "counts", stretch=(3, 1)), lessons.learning),
    Page("backprop", column(row("weights:*"), row("gradients:*")), lessons.backprop),
    Page("all", row(column("input", "growth", stretch=(3, 2)),
                    column(row("column:*"), row("metrics", "shift+equivariance", stretch=(2, 1)),
                           stretch=(3, 1)),
                    column("dial+similarity", "connections", "counts", stretch=(2, 3, 1)),
                    stretch=(1, 4, 1)), scroll=(1600, 960)),
)


class Slot(QWidget):
    """A place on a page for one or more panels (``"a+b"``: one above the other)."""

    def __init__(self, name: str, find: Callable, parent=None):
        super().__init__(parent)
        self.name, self._find = name, find
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)

    def widgets(self) -> list[QWidget]:
        """The panels placed here (a panel the window has not made, like a missing dial, is left
        out)."""
        found = [self._find(name) for name in self.name.split("+")]
        return [widget for widget in found if widget is not None]

    def fill(self):
        """Moves its panels here (out of the page that showed them last)."""
        for widget in self.widgets():
            if widget.parentWidget() is not self:
                unsettle(widget)  # its wrapped labels' old widths say nothing here
                box = self.layout()
                assert isinstance(box, QVBoxLayout)  # set in __init__
                box.addWidget(widget, 1)
            gather = getattr(widget, "gather", None)
            if gather is not None:  # a column, the probes: their parts come back
                gather()
            widget.show()


class PageWidget(QWidget):
    """A built `Page`: its claim, its number and its slots.

    Args:
        page: the `Page`.
        columns: the window's columns (``"*"`` names one slot per column).
        find: ``find(name) -> QWidget | None``, the window's panel of that name.
    """

    def __init__(self, page: Page, columns, find: Callable, parent=None):
        super().__init__(parent)
        self.page = page
        self.slots = []
        self.splitters = []  # (splitter, shares), to lay out again at another type size
        self.claim = typeface.role(WrapLabel(), "claim")
        self.number = typeface.role(WrapLabel(), "number", "#0b5394")
        box = QVBoxLayout(self)
        box.setContentsMargins(6, 4, 6, 4)
        box.setSpacing(2)
        for label in (self.claim, self.number):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if page.number is not None:
                box.addWidget(label)
            else:  # no lesson: no claim, and no label left lying over the panels
                label.hide()
        body = self._build(page.arrangement, tuple(columns), find)
        self.body = body
        if page.scroll is None:
            box.addWidget(body, 1)
        else:
            self.scroll_area = QScrollArea()
            self.scroll_area.setWidget(body)
            self.scroll_area.setWidgetResizable(True)
            box.addWidget(self.scroll_area, 1)

    def _build(self, split: Split, columns, find) -> QWidget:
        splitter = QSplitter(Qt.Orientation.Horizontal if split.horizontal
                             else Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)  # a collapsed panel would be a clipped one
        stretch = list(split.stretch) or [1] * len(split.items)
        shares = []
        for item, share in zip(split.items, stretch):
            names = ([item.replace("*", kind) for kind in columns]
                     if isinstance(item, str) and item.endswith("*") else [item])
            for name in names:
                if isinstance(name, Split):
                    child = self._build(name, columns, find)
                else:
                    child = Slot(name, find)
                    self.slots.append(child)
                splitter.addWidget(child)
                splitter.setStretchFactor(splitter.count() - 1, share)
                shares.append(share)
        self.splitters.append((splitter, shares))
        return splitter

    def share_out(self):
        """Gives each pane of every splitter its share of the length again (the stretch), as
        when the page was made: a change of type size would otherwise keep the old lengths."""
        for splitter, shares in self.splitters:
            splitter.setSizes([1000 * share for share in shares])
        if self.page.scroll is not None:  # larger type, larger panels
            self.body.setMinimumSize(*(round(n * typeface.scale()) for n in self.page.scroll))

    def fill(self):
        """Moves every panel of the page into its place."""
        for slot in self.slots:
            slot.fill()

    def retranslate(self, window):
        """The claim and the live number in the current language, from ``window`` now."""
        if self.page.number is not None:
            self.claim.setText(tr(f"claim_{self.page.key}"))
            self.update_number(window)

    def update_number(self, window):
        """Re-reads the live number from ``window`` (a new snapshot, count or measure)."""
        if self.page.number is not None:
            text = self.page.number(window)
            if text != self.number.text():
                self.number.setText(text)
