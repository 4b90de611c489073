"""`jaxconv train`, `compare` and `experiment`, run in-process through the CLI's main."""

import csv
import json

import pytest

from jaxconv import experiments
from jaxconv.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def fails_with_one_line(capsys, argv, match):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"jaxconv {argv[0]}: error: ")
    assert match in lines[0], lines[0]


def test_train_json_csv_checkpoint_and_resume(capsys, tmp_path):
    ckpt, table = tmp_path / "ckpt", tmp_path / "m.csv"
    common = ["--batch-size", "16", "--eval-every", "2", "--checkpoint-dir", str(ckpt),
              "--channels", "4", "--hidden", "0"]
    code, out, err = run_cli(capsys, "train", "--steps", "3", "--json", "--csv", str(table),
                             *common)
    assert code == 0 and err == ""  # no progress bar when stderr is not a terminal
    first = json.loads(out)
    assert (first["model"], first["dataset"], first["step"]) == ("conv", "digits", 3)
    assert 0 <= first["test_accuracy"] <= 1
    assert first["params"] == 3 * 3 * 4 + 4 + 4 * 4 * 4 * 10 + 10
    with open(table) as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["1", "2", "3"]
    assert [r["test_accuracy"] != "" for r in rows] == [False, True, True]
    assert sorted(p.name for p in ckpt.iterdir() if p.name.isdigit()) == ["2", "3"]
    code, out, err = run_cli(capsys, "train", "--steps", "4", "--resume", *common)
    assert code == 0
    assert out.startswith("conv on digits: step 4, test accuracy ")
    fails_with_one_line(capsys, ["train", "--steps", "5", "--resume", "--lr", "0.5", *common],
                        "--learning-rate 0.5 differs from the checkpoint's 0.001")
    fails_with_one_line(capsys, ["train", "--model", "dense", "--resume", "--checkpoint-dir",
                                 str(ckpt)],
                        "--kind 'dense' differs from the checkpoint's 'conv'")
    code, out, err = run_cli(capsys, "train", "--steps", "4", "--resume", *common)
    assert code == 0 and "nothing to do: already at step 4" in err


def test_resume_takes_the_recipe_from_the_checkpoint(capsys, tmp_path):
    # The restore target is make_tx of the resumed settings: a momentum state with a cosine
    # schedule's count restores without naming either again.
    common = ["--batch-size", "16", "--eval-every", "0", "--checkpoint-dir", str(tmp_path),
              "--channels", "2", "--hidden", "0"]
    code, _, err = run_cli(capsys, "train", "--steps", "2", "--optimizer", "momentum",
                           "--schedule", "cosine", *common)
    assert code == 0, err
    code, out, err = run_cli(capsys, "train", "--steps", "3", "--resume", "--json", *common)
    assert code == 0 and json.loads(out)["step"] == 3, err
    fails_with_one_line(capsys, ["train", "--steps", "4", "--resume", "--schedule", "constant",
                                 "--allow-changed-settings", *common],
                        "--schedule 'constant' differs from the checkpoint's 'cosine'; it cannot "
                        "change on resume")


def test_a_clipped_run_saves_restores_and_resumes_clipped(capsys, tmp_path):
    from jaxconv import models, train

    common = ["--batch-size", "16", "--eval-every", "0", "--checkpoint-dir", str(tmp_path),
              "--channels", "2", "--hidden", "0"]
    code, _, err = run_cli(capsys, "train", "--steps", "2", "--clip-norm", "0.5", *common)
    assert code == 0, err
    with train.Checkpointer(tmp_path, create=False) as ckpt:
        meta = ckpt.metadata()
        config = train.TrainConfig.from_json(meta["train_config"])
        assert config.clip_norm == 0.5
        model = models.build(models.ModelConfig.from_json(meta["model_config"]))
        target = train.abstract_state(
            lambda: train.init_state(model, train.make_tx(config), (8, 8, 1)))
        state, _ = ckpt.restore(target)
    assert int(state.step) == 2  # the clipped chain's state, from the recipe
    code, out, err = run_cli(capsys, "train", "--steps", "3", "--resume", "--json", *common)
    assert code == 0 and json.loads(out)["step"] == 3, err
    fails_with_one_line(capsys, ["train", "--steps", "4", "--resume", "--clip-norm", "off",
                                 *common],
                        "--clip-norm 'off' differs from the checkpoint's 0.5; it cannot change "
                        "on resume")


