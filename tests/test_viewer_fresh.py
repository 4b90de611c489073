"""The viewer in windows and processes of its own: headless screenshot and report, a missing
dataset, divergence, the long-compile notice, a dataset too small for the depth.

(test_viewer_window shares one window between its tests; these each need a fresh one.)
"""

import json
import re

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtGui import QImage
from viewer_tiny import TINY, WAIT, wait_drawn

from jaxconv_viewer.__main__ import PAGE_KEYS, main
from jaxconv_viewer.gui import typeface
from jaxconv_viewer.gui.window import MainWindow
from jaxconv_viewer.i18n import kind_label, set_language, tr
from jaxconv_viewer.session.session import Settings

KINDS = TINY.columns  # the lecture's dense, local, conv


def test_headless_screenshot_and_report_are_written(qtbot, tmp_path, capsys):
    path, report = tmp_path / "shot_{page}.png", tmp_path / "report.json"
    code = main(["--steps", "3", "--screenshot", str(path), "--lang", "zh_CN", "--hidden", "8",
                 "--channels", "2", "--depth", "1", "--batch-size", "16", "--dataset", "digits",
                 "--kernel-size", "3", "--head", "flatten", "--report", str(report),
                 "--window-size", "1366x768", "--page", "sharing"])
    set_language("en")
    typeface.use_for("en")  # main() set the application font for Chinese
    assert code == 0
    out = capsys.readouterr().out  # the first step drawn is said first (jaxconv_viewer.bench times it)
    first = tmp_path / "shot_costs.png"
    drawn = re.search(r"^jaxconv-viewer: step [123] drawn after \d+\.\d s$", out, re.M)
    assert drawn and drawn.start() < out.index(f"wrote {first}"), out
    written = json.loads(report.read_text())
    assert written["step"] == 3 and written["head"] == "flatten" and written["dataset"] == "digits"
    # what the launch took, from process start: the window, each column's first step drawn
    startup = written["startup"]
    assert sorted(re.findall(r"first step of (\w+) drawn at \d+\.\d\d s", out)) == sorted(KINDS)
    assert 0 < startup["window_s"] <= min(startup["first_step_s"].values())
    assert list(startup["first_step_s"]) == list(KINDS)
    assert set(startup["programs"]) == {"compiled", "loaded", "stored"}
    assert [m["kind"] for m in written["models"]] == list(KINDS)
    assert all(m["effective_field_nonzero"] > 0 for m in written["models"])  # no black field
    assert written["default_unit"][0] == "layer1"
    layout = written["layout"]  # checked from the real widgets, every page, in Chinese
    assert layout["window"] == [1366, 768] and len(layout["pages"]) == len(PAGE_KEYS)
    assert layout["clipped"] == [] and layout["presentation"]["clipped"] == [], layout
    assert "layout at 1366x768: 0 clipped widgets on 6 pages, 0 in presentation mode" in out
    for key in PAGE_KEYS:  # one picture per page, at the size asked
        image = QImage(str(tmp_path / f"shot_{key}.png"))
        assert (image.width(), image.height()) == (1366, 768), key
    image = QImage(str(tmp_path / "shot_wiring.png"))
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    rows = np.frombuffer(gray.constBits().asstring(gray.sizeInBytes()), np.uint8)
    pixels = rows.reshape(gray.height(), gray.bytesPerLine())[:, :gray.width()]
    assert pixels.std() > 20  # text, maps and plots, not one flat colour


@pytest.fixture
def fresh_window(qapp):
    windows = []

    def make(settings):
        windows.append(MainWindow(settings, running=True))
        windows[-1].show()
        return windows[-1]

    yield make
    for win in windows:
        win.close()
        assert win.wait_for_threads(WAIT)


def test_missing_dataset_is_reported_and_the_app_goes_on(qtbot, fresh_window, tmp_path,
                                                         monkeypatch):
    monkeypatch.setenv("JAXCONV_DATA_DIR", str(tmp_path))  # an empty cache: no MNIST there
    win = fresh_window(Settings(dataset="mnist"))
    qtbot.waitUntil(lambda: win.status.text().startswith(tr("failed", error="")), timeout=WAIT)
    assert "DownloadError" in win.status.text() and str(tmp_path) in win.status.text()
    assert not win.training and win.isVisible()
    failed = win.session
    qtbot.mouseClick(win.controls.buttons["start"], Qt.MouseButton.LeftButton)  # tries again
    assert win.session is not failed and win.status.text() == tr("preparing", dataset="mnist")


def test_non_finite_loss_pauses_with_a_message(qtbot, fresh_window):
    win = fresh_window(TINY.with_fields(optimizer="sgd", learning_rate=1e9))
    qtbot.waitUntil(lambda: not win.training and win.snapshot is not None, timeout=WAIT)
    kinds = [kind_label(kind, short=True) for kind in KINDS]
    text = win.status.text()
    assert any(text.startswith(tr("non_finite", kind=kind, step=1, reason="x", good=0)
                               .split(" at step")[0]) for kind in kinds), text
    assert "the last that passed the guard" in text and "step 0" in text
    for kind in KINDS:  # the last good weights are drawn, not NaNs
        assert np.isfinite(win.snapshot.models[kind].kernels["layer1"]).all()
    session = win.session  # a lower rate and Start continue from those weights (M4)
    win.controls.fields["learning_rate"].setText("0.01")
    qtbot.mouseClick(win.controls.buttons["start"], Qt.MouseButton.LeftButton)
    snapshot = wait_drawn(qtbot, win, 3)
    assert win.session is session and session.settings.train.learning_rate == 0.01
    assert all(np.isfinite(snapshot.models[kind].kernels["layer1"]).all() for kind in KINDS)


