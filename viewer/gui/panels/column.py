"""`ModelColumn`: one column's parameter count, weight (or gradient) maps, feature maps, curves.

A column is named by its kind (`jaxconv.kinds`): its title and colour come from the kind's record,
and each weight map's hint from the record of its layer's kind (`kind_hint`).
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from jaxconv import kinds
from jaxconv.validate import human_bytes as _human_bytes
from jaxconv_viewer.gui import tiling
from jaxconv_viewer.gui import unit_geometry as units
from jaxconv_viewer.gui.plots import GrowingRange, ImagePanel, curve, plot_widget, set_labels
from jaxconv_viewer.i18n import kind_hint, kind_label, tr

__all__ = ["ModelColumn", "human_bytes"]

# One unit for parameter bytes everywhere: decimal kB/MB, as `jaxconv count` prints them.
human_bytes = _human_bytes


def _regional(kernel, features):
    """For a regional kernel (fewer kernels than its layer's (H, W, F) ``features`` has
    positions): position -> its region (`jaxconv.shapes.region_of_position`); else None."""
    if kernel.ndim != 6 or features is None or kernel.shape[:2] == np.shape(features)[:2]:
        return None
    from jaxconv.shapes import region_of_position  # the window starts with no more of jaxconv

    rows, cols = (region_of_position(n, r) for n, r in zip(np.shape(features)[:2], kernel.shape[:2]))
    return lambda position: (rows[position[0]], cols[position[1]])


class ModelColumn(QWidget):
    """Everything about one column (a kind of `jaxconv.kinds`), fed by `draw`.

    A panel of the window's table (`jaxconv_viewer.gui.layout`) with two drawing jobs: its maps (named
    by the column's kind: weights and feature maps) and its curves. The layer and channel pickers
    choose which kernel is drawn; `set_gradients` swaps every weight map for the gradient of the
    loss with respect to it. Clicking a unit in the feature maps emits `unit_clicked`; `set_unit`
    outlines that unit and the weights it uses.

    Signals:
        unit_clicked(object): the `jaxconv_viewer.session.snapshot.Unit` clicked in the feature maps.
        unit_hovered(object): the `Unit` under the mouse in the feature maps, each time it
            changes; None over a gap or once the mouse has left them.
    """

    unit_clicked = pyqtSignal(object)
    unit_hovered = pyqtSignal(object)

    def __init__(self, kind: str, parent=None):
        super().__init__(parent)
        self.kind = kind
        self.maps_job, self.jobs = kind, (kind, f"curves_{kind}")
        self.unit = None
        self.gradients = False
        self._maps = None
        self._counts = None
        self.weights_step = None  # the step whose weights are drawn (they change only with it)
        self._title = None  # (i18n key, fields) from `set_title`; None: the kind's own label
        color = kinds.get(kind).color
        self.title = QLabel()
        self.title.setStyleSheet(f"font-weight: bold; font-size: 15px; color: {color};")
        self.count = QLabel("—")
        self.count.setStyleSheet("font-size: 24px; font-weight: bold;")
        self.detail = QLabel()
        self.formula = QLabel()
        # One formula a line, never wrapped (a wrapped label's height was guessed short and its
        # first line cut); a line too long for the column is cut at the right, the tooltip whole.
        self.formula.setWordWrap(False)
        self.formula.setStyleSheet("font-size: 10px; color: #444;")
        self.weights_title = QLabel()
        self.weights_title.setStyleSheet("font-weight: bold;")
        self.layer = QComboBox()
        self.channel = QSpinBox()
        self.channel_label = QLabel()
        self.weights = ImagePanel("diverging")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("font-size: 10px; color: #444;")
        self.features_title = QLabel()
        self.features_title.setStyleSheet("font-weight: bold;")
        self.features_title.setWordWrap(True)
        self.features = ImagePanel("sequential")
        self.loss_plot, self.acc_plot = plot_widget(), plot_widget()
        self.curves = {(what, split): curve(plot, color, dashed=split == "test")
                       for what, plot in (("loss", self.loss_plot), ("accuracy", self.acc_plot))
                       for split in ("train", "test")}
        self.ranges = {"loss": GrowingRange(self.loss_plot),
                       "accuracy": GrowingRange(self.acc_plot, fixed_y=(0, 1))}
        self._lay_out()
        self.layer.currentIndexChanged.connect(self._redraw_weights)
        self.channel.valueChanged.connect(self._redraw_weights)
        self.features.clicked.connect(self._feature_clicked)
        self._hovered = None
        self.features.hovered.connect(self._feature_hovered)
        self.retranslate()

    def _lay_out(self):
        picker = QHBoxLayout()
        # The title may be cut short on a narrow screen; the pickers may not.
        self.weights_title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        picker.addWidget(self.weights_title, 1)
        picker.addWidget(self.layer)
        picker.addWidget(self.channel_label)
        picker.addWidget(self.channel)
        curves = QHBoxLayout()
        curves.addWidget(self.loss_plot)
        curves.addWidget(self.acc_plot)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        for widget in (self.title, self.count, self.detail, self.formula):
            # never squeezed below their text: the panels below give way
            widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
            box.addWidget(widget)
        box.addLayout(picker)
        box.addWidget(self.weights, 5)
        box.addWidget(self.hint)
        box.addWidget(self.features_title)
        box.addWidget(self.features, 3)
        box.addLayout(curves, 3)

    def add_under_title(self, widget):
        """Places ``widget`` (the sharing dial) right under the column's title."""
        self.layout().insertWidget(1, widget)

    def add_beside_weights(self, widget, stretch: int = 1):
        """Places ``widget`` (the similarity map) right of the weight maps: a wide mosaic leaves
        room there, the column has none below it. The weights keep a stretch of 3."""
        box = self.layout()
        index = box.indexOf(self.weights)
        height = box.stretch(index)
        box.removeWidget(self.weights)
        row = QHBoxLayout()
        row.addWidget(self.weights, 3)
        row.addWidget(widget, stretch)
        box.insertLayout(index, row, height)

    def retranslate(self):
        """Re-reads every label in the current language."""
        self.title.setText(kind_label(self.kind) if self._title is None
                           else tr(self._title[0], **self._title[1]))
        self.weights_title.setText(tr("gradients" if self.gradients else "weights"))
        self.channel_label.setText(tr("channel"))
        self.features_title.setText(tr("features"))
        set_labels(self.loss_plot, tr("loss"), bottom=tr("step"))
        set_labels(self.acc_plot, tr("accuracy"), bottom=tr("step"))
        self._show_counts()
        self._redraw_weights()

    def set_title(self, key: str | None = None, **fields):
        """Titles the column with label ``key`` of `jaxconv_viewer.i18n.TEXT` (``fields`` filled in);
        None: the kind's own label (`kind_label`)."""
        self._title = None if key is None else (key, fields)
        self.title.setText(kind_label(self.kind) if key is None else tr(key, **fields))

    def set_counts(self, counts):
        """Shows a `jaxconv_viewer.session.snapshot.ModelCounts` (None: not counted yet).

        New counts mean a new model in the column (a new session, the dial's rebuild): its
        weights are drawn with the next snapshot, whatever its step.
        """
        self._counts = counts
        self.weights_step = None
        self._show_counts()

    def _show_counts(self):
        counts = self._counts
        if counts is None:
            self.count.setText("—")
            self.detail.setText(tr("counting"))
            self.formula.setText("")
            return
        self.count.setText(f"{counts.params:,} {tr('parameters')}")
        self.detail.setText(tr("weights_biases", weights=f"{counts.weights:,}",
                               biases=f"{counts.biases:,}", size=human_bytes(counts.param_bytes)))
        self.formula.setText("\n".join(counts.formulas))
        self.formula.setToolTip("\n".join(counts.formulas))

    def set_gradients(self, on: bool):
        """Draws gradient maps (True) or weights (False)."""
        self.gradients = bool(on)
        self.weights_title.setText(tr("gradients" if self.gradients else "weights"))
        self._redraw_weights()

    def draw(self, snapshot, job=None):
        """Draws this column of a `jaxconv_viewer.session.snapshot.Snapshot`: job ``maps_job`` (the
        feature maps, and the weights when the step moved on), ``curves_<kind>`` (the curves),
        or both (None)."""
        if job in (None, self.maps_job):
            # Weights change only with the step: a stroke or a shift redraws the feature maps.
            fresh = self.weights_step != snapshot.step
            self.draw_maps(snapshot.models[self.kind], weights=fresh)
            self.weights_step = snapshot.step
        if job in (None, self.jobs[1]):
            self.draw_curves(snapshot.history[self.kind])

    def draw_maps(self, maps, *, weights: bool = True):
        """Draws a `jaxconv_viewer.session.snapshot.LayerMaps`: weight (or gradient) and feature maps.

        Args:
            maps: the model's `LayerMaps`.
            weights: redraw the weight maps too (False: they are those of the last draw; the
                layer and channel pickers still redraw from ``maps``).
        """
        first = self._maps is None or list(maps.kernels) != list(self._maps.kernels)
        self._maps = maps
        if first:
            self.layer.blockSignals(True)
            self.layer.clear()
            self.layer.addItems(list(maps.kernels))
            if self.unit is not None and self.unit.layer in maps.kernels:
                self.layer.setCurrentText(self.unit.layer)
            self.layer.blockSignals(False)
        if weights or first:
            self._redraw_weights()
        if first and self.unit is not None:
            self.channel.setValue(self.unit.channel)  # its maximum is known now
        self.features.set_data(tiling.feature_strip(maps.features), levels=(0.0, 1.0))
        self._mark_features()

    def _feature_clicked(self, row, col):
        if self._maps is not None:
            unit = units.locate_feature(self._maps.features, row, col)
            if unit is not None:
                self.unit_clicked.emit(unit)

    def _feature_hovered(self, row, col):
        unit = None
        if self._maps is not None and row >= 0:
            unit = units.locate_feature(self._maps.features, row, col)
        if unit != self._hovered:
            self._hovered = unit
            self.unit_hovered.emit(unit)

    def set_unit(self, unit):
        """Shows ``unit``'s layer and channel, outlined with the weights it uses (None: no unit)."""
        self.unit = unit
        if unit is not None and self._maps is not None and unit.layer in self._maps.kernels:
            self.layer.setCurrentText(unit.layer)  # redraws the weights for it
            self.channel.setValue(unit.channel)
        self._redraw_weights()
        self._mark_features()

    def _mark_features(self):
        rect = None
        if self.unit is not None and self._maps is not None:
            rect = units.feature_rect(self._maps.features, self.unit)
        self.features.mark([rect] if rect else [], color="#ff1744")

    def draw_curves(self, history):
        """Draws this column's ``{"train"|"test": {"step", "loss", "accuracy", ...}}`` history."""
        for (what, split), item in self.curves.items():
            data = history[split]
            item.setData(data["step"], data[what])
        for what, keeper in self.ranges.items():
            keeper.update([history[s]["step"] for s in history], [history[s][what] for s in history])

    def current_kernel(self):
        """The drawn layer's name and array (kernel or gradient), or (None, None)."""
        maps, name = self._maps, self.layer.currentText()
        if maps is None or name not in maps.kernels:
            return None, None
        source = maps.grads if self.gradients and maps.grads is not None else maps.kernels
        return name, source[name]

    def _redraw_weights(self):
        name, kernel = self.current_kernel()
        if kernel is None:
            return
        in_shape, out_shape = self._maps.in_shapes.get(name), self._maps.out_shapes.get(name)
        channels = kernel.shape[-1] if kernel.ndim == 6 else (out_shape or (1,))[-1]
        per_channel = kernel.ndim == 6 or (kernel.ndim == 2 and out_shape is not None
                                           and in_shape is not None)
        self.channel.setMaximum(max(0, channels - 1) if per_channel else 0)
        self.channel.setEnabled(per_channel)
        mosaic = tiling.weight_mosaic(kernel, in_shape, out_shape, feature=self.channel.value())
        self.weights.set_data(mosaic)
        rect, unit = None, self.unit
        regional = _regional(kernel, dict(self._maps.features).get(name))
        if unit is not None and regional and unit.position is not None:
            unit = unit._replace(position=regional(unit.position))  # the tile of its region
        if unit is not None and unit.layer == name and (
                not per_channel or self.channel.value() == unit.channel):
            rect = units.weight_rect(kernel, in_shape, out_shape, unit)
        self.weights.mark([rect] if rect else [])
        kind = self._maps.layer_kinds.get(name)  # None: a vector layer (hidden, head)
        self.hint.setText(tr("hint_matrix") if kind is None else kind_hint(kind))
