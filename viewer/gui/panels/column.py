"""`ModelColumn`: one column's parameter count, weight (and gradient) maps, feature maps, curves.

A column is named by its kind (`jaxconv.kinds`): its title and colour come from the kind's record,
and each weight map's hint from the record of its layer's kind (`kind_hint`). Its parts (`PARTS`)
are widgets of their own, so that a page of the window can place one column's weights beside
another's (`jaxconv_viewer.gui.pages`); `gather` puts them back in the column, one above the
other, as the *All panels* page shows it.
"""

from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from jaxconv import kinds
from jaxconv.validate import human_bytes as _human_bytes
from jaxconv_viewer.gui import tiling, typeface
from jaxconv_viewer.gui import unit_geometry as units
from jaxconv_viewer.gui.panels.weights import MAP_MIN, GradientView, WeightsView
from jaxconv_viewer.gui.plots import GrowingRange, ImagePanel, curve, plot_widget, set_labels
from jaxconv_viewer.gui.wrapped import WrapLabel
from jaxconv_viewer.i18n import kind_label, tr

__all__ = ["ModelColumn", "human_bytes"]

# One unit for parameter bytes everywhere: decimal kB/MB, as `jaxconv count` prints them.
human_bytes = _human_bytes


class ModelColumn(QWidget):
    """Everything about one column (a kind of `jaxconv.kinds`), fed by `draw`.

    A panel of the window's table (`jaxconv_viewer.gui.layout`) with three drawing jobs: its
    weights (named by the column's kind; weights and gradients), its feature maps
    (``features_<kind>``) and its curves (``curves_<kind>``). The layer and channel pickers
    choose which kernel is drawn; `set_gradients` swaps the weight map for the gradient of the
    loss with respect to it. Clicking a unit in the feature maps emits `unit_clicked`;
    `set_unit` outlines that unit and the weights it uses.

    Attributes:
        parts: part name (`PARTS`) -> its widget, each placeable on a page on its own.

    Signals:
        unit_clicked(object): the `jaxconv_viewer.session.snapshot.Unit` clicked in the feature maps.
        unit_hovered(object): the `Unit` under the mouse in the feature maps, each time it
            changes; None over a gap or once the mouse has left them.
    """

    #: The parts, in the column's own order; "gradients" is placed by a page only.
    PARTS = ("card", "weights", "features", "curves", "gradients")
    unit_clicked = pyqtSignal(object)
    unit_hovered = pyqtSignal(object)

    def __init__(self, kind: str, parent=None):
        super().__init__(parent)
        self.kind = kind
        self.maps_job, self.features_job = kind, f"features_{kind}"
        self.jobs = (kind, self.features_job, f"curves_{kind}")
        self.unit = None
        self._maps = None
        self._counts = None
        self.weights_step = None  # the step whose weights are drawn (they change only with it)
        self._title = None  # (i18n key, fields) from `set_title`; None: the kind's own label
        color = kinds.get(kind).color
        card = QWidget()
        self.title = typeface.role(QLabel(), "title", color)
        self.count = typeface.role(QLabel("—"), "count")
        self.detail = WrapLabel()
        self.formula = typeface.role(WrapLabel(), "note")  # a formula a line, wrapped if narrow
        box = QVBoxLayout(card)
        box.setContentsMargins(4, 4, 4, 4)
        for widget in (self.title, self.count, self.detail, self.formula):
            box.addWidget(widget)
        box.addStretch(1)
        self.view = WeightsView(kind)
        self.layer, self.channel, self.weights = self.view.layer, self.view.channel, self.view.weights
        self.channel_label, self.hint = self.view.channel_label, self.view.hint
        self.gradient = GradientView(self.view)
        features = QWidget()
        self.features_name = typeface.role(QLabel(), "heading", color)
        self.features_title = QLabel()
        self.features = ImagePanel("sequential")
        self.features.setObjectName(f"features {kind}")
        self.features.setMinimumSize(*MAP_MIN)
        top = QHBoxLayout()
        top.addWidget(self.features_name)
        top.addWidget(self.features_title, 1)
        box = QVBoxLayout(features)
        box.setContentsMargins(2, 2, 2, 2)
        box.addLayout(top)
        box.addWidget(self.features, 1)
        curves = QWidget()
        self.loss_plot, self.acc_plot = plot_widget(), plot_widget()
        row = QHBoxLayout(curves)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.loss_plot)
        row.addWidget(self.acc_plot)
        self.curves = {(what, split): curve(plot, color, dashed=split == "test")
                       for what, plot in (("loss", self.loss_plot), ("accuracy", self.acc_plot))
                       for split in ("train", "test")}
        self.ranges = {"loss": GrowingRange(self.loss_plot),
                       "accuracy": GrowingRange(self.acc_plot, fixed_y=(0, 1))}
        self.parts = {"card": card, "weights": self.view, "features": features, "curves": curves,
                      "gradients": self.gradient}
        #: job -> the parts it draws: a job is drawn only while one of them is on the page shown.
        self.job_parts = {kind: (self.view, self.gradient), self.features_job: (features,),
                          self.jobs[2]: (curves,)}
        QVBoxLayout(self).setContentsMargins(0, 0, 0, 0)
        self.gather()
        self.gradient.hide()
        self.features.clicked.connect(self._feature_clicked)
        self._hovered = None
        self.features.hovered.connect(self._feature_hovered)
        self.retranslate()

    def gather(self):
        """Puts the parts back in the column, one above the other (the *All panels* page)."""
        box = self.layout()
        assert isinstance(box, QVBoxLayout)  # set in __init__
        for name, stretch in (("card", 0), ("weights", 5), ("features", 3), ("curves", 3)):
            box.addWidget(self.parts[name], stretch)
            self.parts[name].show()

    def retranslate(self):
        """Re-reads every label in the current language."""
        self.title.setText(kind_label(self.kind) if self._title is None
                           else tr(self._title[0], **self._title[1]))
        self.features_name.setText(kind_label(self.kind, short=True))
        self.features_title.setText(tr("features"))
        set_labels(self.loss_plot, tr("loss"), bottom=tr("step"))
        set_labels(self.acc_plot, tr("accuracy"), bottom=tr("step"))
        self._show_counts()
        self.view.retranslate()
        self.gradient.retranslate()
        self.gradient.redraw()

    def set_title(self, key: str | None = None, **fields):
        """Titles the column with label ``key`` of `jaxconv_viewer.i18n.TEXT` (``fields`` filled in);
        None: the kind's own label (`kind_label`)."""
        self._title = None if key is None else (key, fields)
        self.title.setText(kind_label(self.kind) if key is None else tr(key, **fields))

    @property
    def counts(self):
        """The `ModelCounts` shown, or None before the model is counted."""
        return self._counts

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

    @property
    def gradients(self) -> bool:
        """Whether the weights view draws gradients (`set_gradients`)."""
        return self.view.gradients

    def set_gradients(self, on: bool):
        """Draws gradient maps (True) or weights (False) in the weights view."""
        self.view.gradients = bool(on)
        self.view.retranslate()

    def draw(self, snapshot, job=None):
        """Draws this column of a `jaxconv_viewer.session.snapshot.Snapshot`: job ``maps_job``
        (the weights and gradients, when the step moved on), ``features_<kind>`` (the feature
        maps), ``curves_<kind>`` (the curves), or all (None)."""
        if job in (None, self.maps_job):
            if self.weights_step != snapshot.step:  # weights change only with the step
                self.draw_maps(snapshot.models[self.kind], features=False)
                self.weights_step = snapshot.step
        if job in (None, self.features_job):
            self.draw_maps(snapshot.models[self.kind], weights=False)
        if job in (None, self.jobs[2]):
            self.draw_curves(snapshot.history[self.kind])

    def draw_maps(self, maps, *, weights: bool = True, features: bool = True):
        """Draws a `jaxconv_viewer.session.snapshot.LayerMaps`: weight maps and feature maps.

        Args:
            maps: the model's `LayerMaps`.
            weights: redraw the weight and gradient maps (False: those of the last draw stay;
                the pickers still redraw from ``maps``).
            features: redraw the feature maps.
        """
        first = self._maps is None or list(maps.kernels) != list(self._maps.kernels)
        self._maps = self.view.maps = maps
        if first:
            shown = self.unit.layer if self.unit is not None else None
            self.view.set_layers(list(maps.kernels), shown)
        if weights or first:
            self.view.redraw()
            self.gradient.redraw()
        if first and self.unit is not None:
            self.channel.setValue(self.unit.channel)  # its maximum is known now
        if features:
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
        self.unit = self.view.unit = unit
        if unit is not None and self._maps is not None and unit.layer in self._maps.kernels:
            self.layer.setCurrentText(unit.layer)  # redraws the weights for it
            self.channel.setValue(unit.channel)
        self.view.redraw()
        self.gradient.redraw()
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
        return self.view.current_kernel()

