"""Regression tests for the CLI findings H1, H3, M1, M2, M4, M9, L10, L14, L15: each one line."""

import io
import os
import re
import shutil
import subprocess
import sys
import time
import warnings

import pytest

from jaxconv import data, models, train
from jaxconv.cli import main
from jaxconv.cli._progress import Heartbeat

TINY = ["--channels", "4", "--hidden", "0", "--batch-size", "16", "--eval-every", "0"]


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(capsys, argv, code, match):
    got, out, err = run_cli(capsys, *argv)
    lines = err.strip().splitlines()
    assert got == code and len(lines) == 1 and match in lines[0], err
    return lines[0]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A checkpoint directory with steps 1, 2 and 3 of a tiny conv run."""
    path = tmp_path_factory.mktemp("ck") / "run"
    assert main(["train", "--steps", "3", "--save-every", "1", "--checkpoint-dir", str(path),
                 "--json", *TINY]) == 0
    return path


def copy_of(saved, tmp_path):
    shutil.copytree(saved, tmp_path / "ck")
    return tmp_path / "ck"


def test_m2_an_unwritable_csv_is_refused_before_training(capsys, tmp_path):
    line = one_line(capsys, ["train", "--csv", str(tmp_path / "no" / "dir" / "x.csv"), *TINY], 2,
                    "--csv: ")
    assert f"{tmp_path / 'no' / 'dir'}' does not exist" in line
    one_line(capsys, ["train", "--csv", str(tmp_path), *TINY], 2, "is a directory, not a file")


@pytest.mark.parametrize("argv, match", [
    (["--plot", "x.txt"], "--plot: 'x.txt' has format 'txt', which the plot cannot be written as"),
    (["--plot", "/nonexistent/dir/x.png"], "--plot: '/nonexistent/dir' does not exist"),
])
def test_l10_a_bad_plot_path_is_refused_before_the_experiment(capsys, argv, match):
    began = time.perf_counter()
    one_line(capsys, ["experiment", "shift", "--steps", "3", *argv], 2, match)
    assert time.perf_counter() - began < 5  # nothing was trained


def test_m2_an_out_dir_that_is_a_file_is_refused_before_the_experiment(capsys, tmp_path):
    afile = tmp_path / "f"
    afile.write_text("x")
    one_line(capsys, ["experiment", "shift", "--steps", "3", "--out-dir", str(afile)], 2,
             f"--out-dir: '{afile}' is not a directory")


def test_m2_an_uncached_dataset_offline_is_one_line_with_the_path(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("JAXCONV_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JAXCONV_MNIST_URL", "http://127.0.0.1:9/")  # nothing listens: refused
    line = one_line(capsys, ["train", "--dataset", "mnist", "--steps", "1"], 1,
                    "jaxconv train: error: DownloadError: fetch: could not download mnist")
    assert str(tmp_path) in line


def test_l15_a_stray_step_folder_is_refused_before_training_with_its_path(capsys, caplog,
                                                                         tmp_path):
    (tmp_path / "ck" / "20").mkdir(parents=True)
    one_line(capsys, ["train", "--checkpoint-dir", str(tmp_path / "ck"), *TINY], 2,
             f"--checkpoint-dir: '{tmp_path / 'ck' / '20'}' is named like a step but is not a "
             f"checkpoint")
    # Orbax's "WARNING:absl:Metadata file does not exist: .../20/_CHECKPOINT_METADATA" line
    # came before it on the terminal.
    assert not [r for r in caplog.records if "Metadata file does not exist" in r.getMessage()]


def test_a_fresh_run_does_not_write_into_a_directory_with_steps(capsys, saved):
    one_line(capsys, ["train", "--checkpoint-dir", str(saved), *TINY], 2,
             "already holds steps [1, 2, 3]; add --resume")


@pytest.mark.parametrize("damage", ["no meta", "garbage meta", "stray newest"])
def test_m1_resume_falls_back_past_a_damaged_newest_step(capsys, saved, tmp_path, damage):
    ck = copy_of(saved, tmp_path)
    if damage == "no meta":
        shutil.rmtree(ck / "3" / "meta")
    elif damage == "garbage meta":
        (ck / "3" / "meta" / "metadata").write_text("{not json")
    else:
        (ck / "9").mkdir()
    code, out, err = run_cli(capsys, "train", "--steps", "4", "--resume", "--checkpoint-dir",
                             str(ck), *TINY)
    assert code == 0 and "step 4" in out
    lines = [x for x in err.splitlines() if x.startswith("jaxconv train:")]
    assert len(lines) == 1, err
    if damage == "stray newest":
        assert lines[0] == (f"jaxconv train: moved the stray folder '{ck / '9'}' (not a "
                            f"checkpoint) to '{ck / '9.unused-1'}'.")
    else:
        assert lines[0].startswith("jaxconv train: resuming from step 2, skipped step 3: ")
        assert f"(moved to {ck / '3.unused-1'})" in lines[0]
        assert (ck / "3.unused-1").is_dir()  # kept, not deleted
    assert sorted(p.name for p in ck.iterdir() if p.name.isdigit())[-1] == "4"


def test_m1_l14_every_step_damaged_is_one_short_line(capsys, saved, tmp_path):
    ck = copy_of(saved, tmp_path)
    for step in ("1", "2", "3"):
        shutil.rmtree(ck / step / "state")
        (ck / step / "state").mkdir()
    line = one_line(capsys, ["train", "--steps", "4", "--resume", "--checkpoint-dir", str(ck),
                             *TINY], 2, "no step in")
    assert len(line) < 200 and line.endswith("...")


@pytest.mark.slow
def test_m4_m9_divergence_saves_the_last_state_that_passed_and_resume_continues(capsys, tmp_path):
    ck = tmp_path / "ck"
    common = ["--checkpoint-dir", str(ck), *TINY]
    code, out, err = run_cli(capsys, "train", "--steps", "30", "--save-every", "1", "--lr", "1e6",
                             *common)  # Adam: no NaN ever, loss ~1e26 before the guard
    lines = err.strip().splitlines()
    assert code == 1 and out == "" and len(lines) == 3, err
    assert lines[0].startswith("jaxconv train: diverged at step 1: one step grew the parameter "
                               "norm")
    assert lines[1] == ("jaxconv train: trying smaller learning rates from step 0 for a few "
                        "steps each...")
    # Not the old rate / 10 (100000), which diverged again: a rate seen to lower the loss.
    assert re.match(rf"jaxconv train: saved step 0, the last state that passed the guard, to "
                    rf"'{re.escape(str(ck / '0'))}'; learning rate (\S+) took the loss on the next "
                    rf"10 batches from \S+ to \S+ in 10 steps within the guard \(100000, .* did "
                    rf"not\): jaxconv train --resume --checkpoint-dir {re.escape(str(ck))} "
                    rf"--learning-rate \1 --allow-changed-settings$", lines[2]), lines[2]
    assert sorted(p.name for p in ck.iterdir() if p.name.isdigit()) == ["0"]
    one_line(capsys, ["train", "--steps", "3", "--resume", "--lr", "1e-3", *common], 2,
             "--learning-rate 0.001 differs from the checkpoint's 1000000.0; add "
             "--allow-changed-settings")
    code, out, err = run_cli(capsys, "train", "--steps", "3", "--resume", "--lr", "1e-3",
                             "--allow-changed-settings", *common)
    assert code == 0 and out.startswith("conv on digits: step 3")
    assert err.strip() == ("jaxconv train: resuming with changed settings: --learning-rate "
                           "1000000.0 -> 0.001.")


def test_m4_without_a_checkpoint_dir_nothing_is_said_to_be_kept(capsys):
    code, _, err = run_cli(capsys, "train", "--steps", "30", "--optimizer", "sgd", "--lr", "100",
                           *TINY)
    assert code == 1 and "was kept" not in err
    assert "jaxconv train: nothing was saved (no --checkpoint-dir); the state of step" in err


def test_h1_a_step_too_large_for_memory_is_refused_with_its_bytes(capsys):
    line = one_line(capsys, ["train", "--steps", "3", "--channels", "10000000", "--hidden", "0"],
                    2, "fit: one training step (parameters ")
    assert "activations of a batch of 64" in line and "but this machine can hold at most" in line


def test_h3_a_long_compile_is_announced_at_the_call():
    ds = data.load("digits", seed=0, n_train=64, n_test=16)
    model = models.build("local", kernel_size=100, channels=(2,), hidden=0)
    with pytest.warns(train.preflight.LongCompileWarning,
                      match=r"fit: compiling may take minutes: layer layer1 \(local\) has a "
                            r"100x100 window over a 8x8 input \(10,000 taps"):
        train.fit(model, ds, steps=1, cpu_library="xla")
    with warnings.catch_warnings():
        warnings.simplefilter("error", train.preflight.LongCompileWarning)
        train.fit(models.build("local", kernel_size=9, channels=(2,), hidden=0), ds, steps=1,
                  cpu_library="xla")


def test_h3_the_heartbeat_prints_elapsed_time_until_stopped():
    out = io.StringIO()
    beat = Heartbeat("jaxconv train", "still compiling the training step", every=0.05,
                     stream=out)
    time.sleep(0.3)
    beat.stop()
    lines = out.getvalue().splitlines()
    assert len(lines) >= 2 and lines[0].startswith("jaxconv train: still compiling the training "
                                                   "step (0 s)...")
    time.sleep(0.1)
    assert out.getvalue().splitlines() == lines


def test_l14_resume_of_an_empty_directory_prints_one_line_and_no_traceback(tmp_path):
    (tmp_path / "empty").mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-m", "jaxconv.cli", "train", "--steps", "3",
                           "--resume", "--checkpoint-dir", str(tmp_path / "empty")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() == (f"jaxconv train: error: Checkpointer: no checkpoints in "
                                   f"'{tmp_path / 'empty'}'.")


def test_m7_resume_refuses_changed_topology_flags_naming_each(capsys, saved):
    one_line(capsys, ["train", "--steps", "4", "--resume", "--checkpoint-dir", str(saved),
                      "--channels", "8", "--hidden", "5", "--global-pool"], 2,
                    "jaxconv train: error: --channels '8' differs from the checkpoint's '4'; "
                    "--global-pool True differs from the checkpoint's False; --hidden 5 differs "
                    "from the checkpoint's 0; the saved parameters have the checkpoint's "
                    "model")  # in ModelConfig's field order
    one_line(capsys, ["train", "--steps", "4", "--resume", "--checkpoint-dir", str(saved),
                      "--allow-changed-settings", "--channels", "8"], 2,
             "--channels '8' differs from the checkpoint's '4'")
    # compared as ModelConfigs: the flags' spelling of the saved model is no change
    one_line(capsys, ["train", "--steps", "3", "--resume", "--checkpoint-dir", str(saved),
                      "--padding", "same", "--channels", "4", "--regions", "2"], 0,
             "nothing to do: already at step 3")
    one_line(capsys, ["train", "--steps", "4", "--resume", "--checkpoint-dir", str(saved),
                      "--regions", "off", "--padding", "valid"], 2,
             "--padding 'VALID' differs from the checkpoint's 'SAME'; --regions 'off' differs "
             "from the checkpoint's 2")


def test_h1_init_state_of_parameters_too_large_for_memory_is_refused_before_drawing():
    model = models.build("conv", channels=(10**9,))  # 4 TB: more than any test machine holds
    # Refused with its bytes by the first check it meets (the conv's output, or the parameters).
    with pytest.raises(ValueError, match=r"^(Conv|conv|init_state): .* [\d,]+ bytes \(\d+\.\d "
                                         r"[GT]B\) but this machine can hold at most"):
        train.init_state(model, train.make_optimizer(), (8, 8, 1))


def test_m9_divergence_in_compare_is_one_line_exit_1(capsys):
    one_line(capsys, ["compare", "--steps", "3", "--lr", "1e6", "--models", "conv", "--channels",
                      "4", "--hidden", "0"], 1,
             "jaxconv compare: error: DivergenceError: fit: training diverged at step 1")


@pytest.mark.slow
def test_l14_a_step_without_manifests_falls_back_without_asyncio_tracebacks(saved, tmp_path):
    verbose = "0"  # with "1" (orbax's tracebacks kept) the same run prints them: checked by hand
    ck = copy_of(saved, tmp_path)
    for manifest in (ck / "3" / "state").rglob("manifest.ocdbt"):
        manifest.unlink()  # gave 17-25 "Event loop is closed" tracebacks at exit
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "JAXCONV_VERBOSE": verbose}
    proc = subprocess.run([sys.executable, "-m", "jaxconv.cli", "train", "--steps", "4",
                           "--resume", "--checkpoint-dir", str(ck), *TINY],
                          capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0 and "skipped step 3" in proc.stderr
    assert "Event loop is closed" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_l14_a_step_of_another_model_falls_back_in_one_line_without_tensorstore_specs(
        saved, tmp_path):
    import json

    ck = copy_of(saved, tmp_path)
    meta = ck / "3" / "meta" / "metadata"
    data_ = json.loads(meta.read_text())
    data_["model_config"]["channels"] = [8]  # the findings' case (channels 8,8): 371 lines
    meta.write_text(json.dumps(data_))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "JAXCONV_VERBOSE": "0"}
    # No model flags: each step's own meta builds its model. Once (default model, meta channels
    # 8,8) orbax's failed reading coroutines printed 12 "Exception ignored in: <coroutine ...>"
    # tracebacks with TensorStore specs at exit; 4 later tries did not, so this checks the
    # outcome, one line, rather than reliably reproducing that race.
    proc = subprocess.run([sys.executable, "-m", "jaxconv.cli", "train", "--steps", "4",
                           "--resume", "--checkpoint-dir", str(ck)],
                          capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0 and "step 4" in proc.stdout, proc.stderr[-3000:]
    assert proc.stderr.startswith("jaxconv train: resuming from step 2, skipped step 3: ")
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr[:3000]
