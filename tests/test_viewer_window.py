"""The whole window on tiny real models (JAX on CPU), driven through its widgets.

One window is shared by the tests of this module (each compile costs seconds on two cores); the
last test closes it while it trains. Tests that need a window or process of their own are in
test_viewer_fresh.py.
"""

import csv
import json
import time

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QSize, Qt
from PyQt6.QtGui import QImage
from viewer_tiny import TINY, WAIT, wait_drawn

from jaxconv_viewer.gui import files, kernel_tiles, typeface
from jaxconv_viewer.gui import unit_geometry as units
from jaxconv_viewer.gui.pages import PAGES
from jaxconv_viewer.gui.probe import HOVER_MS
from jaxconv_viewer.gui.window import MainWindow
from jaxconv_viewer.i18n import set_language, tr
from jaxconv_viewer.session.capture import fires
from jaxconv_viewer.session.session import Session, shift_one
from jaxconv_viewer.session.snapshot import Unit

KINDS = TINY.columns  # the lecture's dense, local, conv
LAPTOP = QSize(1280, 720)  # a classroom laptop's or projector's screen


@pytest.fixture(scope="module")
def window(qapp):
    win = MainWindow(TINY, running=True)
    win.resize(LAPTOP)
    win.show()
    yield win
    win.close()
    assert win.wait_for_threads(WAIT)  # a thread still compiling ends at its next yield


def pixel_position(panel, row, col):
    from PyQt6.QtCore import QPointF

    return panel.mapFromScene(panel.image.mapToScene(QPointF(col + 0.5, row + 0.5)))


def click_tab(qtbot, window, key):
    """Shows page ``key`` as a student would: a click on its tab."""
    bar = window.tabs.tabBar()
    index = [page.key for page in PAGES].index(key)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert window.page.page.key == key


def test_window_opens_on_the_first_lesson_and_draws_only_the_page_shown(qtbot, window):
    assert window.page.page.key == "costs" and window.schedule.jobs == []  # nothing drawn by job
    wait_drawn(qtbot, window, 1)
    qtbot.waitUntil(lambda: window.columns["conv"].counts is not None, timeout=WAIT)
    assert window.columns["dense"].count.text()[0].isdigit()
    assert "Conv needs 1/" in window.page.number.text()  # the claim's live number
    assert window.columns["conv"].features.data() is None  # on no page shown yet
    click_tab(qtbot, window, "sharing")
    assert set(window.schedule.jobs) == {"similarity", *(f"features_{k}" for k in KINDS)}
    assert all(window.columns[k].features.data() is not None for k in KINDS)  # drawn at once


def test_window_trains_and_draws_every_column(qtbot, window):
    click_tab(qtbot, window, "all")
    snapshot = wait_drawn(qtbot, window, 3)
    for kind in KINDS:
        column = window.columns[kind]
        assert column.count.text()[0].isdigit()
        weights, features = column.weights.data(), column.features.data()
        assert weights.size > 1 and np.nanstd(weights) > 0
        assert features.size > 1 and np.isfinite(features).any()
        assert len(column.curves["loss", "train"].getData()[0]) >= 3
        assert kind in window.input.predictions
    assert window.counts.labels[0].toPlainText() != ""
    counts = window.counts.counts
    assert counts[0] > counts[1] > counts[2]  # dense > local > conv
    np.testing.assert_array_equal(window.input.image.data(), snapshot.image[..., 0])


def test_the_default_unit_is_a_first_layer_unit_firing_in_every_model(qtbot, window):
    def shown():
        shot = window.snapshot
        return (shot is not None and shot.probe.unit is not None and not shot.pending
                and all(m.fields is not None for m in shot.models.values()))

    qtbot.waitUntil(shown, timeout=WAIT)
    snapshot = window.snapshot
    unit = snapshot.probe.unit
    assert not window.unit_chosen and unit.layer == "layer1"
    assert fires({kind: maps.features for kind, maps in snapshot.models.items()}, unit)
    for kind in KINDS:  # no black picture: some pixel moves it in every model
        assert (snapshot.models[kind].fields[1] > 0).any(), kind
        assert window.columns[kind].layer.currentText() == "layer1"  # layer 1's weights first


