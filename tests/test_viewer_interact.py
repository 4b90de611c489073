"""Clicking a unit and drawing an input, through the real widgets, with synthetic snapshots."""

import dataclasses

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt
from test_viewer_panels import COLUMNS, layer_maps, snapshot

from jaxconv_viewer.gui import unit_geometry as units
from jaxconv_viewer.gui.panels.column import ModelColumn
from jaxconv_viewer.gui.panels.connections import ConnectionsPanel
from jaxconv_viewer.gui.panels.drawing import DrawPanel
from jaxconv_viewer.session.snapshot import Probe, Unit

LEFT = Qt.MouseButton.LeftButton


def pixel_position(panel, row, col) -> QPoint:
    """Where image pixel (row, col) of an `ImagePanel` is on its viewport."""
    scene = panel.image.mapToScene(QPointF(col + 0.5, row + 0.5))
    return panel.mapFromScene(scene)


@pytest.mark.parametrize("kind", COLUMNS)
def test_clicking_a_feature_map_unit_names_it_and_outlines_its_weights(qtbot, kind):
    column = ModelColumn(kind)
    qtbot.addWidget(column)
    column.resize(420, 900)
    column.show()
    maps = layer_maps(kind)
    column.draw_maps(maps)
    qtbot.waitExposed(column)
    unit = Unit("layer1", 2, (1, 3))
    row, col, _, _ = units.feature_rect(maps.features, unit)
    with qtbot.waitSignal(column.unit_clicked) as blocker:
        qtbot.mouseClick(column.features.viewport(), LEFT, pos=pixel_position(column.features, row, col))
    assert blocker.args == [unit]
    column.set_unit(unit)
    name, kernel = column.current_kernel()
    assert name == "layer1"
    expected = units.weight_rect(kernel, maps.in_shapes["layer1"], maps.out_shapes["layer1"], unit)
    assert column.weights.marked() == [expected]
    assert column.features.marked() == [(row, col, 1, 1)]
    if kind != "conv":  # dense and local draw one channel at a time: the unit's
        assert column.channel.value() == 2


def test_clicking_a_gap_is_no_unit(qtbot):
    column = ModelColumn("conv")
    qtbot.addWidget(column)
    column.resize(420, 900)
    column.show()
    column.draw_maps(layer_maps("conv"))
    qtbot.waitExposed(column)
    with qtbot.assertNotEmitted(column.unit_clicked):
        qtbot.mouseClick(column.features.viewport(), LEFT, pos=pixel_position(column.features, 4, 0))


def test_hovering_a_feature_map_names_each_unit_crossed_once(qtbot):
    column = ModelColumn("local")
    qtbot.addWidget(column)
    column.resize(420, 900)
    column.show()
    maps = layer_maps("local")
    column.draw_maps(maps)
    qtbot.waitExposed(column)
    seen = []
    column.unit_hovered.connect(seen.append)
    unit = Unit("layer1", 2, (1, 3))
    row, col, _, _ = units.feature_rect(maps.features, unit)
    def move(row, col):
        qtbot.mouseMove(column.features.viewport(), pixel_position(column.features, row, col))

    for _ in range(3):  # the same pixel again and again: one signal
        move(row, col)
    qtbot.waitUntil(lambda: seen == [unit], timeout=2000)
    gap = dict(maps.features)["layer1"].shape[0]  # the row between two rows of tiles
    assert units.locate_feature(maps.features, gap, col) is None
    move(gap, col)
    qtbot.waitUntil(lambda: seen == [unit, None], timeout=2000)
    move(row, col - 1)
    qtbot.waitUntil(lambda: seen == [unit, None, Unit("layer1", 2, (1, 2))], timeout=2000)


def test_connections_panel_draws_both_fields_of_every_kind(qtbot):
    panel = ConnectionsPanel(COLUMNS)
    qtbot.addWidget(panel)
    base = snapshot()
    assert "Click a unit" in panel.unit_label.text()
    theoretical = np.zeros((6, 6), bool)
    theoretical[1:4, 2:5] = True
    effective = np.where(theoretical, 0.5, 0.0).astype(np.float32)
    effective[2, 3] = 2.0
    models = {k: dataclasses.replace(m, fields=(np.ones((6, 6), bool) if k == "dense" else theoretical,
                                                effective if k != "local" else 0 * effective))
              for k, m in base.models.items()}
    shot = dataclasses.replace(base, models=models, probe=Probe(unit=Unit("layer1", 2, (1, 3))))
    panel.draw(shot)
    assert panel.unit_label.text().startswith("layer1, channel 2 at (1, 3)")
    assert panel.wired["conv"].data().shape == (6, 6, 3)
    np.testing.assert_array_equal(panel.moves["conv"].data(), effective)
    assert panel.moves["conv"].levels == (0.0, 2.0)
    assert panel.numbers["dense"].text() == "36 px wired, 9 px move it"
    assert panel.numbers["conv"].text() == "9 px wired, 9 px move it"
    assert "off for this input" in panel.numbers["local"].text()


def stroke(qtbot, canvas, points):
    positions = [QPoint(int(x), int(y)) for x, y in points]
    qtbot.mousePress(canvas, LEFT, pos=positions[0])
    for p in positions[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, LEFT, pos=positions[-1])


def test_drawing_a_stroke_feeds_the_drawing(qtbot):
    panel = DrawPanel()
    qtbot.addWidget(panel)
    panel.resize(280, 360)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_shape((8, 8, 3))
    assert panel.drawing() is None and not panel.use.isChecked()
    canvas = panel.canvas
    square = canvas._square()
    y = square.top() + square.height() * 4.5 / 8
    sent = []
    panel.drawing_changed.connect(sent.append)
    stroke(qtbot, canvas, [(square.left() + square.width() * x / 8, y) for x in (0.5, 4, 7.5)])
    drawing = sent[-1]
    assert len(sent) >= 3 and drawing.shape == (8, 8, 3) and panel.use.isChecked()
    assert drawing[4, :, 0].min() > 0.5 and drawing[0].max() == 0
    qtbot.mouseClick(panel.buttons["eraser"], LEFT)
    stroke(qtbot, canvas, [(square.left() + square.width() * 4.5 / 8, y)] * 2)
    assert panel.drawing()[4, 4, 0] == 0 and panel.drawing()[4, 0, 0] > 0.5
    with qtbot.waitSignal(panel.drawing_changed):
        qtbot.mouseClick(panel.buttons["clear"], LEFT)
    assert panel.drawing().max() == 0
    with qtbot.waitSignal(panel.drawing_changed, check_params_cb=lambda d: d is None):
        panel.use.setChecked(False)


def test_start_from_this_sample_copies_the_input(qtbot):
    panel = DrawPanel()
    qtbot.addWidget(panel)
    panel.set_shape((6, 6, 1))
    with qtbot.waitSignal(panel.from_sample_clicked):
        qtbot.mouseClick(panel.buttons["from_sample"], LEFT)
    image = np.random.default_rng(0).random((6, 6, 1)).astype(np.float32)
    panel.load(image)
    np.testing.assert_allclose(panel.drawing(), image)
