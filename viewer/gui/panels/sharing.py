"""The weight-sharing dial of the middle column, and its map of each filter's likeness to the mean.

`SharingDial` sets regions per side from 1 (one kernel: a convolution) to one per position (the
locally-connected layer); the window then asks the worker to rebuild and retrain that column
alone (`viewer.session.columns.set_regions`) while the other two train on. `SimilarityPanel` draws, for
the layer and channel the column's pickers show, the cosine similarity of every position's (or
region's) filter to the mean filter (`jaxconv.analysis.similarity.similarity_to_mean`): does a
locally-connected layer learn to share? `DialMixin` wires both into `viewer.gui.window.MainWindow`.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from viewer.gui.plots import ImagePanel
from viewer.i18n import set_alias, tr
from viewer.session.columns import DIAL_KIND, per_position, shown_regions

__all__ = ["DialMixin", "SETTLE_MS", "SharingDial", "SimilarityPanel", "column_title"]

#: The dial asks for a rebuild once it has rested this long (a drag is one rebuild, not many).
SETTLE_MS = 400


def column_title(settings, input_shape) -> tuple[str, dict]:
    """The middle column's title as ``(i18n key, fields)`` for ``settings``."""
    regions = shown_regions(settings, input_shape)
    if regions == per_position(settings, input_shape):
        return f"kind_{DIAL_KIND}", {}
    if regions == 1:
        return "kind_regional_one", {}
    return "kind_regional", {"r": regions}


class SharingDial(QWidget):
    """A slider and a spin box for regions per side: 1 (conv) ... one per position (local).

    Disabled until `set_range` knows the first layer's output size.

    Signals:
        regions_chosen(object): the value the dial came to rest on: an int, or None for one
            kernel per position.
    """

    regions_chosen = pyqtSignal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold;")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.spin = QSpinBox()
        self.value = QLabel()
        self.value.setStyleSheet("font-size: 10px; color: #444;")
        self._chosen = None  # the value last applied or asked for
        self._timer = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._timer.timeout.connect(self._settled)
        row = QHBoxLayout()
        row.addWidget(self.title)
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addLayout(row)
        box.addWidget(self.value)
        self.slider.valueChanged.connect(self.spin.setValue)
        self.spin.valueChanged.connect(self._moved)
        self.setEnabled(False)
        self.retranslate()

    def set_range(self, top: int, value: int):
        """Regions from 1 to ``top`` (one kernel per position), showing ``value``; no signal."""
        for widget in (self.slider, self.spin):
            widget.blockSignals(True)
            widget.setRange(1, top)
            widget.setValue(value)
            widget.blockSignals(False)
        self._timer.stop()
        self._chosen = self.regions()
        self.setEnabled(True)
        self.retranslate()

    def regions(self):
        """The value shown: regions per side, or None at one kernel per position."""
        value = self.spin.value()
        return None if value == self.spin.maximum() else value

    def _moved(self, value):
        self.slider.blockSignals(True)
        self.slider.setValue(value)
        self.slider.blockSignals(False)
        self.retranslate()
        self._timer.start()

    def _settled(self):
        if self.regions() != self._chosen:
            self._chosen = self.regions()
            self.regions_chosen.emit(self._chosen)

    def retranslate(self):
        """Re-reads every label in the current language."""
        self.title.setText(tr("sharing"))
        value, top = self.spin.value(), self.spin.maximum()
        if not self.isEnabled():
            self.value.setText("")
        elif value == top:
            self.value.setText(tr("sharing_none", n=top))
        elif value == 1:
            self.value.setText(tr("sharing_full"))
        else:
            self.value.setText(tr("sharing_regions", r=value, n=value * value))


