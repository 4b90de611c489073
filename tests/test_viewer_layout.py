"""The window's table of panels and its pages (jaxconv_viewer.gui.layout, .pages): a panel is one
entry, built and scheduled from it; a page places the panels it names. No JAX: the panels are
built for a stand-in window."""

import types

import pytest
from PyQt6.QtWidgets import QLabel
from viewer_tiny import TINY

from jaxconv_viewer.__main__ import PAGE_KEYS
from jaxconv_viewer.gui import layout
from jaxconv_viewer.gui.layout import PANELS, Place
from jaxconv_viewer.gui.pages import PAGES, Page, PageWidget, column, row


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


def built(columns, table=PANELS, pages=PAGES):
    window = types.SimpleNamespace(settings=TINY.with_fields(columns=columns), redraw_every=1)
    return window, layout.build(window, table, pages)


def test_the_table_builds_and_schedules_every_panel_and_the_pages_place_them(qtbot):
    window, made = built(("dense", "local", "conv"))
    qtbot.addWidget(made.central)
    assert list(window.columns) == ["dense", "local", "conv"]
    assert made.jobs == ["dense", "features_dense", "curves_dense", "local", "features_local",
                         "curves_local", "conv", "features_conv", "curves_conv", "similarity",
                         *window.metrics.PLOTS]  # in table order
    assert made.job_panel["similarity"] is window.similarity
    assert made.job_widgets("features_conv") == (window.columns["conv"].parts["features"],)
    assert made.job_widgets("similarity") == (window.similarity,)
    assert made.each_snapshot == [window.input, window.connections, window.growth]
    assert made.measured == [window.probes]
    assert len(made.every) == len(PANELS) + 2  # one column panel per column
    assert [page.page.key for page in made.pages] == list(PAGE_KEYS) == [p.key for p in PAGES]
    assert made.central.count() == len(PAGES)
    first = made.pages[0]  # filled last: its panels are in its places
    assert [slot.name for slot in first.slots] == ["card:dense", "card:local", "card:conv",
                                                   "lecture", "counts"]
    assert all(first.isAncestorOf(w) for slot in first.slots for w in slot.widgets())
    every = [w for page in made.pages for slot in page.slots for w in slot.widgets()]
    for panel in (window.input, window.drawing, window.dial, window.similarity, window.lecture,
                  window.growth, *window.probes.parts.values(),
                  *(part for c in window.columns.values() for part in c.parts.values())):
        # a page names it, or what holds it: a column its curves, the input its canvas
        assert any(w is panel or w.isAncestorOf(panel) for w in every), panel
        assert panel.parentWidget() is not None  # no panel left as a window of its own


def test_showing_a_page_moves_its_panels_there_and_a_column_gathers_its_parts(qtbot):
    window, made = built(("dense", "local", "conv"))
    qtbot.addWidget(made.central)
    wiring, everything = (made.pages[[p.key for p in PAGES].index(key)] for key in ("wiring", "all"))
    weights = window.columns["local"].parts["weights"]
    wiring.fill()
    assert wiring.isAncestorOf(weights) and wiring.isAncestorOf(window.input)
    assert not window.columns["local"].isAncestorOf(weights)
    everything.fill()  # the whole column again, its weights in it
    assert window.columns["local"].isAncestorOf(weights) and everything.isAncestorOf(weights)
    assert everything.isAncestorOf(window.probes.parts["shift"])
    assert window.input.isAncestorOf(window.drawing)  # drawing is in the input on every page
    assert layout.find(window, "weights:conv") is window.columns["conv"].parts["weights"]
    assert layout.find(window, "column:conv") is window.columns["conv"]
    assert layout.find(window, "equivariance") is window.probes.equivariance


def test_a_new_panel_is_one_entry_and_no_dial_means_no_dial_panels(qtbot):
    table = (*PANELS, Place("extra", lambda w, _: Extra(), "window", "jobs"))
    pages = (*PAGES[:-1], Page("extra", row("extra", column("input", "dial+similarity"))),
             PAGES[-1])
    window, made = built(("dense", "conv"), table, pages)
    qtbot.addWidget(made.central)
    assert window.dial is None and window.similarity is None
    assert made.jobs[-2:] == ["extra_a", "extra_b"] and made.job_panel["extra_b"] is window.extra
    assert window.extra in made.every  # the window retranslates every panel it lists
    for panel in made.every:
        panel.retranslate()
    assert window.extra.text() == "extra"
    page = made.pages[-2]
    page.fill()
    assert page.isAncestorOf(window.extra) and page.slots[-1].widgets() == []  # no dial here
    window.extra.draw("shot", "extra_a")
    assert window.extra.drawn == [("shot", "extra_a")]


def test_a_page_names_one_slot_per_column_for_a_star(qtbot):
    window, made = built(("conv", "dense"))
    qtbot.addWidget(made.central)
    page = PageWidget(Page("mine", column(row("weights:*"), "metrics")), ("conv", "dense"),
                      lambda name: layout.find(window, name))
    qtbot.addWidget(page)
    assert [slot.name for slot in page.slots] == ["weights:conv", "weights:dense", "metrics"]
    assert page.number.text() == "" and not page.claim.isVisibleTo(page)  # no lesson, no claim


def test_a_bad_entry_is_refused_naming_it(qtbot):
    with pytest.raises(ValueError, match=r"Place: `scope` must be one of window, column, dial, "
                                         r"got scope='top' \(panel 'x'\)\."):
        Place("x", lambda w, _: Extra(), "top")
    with pytest.raises(ValueError, match=r"Place: `draws` must be one of jobs, snapshot, "
                                         r"measures, None, got draws='often' \(panel 'x'\)\."):
        Place("x", lambda w, _: Extra(), "window", "often")
    twice = (*PANELS, Place("one", lambda w, _: Extra(), "window", "jobs"),
             Place("two", lambda w, _: Extra(), "window", "jobs"))
    with pytest.raises(ValueError, match=r"layout.build: drawing jobs must be unique, but panel "
                                         r"'two' names extra_a, extra_b again\."):
        built(("conv",), twice)
