"""`jaxconv count` and compare_connectivity: the lecture's table, as text and JSON."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import jaxconv
from jaxconv.cli import main

LECTURE = ["count", "--input", "1000x1000", "--kernel", "10"]


def _json(capsys, argv):
    assert main(argv + ["--json"]) == 0
    return {row["layer"]: row for row in json.loads(capsys.readouterr().out)["rows"]}


def test_lecture_table_as_json(capsys):
    rows = _json(capsys, LECTURE)
    assert list(rows) == ["dense", "local", "conv"]
    assert [rows[k]["weights"] for k in rows] == [10**12, 10**8, 100]
    assert [rows[k]["bytes"] for k in rows] == [4 * 10**12, 4 * 10**8, 400]
    assert [rows[k]["biases"] for k in rows] == [10**6, 10**6, 1]
    assert rows["dense"]["params"] == 10**12 + 10**6
    assert rows["local"]["ratio_to_dense"] == pytest.approx(1e-4)
    assert rows["conv"]["flops"] == rows["local"]["flops"] == 2 * (10**8 - 499_375) + 10**6


def test_lecture_table_as_text(capsys):
    assert main(LECTURE) == 0
    out = capsys.readouterr().out
    for text in ("1,000,000,000,000", "4.0 TB", "100,000,000", "400.0 MB", "400 B", "1/10,000",
                 "in * out = 1,000,000 * 1,000,000", "decimal SI units"):
        assert text in out


def test_options_reach_the_counts(capsys):
    rows = _json(capsys, ["count", "--input", "28x28x3", "--kernel", "5x3", "--stride", "2",
                          "--padding", "valid", "--features", "8", "--hidden", "100",
                          "--dtype", "bfloat16", "--batch", "4", "--no-bias", "--tpu"])
    assert rows["conv"]["output_shape"] == [12, 13, 8]
    assert rows["conv"]["weights"] == 5 * 3 * 3 * 8 and rows["conv"]["biases"] == 0
    assert rows["local"]["weights"] == 12 * 13 * 5 * 3 * 3 * 8
    assert rows["dense"]["kernel_shape"] == [28 * 28 * 3, 100]
    assert rows["conv"]["bytes"] == 2 * rows["conv"]["weights"]
    assert rows["conv"]["batch_size"] == 4 and rows["conv"]["tpu_wasteful"] is True


def test_stride_ten_shows_where_the_lecture_is_off(capsys):
    rows = _json(capsys, LECTURE + ["--stride", "10"])
    assert rows["local"]["output_shape"] == [100, 100, 1] and rows["local"]["weights"] == 10**6


@pytest.mark.parametrize("argv,match", [
    (["--input", "0x5", "--kernel", "3"], r"`input_shape` must be positive, got input_shape=\(0, 5, 1\)"),
    (["--input", "5x5", "--kernel", "-1"], r"`kernel_size` must be a positive integer, got kernel_size=-1"),
    (["--input", "5x5", "--kernel", "7", "--padding", "VALID"],
     r"output size would be zero or negative: input \(5, 5\), window \(7, 7\)"),
    (["--input", "5xa", "--kernel", "3"], r"`--input` must be integers separated by 'x'"),
    (["--input", "2x2x2x2x2", "--kernel", "1"], r"`--input` must have 1 to 4 sizes"),
    (["--input", "5x5", "--kernel", "3", "--hidden", "0"], r"`hidden` must be positive integers"),
    (["--input", "5x5", "--kernel", "3", "--dtype", "nope"], r"`dtype` must be a dtype"),
])
def test_bad_arguments_exit_2_with_one_line(capsys, argv, match):
    assert main(["count", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxconv count: error: ") and err.count("\n") == 1
    assert re.search(match, err)


def test_console_script_runs():
    script = Path(sys.executable).parent / "jaxconv"
    assert script.exists(), f"console script missing next to {sys.executable}"
    done = subprocess.run([str(script), *LECTURE, "--json"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["rows"]
    assert [(r["weights"], r["bytes"]) for r in rows] == [(10**12, 4 * 10**12), (10**8, 4 * 10**8),
                                                          (100, 400)]


def test_compare_connectivity_object():
    table = jaxconv.compare_connectivity((1000, 1000, 1), kernel_size=10, hidden=(1000, 1000))
    assert (table.dense.weights, table.local.weights, table.conv.weights) == (10**12, 10**8, 100)
    assert table.ratio_to_dense(table.conv) == 1e-10
    assert "1/10,000,000,000" in str(table)
    assert json.loads(table.to_json())["rows"][2]["layer"] == "conv"


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(hidden=2.5), TypeError, r"compare_connectivity: `hidden` must be None, an int or a tuple"),
    (dict(hidden=0), ValueError, r"compare_connectivity: `hidden` must be a positive integer"),
    (dict(tpu=1), TypeError, r"compare_connectivity: `tpu` must be True or False, got tpu=1"),
    (dict(strides=0), ValueError, r"compare_connectivity: `strides` must be a positive integer, got strides=0"),
])
def test_compare_connectivity_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        jaxconv.compare_connectivity((8, 8, 1), kernel_size=3, **kwargs)
