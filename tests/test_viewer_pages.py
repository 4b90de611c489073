"""The pieces of the classroom pages, without JAX: the fit check, wrapped labels, type roles,
the lecture's table, the growing fields, the gradient view and the pages' live numbers."""

import types

import numpy as np
import pytest
from PyQt6.QtCore import QSize
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QTabBar, QWidget
from test_viewer_panels import COLUMNS, layer_maps, snapshot

from jaxconv_viewer.gui import fit, lessons, typeface
from jaxconv_viewer.gui.panels.growth import FieldGrowth, field_box
from jaxconv_viewer.gui.panels.lecture import LectureTable, power_text
from jaxconv_viewer.gui.panels.weights import GradientView, WeightsView, rms
from jaxconv_viewer.gui.wrapped import WrapLabel
from jaxconv_viewer.i18n import tr
from jaxconv_viewer.session.measures import ProbeResult
from jaxconv_viewer.session.snapshot import ModelCounts, Probe, Unit


def shown(qtbot, widget, size):
    qtbot.addWidget(widget)
    widget.resize(size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_what_fits_is_not_listed_and_what_is_cut_is(qtbot):
    window = QWidget()
    row = QHBoxLayout(window)
    label = QLabel("a label that needs room")
    button = QPushButton("Start")
    row.addWidget(label)
    row.addWidget(button)
    shown(qtbot, window, QSize(400, 60))
    assert fit.problems(window) == ([], 2)
    label.setFixedWidth(40)  # its text no longer fits
    found, _ = fit.problems(window)
    assert found == [f"QLabel 'a label that needs room': text cut: 40x{label.height()} for "
                     f"{label.sizeHint().width()}x{label.sizeHint().height()}"]
    found, _ = fit.problems(window, QSize(100, 60))  # the window should be smaller: the button
    assert any(line.startswith("QPushButton 'Start': outside the window") for line in found)


def test_a_squeezed_widget_a_cut_wrapped_label_and_an_elided_tab_are_listed(qtbot):
    splitter = QSplitter()
    wrapped = QLabel("many words " * 20)
    wrapped.setWordWrap(True)
    button = QPushButton("a button with a long text")
    splitter.addWidget(wrapped)
    splitter.addWidget(button)
    tabs = QTabBar()
    for title in ("a long title", "another long title", "a third long title"):
        tabs.addTab(title)
    holder = QWidget()
    box = QHBoxLayout(holder)
    box.addWidget(splitter)
    box.addWidget(tabs)
    shown(qtbot, holder, QSize(300, 40))
    tabs.setFixedWidth(120)
    button.setFixedWidth(30)  # below what its text needs
    found = "\n".join(fit.problems(holder)[0])
    assert "QLabel 'many words many words" in found and "below its minimum" in found
    assert "QPushButton 'a button with a long text': text cut: 30x" in found
    assert "tab 'a third long title' elided or hidden" in found


def test_a_wrapped_label_asks_for_the_lines_its_text_takes_at_its_width(qtbot):
    splitter = QSplitter()
    splitter.setOrientation(splitter.orientation().Vertical)
    label = WrapLabel("one two three four five six seven eight nine ten " * 4)
    splitter.addWidget(label)
    splitter.addWidget(QLabel("below"))
    shown(qtbot, splitter, QSize(160, 400))
    qtbot.wait(20)
    assert label.minimumSizeHint().height() == label.heightForWidth(label.width()) > 40
    splitter.setSizes([1, 1000])  # the splitter cannot squeeze it below its lines
    assert label.height() >= label.heightForWidth(label.width())
    assert fit.problems(splitter)[0] == []


def test_roles_scale_with_presentation_mode(qtbot):
    label = typeface.role(QLabel("claim"), "claim", "#123456")
    holder = QWidget()
    label.setParent(holder)
    qtbot.addWidget(holder)
    size = label.font().pointSizeF()
    assert size == pytest.approx(typeface.points(typeface.ROLES["claim"][0]))
    assert "#123456" in label.styleSheet() and "font-size" not in label.styleSheet()
    try:
        typeface.set_scale(typeface.PRESENTATION_SCALE)
        typeface.apply(holder)
        assert label.font().pointSizeF() == pytest.approx(size * typeface.PRESENTATION_SCALE)
    finally:
        typeface.set_scale(1.0)
        typeface.apply(holder)
    assert label.font().pointSizeF() == pytest.approx(size)
    with pytest.raises(ValueError, match=r"role: `name` must be one of claim, number, count, "
                                         r"title, heading, note, got name='huge'\."):
        typeface.role(QLabel(), "huge")


def test_the_lecture_table_counts_the_lecture_s_layer(qtbot):
    table = LectureTable()
    qtbot.addWidget(table)
    cells = [[label.text() for label in row] for row in table.cells]
    assert cells == [["10¹²", "4.0 TB", "1"], ["10⁸", "400.0 MB", "1/10⁴"], ["10²", "400 B",
                                                                             "1/10¹⁰"]]
    assert [label.text() for label in table.names] == ["Dense", "Local", "Conv"]
    assert power_text(1234) == "1,234" and power_text(1) == "1"


def test_the_growing_fields_are_outlined_layer_by_layer(qtbot):
    panel = FieldGrowth()
    qtbot.addWidget(panel)
    fields = []
    for side in (3, 8, 18):
        field = np.zeros((28, 28), bool)
        field[5:5 + side, 4:4 + side] = True
        fields.append((f"layer{len(fields) + 1}", field))
    base = snapshot()
    panel.draw(types.SimpleNamespace(image=np.zeros((28, 28, 1), np.float32),
                                     growth=tuple(fields)))
    assert panel.image.marked() == [(5, 4, 3, 3), (5, 4, 8, 8), (5, 4, 18, 18)]
    assert "layer3&nbsp;18×18" in panel.caption.text() and "dense unit: 28×28" in panel.caption.text()
    panel.draw(base)  # a snapshot without a unit: nothing outlined
    assert panel.image.marked() == [] and panel.caption.text() == tr("growth_none")
    assert field_box(np.zeros((3, 3), bool)) is None


def test_the_gradient_view_follows_the_weights_pickers(qtbot):
    view = WeightsView("dense")
    gradient = GradientView(view)
    qtbot.addWidget(view)
    qtbot.addWidget(gradient)
    gradient.retranslate()
    assert gradient.caption.text() == tr("no_gradient")
    maps = layer_maps("dense")
    view.maps = maps
    view.set_layers(list(maps.kernels))
    view.redraw()
    gradient.redraw()
    layer, grad, weight = gradient.numbers
    assert layer == "layer1" and grad == pytest.approx(10 * weight)  # the fixture's grads
    view.channel.setValue(2)
    expected = view.weights.data() * 10
    np.testing.assert_allclose(gradient.image.data(), expected, rtol=1e-5)
    view.layer.setCurrentText("head")
    assert gradient.numbers[0] == "head"
    assert rms(np.array([3.0, -4.0, np.nan])) == pytest.approx(np.sqrt(12.5)) and rms([]) == 0.0


def window_stand_in(shot=None, result=None):
    columns = {}
    for i, kind in enumerate(COLUMNS):
        gradient = types.SimpleNamespace(numbers=("layer1", 0.01 * (i + 1), 0.1))
        columns[kind] = types.SimpleNamespace(
            counts=ModelCounts(10 ** (6 - 2 * i), 1, 1, 4, ()), gradient=gradient)
    shift = types.SimpleNamespace(result=result)
    return types.SimpleNamespace(columns=columns, snapshot=shot,
                                 probes=types.SimpleNamespace(shift=shift))


def test_each_page_s_number_reads_the_window_as_it_is():
    waiting = window_stand_in()
    for column in waiting.columns.values():
        column.counts = None
    assert lessons.costs(waiting) == tr("number_waiting") == lessons.sharing(waiting)
    window = window_stand_in()
    assert lessons.costs(window) == ("Here: Dense 1,000,000 · Local 10,000 · Conv 100 parameters; "
                                     "Conv needs 1/10,000 of Dense's.")
    assert lessons.backprop(window).startswith("Gradient size, root mean square (and as a share "
                                               "of the weights'): Dense layer1 0.01 (10.00%) · ")
    base = snapshot()
    unit = Unit("layer1", 2, (1, 3))
    theoretical = np.zeros((6, 6), bool)
    theoretical[0:3, 2:5] = True
    models = {k: m.__class__(**{**m.__dict__, "fields": (theoretical, theoretical * 1.0)})
              for k, m in base.models.items()}
    shot = base.__class__(**{**base.__dict__, "models": models, "probe": Probe(unit=unit)})
    assert lessons.wiring(window_stand_in(shot)) == (
        "layer1, channel 2 at (1, 3): Dense 9 px wired, 9 move it · Local 9 px wired, 9 move it · "
        "Conv 9 px wired, 9 move it")
    assert lessons.learning(window_stand_in(shot)).startswith(
        "Step 5. Test accuracy: Dense 0.40 · Local 0.40 · Conv 0.40. Milliseconds a step: Dense ")
    shifts = ((-3, 0), (0, 0), (3, 0))
    result = ProbeResult(7, shifts, {k: np.array([0.2, 0.9, 0.3]) for k in COLUMNS}, {}, 32)
    assert lessons.sharing(window_stand_in(result=result)) == (
        "Test accuracy, unmoved → moved 3 px (worst direction): Dense 0.90 → 0.20 · Local 0.90 → "
        "0.20 · Conv 0.90 → 0.20 (step 7)")