def test_h3_a_long_compile_is_announced_in_the_status_line(qtbot, qapp):
    # SAME padding: a window larger than the image (CIRCULAR, the default, refuses one).
    win = MainWindow(TINY.with_fields(kernel_size=24, channels=1, padding="SAME"), running=False)
    win.show()
    try:  # paused: the notice is up, nothing long is compiled
        qtbot.waitUntil(lambda: "compiling may take minutes" in win.status.text(), timeout=WAIT)
        assert win.status.text().startswith(
            kind_label("local", short=True) + ": compiling may take minutes: layer layer1 (local) has a 24x24 "
            "window over a 8x8 input (576 taps"), win.status.text()
    finally:
        win.close()
        assert win.wait_for_threads(WAIT)


@pytest.mark.slow  # compiles the three tiny models' steps: about 20 s on two busy cores
def test_h3_while_the_announced_compile_runs_the_status_line_counts_its_seconds(
        qtbot, qapp, monkeypatch):
    from jaxconv.train import preflight

    monkeypatch.setattr(preflight, "LONG_COMPILE_TAPS", 4)  # the tiny 3x3 layer is "long"
    win = MainWindow(TINY.with_fields(channels=1), running=True)
    win.show()
    try:
        qtbot.waitUntil(lambda: tr("compiling_for", seconds=0) in win.status.text(), timeout=WAIT)
        assert win.status.text().startswith(kind_label("local", short=True)
                                            + ": compiling may take minutes")
        # The notice gives way to the state line once a trained step is drawn.
        qtbot.waitUntil(lambda: win.status.text().startswith(tr("running", step="")[:-1])
                        or win.status.text().startswith(tr("paused", step="")[:-1]),
                        timeout=WAIT)
        assert win.snapshot.step >= 1 and "ompil" not in win.status.text()
    finally:
        win.close()
        assert win.wait_for_threads(WAIT)


@pytest.mark.slow  # prepares a session (compiles the shift measures): 10-20 s here
def test_a_dataset_too_small_for_the_depth_trains_with_the_layers_it_takes(qtbot, qapp):
    # The 8x8 digits take two pooled 3x3 VALID layers (8 -> 6 -> 3 -> 1), not three.
    win = MainWindow(TINY.with_fields(channels=1, depth=3, padding="VALID"), running=False)
    win.show()
    try:
        qtbot.waitUntil(lambda: "depth 2 is used" in win.status.text(), timeout=WAIT)
        assert win.status.text().startswith("the 8x8 images of 'digits' take 2 of the 3 spatial")
        assert win.session.models["conv"].config.channels == (1, 2)
        assert win.controls.fields["depth"].text() == "2"  # the fields say what trains
        session = win.session  # Start goes on with it: the fields and the session agree
        qtbot.mouseClick(win.controls.buttons["start"], Qt.MouseButton.LeftButton)
        assert win.session is session and win.training
    finally:
        win.close()
        assert win.wait_for_threads(WAIT)


@pytest.mark.slow  # two sessions of tiny models compile: about 20 s on two busy cores
def test_the_window_lays_out_the_columns_of_its_settings_and_rebuilds_for_others(qtbot, qapp):
    win = MainWindow(TINY.with_fields(columns=("conv", "dense")), running=True)
    win.show()
    try:
        snapshot = wait_drawn(qtbot, win, 1)
        assert list(win.columns) == ["conv", "dense"] and list(snapshot.models) == ["conv", "dense"]
        win.show_page("all")  # the page with every column side by side
        qapp.processEvents()
        lefts = [win.columns[k].mapTo(win, QPoint(0, 0)).x() for k in win.columns]
        assert lefts[0] < lefts[1]  # left to right in the settings' order
        assert win.dial is None and win.similarity is None  # no kind with a regional form
        assert len(win.counts.labels) == 2 and set(win.input.predictions) == {"conv", "dense"}
        assert set(win.connections.wired) == {"conv", "dense"}
        assert {key[2] for key in win.metrics.curves} == {"conv", "dense"}
        assert set(win.probes.equivariance.bars) == {"conv", "dense"}
        jobs = win.schedule.jobs  # the page shown's: every column's, in the settings' order
        assert jobs.index("conv") < jobs.index("dense") and {"curves_conv", "curves_dense"} <= set(jobs)
        assert set(win.metrics.PLOTS) <= set(jobs)
        assert all(len(c.curves["loss", "train"].getData()[0]) >= 1 for c in win.columns.values())
        controls = win.controls
        win.start_session(TINY, running=True)  # the lecture's three: new panels, a dial
        assert list(win.columns) == list(KINDS) and win.controls is not controls
        assert win.dial is not None and win.similarity is not None
        win.show_page("all")
        assert "similarity" in win.schedule.jobs and len(win.counts.labels) == 3
        snapshot = wait_drawn(qtbot, win, 1)
        assert list(snapshot.models) == list(KINDS)
        assert win.columns["local"].weights.data().size > 1
    finally:
        win.close()
        assert win.wait_for_threads(WAIT)