def test_every_page_fits_a_1280x720_screen_and_presentation_type(qtbot, window):
    wait_drawn(qtbot, window, 1)
    qtbot.waitUntil(lambda: window.probes.shift.result is not None, timeout=WAIT)
    layout = window.layout_report(LAPTOP)
    assert (window.width(), window.height()) == (1280, 720)
    assert layout["window"] == [1280, 720] and layout["minimum"][0] <= 1280
    assert [row["page"] for row in layout["pages"]] == [page.key for page in PAGES]
    assert layout["clipped"] == [] and layout["presentation"]["clipped"] == []
    assert layout["settings"] == []  # the side bar open: still nothing cut
    assert not window.settings_dock.isVisible()
    for row in layout["pages"]:
        assert row["checked"] > 10, row["page"]
        if row["page"] != "all":  # a lesson: a claim and the number that backs it
            assert row["claim"] and row["number"] and "—" not in row["number"], row
        assert row["scroll"] == (row["page"] == "all")  # a scroll area only as a last resort
    pages = {row["page"]: row for row in layout["pages"]}
    wiring = pages["wiring"]["pictures"]
    assert wiring["weights conv"] > wiring["weights local"] > 1  # large tiles; a readable mosaic
    lecture = pages["costs"]["facts"]["lecture"]  # what the panels show, as numbers
    assert [row["weights"] for row in lecture] == [10**12, 10**8, 100]
    fields = pages["wiring"]["facts"]["fields"]
    assert fields["dense"][0] == 64  # the 8x8 digits: a dense unit is wired to every pixel
    assert all(moving > 0 for _, moving in fields.values())  # the default unit fires in each
    assert list(pages["wiring"]["facts"]["growth"]) == ["layer1"]
    assert typeface.scale() == 1.0  # the check leaves the type as it was


def test_arrow_key_shifts_the_input_and_updates_predictions(qtbot, window):
    qtbot.mouseClick(window.controls.buttons["pause"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.training, timeout=WAIT)
    window.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert window.input.probe() == (0, 0, 1)
    qtbot.waitUntil(lambda: window.snapshot.probe.browse == (0, 0, 1), timeout=WAIT)
    original = window.session.dataset.x_test[0]
    np.testing.assert_array_equal(window.snapshot.image[:, 1:], original[:, :-1])
    assert not window.snapshot.image[:, 0].any()
    np.testing.assert_array_equal(window.input.image.data(), window.snapshot.image[..., 0])


def test_clicking_a_unit_shows_both_fields_of_every_kind(qtbot, window):
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=WAIT)
    click_tab(qtbot, window, "sharing")  # the feature maps
    snapshot = window.snapshot
    column = window.columns["local"]
    unit = Unit("layer1", 1, (2, 5))
    row, col, _, _ = units.feature_rect(snapshot.models["local"].features, unit)
    qtbot.mouseClick(column.features.viewport(), Qt.MouseButton.LeftButton,
                     pos=pixel_position(column.features, row, col))
    assert window.unit == unit
    qtbot.waitUntil(lambda: window.snapshot.probe.unit == unit and not window.snapshot.pending,
                    timeout=WAIT)  # a model's first fields come a snapshot later
    shown = window.snapshot
    sizes = {}
    click_tab(qtbot, window, "wiring")  # its connections, the weights it uses
    for kind in KINDS:
        theoretical, effective = shown.models[kind].fields
        assert (effective[~theoretical] == 0).all()
        sizes[kind] = int(theoretical.sum())
        assert window.columns[kind].weights.marked()  # the weights that unit uses
    assert sizes["dense"] == 64 and sizes["local"] == sizes["conv"] == 9  # a 3x3 window
    assert window.connections.unit_label.text().startswith("layer1, channel 1 at (2, 5)")
    assert window.unit_chosen  # a click: the default unit follows the input no more
    np.testing.assert_array_equal(window.connections.moves["conv"].data(),
                                  shown.models["conv"].fields[1])


