"""The viewer checks its command line before any window: exit 2 and one line naming the flag."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # a Python start-up each (about 3 s here)
@pytest.mark.parametrize("argv, line", [
    (["--channels", "0", "--strides", "0"], "jaxconv-viewer: --channels: Channels: “0” must be a "
                                            "whole number from 1 to 256"),
    (["--channels", "300"], "jaxconv-viewer: --channels: Channels: “300” must be a whole "
                            "number from 1 to 256"),
    (["--batch-size", "4000", "--dataset", "digits"],
     "jaxconv-viewer: --batch-size: must be at most the 1438 training images of 'digits', got "
     "--batch-size=4000."),
])
def test_bad_settings_exit_2_before_the_window(argv, line, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    shot = tmp_path / "x.png"
    proc = subprocess.run([sys.executable, "-m", "viewer", *argv, "--steps", "1", "--screenshot",
                           str(shot)], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr[-1500:]
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and proc.stderr.startswith(line)
    assert not shot.exists()  # no window was drawn


@pytest.mark.parametrize("argv, line", [
    (["--channels", "0"], r"--channels: Channels: “0” must be a whole number from 1 to 256"),
    (["--channels", "100000000"], r"--channels: Channels: “100000000” must be a whole number from 1 to 256"),
    (["--strides", "0"], r"--strides: Stride: “0” must be a whole number from 1 to 8"),
    (["--learning-rate", "-1"], r"--learning-rate: Learning rate: “-1.0” must be a number above 0"),
    (["--dataset", "nope"], r"load: unknown dataset 'nope'"),
    (["--batch-size", "100000"], r"--batch-size: Batch size: “100000” must be a whole number from 1 to 4096"),
    (["--seed", "-1"], r"--seed: `seed` must be an integer >= 0, got seed=-1\."),
])
def test_issue_settings_are_refused_by_the_checks_before_the_window(argv, line):
    from viewer.__main__ import _parser, check_arguments

    problem = check_arguments(_parser().parse_args(argv))
    assert problem is not None and re.match(line, problem), problem


def test_argument_errors_are_one_line(capsys):
    from viewer.__main__ import _parser

    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(["--kernel-size", "x"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines() == ["jaxconv-viewer: error: argument --kernel-size: invalid int value: 'x' "
                                "(see jaxconv-viewer --help)"]
