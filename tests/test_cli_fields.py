"""Flags generated from the configs: one per field, named after it, in every front end."""

import dataclasses

import pytest

from jaxconv import config
from jaxconv.cli import build_parser, main
from jaxconv.cli.fields import OFF, given_fields


def _help(parser, *argv):
    with pytest.raises(SystemExit):
        parser.parse_args([*argv, "--help"])


def _subparser(parser, name):
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices[name]


@dataclasses.dataclass(frozen=True)
class _WithWeightDecay(config.TrainConfig):
    weight_decay: float = dataclasses.field(default=0.0, metadata={"help": "L2 penalty"})


def test_a_new_train_field_is_a_flag_of_train_compare_and_the_viewer(monkeypatch, capsys):
    from jaxconv_viewer.__main__ import _parser

    monkeypatch.setattr(config, "TrainConfig", _WithWeightDecay)
    parsers = {"jaxconv train": _subparser(build_parser(), "train"),
               "jaxconv compare": _subparser(build_parser(), "compare"),
               "jaxconv-viewer": _parser()}
    for name, parser in parsers.items():
        help_text = parser.format_help()
        assert "--weight-decay X" in help_text and "L2 penalty (default 0)" in help_text, name
        args = parser.parse_args(["--weight-decay", "0.01"])
        assert given_fields(_WithWeightDecay, args) == {"weight_decay": 0.01}, name


def test_every_model_field_is_reachable_from_train_compare_and_the_viewer():
    from jaxconv_viewer.__main__ import _parser, settings_from_args

    train = _subparser(build_parser(), "train")
    args = train.parse_args(["--kind", "local", "--padding", "valid", "--kernel-size", "5",
                             "--strides", "2", "--channels", "4,8", "--no-pool",
                             "--global-pool", "--hidden", "0", "--num-classes", "3"])
    assert given_fields(config.ModelConfig, args) == {
        "kind": "local", "padding": "valid", "kernel_size": 5, "strides": 2, "channels": (4, 8),
        "pool": False, "global_pool": True, "hidden": 0, "num_classes": 3}
    viewer = _parser().parse_args(["--padding", "VALID", "--channels", "4", "--depth", "3",
                                   "--global-pool", "--learning-rate", "0.01"])
    settings = settings_from_args(viewer)
    assert settings.model.padding == "VALID" and settings.model.channels == (4, 8, 16)
    assert settings.model.global_pool and settings.train.learning_rate == 0.01


def test_old_spellings_are_hidden_aliases(capsys):
    train = _subparser(build_parser(), "train")
    args = train.parse_args(["--lr", "0.5", "--model", "dense", "--bf16"])
    assert given_fields(config.TrainConfig, args) == {"learning_rate": 0.5,
                                                       "compute_dtype": "bfloat16"}
    assert given_fields(config.ModelConfig, args) == {"kind": "dense"}
    help_text = train.format_help()
    assert "--lr" not in help_text and "--bf16" not in help_text and "--model " not in help_text
    count = _subparser(build_parser(), "count")
    old = count.parse_args(["--input", "8x8", "--kernel", "3", "--stride", "2", "--batch", "4"])
    new = count.parse_args(["--input", "8x8", "--kernel-size", "3", "--strides", "2",
                            "--batch-size", "4"])
    assert vars(old) == vars(new)


def test_optional_fields_take_off_and_bad_tuples_are_one_line(capsys):
    train = _subparser(build_parser(), "train")
    args = train.parse_args(["--guard-loss-ratio", "off", "--guard-norm-growth", "3"])
    assert args.guard_loss_ratio is OFF
    assert given_fields(config.TrainConfig, args) == {"guard_loss_ratio": None,
                                                       "guard_norm_growth": 3.0}
    assert main(["train", "--channels", "4,x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["jaxconv train: error: --channels must be comma-separated integers, got "
                   "'4,x'."]
    assert main(["train", "--padding", "FULL"]) == 2
    assert "ModelConfig: `padding` must be one of SAME, VALID, CIRCULAR, got padding='FULL'" in (
        capsys.readouterr().err)
