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
    proc = subprocess.run([sys.executable, "-m", "jaxconv_viewer", *argv, "--steps", "1", "--screenshot",
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
    (["--dataset", "digits", "--depth", "3", "--padding", "VALID"],
     r"--depth: the 8x8 images of 'digits' take at most 2 spatial layers of kernel size 3, "
     r"padding 'VALID' and pooling, got 3; use --depth 2\."),
    (["--dataset", "digits", "--channels", "4,8,16", "--padding", "VALID"],
     r"--depth: .* got 3; use --depth 2\."),
    (["--dataset", "digits", "--kernel-size", "9", "--padding", "VALID"],
     r"Settings: the 8x8 images of 'digits' are too small for a 9x9 window with padding "
     r"'VALID' .*; use a smaller kernel size, or padding 'SAME'\."),
])
def test_issue_settings_are_refused_by_the_checks_before_the_window(argv, line):
    from jaxconv_viewer.__main__ import _parser, check_arguments

    problem = check_arguments(_parser().parse_args(argv))
    assert problem is not None and re.match(line, problem), problem


def test_argument_errors_are_one_line(capsys):
    from jaxconv_viewer.__main__ import _parser

    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(["--kernel-size", "x"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines() == ["jaxconv-viewer: error: argument --kernel-size: invalid int value: 'x' "
                                "(see jaxconv-viewer --help)"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--window-size", "1280"], "argument --window-size: must be WIDTHxHEIGHT in pixels, each at "
                                "least 200 (as 1280x720), got '1280'"),
    (["--window-size", "100x720"], "argument --window-size: must be WIDTHxHEIGHT in pixels, each "
                                   "at least 200 (as 1280x720), got '100x720'"),
    (["--page", "nope"], "argument --page: invalid choice: 'nope' (choose from 'costs', 'wiring', "
                         "'sharing', 'learning', 'backprop', 'all')"),
])
def test_window_size_and_page_are_checked_by_the_parser(argv, message, capsys):
    from jaxconv_viewer.__main__ import _parser

    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.replace("'", "")  # Python 3.12 stopped quoting the choices
    assert err.splitlines() == [
        f"jaxconv-viewer: error: {message} (see jaxconv-viewer --help)".replace("'", "")]
    assert _parser().parse_args(["--window-size", "1366X768"]).window_size == (1366, 768)


@pytest.mark.parametrize("argv", [["--dataset", "digits"], ["--dataset", "digits", "--depth", "2"],
                                  ["--dataset", "digits", "--padding", "SAME", "--depth", "3"],
                                  # CIRCULAR windows wrap around maps smaller than themselves
                                  # (as Flax's): the third layer's 3x3 on 2x2, a 9x9 on 8x8
                                  ["--dataset", "digits", "--depth", "3"],
                                  ["--dataset", "digits", "--kernel-size", "9"],
                                  []])
def test_settings_that_fit_the_dataset_pass_the_checks(argv):
    from jaxconv_viewer.__main__ import _parser, check_arguments

    assert check_arguments(_parser().parse_args(argv)) is None


def test_the_default_depth_is_cut_to_what_small_images_take_and_said():
    from jaxconv.models import fitting_depth
    from jaxconv_viewer.session.settings import Settings, fit_depth

    # The default CIRCULAR layers take any depth: 8 -> 4 -> 2, and the third 3x3 window wraps
    # around its 2x2 maps (as Flax's). VALID ones shrink: 8 -> 6 -> 3 -> 1, then no 3x3 fits.
    settings = Settings(dataset="digits")
    assert fit_depth(settings, (8, 8, 1), "digits") == (settings, None)
    valid = settings.with_fields(padding="VALID")
    assert fitting_depth(valid.model, (28, 28, 1)) == (3, None)
    assert fitting_depth(valid.model, (8, 8, 1))[0] == 2
    fitted, note = fit_depth(valid, (8, 8, 1), "digits")
    assert fitted.model.channels == (8, 16) and fitted.value("depth") == 2
    assert note.startswith("the 8x8 images of 'digits' take 2 of the 3 spatial layers: depth 2 "
                           "is used (layer3: output size would be zero or negative: input (1, 1)")
    assert fit_depth(valid, (28, 28, 1)) == (valid, None)
    unpooled = settings.with_fields(pool=False, padding="SAME")  # SAME keeps 8x8 all the way
    assert fitting_depth(unpooled.model, (8, 8, 1)) == (3, None)
    with pytest.raises(ValueError, match=r"Settings: 8x8 images are too small for a 9x9 window "
                                         r"with padding 'VALID' \(layer1: .*\); use a "
                                         r"smaller kernel size, or padding 'SAME'\."):
        fit_depth(valid.with_fields(kernel_size=9), (8, 8, 1))
