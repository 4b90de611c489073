"""A column's weight maps: `WeightsView` (with the layer and channel pickers) and `GradientView`.

Both draw `jaxconv_viewer.gui.kernel_tiles.weight_mosaic` of one layer and channel: a dense layer's
units as image-shaped templates, a locally-connected layer's filters on the grid of their
positions, a conv layer's few kernels as large tiles. The gradient view draws the gradient of
the loss with respect to the layer and channel the weights view shows, beside it.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from jaxconv import kinds
from jaxconv_viewer.gui import kernel_tiles, typeface
from jaxconv_viewer.gui import unit_geometry as units
from jaxconv_viewer.gui.plots import ImagePanel
from jaxconv_viewer.gui.wrapped import WrapLabel
from jaxconv_viewer.i18n import kind_hint, kind_label, tr

__all__ = ["GradientView", "WeightsView", "rms", "regional_position"]

#: The smallest a weight map may be squeezed to (pixels): a 3x3 conv kernel stays visible.
MAP_MIN = (150, 120)


def regional_position(kernel, features):
    """For a regional kernel (fewer kernels than its layer's (H, W, F) ``features`` has
    positions): position -> its region (`jaxconv.shapes.region_of_position`); else None."""
    if kernel.ndim != 6 or features is None or kernel.shape[:2] == np.shape(features)[:2]:
        return None
    from jaxconv.shapes import region_of_position  # the window starts with no more of jaxconv

    rows, cols = (region_of_position(n, r) for n, r in zip(np.shape(features)[:2], kernel.shape[:2]))
    return lambda position: (rows[position[0]], cols[position[1]])


def rms(array) -> float:
    """The root mean square of ``array``'s finite entries (0.0 when there are none)."""
    a = np.asarray(array, np.float64)
    a = a[np.isfinite(a)]
    return float(np.sqrt(np.mean(a * a))) if a.size else 0.0


def _name_label(kind: str) -> QLabel:
    return typeface.role(QLabel(), "heading", kinds.get(kind).color)


class WeightsView(QWidget):
    """One column's weight (or gradient) map of the layer and channel its pickers choose.

    Args:
        kind: the column's kind.

    Attributes:
        weights: the `ImagePanel` drawn.
        layer, channel: the pickers (a `QComboBox` of layer names, a `QSpinBox`).
    """

    def __init__(self, kind: str, parent=None):
        super().__init__(parent)
        self.kind = kind
        self.gradients = False
        self.maps = None
        self.unit = None
        self.name = _name_label(kind)
        self.title = QLabel()
        self.layer = QComboBox()
        self.channel = QSpinBox()
        self.channel_label = QLabel()
        self.weights = ImagePanel("diverging")
        self.weights.setObjectName(f"weights {kind}")
        self.weights.setMinimumSize(*MAP_MIN)
        self.hint = typeface.role(WrapLabel(), "note")
        top = QHBoxLayout()
        top.addWidget(self.name)
        top.addWidget(self.title, 1)
        pickers = QHBoxLayout()
        pickers.addWidget(self.layer)
        pickers.addStretch(1)
        pickers.addWidget(self.channel_label)
        pickers.addWidget(self.channel)
        box = QVBoxLayout(self)
        box.setContentsMargins(2, 2, 2, 2)
        box.setSpacing(2)
        box.addLayout(top)
        box.addLayout(pickers)
        box.addWidget(self.weights, 1)
        box.addWidget(self.hint)
        self.layer.currentIndexChanged.connect(lambda _: self.redraw())
        self.channel.valueChanged.connect(lambda _: self.redraw())

    def retranslate(self):
        """Re-reads every label in the current language."""
        self.name.setText(kind_label(self.kind, short=True))
        self.title.setText(tr("gradients" if self.gradients else "weights"))
        self.channel_label.setText(tr("channel"))
        self.redraw()

    def set_layers(self, names, current=None):
        """Offers layers ``names`` (first: the first layer), showing ``current`` if given."""
        self.layer.blockSignals(True)
        self.layer.clear()
        self.layer.addItems(list(names))
        if current in names:
            self.layer.setCurrentText(current)
        self.layer.blockSignals(False)

    def current_kernel(self):
        """The drawn layer's name and array (kernel or gradient), or (None, None)."""
        maps, name = self.maps, self.layer.currentText()
        if maps is None or name not in maps.kernels:
            return None, None
        source = maps.grads if self.gradients and maps.grads is not None else maps.kernels
        return name, source[name]

    def redraw(self):
        """Draws the chosen layer and channel of ``maps``, the ``unit``'s weights outlined."""
        name, kernel = self.current_kernel()
        if kernel is None:
            return
        maps, unit = self.maps, self.unit
        assert maps is not None  # current_kernel found the kernel in it
        in_shape, out_shape = maps.in_shapes.get(name), maps.out_shapes.get(name)
        channels = kernel.shape[-1] if kernel.ndim == 6 else (out_shape or (1,))[-1]
        per_channel = kernel.ndim == 6 or (kernel.ndim == 2 and out_shape is not None
                                           and in_shape is not None)
        self.channel.setMaximum(max(0, channels - 1) if per_channel else 0)
        self.channel.setEnabled(per_channel)
        here = unit is not None and unit.layer == name
        centre = unit.position if unit is not None and here and unit.position is not None else None
        self.weights.set_data(kernel_tiles.weight_mosaic(kernel, in_shape, out_shape,
                                                   feature=self.channel.value(), centre=centre))
        rect = None
        regional = regional_position(kernel, dict(maps.features).get(name))
        if unit is not None and here and regional and unit.position is not None:
            unit = unit._replace(position=regional(unit.position))  # the tile of its region
        if unit is not None and here and (not per_channel or self.channel.value() == unit.channel):
            rect = units.weight_rect(kernel, in_shape, out_shape, unit)
        self.weights.mark([rect] if rect else [])
        kind = maps.layer_kinds.get(name)  # None: a vector layer (hidden, head)
        self.hint.setText(tr("hint_matrix") if kind is None else kind_hint(kind))


