"""Panels fed with synthetic snapshots (no JAX): the pyqtgraph items must follow what is pushed."""

import dataclasses

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from jaxconv_viewer.gui import kernel_tiles
from jaxconv_viewer.gui.panels.column import ModelColumn, human_bytes
from jaxconv_viewer.gui.panels.controls import ControlsPanel
from jaxconv_viewer.gui.panels.counts import CountsPanel
from jaxconv_viewer.gui.panels.input import InputPanel
from jaxconv_viewer.gui.panels.metrics import MetricsPanel
from jaxconv_viewer.gui.tiling import feature_strip
from jaxconv_viewer.i18n import kind_hint, kind_label, set_language, tr
from jaxconv_viewer.session.fields import INT_FIELDS, FieldError, parse_settings
from jaxconv_viewer.session.session import Settings
from jaxconv_viewer.session.snapshot import History, LayerMaps, ModelCounts, Snapshot

RNG = np.random.default_rng(0)
COLUMNS = Settings().columns  # the lecture's dense, local, conv


def layer_maps(kind):
    if kind == "dense":
        kernel = RNG.normal(size=(36, 4 * 4 * 3))
        in_shapes, out_shapes = {"layer1": (6, 6, 1), "head": None}, {"layer1": (4, 4, 3), "head": None}
    elif kind == "local":
        kernel = RNG.normal(size=(4, 4, 3, 3, 1, 3))
        in_shapes, out_shapes = {"layer1": None, "head": None}, {"layer1": None, "head": None}
    else:
        kernel = RNG.normal(size=(3, 3, 1, 3))
        in_shapes, out_shapes = {"layer1": None, "head": None}, {"layer1": None, "head": None}
    kernels = {"layer1": kernel.astype(np.float32), "head": RNG.normal(size=(48, 5)).astype(np.float32)}
    probs = np.array([0.1, 0.6, 0.1, 0.1, 0.1], np.float32)
    return LayerMaps(kernels=kernels, grads={k: 10 * v for k, v in kernels.items()},
                     in_shapes=in_shapes, out_shapes=out_shapes,
                     features=[("layer1", RNG.random((4, 4, 3)).astype(np.float32)), ("head", probs)],
                     probs=probs, layer_kinds={"layer1": kind, "head": None})


def history(n=5):
    h = History()
    for i in range(1, n + 1):
        h.append("train", step=i, time=0.1 * i, loss=1.0 / i, accuracy=0.1 * i)
    h.append("test", step=n, time=0.1 * n, loss=0.5, accuracy=0.4)
    return h.view()


def snapshot(step=5):
    return Snapshot(step, {k: layer_maps(k) for k in COLUMNS}, {k: history(step) for k in COLUMNS},
                    RNG.random((6, 6, 1)).astype(np.float32), 1, (0, 0, 0), 7)


@pytest.mark.parametrize("kind", COLUMNS)
def test_column_draws_weights_features_and_curves(qtbot, kind):
    column = ModelColumn(kind)
    qtbot.addWidget(column)
    maps = layer_maps(kind)
    column.draw_maps(maps)
    column.draw_curves(history())
    assert column.hint.text() == kind_hint(kind)  # from the layer's kind's record
    kernel = maps.kernels["layer1"]
    expected = kernel_tiles.weight_mosaic(kernel, maps.in_shapes["layer1"], maps.out_shapes["layer1"])
    np.testing.assert_array_equal(column.weights.data(), expected)
    limit = np.nanmax(np.abs(expected))  # symmetric about zero, from what is drawn, rounded up
    low, high = column.weights.levels
    assert low == -high and limit <= high <= 1.1 * limit
    np.testing.assert_array_equal(column.features.data(), feature_strip(maps.features))
    x, y = column.curves["loss", "train"].getData()
    assert list(x) == [1, 2, 3, 4, 5] and y[-1] == pytest.approx(0.2)
    assert list(column.curves["accuracy", "test"].getData()[1]) == pytest.approx([0.4])
    column.set_gradients(True)
    np.testing.assert_allclose(column.weights.data(), 10 * expected, rtol=1e-6)
    assert column.view.title.text() == tr("gradients")
    column.layer.setCurrentText("head")
    np.testing.assert_array_equal(column.weights.data(), 10 * maps.kernels["head"].T)
    assert column.hint.text() == tr("hint_matrix")  # a vector layer: no kind's picture


