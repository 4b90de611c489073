"""Fault suite, one directory (round 3's H2, M4, M6, M8): a run owns what it writes.

A monitor polling a checkpoint directory while a run writes it never harms the run (tested in a
loop over a hundred saves); opening a directory to read changes nothing; a second writer is
refused at once naming the holder's pid and command; a dead holder's claim is taken over in one
line; empty paths are refused; the viewer checks its output paths before training.
"""

import os
import re
import signal
import time
from types import SimpleNamespace

import pytest
from faults import TINY, finish, newest_step, one_line, send, start, wait_until

from jaxconv import train
from jaxconv.cli import main
from jaxconv.train import Checkpointer, CheckpointError, DirectoryBusyError, DirectoryLock

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def _tree(directory):
    """Every path under ``directory`` with its size and modification time."""
    out = {}
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            path = os.path.join(root, name)
            st = os.lstat(path)
            out[os.path.relpath(path, directory)] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.mark.slow
def test_h2_a_monitor_polling_a_live_run_never_harms_it(tmp_path):
    ck = tmp_path / "ck"
    proc = start("train", *TINY, "--steps", "200", "--save-every", "2", "--checkpoint-dir",
                 str(ck), "--json")
    wait_until(lambda: newest_step(ck), proc, what="a first step on disk")
    polls, seen = 0, set()
    while proc.poll() is None:  # as the finding's monitor, in a loop, until the run ends
        reader = Checkpointer(ck, create=False)
        step = reader.latest_step()
        seen.add(step)
        try:
            assert reader.metadata(step)["step"] == step
        except CheckpointError:
            pass  # the run dropped that step (max_to_keep) between the two calls: the reader's
        reader.close()
        polls += 1
    code, out, err = finish(proc)
    assert code == 0 and err == "", err  # every save of the run succeeded
    assert '"step": 200' in out and newest_step(ck) == 200
    assert polls >= 5 and len(seen) >= 3, (polls, seen)
    assert not list(ck.glob("*.orbax-checkpoint-tmp*"))


def test_h2_opening_a_directory_to_read_changes_nothing(tmp_path, capsys):
    ck = tmp_path / "ck"
    assert main(["train", *TINY, "--steps", "4", "--save-every", "2", "--checkpoint-dir",
                 str(ck), "--json"]) == 0
    half = ck / "6.orbax-checkpoint-tmp-1234"  # as a live run's save in flight looks
    (half / "state").mkdir(parents=True)
    (half / "state" / "part").write_bytes(b"x" * 10)
    before = _tree(ck)
    reader = Checkpointer(ck, create=False)
    assert reader.steps() == [2, 4] and reader.latest_step() == 4
    assert reader.metadata()["step"] == 4
    reader.close()
    Checkpointer(ck).close()  # create=True on an existing directory
    assert _tree(ck) == before
    capsys.readouterr()


@pytest.mark.slow
def test_m4_a_second_writer_is_refused_at_once_naming_the_holder(tmp_path, capsys):
    ck = tmp_path / "ck"
    proc = start("train", *TINY, "--steps", "100000", "--save-every", "50", "--checkpoint-dir",
                 str(ck))
    try:
        wait_until(lambda: newest_step(ck), proc, what="a first step on disk")
        for extra in ([], ["--resume"], ["--learning-rate", "0.01"]):
            began = time.perf_counter()
            code = main(["train", *TINY, "--steps", "100", "--checkpoint-dir", str(ck), *extra])
            err = capsys.readouterr().err
            assert code == 2 and time.perf_counter() - began < 10
            assert re.fullmatch(rf"jaxconv train: error: Checkpointer: '{re.escape(str(ck))}' "
                                rf"is being written by pid {proc.pid} \(python -m jaxconv\.cli "
                                rf"train .*\), since .*; it "
                                rf"has one writer at a time: wait for it to finish, stop it, or "
                                rf"use another directory\.", one_line(err)), err
        with pytest.raises(DirectoryBusyError, match=f"pid {proc.pid}"):
            Checkpointer(ck).own()  # the library refuses the same way
    finally:
        send(proc, signal.SIGTERM)
        code, _, err = finish(proc)
    assert code == 143 and "stopped by SIGTERM" in one_line(err)