def test_drawing_is_one_click_away_on_every_page_that_shows_an_input(qtbot, window):
    for page in PAGES:
        click_tab(qtbot, window, page.key)
        shows_input = window.input.isVisible()
        assert shows_input == (page.key in ("wiring", "sharing", "all")), page.key
        assert window.input.draw_button.isVisible() == shows_input


def test_another_unit_at_a_step_already_drawn_says_it_is_drawn(qtbot, window):
    # A paused window re-picks its default unit at the same step; `--page wiring --screenshot`
    # waited for snapshot_drawn, which only a new step emitted, and never shot.
    qtbot.mouseClick(window.controls.buttons["pause"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.training and window.snapshot is not None, timeout=WAIT)
    click_tab(qtbot, window, "wiring")
    step, unit = window.snapshot.step, window.unit
    other = Unit(unit.layer, unit.channel, (0, 0) if unit.position != (0, 0) else (1, 1))
    try:
        with qtbot.waitSignal(window.snapshot_drawn, timeout=WAIT):
            window.select_unit(other)  # (a click: kept even where it does not fire)
        assert window.snapshot.step == step and window.snapshot.probe.unit == other
    finally:
        window.unit_chosen = False  # the default unit follows the input again


def test_drawing_feeds_the_models_and_updates_the_predictions(qtbot, window):
    qtbot.mouseClick(window.controls.buttons["pause"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.training, timeout=WAIT)
    click_tab(qtbot, window, "wiring")
    qtbot.mouseClick(window.input.draw_button, Qt.MouseButton.LeftButton)
    canvas = window.drawing.canvas
    assert canvas.isVisible()
    square = canvas._square()
    points = [QPoint(int(square.left() + square.width() * x / 8),
                     int(square.top() + square.height() * 2.5 / 8)) for x in (1, 4, 7)]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=points[0])
    for point in points[1:]:
        qtbot.mouseMove(canvas, point)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=points[-1])
    drawn = window.drawing.drawing()
    assert drawn is not None and drawn[2].min() > 0.5
    qtbot.waitUntil(lambda: window.snapshot.probe.drawn == window.probe().drawn > 0, timeout=WAIT)
    shifted = shift_one(drawn, *window.input.probe()[1:])  # the arrows move it too
    np.testing.assert_array_equal(window.snapshot.image, shifted)
    assert window.snapshot.label is None and window.input.truth.text() == tr("your_drawing")
    np.testing.assert_array_equal(window.input.image.data(), shifted[..., 0])
    qtbot.mouseClick(window.drawing.use, Qt.MouseButton.LeftButton)  # back to the test images
    qtbot.waitUntil(lambda: window.snapshot.probe.drawn == 0, timeout=WAIT)
    qtbot.mouseClick(window.input.draw_button, Qt.MouseButton.LeftButton)
    assert window.input.image.isVisible() and not canvas.isVisible()


def test_probe_panels_follow_the_worker(qtbot, window):
    # The worker measures after the first steps (and every few seconds while training).
    qtbot.waitUntil(lambda: window.probes.shift.result is not None, timeout=WAIT)
    result = window.probes.shift.result
    xs, accuracy = window.probes.shift.curves["conv", "x"].getData()
    assert list(xs) == [-3, -2, -1, 0, 1, 2, 3] and np.all((0 <= accuracy) & (accuracy <= 1))
    assert window.probes.equivariance.layers == ("layer1",)
    assert set(result.equivariance) == set(KINDS)


