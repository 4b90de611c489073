"""`ProbeMixin`: what `MainWindow` asks the worker to show: input, shift, drawing, clicked unit.

The probe is one `jaxconv_viewer.session.snapshot.Probe`, rebuilt from the widgets whenever one of them changes
(a sample or shift in the input panel, a stroke on the canvas, a unit clicked in a feature map
or hovered over: the hovered one is shown while the mouse is on it, the clicked one after)
and sent to the worker with a request for a snapshot, so the answer is drawn on the next frame.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QTimer

from jaxconv_viewer.session.snapshot import Probe, Unit

__all__ = ["HOVER_MS", "ProbeMixin", "default_unit"]

#: The most often a hovered unit replaces the shown one (ms).
HOVER_MS = 100


def default_unit(features):
    """The unit shown before any is clicked: channel 0 mid-map of the deepest spatial layer.

    Args:
        features: ``[(name, activation)]`` of one model (`jaxconv_viewer.session.snapshot.LayerMaps.features`).
    """
    spatial = [(name, a) for name, a in features if np.ndim(a) == 3]
    if not spatial:
        return None
    name, a = spatial[-1]
    return Unit(name, 0, (a.shape[0] // 2, a.shape[1] // 2))


class ProbeMixin:
    """`MainWindow`'s probe: needs ``input``, ``drawing``, ``columns``, ``worker``, ``snapshot``,
    ``unit`` and ``_drawn`` on the window."""

    def probe(self) -> Probe:
        """What the panels show now: the input (test image or drawing), its shift, the unit."""
        drawing = self.drawing.drawing()
        return Probe(*self.input.probe(), unit=self.unit,
                     drawn=self._drawn if drawing is not None else 0, drawing=drawing)

    def select_unit(self, unit):
        """Shows ``unit``'s connections (a `jaxconv_viewer.session.snapshot.Unit`, or None) in every kind; it
        stays the shown unit whenever the mouse hovers over none (a click)."""
        self.chosen_unit = unit
        self._show_unit(unit)

    def hover_unit(self, unit):
        """Shows ``unit``'s connections while the mouse is over it (None: the chosen unit again).

        Throttled: the newest hovered unit is shown at most every `HOVER_MS` ms, so sweeping
        the mouse across a map asks the worker for a handful of snapshots, not one per pixel,
        and the event loop stays free.
        """
        self._hovered_unit = unit
        if getattr(self, "_hover_timer", None) is None:
            self._hover_timer = QTimer(self)
            self._hover_timer.setSingleShot(True)
            self._hover_timer.timeout.connect(self._hover_settled)
        if not self._hover_timer.isActive():
            self._hover_timer.start(HOVER_MS)

    def _hover_settled(self):
        hovered = getattr(self, "_hovered_unit", None)
        unit = hovered if hovered is not None else getattr(self, "chosen_unit", None)
        if unit != self.unit:
            self._show_unit(unit)

    def _show_unit(self, unit):
        self.unit = unit
        for column in self.columns.values():
            column.set_unit(unit)
        self._probe_changed()

    def _drawing_changed(self, drawing):
        self._drawn += drawing is not None
        self._probe_changed()

    def _draw_from_sample(self):
        if self.snapshot is not None:
            self.drawing.load(self.snapshot.image)

    def _probe_changed(self, *_):
        if self.worker is not None:
            self.worker.set_probe(self.probe())
            self.worker.request_snapshot()  # answer on the next frame, not every other one
