"""`ProbeMixin`: what `MainWindow` asks the worker to show: input, shift, drawing, unit.

The probe is one `jaxconv_viewer.session.snapshot.Probe`, rebuilt from the widgets whenever one of them changes
(a sample or shift in the input panel, a stroke on the canvas, a unit clicked in a feature map
or in the input's "wired to" picture, or hovered over: the hovered one is shown while the mouse
is on it, the clicked one after) and sent to the worker with a request for a snapshot, so the
answer is drawn on the next frame. Until a unit is clicked, the unit shown is the default one
(`jaxconv_viewer.session.capture.default_unit`): a first-layer unit that fires in every model
for the input shown, picked again whenever it stops firing (another input, a shift, training)
and when training pauses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np
from PyQt6.QtCore import QObject, QTimer

from jaxconv_viewer.session.capture import default_unit, fires
from jaxconv_viewer.session.snapshot import Probe, Unit

__all__ = ["HOVER_MS", "ProbeMixin", "unit_at_pixel"]

#: The most often a hovered unit replaces the shown one (ms).
HOVER_MS = 100


def unit_at_pixel(features, unit, row: int, col: int, input_hw):
    """The unit of ``unit``'s layer and channel (layer 1, channel 0 without one) whose place in
    its map is that of input pixel (``row``, ``col``); None without spatial layers.

    Args:
        features: ``[(name, activation)]`` of one model (`LayerMaps.features`).
        unit: the `Unit` shown now, or None.
        row, col: the input pixel.
        input_hw: the input's ``(H, W)``.

    Example:
        >>> unit_at_pixel([("layer1", np.zeros((14, 14, 4)))], None, 27, 0, (28, 28))
        Unit(layer='layer1', channel=0, position=(13, 0))
    """
    spatial = {name: np.shape(a) for name, a in features if np.ndim(a) == 3}
    if not spatial:
        return None
    layer = unit.layer if unit is not None and unit.layer in spatial else next(iter(spatial))
    h, w, channels = spatial[layer]
    channel = min(unit.channel, channels - 1) if unit is not None and unit.layer == layer else 0
    return Unit(layer, channel, (min(h - 1, row * h // input_hw[0]),
                                 min(w - 1, col * w // input_hw[1])))


class ProbeMixin:
    """`MainWindow`'s probe: needs ``input``, ``drawing``, ``columns``, ``worker``, ``snapshot``,
    ``unit`` and ``_drawn`` on the window."""

    if TYPE_CHECKING:  # MainWindow's (it and QMainWindow set them), for the checker alone
        columns: Any
        drawing: Any
        input: Any
        snapshot: Any
        training: Any
        worker: Any

    def probe(self) -> Probe:
        """What the panels show now: the input (test image or drawing), its shift, the unit."""
        drawing = self.drawing.drawing()
        return Probe(*self.input.probe(), unit=self.unit,
                     drawn=self._drawn if drawing is not None else 0, drawing=drawing)

    def select_unit(self, unit, *, chosen: bool = True):
        """Shows ``unit``'s connections (a `jaxconv_viewer.session.snapshot.Unit`, or None) in every kind; it
        stays the shown unit whenever the mouse hovers over none (a click).

        Args:
            unit: the unit.
            chosen: the user chose it (a click): the default unit no longer follows the input.
        """
        self.unit_chosen = self.unit_chosen or chosen
        self.chosen_unit = unit
        self._show_unit(unit)

    def select_pixel(self, row: int, col: int):
        """Shows the unit of the shown layer that looks at input pixel (``row``, ``col``)."""
        if self.snapshot is not None:
            features = next(iter(self.snapshot.models.values())).features
            unit = unit_at_pixel(features, self.unit, row, col, self.snapshot.image.shape[:2])
            if unit is not None:
                self.select_unit(unit)

    def follow_default_unit(self, snapshot):
        """Until the user picks a unit: the default unit for ``snapshot``'s input, picked again
        when the one shown does not fire in every model, and when a new step is shown while
        training is paused (the unit that fires most for the weights as they are, as ``--report``
        picks it; while training runs it stays as long as it fires, so it does not jump)."""
        if self.unit_chosen or getattr(self, "_hovered_unit", None) is not None:
            return
        features = {kind: maps.features for kind, maps in snapshot.models.items()}
        settled = not self.training and snapshot.step != getattr(self, "_picked_at", None)
        self._picked_at = snapshot.step if not self.training else None
        if self.unit is None or settled or not fires(features, self.unit):
            unit = default_unit(features)
            if unit is not None and unit != self.unit:
                self.select_unit(unit, chosen=False)

    def hover_unit(self, unit):
        """Shows ``unit``'s connections while the mouse is over it (None: the chosen unit again).

        Throttled: the newest hovered unit is shown at most every `HOVER_MS` ms, so sweeping
        the mouse across a map asks the worker for a handful of snapshots, not one per pixel,
        and the event loop stays free.
        """
        self._hovered_unit = unit
        if getattr(self, "_hover_timer", None) is None:
            self._hover_timer = QTimer(cast(QObject, self))  # the mixin is MainWindow's
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
