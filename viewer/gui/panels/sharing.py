"""The weight-sharing dial of the dial's column, and its map of each filter's likeness to the mean.

The dial belongs to the first column whose kind has a regional form
(`jaxconv_viewer.session.columns.dial_column`; the lecture's locally-connected column). `SharingDial`
sets regions per side from 1 (one kernel: a convolution) to one per position (the
locally-connected layer); the window then asks the worker to rebuild and retrain that column
alone (`jaxconv_viewer.session.columns.set_regions`) while the others train on. `SimilarityPanel` draws,
for the layer and channel the column's pickers show, the cosine similarity of every position's
(or region's) filter to the mean filter, which the worker computes with each snapshot
(`jaxconv_viewer.session.columns.filter_similarity`): does a locally-connected layer learn to share?
Both sit in the column (the window's table, `jaxconv_viewer.gui.layout`); `DialMixin` is the window's
part of the dial.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

from jaxconv import kinds
from jaxconv_viewer.gui import typeface
from jaxconv_viewer.gui.plots import ImagePanel
from jaxconv_viewer.gui.wrapped import WrapLabel
from jaxconv_viewer.i18n import kind_label, show_column_as, tr
from jaxconv_viewer.session.columns import dial_column, per_position, shown_regions

__all__ = ["DialMixin", "SETTLE_MS", "SharingDial", "SimilarityPanel", "column_title"]

#: The dial asks for a rebuild once it has rested this long (a drag is one rebuild, not many).
SETTLE_MS = 400


def column_title(settings, input_shape) -> tuple[str | None, dict]:
    """The dial column's title as ``(i18n key, fields)`` for ``settings``; ``(None, {})``: its
    kind's own label (one kernel per position)."""
    regions = shown_regions(settings, input_shape)
    if regions == per_position(settings, input_shape):
        return None, {}
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
        self.title = typeface.role(QLabel(), "heading")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setMinimumWidth(80)
        self.spin = QSpinBox()
        self.value = typeface.role(WrapLabel(), "note")
        self._chosen = None  # the value last applied or asked for
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SETTLE_MS)
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
        # Only as tall as it needs: in a page's place it sits above the similarity map.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
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

    A panel of the window's table (job ``"similarity"``): it draws the map the worker computed
    with the snapshot (`jaxconv_viewer.session.snapshot.LayerMaps.similarity`) for the layer and channel
    that ``column``'s pickers show, and follows the pickers.

    Args:
        column: the dial's `jaxconv_viewer.gui.panels.column.ModelColumn`.

    Attributes:
        map: the (rows, cols) similarities drawn now, or None when the layer has no filter per
            position (a conv or dense layer).
    """

    jobs = ("similarity",)

    def __init__(self, column, parent=None):
        super().__init__(parent)
        self.column = column
        self.title = typeface.role(WrapLabel(), "heading")
        self.image = ImagePanel("diverging")
        self.image.setObjectName("similarity")
        self.image.setMinimumSize(120, 100)
        self.summary = typeface.role(WrapLabel(), "note")
        self.map = None
        self._shown = None  # (layer, channel, channel mean, layer mean) for the summary line
        self._snapshot = None
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.title)
        box.addWidget(self.image, 1)
        box.addWidget(self.summary)
        column.layer.currentIndexChanged.connect(self._picked)
        column.channel.valueChanged.connect(self._picked)
        self.retranslate()

    def draw(self, snapshot, job=None):
        """Draws the column's similarity map of ``snapshot`` for its pickers' layer and channel."""
        del job  # one job
        self._snapshot = snapshot
        layer = self.column.layer.currentText()
        if layer:  # the column has drawn its layers (its own job comes first)
            similarity = snapshot.models[self.column.kind].similarity or {}
            self.show_map(layer, similarity.get(layer), self.column.channel.value())

    def _picked(self, *_):
        if self._snapshot is not None:
            self.draw(self._snapshot)

    def show_map(self, layer: str, similarity, channel: int):
        """Draws layer ``layer``'s map for output channel ``channel``.

        Args:
            layer: the layer's name.
            similarity: its (rows, cols, F) similarities (`jaxconv_viewer.session.columns.filter_similarity`),
                or None: the layer has no filter per position (conv, dense).
            channel: the output channel.
        """
        if similarity is None:
            self.map, self._shown = None, (layer, None, None, None)
            self.image.set_data(np.full((1, 1), np.nan, np.float32), levels=(-1.0, 1.0))
        else:
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
    """The dial's part of `jaxconv_viewer.gui.window.MainWindow` (which has ``columns``, ``dial``,
    ``counts``, ``settings``, ``session``, ``worker``, ``threads`` and the status-line methods);
    every method does nothing when no column has a dial (``dial`` None)."""

    if TYPE_CHECKING:  # MainWindow's (it and QMainWindow set them), for the checker alone
        columns: Any
        counts: Any
        dial: Any
        retranslate: Any
        session: Any
        show_error: Any
        show_status: Any
        threads: Any
        worker: Any

    def _connect_dial(self):
        """Wires the dial of newly built panels (`jaxconv_viewer.gui.layout.build`)."""
        if getattr(self, "_shown_as", None) is not None:  # the old columns' dial: its own name
            assert self._dial_column is not None  # only a dial's column is shown as another kind
            show_column_as(self._dial_column)
        self._model_counts, self._input_shape, self._shown_as = {}, None, None
        self._dial_column = dial_column(tuple(self.columns))
        if self._dial_column is not None:
            self.dial.regions_chosen.connect(self.set_regions)

    def set_regions(self, regions):
        """Rebuilds the dial's column with ``regions`` per side (None: one kernel per position)
        and trains it from fresh weights; the other columns go on from where they are."""
        if self._dial_column is None:
            return
        self.settings = self.settings.with_fields(regions=regions)
        if self.worker is not None and self.threads.alive(self.worker):
            self.worker.request("set_regions", regions)
            self.show_status(tr("rebuilding", kind=kind_label(self._dial_column, short=True)))

    def _dial_prepared(self, counts):
        self._input_shape = counts.input_shape
        self._model_counts = dict(counts.models)
        if self._dial_column is None:
            return
        # A restored session's column is as it was saved (`jaxconv_viewer.session.columns.restored_settings`).
        self.settings = self.settings.with_fields(regions=self.session.settings.model.regions)
        self.dial.set_range(per_position(self.settings, counts.input_shape),
                            shown_regions(self.settings, counts.input_shape))
        self._rename(counts.input_shape)

    def _dial_served(self, served) -> bool:
        """Handles a `set_regions` answer (True), or leaves ``served`` to the caller (False)."""
        if served.name != "set_regions":
            return False
        if self._dial_column is None:  # an old session's answer: these columns have no dial
            return True
        if served.error is not None:
            self.show_error(tr("failed", error=f"{type(served.error).__name__}: {served.error}"))
            return True
        dial = self._dial_column
        self._model_counts[dial] = served.result
        self.columns[dial].set_counts(served.result)  # its next snapshot redraws the new weights
        self._rename(self._input_shape)
        self.counts.set_counts({kind: c.params for kind, c in self._model_counts.items()})
        self.show_status(tr("rebuilt", kind=kind_label(dial, short=True),
                            params=f"{served.result.params:,}", step=served.step))
        return True

    def _rename(self, input_shape):
        """Titles the dial's column, and names it by its kind's regional form in every panel
        while it shares by region."""
        dial = self._dial_column
        assert dial is not None  # its callers return early when the columns have no dial
        key, fields = column_title(self.settings, input_shape)
        shown = None if key is None else kinds.get(dial).regional_form
        renamed = shown != self._shown_as
        if renamed:
            self._shown_as = shown
            show_column_as(dial, shown)
        self.columns[dial].set_title(key, **fields)
        if renamed:  # only then: it rewrites every label
            self.retranslate()  # the legend, the predictions, the parameter bars, the connections