def test_single_step_while_paused(qtbot, window):
    before = window.snapshot.step
    qtbot.mouseClick(window.controls.buttons["single_step"], Qt.MouseButton.LeftButton)
    wait_drawn(qtbot, window, before + 1)
    assert not window.training


def test_gradient_toggle_draws_gradients(qtbot, window):
    click_tab(qtbot, window, "wiring")
    assert not window.controls.isVisible()  # in the side bar, closed until asked for
    window.actions["settings"].trigger()
    assert window.controls.isVisible()
    qtbot.mouseClick(window.controls.gradients, Qt.MouseButton.LeftButton)
    column = window.columns["conv"]
    name, grad = column.current_kernel()
    assert grad is window.snapshot.models["conv"].grads[name]
    np.testing.assert_array_equal(column.weights.data(), kernel_tiles.weight_mosaic(grad))
    qtbot.mouseClick(window.controls.gradients, Qt.MouseButton.LeftButton)
    assert column.current_kernel()[1] is window.snapshot.models["conv"].kernels[name]
    window.actions["settings"].trigger()
    assert not window.controls.isVisible()


def test_letters_in_the_learning_rate_are_refused(qtbot, window):
    session = window.session
    field = window.controls.fields["learning_rate"]
    field.clear()
    qtbot.keyClicks(field, "0.0x1")
    qtbot.mouseClick(window.controls.buttons["start"], Qt.MouseButton.LeftButton)
    assert "0.0x1" in window.status.text() and tr("learning_rate") in window.status.text()
    assert window.session is session and not window.worker.running
    field.setText(f"{TINY.train.learning_rate:g}")


def test_junk_in_every_field_is_refused_in_the_window(qtbot, window):
    session = window.session
    for name, field in window.controls.fields.items():
        good = field.text()
        field.clear()
        qtbot.keyClicks(field, "7q")
        qtbot.mouseClick(window.controls.buttons["reset"], Qt.MouseButton.LeftButton)
        label = window.controls.labels[name].text()
        assert window.status.text().startswith(f"{label}: “7q”"), name
        assert window.session is session
        field.setText(good)


def test_language_switch_changes_the_labels(qtbot, window):
    try:
        window.actions["lang_zh_CN"].trigger()
        assert window.controls.buttons["start"].text() == "开始"
        assert window.columns["conv"].title.text() == "卷积"
        assert window.file_menu.title() == "文件(&F)"
        assert window.metrics.plots["loss", "step"].getPlotItem().titleLabel.text == "损失 与步数"
        assert window.tabs.tabText(0) == "1  连接的代价"
        assert window.page.claim.text() == tr(f"claim_{window.page.page.key}")  # in Chinese
        layout = window.layout_report(LAPTOP)  # the Chinese labels fit too
        assert layout["clipped"] == [] and layout["presentation"]["clipped"] == []
    finally:
        window.actions["lang_en"].trigger()
    assert window.columns["local"].title.text() == "Locally connected"
    set_language("en")


def test_presentation_mode_is_full_screen_with_larger_type(qtbot, window):
    title = window.page.claim.font().pointSizeF()
    action = window.actions["presentation"]
    assert action.shortcut().toString() == "F11" and action in window.view_menu.actions()
    action.trigger()
    try:
        assert window.isFullScreen() and typeface.scale() == typeface.PRESENTATION_SCALE
        assert window.page.claim.font().pointSizeF() == pytest.approx(
            title * typeface.PRESENTATION_SCALE)
    finally:
        action.trigger()
    assert not window.isFullScreen() and typeface.scale() == 1.0
    assert window.page.claim.font().pointSizeF() == pytest.approx(title)
    window.resize(LAPTOP)