class GradientView(QWidget):
    """The gradient of the loss with respect to the layer and channel ``view`` shows.

    Args:
        view: the column's `WeightsView` (its pickers choose what is drawn here too).

    Attributes:
        image: the `ImagePanel` drawn.
        caption: the gradient's and the weights' root mean square.
    """

    def __init__(self, view: WeightsView, parent=None):
        super().__init__(parent)
        self.view = view
        self.name = _name_label(view.kind)
        self.title = QLabel()
        self.image = ImagePanel("diverging")
        self.image.setObjectName(f"gradients {view.kind}")
        self.image.setMinimumSize(*MAP_MIN)
        self.caption = typeface.role(WrapLabel(), "note")
        self.numbers = None  # (layer, gradient rms, weight rms) drawn now
        top = QHBoxLayout()
        top.addWidget(self.name)
        top.addWidget(self.title, 1)
        box = QVBoxLayout(self)
        box.setContentsMargins(2, 2, 2, 2)
        box.setSpacing(2)
        box.addLayout(top)
        box.addWidget(self.image, 1)
        box.addWidget(self.caption)
        view.layer.currentIndexChanged.connect(lambda _: self.redraw())
        view.channel.valueChanged.connect(lambda _: self.redraw())

    def retranslate(self):
        """Re-reads every label in the current language."""
        self.name.setText(kind_label(self.view.kind, short=True))
        self.title.setText(tr("gradients"))
        self._caption()

    def _caption(self):
        if self.numbers is None:
            self.caption.setText(tr("no_gradient"))
        else:
            layer, grad, weight = self.numbers
            self.caption.setText(tr("gradient_numbers", layer=layer, grad=grad, weight=weight))

    def redraw(self):
        """Draws the gradient of the view's layer and channel (nothing before the first step)."""
        maps, name = self.view.maps, self.view.layer.currentText()
        if maps is None or maps.grads is None or name not in maps.grads:
            self.numbers = None
            self._caption()
            return
        grad, kernel = maps.grads[name], maps.kernels[name]
        in_shape, out_shape = maps.in_shapes.get(name), maps.out_shapes.get(name)
        unit, feature = self.view.unit, self.view.channel.value()
        centre = unit.position if unit is not None and unit.layer == name else None
        units = None  # a dense layer on a grid: the templates the weights view draws
        if kernel.ndim == 2 and in_shape is not None and out_shape is not None:
            units = kernel_tiles.template_units(kernel, out_shape, feature, centre)
        self.image.set_data(kernel_tiles.weight_mosaic(grad, in_shape, out_shape, feature=feature,
                                                 centre=centre, units=units))
        self.numbers = (name, rms(grad), rms(kernel))
        self._caption()
