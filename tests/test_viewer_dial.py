"""The dial column's weight-sharing dial and its similarity map, driven through the widgets."""

import dataclasses

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from jaxconv import models, summary
from jaxconv_viewer.__main__ import _parser, settings_from_args
from jaxconv_viewer.gui.panels.sharing import SharingDial, SimilarityPanel
from jaxconv_viewer.gui.window import MainWindow
from jaxconv_viewer.i18n import kind_label, show_column_as, tr
from jaxconv_viewer.session.columns import (
    column_kind,
    dial_column,
    filter_similarity,
    per_position,
    shown_regions,
)
from jaxconv_viewer.session.session import Session, Settings

TINY = Settings(dataset="digits", n_train=128, n_test=32).with_fields(
    channels=2, depth=1, kernel_size=3, hidden=8, batch_size=16, eval_every=4, head="flatten")
WAIT = 180_000  # ms: compiles on a busy two-core machine are slow; no timing test


def counted(kind, **fields):
    """What `jaxconv.summary` counts for the viewer's model of ``kind`` on 8x8 digits."""
    return summary(models.build(kind, **{**TINY.model_fields(10), **fields}), (8, 8, 1)).total_params


def test_the_flag_sets_regions_and_off_is_one_per_position():
    assert settings_from_args(_parser().parse_args(["--regions", "3"])).model.regions == 3
    assert settings_from_args(_parser().parse_args(["--regions", "off"])).model.regions is None
    assert Settings().model.regions is None  # the lecture's locally-connected middle column
    assert per_position(TINY, (8, 8, 1)) == 8  # CIRCULAR 3x3 on 8x8: 8x8 outputs
    assert [column_kind("local", TINY.with_fields(regions=r), (8, 8, 1))
            for r in (1, 7, 8, 50, None)] == ["regional", "regional", "local", "local", "local"]
    assert shown_regions(TINY.with_fields(regions=50), (8, 8, 1)) == 8
    assert column_kind("conv", TINY.with_fields(regions=2), (8, 8, 1)) == "conv"


def test_the_dial_belongs_to_the_first_column_whose_kind_has_a_regional_form():
    assert dial_column(TINY.columns) == "local"
    assert dial_column(("dense", "conv")) is None  # no dial: every column trains its own kind
    assert dial_column(("regional", "conv", "local")) == "local"
    narrow = TINY.with_fields(columns=("conv", "local"), regions=2)
    assert column_kind("local", narrow, (8, 8, 1)) == "regional"
    no_dial = TINY.with_fields(columns=("dense", "conv"), regions=2)
    assert [column_kind(c, no_dial, (8, 8, 1)) for c in no_dial.columns] == ["dense", "conv"]
    with pytest.raises(ValueError, match=r"Session.set_regions: no column has a sharing dial "
                                         r"\(none of the kinds dense, conv has a regional form\)"):
        Session(no_dial).set_regions(2)


def test_a_bad_regions_flag_is_one_line_before_any_window(capsys):
    from jaxconv_viewer.__main__ import main

    assert main(["--dataset", "digits", "--regions", "0", "--report", "unused.json"]) == 2
    assert capsys.readouterr().err.strip() == ("jaxconv-viewer: ModelConfig: `regions` must be a "
                                               "positive integer, got regions=0.")


def test_set_regions_rejects_junk_before_building():
    with pytest.raises(ValueError, match=r"Session.set_regions: `regions` must be a positive "
                                         r"integer, got regions=0"):
        Session(TINY).set_regions(0)
    with pytest.raises(TypeError, match=r"Session.set_regions: `regions` must be an int, got "
                                        r"regions='2'"):
        Session(TINY).set_regions("2")


def test_the_dial_asks_once_when_it_comes_to_rest(qtbot):
    dial = SharingDial()
    qtbot.addWidget(dial)
    assert not dial.isEnabled()
    dial.set_range(8, 8)
    assert dial.regions() is None and dial.value.text() == tr("sharing_none", n=8)
    with qtbot.waitSignal(dial.regions_chosen, timeout=5000) as blocker:
        for value in range(7, 2, -1):  # a drag: one request at the end, not five
            dial.slider.setValue(value)
    assert blocker.args == [3] and dial.spin.value() == 3
    assert dial.value.text() == tr("sharing_regions", r=3, n=9)
    with qtbot.assertNotEmitted(dial.regions_chosen, wait=600):
        dial.spin.setValue(4)
        dial.spin.setValue(3)  # back where it was: nothing to rebuild
    with qtbot.waitSignal(dial.regions_chosen, timeout=5000) as blocker:
        qtbot.keyClick(dial.spin, Qt.Key.Key_PageUp)  # +10, to the top: one per position
    assert blocker.args == [None]


def test_similarity_panel_draws_one_cell_per_region(qtbot):
    from test_viewer_panels import snapshot

    from jaxconv_viewer.gui.panels.column import ModelColumn

    column = ModelColumn("local")
    panel = SimilarityPanel(column)
    qtbot.addWidget(column)
    qtbot.addWidget(panel)
    conv = np.random.default_rng(0).normal(size=(3, 3, 1, 2))
    params = {"layer1": {"kernel": np.broadcast_to(conv, (2, 3, 3, 3, 1, 2))},
              "head": {"kernel": np.ones((4, 2))}}
    similarity = filter_similarity(params)  # the worker's, once per snapshot
    assert list(similarity) == ["layer1"] and similarity["layer1"].shape == (2, 3, 2)
    panel.show_map("layer1", similarity["layer1"], 1)
    assert panel.map.shape == (2, 3)
    np.testing.assert_allclose(panel.image.data(), 1.0, atol=1e-6)
    assert panel.summary.text() == tr("similarity_summary", layer="layer1", channel=1, mean=1.0,
                                      overall=1.0)
    panel.show_map("head", None, 0)
    assert panel.map is None and panel.summary.text() == tr("similarity_none", layer="head")
    # Drawn from a snapshot: the map the snapshot carries, for the column's picked layer.
    base = snapshot()
    maps = dataclasses.replace(base.models["local"], similarity={"layer1": similarity["layer1"]})
    shot = dataclasses.replace(base, models={**base.models, "local": maps})
    column.draw(shot)
    assert column.layer.currentText() == "layer1" and panel.jobs == ("similarity",)
    panel.draw(shot, "similarity")
    assert panel.map.shape == (2, 3)
    column.layer.setCurrentText("head")  # the picker moves: the panel follows it
    assert panel.map is None


