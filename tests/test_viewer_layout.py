"""The window's table of panels (jaxconv_viewer.gui.layout): a panel is one entry, built, placed and
scheduled from it. No JAX: the panels are built for a stand-in window."""

import types

import pytest
from PyQt6.QtWidgets import QLabel
from viewer_tiny import TINY

from jaxconv_viewer.gui import layout
from jaxconv_viewer.gui.layout import PANELS, Place


class Extra(QLabel):
    """A new panel: two drawing jobs, drawn from the snapshot."""

    jobs = ("extra_a", "extra_b")

    def __init__(self):
        super().__init__()
        self.drawn = []

    def draw(self, snapshot, job=None):
        self.drawn.append((snapshot, job))

    def retranslate(self):
        self.setText("extra")


def built(columns, table=PANELS):
    window = types.SimpleNamespace(settings=TINY.with_fields(columns=columns), redraw_every=1)
    return window, layout.build(window, table)


def test_the_table_builds_places_and_schedules_every_panel(qtbot):
    window, made = built(("dense", "local", "conv"))
    qtbot.addWidget(made.central)
    assert list(window.columns) == ["dense", "local", "conv"]
    assert made.jobs == ["dense", "curves_dense", "local", "curves_local", "conv", "curves_conv",
                         "similarity", *window.metrics.PLOTS]  # in table order
    assert made.job_panel["similarity"] is window.similarity
    assert made.job_panel["curves_conv"] is window.columns["conv"]
    assert made.each_snapshot == [window.input, window.connections]
    assert made.measured == [window.probes]
    assert len(made.every) == len(PANELS) + 2  # one column panel per column
    grid = made.central.layout()
    where = {name: grid.getItemPosition(grid.indexOf(getattr(window, name)))
             for name in ("metrics", "probes")}
    assert where == {"metrics": (1, 1, 1, 2), "probes": (1, 3, 1, 1)}  # under the columns
    assert window.columns["local"].isAncestorOf(window.dial)  # inside the dial's column
    assert window.columns["local"].isAncestorOf(window.similarity)


def test_a_new_panel_is_one_entry_and_no_dial_means_no_dial_panels(qtbot):
    table = (*PANELS, Place("extra", lambda w, _: Extra(), "right", 1, "jobs"))
    window, made = built(("dense", "conv"), table)
    qtbot.addWidget(made.central)
    assert window.dial is None and window.similarity is None
    assert made.jobs[-2:] == ["extra_a", "extra_b"] and made.job_panel["extra_b"] is window.extra
    assert window.extra in made.every  # the window retranslates every panel it lists
    for panel in made.every:
        panel.retranslate()
    assert window.extra.text() == "extra"
    assert made.central.isAncestorOf(window.extra)
    window.extra.draw("shot", "extra_a")
    assert window.extra.drawn == [("shot", "extra_a")]


def test_a_bad_entry_is_refused_naming_it(qtbot):
    with pytest.raises(ValueError, match=r"Place: `area` must be one of left, right, columns, "
                                         r"below, dial title, dial weights, got area='top' "
                                         r"\(panel 'x'\)\."):
        Place("x", lambda w, _: Extra(), "top")
    with pytest.raises(ValueError, match=r"Place: `draws` must be one of jobs, snapshot, "
                                         r"measures, None, got draws='often' \(panel 'x'\)\."):
        Place("x", lambda w, _: Extra(), "left", 0, "often")
    twice = (*PANELS, Place("one", lambda w, _: Extra(), "left", 0, "jobs"),
             Place("two", lambda w, _: Extra(), "left", 0, "jobs"))
    with pytest.raises(ValueError, match=r"layout.build: drawing jobs must be unique, but panel "
                                         r"'two' names extra_a, extra_b again\."):
        built(("conv",), twice)
