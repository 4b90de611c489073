"""The viewer checks its command line before any window: exit 2 and one line naming the flag."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("argv, line", [
    (["--channels", "0", "--strides", "0"], "jaxconv-viewer: --channels: Channels: “0” must be a whole "
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
