"""Stored configs validated like fresh ones (round 3's M5): ``--resume`` skips a step whose
stored settings fail their checks, in one line naming the step and the field, and continues
from the newest step that is sound (the bad one is moved aside, not deleted)."""

import json
import re
import shutil

import pytest
from faults import TINY

from jaxconv.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    ck = tmp_path_factory.mktemp("stored") / "ck"
    assert main(["train", *TINY, "--steps", "3", "--save-every", "1", "--checkpoint-dir",
                 str(ck), "--json"]) == 0
    return ck


def _set(meta, path, value):
    *parents, last = path
    for key in parents:
        meta = meta[key]
    meta[last] = value


@pytest.mark.parametrize("path, value, reason", [
    (("train_config", "learning_rate"), -1, r"its train_config cannot be used: TrainConfig: "
                                            r"`learning_rate` must be a positive finite number, "
                                            r"got learning_rate=-1\."),
    (("train_config", "learning_rate"), float("nan"), r"its train_config cannot be used: "
                                                      r"TrainConfig: `learning_rate` .*nan"),
    (("train_config", "optimizer"), "foo", r"its train_config cannot be used: TrainConfig: "
                                           r"`optimizer` must be one of .*'foo'"),
    (("train_config", "batch_size"), 10**9, r"its batch_size 1000000000 is more than the 1438 "
                                            r"training examples of 'digits'"),
    (("train_config", "batch_size"), 1e9, r"its train_config cannot be used: TrainConfig: "
                                          r"`batch_size`"),
    (("dataset",), "nope", r"its dataset 'nope' cannot be loaded: load: unknown dataset 'nope'"),
    (("model_config", "num_classes"), 10**30, r"its model_config cannot be built: Dense: the "
                                              r"kernel \(features=10{30}"),
    (("train_config",), "STRING", r"its train_config is a str, not an object: '\{\"steps\""),
])
def test_m5_a_bad_stored_value_skips_its_step_naming_the_step_and_the_field(
        saved, tmp_path, capsys, path, value, reason):
    ck = tmp_path / "ck"
    shutil.copytree(saved, ck)
    meta_file = ck / "3" / "meta" / "metadata"
    meta = json.loads(meta_file.read_text())
    if value == "STRING":
        value = json.dumps(meta["train_config"])
    _set(meta, path, value)
    meta_file.write_text(json.dumps(meta))
    capsys.readouterr()
    code = main(["train", "--resume", "--checkpoint-dir", str(ck), "--steps", "4", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out)["step"] == 4
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert re.fullmatch(rf"jaxconv train: resuming from step 2, skipped step 3: {reason}.* "
                        rf"\(moved to {re.escape(str(ck))}/3\.unused-1\)\.", lines[0]), lines[0]
    assert (ck / "3.unused-1" / "meta").is_dir()  # kept, not deleted


def test_m5_a_flag_that_contradicts_the_checkpoint_is_still_the_users_error(saved, tmp_path,
                                                                          capsys):
    ck = tmp_path / "ck"
    shutil.copytree(saved, ck)
    capsys.readouterr()
    code = main(["train", "--resume", "--checkpoint-dir", str(ck), "--steps", "4",
                 "--learning-rate", "0.5"])
    err = capsys.readouterr().err
    assert code == 2 and "--learning-rate 0.5 differs from the checkpoint's" in err
    assert sorted(p.name for p in ck.iterdir() if p.name[0] != ".") == ["1", "2", "3"]