def test_column_redraws_its_weights_only_when_the_step_moves(qtbot):
    column = ModelColumn("conv")
    qtbot.addWidget(column)
    assert column.jobs == ("conv", "features_conv", "curves_conv") and column.maps_job == "conv"
    shot = snapshot(step=5)
    column.draw(shot, "conv")
    drawn = column.weights.data()
    assert column.features.data() is None  # the weights job only
    assert not len(column.curves["loss", "train"].getData()[0] or ())
    column.draw(shot, "features_conv")
    np.testing.assert_array_equal(column.features.data(), feature_strip(shot.models["conv"].features))
    assert column.weights.data() is drawn
    moved = snapshot(step=5)  # a new input (a shift, a stroke): same step, new features
    column.draw(moved, "conv")
    column.draw(moved, "features_conv")
    assert column.weights.data() is drawn
    np.testing.assert_array_equal(column.features.data(), feature_strip(moved.models["conv"].features))
    column.draw(snapshot(step=6), "curves_conv")
    assert list(column.curves["loss", "train"].getData()[0]) == [1, 2, 3, 4, 5, 6]
    assert column.weights.data() is drawn  # the curves job leaves the maps
    column.draw(snapshot(step=6), "conv")
    assert column.weights.data() is not drawn
    drawn = column.weights.data()
    column.set_counts(None)  # a new model in the column: its weights are drawn again
    column.draw(snapshot(step=6), "conv")
    assert column.weights.data() is not drawn


@pytest.mark.parametrize("kind", ["dense", "local"])
def test_channel_picker_draws_that_channel(qtbot, kind):
    column = ModelColumn(kind)
    qtbot.addWidget(column)
    maps = layer_maps(kind)
    column.draw_maps(maps)
    assert column.channel.isEnabled() and column.channel.maximum() == 2
    column.channel.setValue(2)
    kernel = maps.kernels["layer1"]
    expected = kernel_tiles.weight_mosaic(kernel, maps.in_shapes["layer1"], maps.out_shapes["layer1"],
                                    feature=2)
    np.testing.assert_array_equal(column.weights.data(), expected)


def test_column_shows_counts(qtbot):
    column = ModelColumn("conv")
    qtbot.addWidget(column)
    column.set_counts(ModelCounts(1234567, 1234000, 567, 4938268, ("layer1: 3 * 3 = 9",)))
    assert column.count.text().startswith("1,234,567")
    assert "567" in column.detail.text() and "4.9 MB" in column.detail.text()  # as jaxconv count
    assert column.formula.text() == "layer1: 3 * 3 = 9"
    assert human_bytes(100) == "100 B"


def test_input_panel_draws_predictions_and_shifts(qtbot):
    panel = InputPanel(COLUMNS)
    qtbot.addWidget(panel)
    panel.set_samples(7, ("a", "b", "c", "d", "e"))
    snap = snapshot()
    panel.draw(snap)
    np.testing.assert_array_equal(panel.image.data(), snap.image[..., 0])
    label, bar = panel.predictions["conv"]
    assert "b" in label.text() and "60%" in label.text() and bar.value() == 60
    assert "b" in panel.truth.text()
    with qtbot.waitSignal(panel.probe_changed) as blocker:
        qtbot.mouseClick(panel.arrows[(0, 1)], Qt.MouseButton.LeftButton)
    assert blocker.args == [(0, 0, 1)]
    with qtbot.waitSignal(panel.probe_changed) as blocker:
        qtbot.mouseClick(panel.next, Qt.MouseButton.LeftButton)
    assert blocker.args == [(1, 0, 1)]
    with qtbot.waitSignal(panel.probe_changed) as blocker:
        qtbot.mouseClick(panel.centre, Qt.MouseButton.LeftButton)
    assert blocker.args == [(1, 0, 0)]


def test_input_panel_shows_no_prediction_for_a_diverged_model(qtbot):
    panel = InputPanel(COLUMNS)
    qtbot.addWidget(panel)
    panel.set_samples(7, ("a", "b", "c", "d", "e"))
    snap = snapshot()
    snap.models["dense"] = dataclasses.replace(snap.models["dense"], probs=np.full(5, np.nan, np.float32))
    panel.draw(snap)
    label, bar = panel.predictions["dense"]
    assert label.text() == "Dense: —" and bar.value() == 0  # was "Dense: a (nan%)"
    assert "60%" in panel.predictions["conv"][0].text()


def test_controls_refuse_bad_values_as_typed(qtbot):
    set_language("en")
    panel = ControlsPanel(Settings())
    qtbot.addWidget(panel)
    start, reset = panel.buttons["start"], panel.buttons["reset"]
    assert start.isEnabled() and reset.isEnabled()
    channels = panel.fields["channels"]
    channels.clear()
    qtbot.keyClicks(channels, "0")
    assert channels.property("invalid") and not start.isEnabled() and not reset.isEnabled()
    assert channels.toolTip() == "Channels: “0” must be a whole number from 1 to 256; nothing was changed."
    qtbot.keyClicks(channels, "8")  # "08" is 8
    assert not channels.property("invalid") and start.isEnabled()
    rate = panel.fields["learning_rate"]
    rate.clear()
    qtbot.keyClicks(rate, "-1")
    assert rate.property("invalid") and not start.isEnabled() and "Learning rate" in rate.toolTip()
    rate.clear()
    qtbot.keyClicks(rate, "0.01")
    assert start.isEnabled() and panel.settings(Settings())[0].train.learning_rate == 0.01


