"""`MetricsPanel`: loss and accuracy of every column's model against step and against wall time."""

from __future__ import annotations

from PyQt6.QtWidgets import QGridLayout, QVBoxLayout, QWidget

from jaxconv import kinds
from jaxconv_viewer.gui.plots import PLOT_MIN, GrowingRange, curve, plot_widget, set_labels
from jaxconv_viewer.gui.wrapped import WrapLabel
from jaxconv_viewer.i18n import kind_label, tr

__all__ = ["MetricsPanel"]


class MetricsPanel(QWidget):
    """Loss and accuracy of every column against step and against each model's wall time.

    Train curves are solid, test curves dashed; colours are the kinds' (`jaxconv.kinds`). A
    panel of the window's table with one drawing job per plot (`PLOTS`). The four plots stand in
    a row when the panel is wide and short (under the columns), two by two otherwise.

    Args:
        columns: the columns' kinds, left to right.
    """

    PLOTS = (("loss", "step"), ("accuracy", "step"), ("loss", "time"), ("accuracy", "time"))
    jobs = PLOTS

    def __init__(self, columns, parent=None):
        super().__init__(parent)
        self.columns = tuple(columns)
        # A legend line above the plots, not inside one: no curve can run under it.
        self.legend = WrapLabel()
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.in_row = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.legend)
        outer.addLayout(self.grid, 1)
        self.plots, self.curves, self.ranges = {}, {}, {}
        for what, axis in self.PLOTS:
            plot = plot_widget()
            self.ranges[what, axis] = GrowingRange(plot, (0, 1) if what == "accuracy" else None)
            self.plots[what, axis] = plot
            for kind in self.columns:
                for split in ("train", "test"):
                    self.curves[what, axis, kind, split] = curve(plot, kinds.get(kind).color,
                                                                 dashed=split == "test")
        self._arrange(True)
        self.retranslate()

    def _arrange(self, in_row: bool):
        if in_row == self.in_row:
            return
        self.in_row = in_row
        for i, plot in enumerate(self.plots.values()):
            self.grid.addWidget(plot, *((0, i) if in_row else divmod(i, 2)))

    def resizeEvent(self, a0):  # noqa: N802 - Qt's name (PyQt6 calls the event a0)
        """Four in a row when each plot gets at least 1.2 times its height in width, or two
        rows would not fit; two by two otherwise."""
        assert a0 is not None  # Qt always passes the event
        size, low = a0.size(), PLOT_MIN[1]
        self._arrange(size.width() >= 4.8 * size.height() or size.height() < 2 * low + 40)
        super().resizeEvent(a0)

    def retranslate(self):
        """Re-reads every title, axis and legend entry in the current language."""
        for (what, axis), plot in self.plots.items():
            key = "vs_step" if axis == "step" else "vs_time"
            set_labels(plot, tr(key, what=tr(what)),
                       bottom=tr("step") if axis == "step" else tr("wall_time"))
        names = "&nbsp;&nbsp;".join(f'<b style="color:{kinds.get(kind).color}">━ '
                                     f'{kind_label(kind, short=True)}</b>' for kind in self.columns)
        self.legend.setText(f"{names}&nbsp;&nbsp;&nbsp;{tr('line_styles')}")

    def draw(self, snapshot, job=None):
        """Draws plot ``job`` (a ``(what, axis)`` of `PLOTS`; None: all four) of ``snapshot``."""
        self.draw_history(snapshot.history, only=job)

    def draw_history(self, history, only=None):
        """Draws column -> ``{"train"|"test": {"step", "time", "loss", "accuracy"}}``.

        Args:
            history: the metrics of every column.
            only: redraw just this ``(what, axis)`` plot of `PLOTS`; None redraws all four.
        """
        for (what, axis, kind, split), item in self.curves.items():
            if only is not None and (what, axis) != only:
                continue
            data = history[kind][split]
            item.setData(data[axis], data[what])
        for key, keeper in self.ranges.items():
            if only is None or key == only:
                runs = [history[k][s] for k in self.columns for s in ("train", "test")]
                keeper.update([r[key[1]] for r in runs], [r[key[0]] for r in runs])
