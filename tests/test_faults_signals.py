"""Fault suite, signals (round 3's M2, M3): real SIGINT and SIGTERM sent to real commands.

Each stopped command says in one line where it stopped and what it kept, and exits 130 or 143;
``jaxconv train`` writes its CSV to the last step, and ``--resume`` from what it kept reaches the
same parameters as a run never interrupted (as the kill -9 test checks for SIGKILL). A second
Ctrl-C leaves at once and harms no complete step.
"""

import csv
import json
import re
import signal
import time

import pytest
from faults import (
    SIGNALS,
    TINY,
    assert_same_params,
    catches,
    finish,
    newest_step,
    one_line,
    params_of,
    send,
    start,
    uninterrupted,
    wait_until,
)

from jaxconv.cli import main

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]


def _stopped_line(line, said, ck, table):
    found = re.fullmatch(
        rf"jaxconv train: stopped by {re.escape(said)} at step (\d+); step (\d+) is saved in "
        rf"'{re.escape(str(ck))}/(\d+)'; resume with: jaxconv train --resume --checkpoint-dir "
        rf"{re.escape(str(ck))} --steps 100000; metrics to step (\d+) in "
        rf"'{re.escape(str(table))}'\.", line)
    assert found, line
    stopped, kept = int(found[1]), int(found[2])
    assert kept == int(found[3]) <= stopped == int(found[4])
    return stopped, kept


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_m2_m3_a_signal_mid_run_says_where_keeps_the_csv_and_resume_matches(name, tmp_path):
    signum, status, said = SIGNALS[name]
    ck, table = tmp_path / "ck", tmp_path / "m.csv"
    proc = start("train", *TINY, "--steps", "100000", "--save-every", "10", "--checkpoint-dir",
                 str(ck), "--csv", str(table), "--json")
    wait_until(lambda: (newest_step(ck) or 0) >= 30, proc, what="step 30 on disk")
    send(proc, signum)  # saves run every 10 ms: this one mostly lands in a save
    code, out, err = finish(proc)
    assert code == status
    stopped, kept = _stopped_line(one_line(err), said, ck, table)
    result = json.loads(out)  # the --json result too, to the last step
    assert (result["step"], result["stopped"]) == (stopped, said)
    assert kept == newest_step(ck) and not list(ck.glob("*.orbax-checkpoint-tmp*"))
    with open(table) as f:
        rows = list(csv.reader(f))
    assert [int(r[0]) for r in rows[1:]] == list(range(1, stopped + 1))  # the CSV, to the last
    target = stopped + 25
    assert main(["train", *TINY, "--resume", "--checkpoint-dir", str(ck), "--steps",
                 str(target), "--json"]) == 0
    assert_same_params(params_of(ck, target), uninterrupted(tmp_path / "whole", target))


def test_m2_a_second_ctrl_c_exits_at_once_and_the_newest_step_resumes(tmp_path, capsys):
    ck, table = tmp_path / "ck", tmp_path / "m.csv"
    proc = start("train", *TINY, "--steps", "100000", "--save-every", "10", "--checkpoint-dir",
                 str(ck), "--csv", str(table))
    wait_until(lambda: (newest_step(ck) or 0) >= 30, proc, what="step 30 on disk")
    send(proc, signal.SIGINT)
    send(proc, signal.SIGINT)
    code, _, err = finish(proc, timeout=30)
    line = one_line(err)
    assert code == 130
    # Mostly at once; when the first stop had already finished, its own line.
    assert re.fullmatch(rf"jaxconv train: stopped (at once by a second SIGINT \(Ctrl-C\)|by "
                        rf"SIGINT \(Ctrl-C\) at step \d+); step \d+ is saved in "
                        rf"'{re.escape(str(ck))}/\d+'; resume with: .*", line), line
    kept = newest_step(ck)
    target = kept + 25
    capsys.readouterr()
    assert main(["train", *TINY, "--resume", "--checkpoint-dir", str(ck), "--steps",
                 str(target), "--json"]) == 0
    err = capsys.readouterr().err
    # The half-written save the second signal cut short is the dead run's, removed by the next
    # owner in the same one line that takes the directory over.
    assert err.count("\n") <= 1 and (not err or f"took over '{ck}' from pid {proc.pid}" in err)
    assert_same_params(params_of(ck, target), uninterrupted(tmp_path / "whole", target))


def test_m2_a_signal_during_start_up_is_one_line(tmp_path):
    ck = tmp_path / "ck"
    proc = start("train", *TINY, "--steps", "100000", "--save-every", "10", "--checkpoint-dir",
                 str(ck))
    # As soon as jaxconv handles it: then it is importing JAX, loading the data or compiling.
    wait_until(lambda: catches(proc, signal.SIGTERM), proc, what="a SIGTERM handler")
    send(proc, signal.SIGTERM)
    code, out, err = finish(proc)
    line = one_line(err)
    assert code == 143 and out == ""
    assert re.fullmatch(r"jaxconv( train: stopped by SIGTERM (before the first step; no step "
                        r"is saved in .* yet|at step \d+; .*)|: stopped by SIGTERM while "
                        r"starting; nothing is kept)\.", line), line


def test_m2_compare_stopped_says_which_model_and_that_nothing_is_kept():
    proc = start("compare", "--models", "conv", "--steps", "1000000", "--channels", "2",
                 "--hidden", "0", "--eval-every", "0", "--steps-per-dispatch", "1")
    time.sleep(6)
    send(proc, signal.SIGINT)
    code, out, err = finish(proc)
    assert code == 130 and out == ""
    assert re.fullmatch(r"jaxconv compare: stopped by SIGINT \(Ctrl-C\)( while training conv, "
                        r"(after step \d+|before its first step))?; nothing is kept: it writes "
                        r"its results only at the end\.", one_line(err)), err


def test_m2_the_viewer_report_stopped_writes_the_steps_so_far(tmp_path):
    report = tmp_path / "r.json"
    proc = start("--report", str(report), "--steps", "1000000", "--dataset", "digits",
                 "--channels", "2", "--depth", "1", "--hidden", "0", module="jaxconv_viewer")
    time.sleep(8)  # mostly training by then; starting or not, the line is one
    send(proc, signal.SIGTERM)
    code, out, err = finish(proc)
    assert code == 143
    last = err.strip().splitlines()[-1]
    found = re.fullmatch(rf"jaxconv-viewer: stopped by SIGTERM (at step (\d+) of 1000000; wrote "
                         rf"{re.escape(str(report))} at step \d+|while starting; nothing is "
                         rf"written|before the first step; nothing is written)\.", last)
    assert found, err
    assert "Traceback" not in err
    if found[2]:
        assert json.loads(report.read_text())["step"] == int(found[2])


def test_m2_the_viewer_window_stopped_closes_in_one_line(tmp_path):
    proc = start("--screenshot", str(tmp_path / "s.png"), "--steps", "1000000", "--dataset",
                 "digits", "--channels", "2", "--depth", "1", "--hidden", "0",
                 module="jaxconv_viewer")
    # (the first drawn step may be 2: each column trains from the moment its own step is ready)
    wait_until(lambda: re.match(r"jaxconv-viewer: step \d+ drawn", proc.stdout.readline()), proc,
               timeout=180, what="the first step drawn")
    send(proc, signal.SIGINT)
    code, _, err = finish(proc)
    assert code == 130 and "Traceback" not in err
    assert re.fullmatch(r"jaxconv-viewer: stopped by SIGINT \(Ctrl-C\) at step \d+; nothing is "
                        r"written \(the window saves with its Save button\)\.",
                        err.strip().splitlines()[-1]), err