def test_counts_panel_bars_are_log_counts(qtbot):
    panel = CountsPanel(COLUMNS)
    qtbot.addWidget(panel)
    panel.set_counts({"dense": 10**6, "local": 10**4, "conv": 100})
    np.testing.assert_allclose(panel.bars.opts["height"], [6, 4, 2])
    assert [label.toPlainText() for label in panel.labels] == ["1,000,000", "10,000", "100"]
    # headroom for the tallest count; at most six ticks, as powers of ten
    assert panel.getViewBox().viewRange()[1][1] >= 6 * 1.3
    ticks = [text for _, text in panel.getAxis("left")._tickLevels[0]]
    assert ticks == ["10⁰", "10²", "10⁴", "10⁶", "10⁸"][:len(ticks)] and 3 <= len(ticks) <= 6


def test_metrics_panel_draws_every_kind_against_step_and_time(qtbot):
    panel = MetricsPanel(COLUMNS)
    qtbot.addWidget(panel)
    assert panel.jobs == MetricsPanel.PLOTS  # one drawing job per plot
    hist = {k: history(3 + i) for i, k in enumerate(COLUMNS)}
    panel.draw(dataclasses.replace(snapshot(), history=hist), ("loss", "step"))
    untouched = panel.curves["loss", "time", "conv", "train"].getData()[0]
    assert untouched is None or len(untouched) == 0
    assert list(panel.curves["loss", "step", "conv", "train"].getData()[0]) == [1, 2, 3, 4, 5]
    panel.draw_history(hist)
    x, y = panel.curves["loss", "time", "conv", "train"].getData()
    np.testing.assert_allclose(x, [0.1, 0.2, 0.3, 0.4, 0.5])
    assert list(panel.curves["accuracy", "step", "local", "test"].getData()[0]) == [4]
    assert all(kind_label(kind, short=True) in panel.legend.text() for kind in COLUMNS)


def fields(**changes):
    texts = {name: "2" for name in INT_FIELDS} | {"learning_rate": "0.01"}
    return texts | changes


def test_parse_settings_accepts_numbers():
    settings, redraw = parse_settings(fields(hidden="0", redraw_every="5"), dataset="shifted",
                                      optimizer="sgd", base=Settings().with_fields(seed=3))
    assert settings == Settings(dataset="shifted").with_fields(
        optimizer="sgd", learning_rate=0.01, hidden=0, channels=2, kernel_size=2, strides=2,
        depth=2, batch_size=2, seed=3)
    assert settings.model.channels == (2, 4) and settings.train.seed == 3
    assert redraw == 5


@pytest.mark.parametrize("name", [*INT_FIELDS, "learning_rate"])
@pytest.mark.parametrize("junk", ["abc", "", "1e999x", "-3", "0.5", "nan", "99999999"])
def test_junk_in_every_field_is_refused_naming_it(name, junk):
    if name == "hidden" and junk == "":
        junk = " "
    try:
        parse_settings(fields(**{name: junk}), dataset="digits", optimizer="adam", base=Settings())
    except FieldError as error:
        assert error.field == name
        label = tr(INT_FIELDS[name][0]) if name in INT_FIELDS else tr("learning_rate")
        assert str(error).startswith(f"{label}: “{junk.strip()}”")
    else:
        assert name == "learning_rate" and junk == "0.5"  # the one junk that is a good rate


def test_controls_language_switch_changes_labels(qtbot):
    panel = ControlsPanel(Settings())
    qtbot.addWidget(panel)
    assert panel.buttons["start"].text() == "Start"
    try:
        set_language("zh_CN")
        panel.retranslate()
        assert panel.buttons["start"].text() == "开始"
        assert panel.labels["learning_rate"].text() == "学习率"
        assert panel.dataset.itemText(0) == "手写数字（8×8，内置）"
    finally:
        set_language("en")


def test_settings_are_the_two_configs_and_round_trip():
    from jaxconv.config import ModelConfig, TrainConfig

    s = Settings(n_train=64).with_fields(channels=(16, 48), padding="VALID", learning_rate=0.1)
    assert isinstance(s.model, ModelConfig) and isinstance(s.train, TrainConfig)
    assert s.with_fields(channels=16, depth=2) == s  # unchanged widths stay (16, 48)
    assert Settings.from_json(s.to_json()) == s
    old = {"dataset": "digits", "channels": 8, "depth": 3, "max_steps": 9, "learning_rate": 0.1}
    assert Settings.from_json(old).model.channels == (8, 16, 32)
    assert Settings.from_json(old).train.steps == 9
    with pytest.raises(TypeError, match=r"Settings.with_fields: unknown setting\(s\) colour"):
        s.with_fields(colour=1)
    with pytest.raises(TypeError, match=r"Settings: `train` must be a TrainConfig, got dict"):
        Settings(train={})