@pytest.mark.slow
def test_turning_the_dial_rebuilds_the_middle_column_alone(qtbot, qapp):
    win = MainWindow(TINY.with_fields(regions=2), running=True)  # --regions 2
    win.show_page("all")  # the dial, the column's weights and the similarity map at once
    win.show()
    try:
        column, dial = win.columns["local"], win.dial

        def rest_at(value):
            with qtbot.waitSignal(win.served, timeout=WAIT,
                                  check_params_cb=lambda s: s.name == "set_regions"):
                dial.spin.setValue(value)
            qtbot.waitUntil(lambda: win.session.history["local"].view()["train"]["step"].size
                            >= 2 and column.weights_step is not None, timeout=WAIT)
            qtbot.waitUntil(lambda: win.similarity.map is not None
                            and win.similarity.map.shape == expected_map, timeout=WAIT)

        qtbot.waitUntil(lambda: win.similarity.map is not None, timeout=WAIT)
        assert dial.spin.maximum() == 8 and dial.spin.value() == 2
        assert column.title.text() == tr("kind_regional", r=2)
        # every panel names it by the regional form's record
        assert kind_label("local", short=True) == kind_label("regional", short=True) == "Regional"
        assert f"{kind_label('regional', short=True)}:" in win.input.predictions["local"][0].text()
        assert column.count.text() == f"{counted('regional', regions=2):,} {tr('parameters')}"
        assert win.similarity.map.shape == (2, 2)
        conv_steps = win.session.history["conv"].view()["train"]["step"].size

        expected_map = (8, 8)
        rest_at(8)  # one kernel per position: the locally-connected model
        assert column.title.text() == kind_label("local") == "Locally connected"
        assert kind_label("local", short=True) == "Local"
        assert column.count.text() == f"{counted('local'):,} {tr('parameters')}"
        assert win.counts.counts[1] == counted("local")
        assert win.session.models["local"].config.kind == "local"
        # The other columns trained on; the rebuilt one started again.
        assert win.session.history["conv"].view()["train"]["step"][0] == 1
        assert win.session.history["conv"].view()["train"]["step"].size > conv_steps
        assert win.session.history["local"].view()["train"]["step"][0] == 1

        expected_map = (1, 1)
        rest_at(1)  # one kernel: the count of the conv column
        assert column.title.text() == tr("kind_regional_one")
        assert column.count.text() == win.columns["conv"].count.text()
        np.testing.assert_allclose(win.similarity.map, 1.0, atol=1e-6)
        assert win.settings.model.regions == 1
    finally:
        win.close()
        show_column_as("local")  # module state: the next test's window starts named "Local"
        assert win.wait_for_threads(WAIT)



def test_the_report_says_the_dial_and_the_filter_similarity():
    import types

    from jaxconv.analysis.similarity import similarity_to_mean
    from jaxconv_viewer.session.columns import sharing_report

    def session(regions):  # what sharing_report reads of a Session: settings, shape, parameters
        settings = TINY.with_fields(regions=regions)
        side = shown_regions(settings, (8, 8, 1))
        rng = np.random.default_rng(side)
        params = {"layer1": {"kernel": rng.normal(size=(side, side, 3, 3, 1, 2)),
                             "bias": np.zeros(2)}, "head": {"kernel": np.ones((8, 10))}}
        return types.SimpleNamespace(settings=settings, states={"local": types.SimpleNamespace(
            params=params)}, dataset=types.SimpleNamespace(input_shape=(8, 8, 1))), params

    fake, params = session(None)
    report = sharing_report(fake)
    expected = float(np.nanmean(similarity_to_mean(params["layer1"]["kernel"])))
    assert report == {"column": "local", "kind": "local", "regions": 8, "per_position": 8,
                      "filter_similarity": pytest.approx({"layer1": expected})}
    report = sharing_report(session(2)[0])
    assert (report["kind"], report["regions"]) == ("regional", 2)
    fake.settings = fake.settings.with_fields(columns=("dense", "conv"))
    assert sharing_report(fake) is None  # no column has a dial


@pytest.mark.slow  # orbax: about 6 s on the loaded two cores
def test_a_restored_session_keeps_the_middle_column_it_saved(tmp_path):
    from jaxconv import train
    from jaxconv_viewer.session.columns import restored_settings

    for regions, saved_as in ((2, "regional"), (None, "local")):
        model = models.build(saved_as, **{**TINY.model_fields(10), "regions": regions})
        state = train.init_state(model, train.make_optimizer("sgd", 0.1), (8, 8, 1))
        folder = tmp_path / saved_as
        with train.Checkpointer(folder / "local") as checkpointer:
            checkpointer.save(state, config=model.config)
        # session.json of a session saved before the dial says regions 2 beside a local column.
        stale = TINY.with_fields(regions=None if regions else 2)
        assert restored_settings(stale, folder).model.regions == regions
