"""jaxconv_viewer.session.measures on a tiny real session (JAX, no Qt): the live measure, the report, the CSV."""

import csv
import json

import numpy as np
import pytest

from jaxconv import train
from jaxconv.analysis import probes
from jaxconv_viewer.__main__ import main
from jaxconv_viewer.session.measures import ProbeResult, shift_key, write_probe_csv
from jaxconv_viewer.session.session import Session, Settings

pytestmark = pytest.mark.slow  # a real session: three models and their probes compile

TINY = Settings(dataset="digits", n_train=96, n_test=40).with_fields(
    channels=2, depth=2, kernel_size=3, hidden=0, batch_size=16, eval_every=0, steps=2,
    head="flatten")
KINDS = TINY.columns  # the lecture's dense, local, conv


@pytest.fixture(scope="module")
def session():
    s = Session(TINY)
    s.prepare()
    s.measured_by_prepare = list(s.measures)
    for _ in s.rounds():
        pass
    return s


def test_live_probe_covers_both_axes_and_every_spatial_layer(session):
    result = session.measure()
    assert result.step == 2 and result.images == 40 and session.measures[-1] is result
    # prepare compiles no measure (the first step comes first); the first measure also
    # measures the parameters training started from, with the same programs
    assert session.measured_by_prepare == [] and [m.step for m in session.measures] == [0, 2]
    assert session.measures[0].shift_accuracy.keys() == result.shift_accuracy.keys()
    assert set(result.shifts) == set(probes.axis_shifts(3))
    for kind in KINDS:
        offsets, accuracy = result.along(kind, "y")
        assert list(offsets) == [-3, -2, -1, 0, 1, 2, 3] and np.all((accuracy >= 0) & (accuracy <= 1))
        assert list(result.equivariance[kind]) == ["layer1", "layer2"]
    assert result.equivariance["conv"]["layer1"] < result.equivariance["local"]["layer1"]


def test_report_matches_an_independent_evaluation(session, tmp_path):
    report = session.report(tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text()) == report
    assert report["step"] == 2 and report["dataset"] == "digits" and report["head"] == "flatten"
    assert [m["kind"] for m in report["models"]] == list(KINDS) == report["columns"]
    assert report["sharing"]["kind"] == "local"  # the dial's part: tests/test_viewer_dial.py
    assert list(report["sharing"]["filter_similarity"]) == ["layer1", "layer2"]
    for row in report["models"]:
        model, params = session.models[row["kind"]], session.states[row["kind"]].params
        _, accuracy = train.evaluate(model, params, session.dataset.x_test, session.dataset.y_test)
        assert row["test_accuracy"] == pytest.approx(accuracy, abs=1e-6)
        moved = probes.shift_images(session.dataset.x_test, 0, -2)  # dx=-2: two columns left
        _, left = train.evaluate(model, params, moved, session.dataset.y_test)
        assert row["shift_accuracy"]["-2,0"] == pytest.approx(left, abs=1e-6)
        assert {f"{d},0" for d in range(-3, 4)} | {f"0,{d}" for d in range(-3, 4)} <= set(
            row["shift_accuracy"])
        assert set(row["equivariance"]) == {"layer1", "layer2"}


def test_probe_csv_rows(tmp_path):
    result = ProbeResult(7, ((0, 0), (1, 0)), {"conv": np.array([0.5, 0.25], np.float32)},
                         {"conv": {"layer1": 0.125}}, 4)
    assert write_probe_csv(tmp_path / "p.csv", [result]) == 3
    with open(tmp_path / "p.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [["kind", "step", "measure", "key", "value"],
                    ["conv", "7", "shift_accuracy", "0,0", "0.5"],
                    ["conv", "7", "shift_accuracy", "1,0", "0.25"],
                    ["conv", "7", "equivariance", "layer1", "0.125"]]
    assert shift_key((-3, 2)) == "-3,2"


def test_report_flag_writes_json_without_a_window(tmp_path, capsys, monkeypatch):
    from jaxconv.train import preflight

    monkeypatch.setattr(preflight, "LONG_COMPILE_TAPS", 4)  # H3: the 3x3 layers count as long
    path = tmp_path / "r.json"
    code = main(["--dataset", "digits", "--steps", "2", "--channels", "2", "--depth", "1",
                 "--kernel-size", "3", "--hidden", "0", "--batch-size", "8", "--head",
                 "global-pool", "--report", str(path)])
    assert code == 0
    report = json.loads(path.read_text())
    assert report["step"] == 2 and report["head"] == "global-pool"
    assert all(0 <= m["test_accuracy"] <= 1 for m in report["models"])
    layer, channel, row, col = report["default_unit"]  # the window's first unit, for image 0
    assert layer == "layer1" and 0 <= channel < 2 and 0 <= row < 8 and 0 <= col < 8
    moving = {m["kind"]: m["effective_field_nonzero"] for m in report["models"]}
    assert moving["dense"] > 9 and 0 < moving["local"] <= 9 and 0 < moving["conv"] <= 9
    assert [m["params"] for m in report["models"]] == sorted(
        (m["params"] for m in report["models"]), reverse=True)  # dense > local > conv
    assert "layout" not in report  # no window, no layout to check
    out, err = capsys.readouterr()
    assert f"wrote {path} at step 2" in out
    assert "default unit moved by" in out
    assert "jaxconv-viewer: local: compiling may take minutes: layer layer1 (local)" in err


def test_a_models_first_receptive_fields_wait_for_the_next_snapshot(session):
    # The first snapshot asking for a unit's fields is drawn without them (their program's
    # compile would hold back the first trained step's drawing); the next one has them.
    from jaxconv_viewer.session.snapshot import Probe, Unit

    probe = Probe(0, 0, 0, unit=Unit("layer1", 0, (1, 1)))
    first, second = session.snapshot(probe), session.snapshot(probe)
    assert first.pending and all(first.models[k].fields is None for k in KINDS)
    assert not second.pending and all(second.models[k].fields is not None for k in KINDS)
    assert not session.snapshot(Probe(1, 0, 0)).pending  # no unit: nothing to wait for
