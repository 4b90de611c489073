"""The window's panels in one table, `PANELS`, and the pages that show them.

Adding a panel is one `Place` in `PANELS`: `build` makes it, gives its drawing jobs to the
window's `jaxconv_viewer.gui.draw_schedule.DrawSchedule` and lists it for ``retranslate``;
`jaxconv_viewer.gui.window.MainWindow` draws a job by asking the panel that owns it. Where a
panel is shown is said by the pages (`jaxconv_viewer.gui.pages.PAGES`), which name it (`find`).
Per-column panels are made once per column of the settings
(`jaxconv_viewer.session.settings.Settings.columns`), and the dial's panels only when a column
has a dial (`jaxconv_viewer.session.columns.dial_column`). The training controls are no page's:
the window keeps them in a side bar of their own, the run buttons in its tool bar.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from typing import Protocol

from PyQt6.QtWidgets import QTabWidget, QWidget

from jaxconv_viewer.gui.pages import PAGES, PageWidget
from jaxconv_viewer.gui.panels.column import ModelColumn
from jaxconv_viewer.gui.panels.connections import ConnectionsPanel
from jaxconv_viewer.gui.panels.controls import ControlsPanel
from jaxconv_viewer.gui.panels.counts import CountsPanel
from jaxconv_viewer.gui.panels.drawing import DrawPanel
from jaxconv_viewer.gui.panels.growth import FieldGrowth
from jaxconv_viewer.gui.panels.input import InputPanel
from jaxconv_viewer.gui.panels.lecture import LectureTable
from jaxconv_viewer.gui.panels.metrics import MetricsPanel
from jaxconv_viewer.gui.panels.sharing import SharingDial, SimilarityPanel
from jaxconv_viewer.gui.panels.shift import ProbePanels
from jaxconv_viewer.session.columns import dial_column

__all__ = ["DRAWS", "PANELS", "SCOPES", "Panel", "Panels", "Place", "build", "find"]

#: Whom a panel is made for: the window (once), each column, or the dial's column.
SCOPES = ("window", "column", "dial")
#: What a panel draws: its jobs in turn from the newest snapshot (one job per frame), every new
#: snapshot at once (in the frame it arrives), each measure of the worker, or nothing sent to it.
DRAWS = ("jobs", "snapshot", "measures", None)


class Panel(Protocol):
    """What the window asks of a panel: its drawing jobs, ``draw`` and ``retranslate``.

    A panel whose `Place` draws nothing (``draws=None``: the controls, the canvas, the dial, the
    counts, which the window sets itself) needs only ``retranslate``. A panel with ``job_parts``
    (job -> the widgets it draws) has a job drawn only while one of them is on the page shown.
    """

    #: Its drawing jobs' names (unique in the window), each one turn of the `DrawSchedule`;
    #: ``()`` for a panel drawn whole.
    jobs: tuple[Hashable, ...]

    def draw(self, snapshot, job=None) -> None:
        """Draws ``job`` of ``snapshot`` (a `Snapshot`, or a `ProbeResult` for "measures");
        None: all of it."""

    def retranslate(self) -> None:
        """Re-reads every label in the current language."""


@dataclasses.dataclass(frozen=True)
class Place:
    """One panel of the window.

    Attributes:
        name: the window's attribute that holds it: ``window.<name>``, or for a per-column
            panel ``window.<name>[column]``.
        make: ``make(window, column)`` builds it; ``column`` is the column's kind for a
            ``"column"`` panel, the dial's column for a ``"dial"`` one, else None.
        scope: one of `SCOPES`.
        draws: one of `DRAWS`.
    """

    name: str
    make: Callable
    scope: str = "window"
    draws: str | None = None

    def __post_init__(self):
        if self.scope not in SCOPES:
            raise ValueError(f"Place: `scope` must be one of {', '.join(SCOPES)}, got "
                             f"scope={self.scope!r} (panel {self.name!r}).")
        if self.draws not in DRAWS:
            raise ValueError(f"Place: `draws` must be one of {', '.join(map(str, DRAWS))}, got "
                             f"draws={self.draws!r} (panel {self.name!r}).")


PANELS = (
    Place("controls", lambda w, _: ControlsPanel(w.settings, w.redraw_every)),
    Place("drawing", lambda w, _: DrawPanel()),
    Place("columns", lambda w, kind: ModelColumn(kind), "column", "jobs"),
    Place("dial", lambda w, _: SharingDial(), "dial"),
    Place("similarity", lambda w, kind: SimilarityPanel(w.columns[kind]), "dial", "jobs"),
    Place("metrics", lambda w, _: MetricsPanel(w.settings.columns), "window", "jobs"),
    Place("probes", lambda w, _: ProbePanels(w.settings.columns), "window", "measures"),
    Place("input", lambda w, _: InputPanel(w.settings.columns), "window", "snapshot"),
    Place("connections", lambda w, _: ConnectionsPanel(w.settings.columns), "window", "snapshot"),
    Place("growth", lambda w, _: FieldGrowth(), "window", "snapshot"),
    Place("counts", lambda w, _: CountsPanel(w.settings.columns)),
    Place("lecture", lambda w, _: LectureTable()),
)


@dataclasses.dataclass
class Panels:
    """What `build` made.

    Attributes:
        central: the window's central widget: a tab per page (`jaxconv_viewer.gui.pages`).
        pages: the built pages, in tab order.
        jobs: every drawing job, in turn order.
        job_panel: job -> the panel that draws it.
        each_snapshot: panels drawn at once with every new snapshot.
        measured: panels drawn with each measure.
        every: every panel, in table order (for ``retranslate``).
    """

    central: QTabWidget
    pages: list
    jobs: list
    job_panel: dict
    each_snapshot: list
    measured: list
    every: list

    def job_widgets(self, job) -> tuple:
        """The widgets ``job`` draws (a panel's ``job_parts``, else the panel)."""
        panel = self.job_panel[job]
        return getattr(panel, "job_parts", {}).get(job, (panel,))


def find(window, name: str) -> QWidget | None:
    """The panel a page names: ``input`` (``window.input``), ``column:conv`` (a column),
    ``weights:conv`` (a part of one: `ModelColumn.PARTS`), ``shift`` or ``equivariance`` (a part
    of the probes); None for one not made (no dial)."""
    base, _, kind = name.partition(":")
    if kind:
        column = window.columns.get(kind)
        return column if base == "column" or column is None else column.parts[base]
    if base in window.probes.parts:
        return window.probes.parts[base]
    return getattr(window, base)


def build(window, table=PANELS, pages=PAGES) -> Panels:
    """Makes every panel of ``table`` for ``window.settings.columns``, sets each as the window's
    attribute `Place.name` (per-column ones as a dict, made before the others ask for them),
    and the pages that show them (each filled once, the first last: it is shown first).

    Raises:
        ValueError: two panels name the same drawing job.
    """
    columns = tuple(window.settings.columns)
    dial = dial_column(columns)
    made = Panels(QTabWidget(), [], [], {}, [], [], [])
    for place in table:
        targets = {"column": columns, "dial": (dial,), "window": (None,)}[place.scope]
        if place.scope == "dial" and dial is None:
            setattr(window, place.name, None)
            continue
        panels = {column: place.make(window, column) for column in targets}
        setattr(window, place.name, panels if place.scope == "column" else panels[targets[0]])
        for panel in panels.values():
            made.every.append(panel)
            if place.draws == "jobs":
                taken = sorted(map(str, set(panel.jobs) & set(made.job_panel)))
                if taken:
                    raise ValueError(f"layout.build: drawing jobs must be unique, but panel "
                                     f"{place.name!r} names {', '.join(taken)} again.")
                made.jobs.extend(panel.jobs)
                made.job_panel.update(dict.fromkeys(panel.jobs, panel))
            elif place.draws == "snapshot":
                made.each_snapshot.append(panel)
            elif place.draws == "measures":
                made.measured.append(panel)
    window.input.add_drawing(window.drawing)
    made.central.setDocumentMode(True)
    for page in pages:
        built = PageWidget(page, columns, lambda name: find(window, name))
        made.pages.append(built)
        made.central.addTab(built, "")
    for built in reversed(made.pages):  # every panel gets a home, then the first page its own
        built.fill()
        built.share_out()
    return made
