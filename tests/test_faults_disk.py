"""Fault suite, a full disk (round 3's M11, L14): a small tmpfs, filled, where this machine lets a
test mount one (a user and mount namespace through ``unshare``); skipped with the reason where
it does not.

The result line comes before the CSV, so a CSV the disk cannot hold loses only itself and its
error names its path; checkpoints that fill the disk stop the run in one line naming the step
that failed and the step kept, exit 1, and the earlier steps restore.
"""

import json
import re
import shlex
import shutil
import subprocess
import sys

import pytest
from faults import ENV, TINY, newest_step, one_line

from jaxconv import train

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

_UNSHARE = ["unshare", "--user", "--map-root-user", "--mount"]


def _in_small_fs(mount, size: str, script: str, timeout: float = 180):
    """Runs ``script`` (sh) with a ``size`` tmpfs mounted on ``mount``, in its own namespace."""
    mount.mkdir(exist_ok=True)
    full = f"mount -t tmpfs -o size={size} tmpfs {shlex.quote(str(mount))} && {script}"
    return subprocess.run([*_UNSHARE, "sh", "-c", full], capture_output=True, text=True,
                          env=ENV, timeout=timeout)


@pytest.fixture
def small_fs(tmp_path):
    if shutil.which("unshare") is None:
        pytest.skip("no unshare here: a small filesystem cannot be mounted to fill")
    probe = _in_small_fs(tmp_path / "probe", "64k", "echo mounted")
    if probe.returncode != 0 or "mounted" not in probe.stdout:
        pytest.skip(f"this machine does not let a test mount a tmpfs (unshare: "
                    f"{probe.stderr.strip()[:200]})")
    return tmp_path


def _jaxconv(*argv) -> str:
    return " ".join(shlex.quote(a) for a in (sys.executable, "-m", "jaxconv.cli", *argv))


def test_m11_a_csv_on_a_full_disk_keeps_the_result_and_names_its_path(small_fs):
    disk = small_fs / "disk"
    table = disk / "m.csv"
    script = (f"dd if=/dev/zero of={disk}/fill bs=4k count=100 2>/dev/null; "
              + _jaxconv("train", *TINY, "--steps", "3", "--json", "--csv", str(table)))
    proc = _in_small_fs(disk, "64k", script)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["step"] == 3  # the result, printed before the CSV
    assert re.fullmatch(rf"jaxconv train: error: OSError: \[Errno 28\] cannot write --csv "
                        rf"'{re.escape(str(table))}': No space left on device",
                        one_line(proc.stderr)), proc.stderr


def test_l14_checkpoints_filling_the_disk_stop_in_one_line_and_keep_earlier_steps(small_fs):
    disk, kept = small_fs / "disk", small_fs / "kept"
    table = small_fs / "m.csv"
    script = (_jaxconv("train", *TINY, "--channels", "4", "--hidden", "16", "--steps", "100",
                       "--save-every", "1", "--checkpoint-dir", str(disk / "ck"), "--csv",
                       str(table))
              + f"; echo status=$?; cp -r {disk}/ck {kept}")
    proc = _in_small_fs(disk, "200k", script)
    assert "status=1" in proc.stdout, proc.stderr
    line = one_line(proc.stderr)
    found = re.fullmatch(rf"jaxconv train: error: Checkpointer: cannot save step (\d+) to "
                         rf"'{re.escape(str(disk))}/ck/\d+': no space left on device; the newest "
                         rf"complete step on disk is (\d+)", line)
    assert found, line
    failed, newest = int(found[1]), int(found[2])
    assert newest < failed and newest_step(kept) == newest
    with open(table) as f:  # the metrics of every step trained, though the run failed
        assert len(f.read().splitlines()) >= failed + 1
    with train.Checkpointer(kept, create=False) as ckpt:
        assert ckpt.metadata()["step"] == newest