def test_export_png_and_csv(qtbot, window, tmp_path):
    shown = window.page
    paths = files.export_panels(window, tmp_path)
    assert {p.name for p in paths} >= {"window.png", "page_costs.png", "page_all.png",
                                       "column_conv.png", "metrics.png", "weights_dense.png",
                                       "shift_equivariance.png"}
    assert all(not QImage(str(p)).isNull() for p in paths)
    assert window.page is shown
    with qtbot.waitSignal(window.served, timeout=WAIT) as blocker:
        assert files.export_csv(window, tmp_path / "metrics.csv")
    rows = blocker.args[0].result
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert lines[0] == "kind,split,step,time,loss,accuracy" and len(lines) == rows + 1
    assert {line.split(",")[0] for line in lines[1:]} == set(KINDS)
    with open(tmp_path / "metrics_probes.csv", newline="") as f:
        probes = list(csv.reader(f))
    assert probes[0] == ["kind", "step", "measure", "key", "value"]
    assert {tuple(row[2:4]) for row in probes[1:] if row[0] == "conv"} >= {
        ("shift_accuracy", "-3,0"), ("shift_accuracy", "0,3"), ("equivariance", "layer1")}
    assert "page_sharing.png" in {p.name for p in paths}


def test_save_and_load_session(qtbot, window, tmp_path):
    qtbot.mouseClick(window.controls.buttons["pause"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.training, timeout=WAIT)
    saved = window.session
    with qtbot.waitSignal(window.served, timeout=WAIT):
        window.request("save", tmp_path / "run")
    weights = window.snapshot.models["local"].kernels["layer1"]
    window.load_session(tmp_path / "run")
    assert window.session is not saved and tr("loaded", path=tmp_path / "run") in window.status.text()
    snapshot = wait_drawn(qtbot, window, 0)
    assert snapshot.step == saved.step
    np.testing.assert_array_equal(snapshot.models["local"].kernels["layer1"], weights)
    assert len(snapshot.history["conv"]["train"]["step"]) == saved.step


@pytest.mark.slow  # restoring prepares a fresh Session: its compiles take tens of seconds here
def test_a_save_during_training_holds_one_step(qtbot, window, tmp_path):
    qtbot.mouseClick(window.controls.buttons["start"], Qt.MouseButton.LeftButton)
    wait_drawn(qtbot, window, window.session.step + 2)
    assert window.training
    with qtbot.waitSignal(window.served, timeout=WAIT) as blocker:
        window.request("save", tmp_path / "live")
    served = blocker.args[0]
    assert served.error is None and tr("saved_at", path=tmp_path / "live", step=served.step) \
        in window.status.text()
    saved = json.loads((tmp_path / "live" / "session.json").read_text())
    assert saved["settings"]["columns"] == list(KINDS)  # a saved session records its columns
    restored = Session(restore=tmp_path / "live")
    restored.prepare()
    steps = {kind: int(np.asarray(restored.states[kind].step)) for kind in KINDS}
    rows = {kind: len(restored.history[kind].view()["train"]["step"]) for kind in KINDS}
    assert set(steps.values()) == set(rows.values()) == {saved["step"]} == {served.step}


def test_a_save_into_a_file_path_reports_the_error_and_training_goes_on(qtbot, window, tmp_path):
    if not window.training:  # (the slow test before it starts training; without it, this does)
        qtbot.mouseClick(window.controls.buttons["start"], Qt.MouseButton.LeftButton)
        wait_drawn(qtbot, window, window.session.step + 1)
    (tmp_path / "file").write_text("not a folder")
    with qtbot.waitSignal(window.served, timeout=WAIT) as blocker:
        window.request("save", tmp_path / "file")
    assert blocker.args[0].error is not None and "file" in window.status.text()
    assert window.training


def test_load_from_a_folder_without_a_session_shows_an_error(qtbot, window, tmp_path):
    session = window.session
    window.load_session(tmp_path)
    assert window.session is session and "session.json" in window.status.text()


def test_choosing_the_head_restarts_with_it_and_shows_it(qtbot, window):
    assert "flatten" in window.columns["conv"].formula.text()
    head = window.controls.head
    head.setCurrentIndex(head.findData("global-pool"))
    qtbot.mouseClick(window.controls.buttons["start"], Qt.MouseButton.LeftButton)
    assert window.session.settings.head == "global-pool"
    qtbot.waitUntil(lambda: "global average pool" in window.columns["conv"].formula.text(),
                    timeout=WAIT)  # counted in `prepare`, before the first compile
    assert window.session.models["conv"].config.global_pool
    wait_drawn(qtbot, window, 1)  # compiled and trained: stopping it now ends its thread at once
    head.setCurrentIndex(head.findData("flatten"))
    qtbot.mouseClick(window.controls.buttons["start"], Qt.MouseButton.LeftButton)
    assert window.session.settings.head == "flatten"
    qtbot.waitUntil(lambda: "flatten" in window.columns["conv"].formula.text(), timeout=WAIT)
    wait_drawn(qtbot, window, 1)  # the next test closes it: no thread may be left compiling


def test_hovering_units_shows_them_throttled_then_the_clicked_one(qtbot, window, monkeypatch):
    wait_drawn(qtbot, window, 1)
    click_tab(qtbot, window, "sharing")
    column, chosen = window.columns["conv"], window.unit
    features = window.snapshot.models["conv"].features
    probes = []
    set_probe = window.worker.set_probe
    monkeypatch.setattr(window.worker, "set_probe", lambda p: (probes.append(p), set_probe(p)))
    swept = [Unit("layer1", 1, (3, c)) for c in range(8)]
    began = time.monotonic()
    for unit in swept:  # about 25 ms a pixel (more on a busy machine): faster than the throttle
        row, col, _, _ = units.feature_rect(features, unit)
        qtbot.wait(25)
        qtbot.mouseMove(column.features.viewport(), pixel_position(column.features, row, col))
    qtbot.waitUntil(lambda: window.unit == swept[-1], timeout=5000)
    took_ms = 1000 * (time.monotonic() - began)
    # At most one shown unit per HOVER_MS, whatever the machine's speed (and not one per pixel).
    assert 1 <= len(probes) <= took_ms // HOVER_MS + 1, (took_ms, [p.unit for p in probes])
    assert all(c.unit == swept[-1] for c in window.columns.values())
    qtbot.waitUntil(lambda: window.snapshot.probe.unit == swept[-1]
                    and not window.snapshot.pending, timeout=WAIT)
    assert window.snapshot.models["conv"].fields is not None  # its receptive fields came too
    qtbot.wait(25)
    qtbot.mouseMove(window.status, QPoint(2, 2))  # off the maps: the clicked (or first) unit again
    qtbot.waitUntil(lambda: window.unit == chosen, timeout=5000)


def test_close_during_training_stops_the_worker(qtbot, window):
    before = window.probes.shift.result
    qtbot.mouseClick(window.controls.buttons["start"], Qt.MouseButton.LeftButton)
    # The shift measures compile after the first steps, and no compile can be interrupted (the
    # app then exits without waiting, jaxconv_viewer.__main__): close once they have run, between steps.
    qtbot.waitUntil(lambda: window.probes.shift.result is not before, timeout=WAIT)
    qtbot.waitUntil(lambda: not window.session.preparing(), timeout=WAIT)  # start-up threads
    step = window.snapshot.step
    wait_drawn(qtbot, window, step + 2)
    assert window.training
    window.close()
    assert window.worker is None and not window.threads_running()


def test_a_column_whose_programs_fail_to_build_says_so_in_the_status_line():
    # A start-up thread's error (not a divergence) reaches the window as ModelFailed too.
    import types

    from jaxconv_viewer.session.session import ModelFailed

    shown = []
    fake = types.SimpleNamespace(training=True, show_error=shown.append)
    MainWindow._failed(fake, ModelFailed("local", AttributeError("no attribute 'x'")))
    assert shown == [tr("failed", error="ModelFailed: local: AttributeError: no attribute 'x'")]
    assert not fake.training