class SimilarityPanel(QWidget):
    """Cosine similarity of each position's (or region's) filter to the mean filter, one channel.

    Attributes:
        map: the (rows, cols) similarities drawn now, or None when the layer has no filter per
            position (a conv or dense layer).
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold; font-size: 11px;")
        self.image = ImagePanel("diverging")
        self.image.setMinimumHeight(72)
        self.summary = QLabel()
        self.summary.setStyleSheet("font-size: 10px; color: #444;")
        for label in (self.title, self.summary):  # one line each, cut short; the tooltip is whole
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.map = None
        self._shown = None  # (layer, channel, channel mean, layer mean) for the summary line
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.title)
        box.addWidget(self.image, 1)
        box.addWidget(self.summary)
        self.retranslate()

    def draw(self, layer: str, kernel, channel: int):
        """Draws layer ``layer``'s map for output channel ``channel``.

        Args:
            layer: the layer's name.
            kernel: its kernel (*positions, kh, kw, C, F) (local or regional), or any other
                kernel (conv, dense: nothing to compare) or None.
            channel: the output channel.
        """
        if kernel is None or np.ndim(kernel) != 6:
            self.map, self._shown = None, (layer, None, None, None)
            self.image.set_data(np.full((1, 1), np.nan, np.float32), levels=(-1.0, 1.0))
        else:
            from jaxconv.analysis.similarity import (
                similarity_to_mean,  # numpy only, loaded when drawn
            )

            similarity = similarity_to_mean(kernel)
            channel = min(max(0, int(channel)), similarity.shape[-1] - 1)
            self.map = similarity[..., channel]
            self._shown = (layer, channel, float(np.nanmean(self.map)),
                           float(np.nanmean(similarity)))
            self.image.set_data(self.map, levels=(-1.0, 1.0))
        self.retranslate()

    def retranslate(self):
        """Re-reads every label in the current language."""
        self.title.setText(tr("similarity"))
        self.setToolTip(tr("similarity"))
        if self._shown is None:
            self.summary.setText("")
        elif self._shown[1] is None:
            self.summary.setText(tr("similarity_none", layer=self._shown[0]))
        else:
            layer, channel, mean, overall = self._shown
            self.summary.setText(tr("similarity_summary", layer=layer, channel=channel, mean=mean,
                                    overall=overall))
        self.summary.setToolTip(self.summary.text())


class DialMixin:
    """The dial's part of `viewer.gui.window.MainWindow` (which has ``columns``, ``counts``,
    ``settings``, ``snapshot``, ``worker``, ``threads`` and the status-line methods)."""

    def _make_dial(self):
        column = self.columns[DIAL_KIND]
        self.dial, self.similarity = SharingDial(), SimilarityPanel()
        box = column.layout()
        box.insertWidget(1, self.dial)
        # The map goes beside the weights: a wide mosaic leaves room there, the column has none.
        index = box.indexOf(column.weights)
        stretch = box.stretch(index)
        box.removeWidget(column.weights)
        row = QHBoxLayout()
        row.addWidget(column.weights, 3)
        row.addWidget(self.similarity, 2)
        box.insertLayout(index, row, stretch)
        self._model_counts = {}
        self.dial.regions_chosen.connect(self.set_regions)
        column.layer.currentIndexChanged.connect(self._draw_similarity)
        column.channel.valueChanged.connect(self._draw_similarity)

    def set_regions(self, regions):
        """Rebuilds the middle column with ``regions`` per side (None: one kernel per position)
        and trains it from fresh weights; the other two columns go on from where they are."""
        self.settings = self.settings.with_fields(regions=regions)
        if self.worker is not None and self.threads.alive(self.worker):
            self.worker.request("set_regions", regions)
            self.show_status(tr("rebuilding", kind=tr(f"short_{DIAL_KIND}")))

    def _dial_prepared(self, counts):
        # A restored session's column is as it was saved (`viewer.session.columns.restored_settings`).
        self.settings = self.settings.with_fields(regions=self.session.settings.model.regions)
        self._input_shape = counts.input_shape
        self._model_counts = dict(counts.models)
        self.dial.set_range(per_position(self.settings, counts.input_shape),
                            shown_regions(self.settings, counts.input_shape))
        self._rename(counts.input_shape)

    def _dial_served(self, served) -> bool:
        """Handles a `set_regions` answer (True), or leaves ``served`` to the caller (False)."""
        if served.name != "set_regions":
            return False
        if served.error is not None:
            self.show_error(tr("failed", error=f"{type(served.error).__name__}: {served.error}"))
            return True
        self._model_counts[DIAL_KIND] = served.result
        column = self.columns[DIAL_KIND]
        column.set_counts(served.result)
        self._rename(self._input_shape)
        self.counts.set_counts({kind: c.params for kind, c in self._model_counts.items()})
        self._weights_step.pop(DIAL_KIND, None)  # its next snapshot redraws the new weights
        self.show_status(tr("rebuilt", kind=tr(f"short_{DIAL_KIND}"),
                            params=f"{served.result.params:,}", step=served.step))
        return True

    def _rename(self, input_shape):
        """Titles the middle column, and names it "Regional" in every panel while it is."""
        key, fields = column_title(self.settings, input_shape)
        self.columns[DIAL_KIND].set_title(key, **fields)
        alias = "short_regional" if key != f"kind_{DIAL_KIND}" else None
        if alias != getattr(self, "_alias", None):  # only then: it rewrites every label
            self._alias = alias
            set_alias(f"short_{DIAL_KIND}", alias)
            self.retranslate()  # the legend, the predictions, the parameter bars, the connections

    def _draw_similarity(self, *_):
        if self.snapshot is None:
            return
        layer = self.columns[DIAL_KIND].layer.currentText()
        kernels = self.snapshot.models[DIAL_KIND].kernels
        self.similarity.draw(layer, kernels.get(layer), self.columns[DIAL_KIND].channel.value())
