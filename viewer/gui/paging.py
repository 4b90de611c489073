"""`PagingMixin`: the window's pages, its View menu and presentation mode.

Only the page shown is drawn: its panels' drawing jobs are the drawing schedule's, and the panels
drawn at every snapshot (the input, the connections) are drawn when they are on it; showing
another page moves its panels there and draws them at once from the newest snapshot. The View
menu lists the pages (Ctrl+1...), the training controls' side bar, and presentation mode (F11):
full screen, every text `typeface.PRESENTATION_SCALE` times larger, for a projector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QDockWidget, QHBoxLayout, QToolButton, QWidget

from jaxconv_viewer.gui import fit, plots, typeface
from jaxconv_viewer.gui.wrapped import unsettle
from jaxconv_viewer.i18n import tr

__all__ = ["PagingMixin"]


class PagingMixin:
    """Needs ``panels``, ``tabs``, ``schedule``, ``snapshot``, ``columns`` and ``_draw_job`` on
    the window."""

    if TYPE_CHECKING:  # MainWindow's (it and QMainWindow set them), for the checker alone
        _draw_job: Any
        actions: Any
        addDockWidget: Any
        controls: Any
        language_menu: Any
        menuBar: Any
        minimumSizeHint: Any
        panels: Any
        resize: Any
        retranslate: Any
        schedule: Any
        setWindowState: Any
        showFullScreen: Any
        size: Any
        snapshot: Any
        windowState: Any

    def _make_view_menu(self):
        bar = self.menuBar()
        self.view_menu = bar.addMenu("")
        bar.addMenu(self.language_menu)
        self.page_actions = []
        self.view_menu.addSeparator()
        self.settings_dock = QDockWidget(cast(QWidget, self))  # the mixin is MainWindow's
        self.settings_dock.setObjectName("settings")
        self.settings_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.settings_dock.setAllowedAreas(Qt.DockWidgetArea.LeftDockWidgetArea
                                           | Qt.DockWidgetArea.RightDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.settings_dock)
        self.settings_dock.hide()
        action = self.settings_dock.toggleViewAction()
        assert action is not None  # a dock widget always has its toggle action
        action.setShortcut(QKeySequence("Ctrl+T"))
        self.actions["settings"] = action
        self.view_menu.addAction(action)
        self.actions["presentation"] = QAction(cast(QWidget, self))
        self.actions["presentation"].setCheckable(True)
        self.actions["presentation"].setShortcuts([QKeySequence("F11")])
        self.actions["presentation"].toggled.connect(self.set_presentation)
        self.view_menu.addAction(self.actions["presentation"])
        # The run buttons and the two toggles share the menu bar's line: a tool bar of their own
        # would take a line of height from every page.
        self.corner = QWidget()
        row = QHBoxLayout(self.corner)
        row.setContentsMargins(0, 0, 4, 0)
        for key in ("settings", "presentation"):
            button = QToolButton()
            button.setDefaultAction(self.actions[key])
            row.addWidget(button)
        bar.setCornerWidget(self.corner)

    def _place_controls(self):
        """The new panels' controls: the fields in the side bar, the run buttons in the menu bar,
        and one View-menu entry per page."""
        self.settings_dock.setWidget(self.controls)
        row = self.corner.layout()
        assert isinstance(row, QHBoxLayout)  # made in _make_view_menu
        if row.count() > 2:  # the old panels' run buttons
            row.takeAt(0)
        row.insertWidget(0, self.controls.run_bar)
        for action in self.page_actions:
            self.view_menu.removeAction(action)
        first = self.view_menu.actions()[0] if self.view_menu.actions() else None
        self.page_actions = []
        for index, _ in enumerate(self.panels.pages):
            action = QAction(cast(QWidget, self))
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _=False, index=index: self.show_page(index))
            self.view_menu.insertAction(first, action)
            self.page_actions.append(action)
        self.tabs.currentChanged.connect(self._page_changed)

    @property
    def tabs(self):
        """The `QTabWidget` of pages."""
        return self.panels.central

    @property
    def page(self):
        """The `jaxconv_viewer.gui.pages.PageWidget` shown."""
        return self.panels.pages[self.tabs.currentIndex()]

    def show_page(self, page):
        """Shows page ``page``: its index, or its key (``"sharing"``).

        Raises:
            ValueError: no page has that key.
        """
        keys = [built.page.key for built in self.panels.pages]
        if isinstance(page, str):
            if page not in keys:
                raise ValueError(f"show_page: `page` must be one of {', '.join(keys)}, got "
                                 f"page={page!r}.")
            page = keys.index(page)
        if page == self.tabs.currentIndex():
            self._page_changed(page)  # filled again: a rebuilt panel may have left it
        else:
            self.tabs.setCurrentIndex(page)

    def _visible(self, widgets) -> bool:
        page = self.page
        return any(widget.isVisibleTo(page) for widget in widgets)

    def _page_changed(self, index):
        if index < 0:
            return
        self.panels.pages[index].fill()
        plots.refresh_axes()  # moved and resized: their cached pictures are stale
        self.schedule.set_jobs([job for job in self.panels.jobs
                                if self._visible(self.panels.job_widgets(job))])
        if self.snapshot is not None:  # the page answers now, not over the next frames
            for panel in self.panels.each_snapshot:
                if self._visible((panel,)):
                    panel.draw(self.snapshot)
            for job in list(self.schedule.jobs):
                self._draw_job(job)
        self.page.update_number(self)

    def _update_number(self, *_):
        self.page.update_number(self)

    def set_presentation(self, on: bool):
        """Presentation mode: full screen and larger type (False: as before)."""
        if self.actions["presentation"].isChecked() != on:
            self.actions["presentation"].setChecked(on)  # toggled calls back here
            return
        self.set_type_scale(typeface.PRESENTATION_SCALE if on else 1.0)
        if on:
            self._shown_before = self.windowState()
            self.showFullScreen()
        else:
            self.setWindowState(getattr(self, "_shown_before", Qt.WindowState.WindowNoState))

    def set_type_scale(self, factor: float):
        """Every text ``factor`` times its desktop size (presentation mode's, without the full
        screen: what ``--report`` checks)."""
        typeface.set_scale(factor)
        unsettle(self)  # every wrapped label gets a new font, then a new width
        typeface.apply(cast(QWidget, self))
        plots.rescale()
        self.retranslate()
        for page in self.panels.pages:
            page.share_out()

    def retranslate_pages(self):
        """The tab titles, the View menu and each page's claim in the current language."""
        self.view_menu.setTitle(tr("menu_view"))
        self.actions["settings"].setText(tr("settings_panel"))
        self.settings_dock.setWindowTitle(tr("settings_panel"))  # the toggle's text too
        self.actions["presentation"].setText(tr("presentation"))
        for index, page in enumerate(self.panels.pages):
            self.tabs.setTabText(index, page.page.title)
            self.page_actions[index].setText(page.page.title)
            page.retranslate(self)
        self.corner.adjustSize()
        self.menuBar().setCornerWidget(self.corner)  # the bar sizes its corner only when it is set

    def _with_settings_open(self, size) -> list[str]:
        """What does not fit on each page while the training settings' side bar is open."""
        was_open = self.settings_dock.isVisible()
        self.settings_dock.show()
        self.resize(size)
        rows = fit.pages(self, size)
        self.settings_dock.setVisible(was_open)
        self.resize(size)
        return [f"{row['page']}: {line}" for row in rows for line in row["clipped"]]

    def layout_report(self, within=None) -> dict:
        """The ``--report`` JSON's ``"layout"``: every page checked (`fit.pages`) at the desktop
        type size (``"pages"``, ``"clipped"``; ``"settings"``: with the training settings' side
        bar open) and in presentation mode's larger type, at ``within`` (default: the window's
        size; a window whose minimum is larger grows past it, and what lies beyond is listed)."""
        size = within or self.size()
        entry: dict[str, Any] = {"window": [size.width(), size.height()]}
        scale = typeface.scale()
        for name, factor in (("desktop", 1.0), ("presentation", typeface.PRESENTATION_SCALE)):
            self.set_type_scale(factor)
            self.resize(size)
            rows = fit.pages(self, size)
            low = self.minimumSizeHint()  # every page laid out at this type size by now
            if name == "desktop":
                entry["minimum"] = [low.width(), low.height()]
                entry["settings"] = self._with_settings_open(size)
            self.set_type_scale(scale)
            self.resize(size)
            if name == "desktop":
                entry["pages"] = rows
                entry["clipped"] = [f"{row['page']}: {line}" for row in rows
                                    for line in row["clipped"]]
            else:
                entry["presentation"] = {"scale": factor, "minimum": [low.width(), low.height()],
                                         "clipped": [f"{row['page']}: {line}" for row in rows
                                                     for line in row["clipped"]]}
        return entry
