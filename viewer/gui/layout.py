"""The window's panels in one table, `PANELS`: what each is, where it sits and what it draws.

Adding a panel is one `Place` in `PANELS`: `build` makes it, puts it in its area, gives its
drawing jobs to the window's `jaxconv_viewer.gui.draw_schedule.DrawSchedule` and lists it for
``retranslate``; `jaxconv_viewer.gui.window.MainWindow` draws a job by asking the panel that owns it.
Per-column panels are made once per column of the settings (`jaxconv_viewer.session.settings.Settings.columns`),
and the dial's panels only when a column has a dial (`jaxconv_viewer.session.columns.dial_column`).

The window's areas::

    +------+---------+---------+-----+-------+
    | left | columns (one per column)  | right |
    |      +---------+---------+-----+       |
    |      | below (under the columns) |       |
    +------+---------------------------+-------+
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from typing import Protocol

from PyQt6.QtWidgets import QGridLayout, QVBoxLayout, QWidget

from jaxconv_viewer.gui.panels.column import ModelColumn
from jaxconv_viewer.gui.panels.connections import ConnectionsPanel
from jaxconv_viewer.gui.panels.controls import ControlsPanel
from jaxconv_viewer.gui.panels.counts import CountsPanel
from jaxconv_viewer.gui.panels.drawing import DrawPanel
from jaxconv_viewer.gui.panels.input import InputPanel
from jaxconv_viewer.gui.panels.metrics import MetricsPanel
from jaxconv_viewer.gui.panels.sharing import SharingDial, SimilarityPanel
from jaxconv_viewer.gui.panels.shift import ProbePanels
from jaxconv_viewer.session.columns import dial_column

__all__ = ["AREAS", "DRAWS", "PANELS", "Panel", "Panels", "Place", "build"]

#: Where a panel can sit: the side bars (top to bottom), one per column (left to right), under
#: the columns (left to right), or inside the dial's column (under its title, beside its weights).
AREAS = ("left", "right", "columns", "below", "dial title", "dial weights")
#: What a panel draws: its jobs in turn from the newest snapshot (one job per frame), every new
#: snapshot at once (in the frame it arrives), each measure of the worker, or nothing sent to it.
DRAWS = ("jobs", "snapshot", "measures", None)
#: Fixed widths of the side bars (pixels).
SIDE_WIDTH = {"left": 270, "right": 300}


class Panel(Protocol):
    """What the window asks of a panel: its drawing jobs, ``draw`` and ``retranslate``.

    A panel whose `Place` draws nothing (``draws=None``: the controls, the canvas, the dial, the
    counts, which the window sets itself) needs only ``retranslate``.
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
        make: ``make(window, column)`` builds it; ``column`` is the column's kind for an area
            ``"columns"`` panel, the dial's column for a ``"dial ..."`` one, else None.
        area: one of `AREAS`.
        stretch: its share of its area's length; in ``"below"``, the grid columns it spans (0:
            those the others leave).
        draws: one of `DRAWS`.
    """

    name: str
    make: Callable
    area: str
    stretch: int = 0
    draws: str | None = None

    def __post_init__(self):
        if self.area not in AREAS:
            raise ValueError(f"Place: `area` must be one of {', '.join(AREAS)}, got "
                             f"area={self.area!r} (panel {self.name!r}).")
        if self.draws not in DRAWS:
            raise ValueError(f"Place: `draws` must be one of {', '.join(map(str, DRAWS))}, got "
                             f"draws={self.draws!r} (panel {self.name!r}).")


PANELS = (
    Place("controls", lambda w, _: ControlsPanel(w.settings, w.redraw_every), "left", 0),
    Place("drawing", lambda w, _: DrawPanel(), "left", 1),
    Place("columns", lambda w, kind: ModelColumn(kind), "columns", 1, "jobs"),
    Place("dial", lambda w, _: SharingDial(), "dial title"),
    Place("similarity", lambda w, kind: SimilarityPanel(w.columns[kind]), "dial weights", 2,
          "jobs"),
    Place("metrics", lambda w, _: MetricsPanel(w.settings.columns), "below", 0, "jobs"),
    Place("probes", lambda w, _: ProbePanels(w.settings.columns), "below", 1, "measures"),
    Place("input", lambda w, _: InputPanel(w.settings.columns), "right", 0, "snapshot"),
    Place("connections", lambda w, _: ConnectionsPanel(w.settings.columns), "right", 3,
          "snapshot"),
    Place("counts", lambda w, _: CountsPanel(w.settings.columns), "right", 1),
)


@dataclasses.dataclass
class Panels:
    """What `build` made.

    Attributes:
        central: the window's central widget, every panel laid out in it.
        jobs: every drawing job, in turn order (the `DrawSchedule`'s list).
        job_panel: job -> the panel that draws it.
        each_snapshot: panels drawn at once with every new snapshot.
        measured: panels drawn with each measure.
        every: every panel, in table order (for ``retranslate``).
    """

    central: QWidget
    jobs: list
    job_panel: dict
    each_snapshot: list
    measured: list
    every: list


def build(window, table=PANELS) -> Panels:
    """Makes every panel of ``table`` for ``window.settings.columns``, sets each as the window's
    attribute `Place.name` (per-column ones as a dict, made before the others ask for them), and
    lays them out (the dial's panels are None when no column has a dial).

    Raises:
        ValueError: two panels name the same drawing job.
    """
    columns = tuple(window.settings.columns)
    dial = dial_column(columns)
    made = Panels(QWidget(), [], {}, [], [], [])
    placed = []  # (place, panel, column)
    for place in table:
        targets = (columns if place.area == "columns"
                   else (dial,) if place.area.startswith("dial") else (None,))
        if place.area.startswith("dial") and dial is None:
            setattr(window, place.name, None)
            continue
        panels = {column: place.make(window, column) for column in targets}
        setattr(window, place.name, panels if place.area == "columns" else panels[targets[0]])
        for column, panel in panels.items():
            placed.append((place, panel, column))
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
    _lay_out(made.central, placed, window.columns, len(columns))
    return made


def _lay_out(central, placed, column_panels, n):
    bars = {side: QVBoxLayout() for side in SIDE_WIDTH}
    below = [(place, panel) for place, panel, _ in placed if place.area == "below"]
    rest = max(1, n - sum(place.stretch for place, _ in below))
    grid = QGridLayout(central)
    at = 1
    for place, panel in below:  # under the columns, each as wide as the columns it spans
        span = place.stretch or rest
        grid.addWidget(panel, 1, at, 1, span)
        at += span
    for place, panel, column in placed:
        if place.area in SIDE_WIDTH:
            bars[place.area].addWidget(panel, place.stretch)
        elif place.area == "columns":
            grid.addWidget(panel, 0, 1 + list(column_panels).index(column))
        elif place.area == "dial title":
            column_panels[column].add_under_title(panel)
        elif place.area == "dial weights":
            column_panels[column].add_beside_weights(panel, place.stretch)
    right = max(n, at - 1) + 1
    for column in range(1, right):  # the columns share the width evenly, whatever they draw
        grid.setColumnStretch(column, 1)
    for side, column in (("left", 0), ("right", right)):
        bar = QWidget()
        bar.setLayout(bars[side])
        bars[side].setContentsMargins(0, 0, 0, 0)
        bar.setFixedWidth(SIDE_WIDTH[side])
        grid.addWidget(bar, 0, column, 2, 1)
    grid.setRowStretch(0, 4)
    grid.setRowStretch(1, 1)
