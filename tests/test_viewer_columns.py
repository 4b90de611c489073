"""The viewer's columns are a setting: ``Settings.columns`` and ``--columns``, any registered kind
(a toy kind registered here included), and the headless report path without Qt widgets."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from viewer_tiny import TINY

from jaxconv import kinds
from jaxconv.names import LECTURE_KINDS
from jaxconv_viewer.__main__ import _parser, settings_from_args
from jaxconv_viewer.session.settings import Settings, check_columns

ROOT = Path(__file__).resolve().parents[1]


class ToyConvKind(kinds.ConvKind):
    """A convolution under another name, labels and colour: a kind from outside the package."""

    name = "toyconv"
    labels = {"en": "Toy convolution", "zh_CN": "卷积"}
    short_labels = {"en": "Toy", "zh_CN": "卷积"}
    weights_hint = {"en": "a toy's filters", "zh_CN": "卷积"}
    color = "#123456"
    order = 40


@pytest.fixture
def toyconv():
    kind = kinds.register(ToyConvKind())
    try:
        yield kind
    finally:
        kinds.unregister("toyconv")
    assert "toyconv" not in kinds.names()


def test_the_columns_default_to_the_lecture_and_round_trip():
    assert Settings().columns == LECTURE_KINDS == ("dense", "local", "conv")
    two = Settings(columns=["conv", "dense"])  # a list, as session.json holds it
    assert two.columns == ("conv", "dense")
    assert two.to_json()["columns"] == ["conv", "dense"]
    assert Settings.from_json(json.loads(json.dumps(two.to_json()))) == two
    saved_before = {k: v for k, v in Settings().to_json().items() if k != "columns"}
    assert Settings.from_json(saved_before).columns == LECTURE_KINDS
    assert TINY.with_fields(columns=("local",)).columns == ("local",)


@pytest.mark.parametrize("columns, error, message", [
    ("dense,conv", TypeError, r"Settings: `columns` must be a tuple of kind names, got "
                              r"columns='dense,conv'\."),
    ((), ValueError, r"Settings: `columns` must name one or more of dense, local, regional, conv, "
                     r"got columns=''\."),
    (("dense", "nope"), ValueError, r"Settings: `columns` must name one or more of dense, local, "
                                    r"regional, conv, got columns='dense,nope'\."),
    (("conv", "conv"), ValueError, r"Settings: `columns` must name each kind once, got "
                                   r"columns='conv,conv'\."),
])
def test_bad_columns_are_refused_where_they_enter(columns, error, message):
    with pytest.raises(error, match=message):
        Settings(columns=columns)
    with pytest.raises(error, match=message.replace("Settings", "--columns")):
        check_columns(columns, fn="--columns")


def test_the_flag_sets_the_columns_and_a_bad_one_is_one_line(capsys):
    args = _parser().parse_args(["--columns", "dense, regional,conv"])
    assert settings_from_args(args).columns == ("dense", "regional", "conv")
    assert settings_from_args(_parser().parse_args([])).columns == LECTURE_KINDS
    for bad, rule in (("dense,nope", "name one or more of dense, local, regional, conv"),
                      ("local,local", "name each kind once")):
        with pytest.raises(SystemExit) as exc:
            _parser().parse_args(["--columns", bad])
        assert exc.value.code == 2
        assert capsys.readouterr().err.splitlines() == [
            f"jaxconv-viewer: error: argument --columns: `columns` must {rule}, got "
            f"columns={bad!r}. (see jaxconv-viewer --help)"]


def test_a_registered_kind_is_a_column_choice_with_its_own_labels_and_colour(qtbot, toyconv):
    from jaxconv_viewer.gui.panels.column import ModelColumn
    from jaxconv_viewer.gui.panels.counts import CountsPanel
    from jaxconv_viewer.i18n import kind_hint, kind_label

    assert "toyconv" in _parser().format_help()  # --columns lists the registry
    args = _parser().parse_args(["--columns", "dense,toyconv"])
    assert settings_from_args(args).columns == ("dense", "toyconv")
    assert Settings(columns=("toyconv",)).columns == ("toyconv",)
    assert (kind_label("toyconv"), kind_label("toyconv", short=True)) == ("Toy convolution", "Toy")
    assert kind_hint("toyconv") == "a toy's filters"
    column = ModelColumn("toyconv")
    counts = CountsPanel(("dense", "toyconv"))
    for widget in (column, counts):
        qtbot.addWidget(widget)
    assert column.title.text() == "Toy convolution" and "#123456" in column.title.styleSheet()
    assert counts.bars.opts["brushes"][1].color().name() == "#123456"
    assert [text for _, text in counts.getAxis("bottom")._tickLevels[0]] == ["Dense", "Toy"]


@pytest.mark.slow  # builds and compiles two tiny models, then their shift measures
def test_a_session_trains_a_registered_kind_as_a_column(toyconv, tmp_path):
    from jaxconv_viewer.session.session import Session

    session = Session(TINY.with_fields(columns=("dense", "toyconv"), steps=1))
    counts = session.prepare()
    assert list(counts.models) == ["dense", "toyconv"]
    assert session.models["toyconv"].config.kind == "toyconv"
    assert counts.models["toyconv"].formulas[0].startswith("layer1: window * C * F")  # as conv's
    session.startup.wait()
    assert list(session.rounds()) == [1]
    snapshot = session.snapshot()
    maps = snapshot.models["toyconv"]
    assert list(snapshot.models) == ["dense", "toyconv"] and snapshot.step == 1
    assert maps.layer_kinds == {"layer1": "toyconv", "hidden": None, "head": None}
    assert maps.kernels["layer1"].shape == (3, 3, 1, 2)  # a conv kernel: conv's behaviour
    assert maps.in_shapes["layer1"] is None and maps.similarity is None  # no dial here
    assert snapshot.models["dense"].in_shapes["layer1"] == (8, 8, 1)  # dense: whole input
    report = session.report(tmp_path / "r.json")
    assert report["columns"] == ["dense", "toyconv"] and report["sharing"] is None
    assert [row["kind"] for row in report["models"]] == ["dense", "toyconv"]
    assert np.isfinite([row["test_accuracy"] for row in report["models"]]).all()


@pytest.mark.slow  # a Python start-up, three tiny models trained two steps, their report
def test_the_report_path_loads_no_qt_widgets(tmp_path):
    report = tmp_path / "r.json"
    code = (
        "import sys; from jaxconv_viewer.__main__ import main; "
        f"code = main(['--dataset', 'digits', '--steps', '2', '--channels', '2', '--depth', '1', "
        f"'--hidden', '8', '--batch-size', '16', '--head', 'flatten', '--report', {str(report)!r}]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PyQt6', 'pyqtgraph'))); "
        "sys.exit(code)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = eval(proc.stdout.strip().splitlines()[-1])
    assert not [m for m in loaded if m.startswith(("PyQt6.QtWidgets", "pyqtgraph"))], loaded
    assert json.loads(report.read_text())["step"] == 2