def probe_result(step=5):
    from jaxconv_viewer.session.measures import ProbeResult

    shifts = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))
    accuracy = {kind: np.array([0.9, 0.8, 0.7, 0.6, 0.5], np.float32) * (i + 1) / 3
                for i, kind in enumerate(COLUMNS)}
    eq = {kind: {"layer1": 0.5 * i, "layer2": 1.0 + i} for i, kind in enumerate(COLUMNS)}
    return ProbeResult(step, shifts, accuracy, eq, 64)


def test_probe_panels_draw_what_is_pushed(qtbot):
    from jaxconv_viewer.gui.panels.shift import ProbePanels

    panel = ProbePanels(COLUMNS)
    qtbot.addWidget(panel)
    panel.draw(probe_result())
    xs, ys = panel.shift.curves["conv", "x"].getData()
    np.testing.assert_allclose(xs, [-1, 0, 1])
    np.testing.assert_allclose(ys, [0.8, 0.9, 0.7], rtol=1e-6)
    xs, ys = panel.shift.curves["dense", "y"].getData()
    np.testing.assert_allclose(ys, np.array([0.6, 0.9, 0.5]) / 3, rtol=1e-6)
    assert "64" in panel.shift.caption.text() and "5" in panel.shift.caption.text()
    bars = panel.equivariance.bars
    np.testing.assert_allclose(bars["local"].opts["height"], [0.5, 2.0])
    assert panel.equivariance.bar_width == pytest.approx(0.26)  # three bars in a 0.78 group
    np.testing.assert_allclose(bars["conv"].opts["x"], [0 + panel.equivariance.bar_width,
                                                        1 + panel.equivariance.bar_width])
    np.testing.assert_allclose(bars["dense"].opts["x"], [0 - panel.equivariance.bar_width,
                                                         1 - panel.equivariance.bar_width])
    assert panel.equivariance.layers == ("layer1", "layer2")
    set_language("zh_CN")
    try:
        panel.retranslate()
        assert panel.shift.plot.getPlotItem().titleLabel.text == tr("shift_accuracy")
    finally:
        set_language("en")


def test_head_choice_reaches_the_settings(qtbot):
    panel = ControlsPanel(Settings().with_fields(head="flatten"))
    qtbot.addWidget(panel)
    assert panel.head.currentData() == "flatten"
    assert panel.head.itemText(1) == tr("head_global-pool")
    panel.head.setCurrentIndex(panel.head.findData("global-pool"))
    settings, _ = panel.settings(Settings().with_fields(head="flatten"))
    assert settings.head == "global-pool"
    assert settings.model_fields(10)["global_pool"] is True
    with pytest.raises(ValueError, match=r"Settings.with_fields: `head` must be one of flatten, "
                                         r"global-pool, got head='max'"):
        settings.with_fields(head="max")


def test_status_line_keeps_a_compile_notice_until_trained_and_counts_its_seconds(qapp, monkeypatch):
    from jaxconv_viewer.gui import status as status_module
    from jaxconv_viewer.gui.status import StatusLine

    clock = iter([100.0, 100.2, 102.7, 103.1])
    monkeypatch.setattr(status_module.time, "monotonic", lambda: next(clock))
    line = StatusLine()
    line.announce("local", "compiling may take minutes: a 24x24 window.")
    notice = tr("compile_long", kind=kind_label("local", short=True),
                notice="compiling may take minutes: a 24x24 window.")
    assert line.text() == notice and line.compiling
    line.progress(False)  # paused: nothing compiles, no count
    assert line.text() == notice
    line.progress(True)
    assert line.text() == f"{notice} {tr('compiling_for', seconds=0)}"
    line.progress(True)
    line.progress(True)
    assert line.text() == f"{notice} {tr('compiling_for', seconds=2)}"
    line.state(True, 0, trained=False)  # step 0 drawn: the compile has not ended
    assert line.text().startswith(notice)
    line.show_error("boom")
    line.progress(True)  # an error is never overwritten by the count
    assert line.text() == "boom" and line.error
    line.clear_error()
    line.state(True, 1, trained=True)
    assert line.text() == tr("running", step=1) and not line.compiling
    line.announce("conv", "x")
    line.preparing("Loading")  # a new session forgets the old notice
    line.state(False, 0, trained=False)
    assert line.text() == tr("paused", step=0)