@pytest.mark.parametrize("argv, match", [
    (["train", "--model", "mlp"], "`kind` must be one of dense, local, regional, conv, got kind='mlp'"),
    (["train", "--dataset", "cifar"], "load: unknown dataset 'cifar'"),
    (["train", "--steps", "-3"], "`steps` must be an integer >= 0, got steps=-3"),
    (["train", "--resume"], "--resume needs --checkpoint-dir"),
    (["train", "--optimizer", "lion"], "`optimizer` must be one of sgd, momentum, adam"),
    (["compare", "--steps", "0"], "--steps must be >= 1, got 0"),
    (["compare", "--models", "conv,mlp"], "compare: `kinds` must be a non-empty subset of dense"),
    (["compare", "--dataset", "nope"], "load: unknown dataset 'nope'"),
    (["experiment", "data-size", "--sizes", "10"], "`sizes` must be ints in [64, 1438]"),
    (["experiment", "data-size", "--sizes", "a,b"], "--sizes must be comma-separated integers"),
    (["experiment", "shift", "--steps", "-1"], "--steps must be >= 1, got -1"),
    (["experiment", "shift", "--classes", "9"], "`num_classes` must be an integer in [2, 8]"),
    (["compare", "--channels", "4,x"], "--channels must be comma-separated integers, got '4,x'"),
    (["train", "--hidden", "-1"], "`hidden` must be an integer >= 0, got hidden=-1"),
])
def test_bad_arguments_exit_2_with_one_line(capsys, argv, match):
    fails_with_one_line(capsys, argv, match)


def test_unusable_checkpoint_directories_exit_2(capsys, tmp_path):
    afile = tmp_path / "file"
    afile.write_text("x")
    fails_with_one_line(capsys, ["train", "--checkpoint-dir", str(afile)], "is not a directory")
    fails_with_one_line(capsys, ["train", "--resume", "--checkpoint-dir", str(tmp_path / "none")],
                        "does not exist")
    (tmp_path / "empty").mkdir()
    fails_with_one_line(capsys, ["train", "--resume", "--checkpoint-dir", str(tmp_path / "empty")],
                        "no checkpoints in")


@pytest.mark.slow
def test_compare_and_data_size_json(capsys, tmp_path):
    tiny = ["--channels", "4", "--hidden", "0"]
    code, out, _ = run_cli(capsys, "compare", "--steps", "2", "--json", *tiny)
    assert code == 0
    result = json.loads(out)
    assert [m["model"] for m in result["models"]] == ["dense", "local", "conv"]
    params = [m["params"] for m in result["models"]]
    assert params[0] > params[1] > params[2] == 3 * 3 * 4 + 4 + 4 * 4 * 4 * 10 + 10
    for m in result["models"]:
        assert 0 <= m["test_accuracy"] <= 1 and m["steps_per_second"] > 0
        assert 0 <= m["shift1_accuracy"] <= 1 and 0 <= m["shift2_accuracy"] <= 1
    code, out, _ = run_cli(capsys, "experiment", "data-size", "--sizes", "64,128", "--steps", "2",
                           "--plot", str(tmp_path / "size.png"), *tiny)
    assert code == 0 and out.splitlines()[0] == "| model | parameters | n=64 | n=128 |"
    assert (tmp_path / "size.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_experiment_shift_json_and_plot(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "experiment", "shift", "--steps", "2", "--classes", "4",
                           "--json", "--out-dir", str(tmp_path), "--channels", "4", "--hidden", "0")
    assert code == 0
    result = json.loads(out)
    assert result["classes"] == 4 and result["chance"] == 0.25
    assert [m["model"] for m in result["models"]] == ["dense", "local", "conv"]
    assert all(0 <= m[k] <= 1 for m in result["models"] for k in ("accuracy_seen",
                                                                   "accuracy_unseen"))
    assert result["plot"] == str(tmp_path / "shift.png")
    assert (tmp_path / "shift.png").read_bytes()[:4] == b"\x89PNG"


def test_markdown_table():
    table = experiments.markdown_table(["model", "n", "acc", "x"], [["conv", 13706, 0.97123, None]])
    assert table == "| model | n | acc | x |\n|---|---|---|---|\n| conv | 13,706 | 0.971 | n/a |"
    with pytest.raises(ValueError, match=r"markdown_table: each row must have 2 cells, got 1"):
        experiments.markdown_table(["a", "b"], [[1]])