@pytest.mark.slow
def test_m4_a_dead_holders_claim_is_taken_over_in_one_line(tmp_path, capsys):
    ck = tmp_path / "ck"
    proc = start("train", *TINY, "--steps", "100000", "--save-every", "5", "--checkpoint-dir",
                 str(ck))
    wait_until(lambda: (newest_step(ck) or 0) >= 20, proc, what="step 20 on disk")
    proc.kill()  # kill -9: no clean-up of its own
    finish(proc)
    kept = newest_step(ck)
    capsys.readouterr()
    assert main(["train", *TINY, "--resume", "--checkpoint-dir", str(ck), "--steps",
                 str(kept + 5), "--json"]) == 0
    line = one_line(capsys.readouterr().err)
    assert re.fullmatch(rf"jaxconv train: took over '{re.escape(str(ck))}' from pid {proc.pid} "
                        rf"\(python -m jaxconv\.cli train .*\), since .*, which ended without "
                        rf"releasing it(; removed its unfinished save \d+\.orbax-checkpoint-tmp"
                        rf".*)?\.", line), line
    assert not list(ck.glob("*.orbax-checkpoint-tmp*")) and newest_step(ck) == kept + 5


def test_m4_a_lock_is_exclusive_in_one_process_too_and_named(tmp_path):
    with DirectoryLock(tmp_path, fn="save") as held:
        assert held.holder()["pid"] == os.getpid()
        with pytest.raises(DirectoryBusyError, match=rf"save: '.*' is being written by pid "
                                                     rf"{os.getpid()} \("):
            DirectoryLock(tmp_path, fn="save").acquire()
    assert not (tmp_path / ".jaxconv-owner.json").exists()  # released, the name goes too
    DirectoryLock(tmp_path).acquire()


def test_m4_the_viewer_save_takes_the_lock_before_writing(tmp_path):
    from jaxconv_viewer.session import store

    with DirectoryLock(tmp_path, fn="train"), pytest.raises(DirectoryBusyError,
                                                             match="is being written by pid"):
        store.save(SimpleNamespace(states={}), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".jaxconv.lock"]


@pytest.mark.parametrize("argv, flag", [
    (["train", "--checkpoint-dir", ""], "--checkpoint-dir"),
    (["train", "--csv", "  "], "--csv"),
    (["experiment", "shift", "--plot", ""], "--plot"),
    (["experiment", "sharing", "--out-dir", ""], "--out-dir"),
])
def test_m6_an_empty_path_is_refused_in_one_line(capsys, argv, flag):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and f"argument {flag}: got an empty path" in one_line(err)


def test_m6_an_empty_checkpoint_directory_is_refused_by_the_library():
    with pytest.raises(CheckpointError, match=r"Checkpointer: `directory` must not be empty, got "
                                              r"directory='' \(an unset variable\?\)"):
        train.Checkpointer("")


@pytest.mark.parametrize("argv, match", [
    (["--report", "/nonexistent/dir/r.json"], "--report: '/nonexistent/dir' does not exist."),
    (["--screenshot", "shot.txt"], "--screenshot: 'shot.txt' has format 'txt'"),
    (["--report", "."], "--report: '"),
])
def test_m8_the_viewer_checks_its_outputs_before_training(capsys, argv, match):
    from jaxconv_viewer.__main__ import main as viewer

    began = time.perf_counter()
    assert viewer([*argv, "--steps", "2", "--dataset", "digits"]) == 2
    assert time.perf_counter() - began < 10  # no training: the run took 20 s before
    assert match in one_line(capsys.readouterr().err)


def test_m4_a_filesystem_without_locks_writes_unguarded_and_says_so(tmp_path, monkeypatch):
    import errno

    def no_locks(self):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(DirectoryLock, "acquire", no_locks)
    ckpt = Checkpointer(tmp_path / "ck")
    assert ckpt.own() == (f"cannot lock '{tmp_path / 'ck'}' (No locks available): writing "
                          f"without a lock; make sure no other run writes there.")
    assert ckpt.own() is None  # said once
    ckpt.close()
