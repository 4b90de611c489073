"""Round 3's low findings taken on the way: L6 (counting's paddings), L7 (bench --regions),
L8 (config keys), L9 (warm-up cosine past int32), L10 (strides past int64), L13 (asyncio noise),
L14 (a failed save's line), L16 (the viewer's head flags)."""

import asyncio
import itertools
import logging
import sys

import pytest

from jaxconv import data, models, train
from jaxconv.cli import main
from jaxconv.config import ModelConfig
from jaxconv.costs import counting
from jaxconv.train import _orbax_noise


def test_l6_counting_takes_reflect_and_causal_as_the_ops_do(capsys):
    same = counting.conv_cost((8, 8, 1), 1, 3, padding="SAME")
    reflect = counting.conv_cost((8, 8, 1), 1, 3, padding="REFLECT")
    # Mirrored padding holds input values: every tap is computed, none is a zero.
    assert reflect.forward_flops == 2 * 64 * 9 + 64 > same.forward_flops
    causal = counting.conv_cost((8, 1), 1, 3, padding="CAUSAL")
    assert causal.output_shape == (8, 1) and causal.forward_flops == 2 * (8 * 3 - 3) + 8
    assert main(["count", "--input", "16x16", "--kernel-size", "3", "--padding", "reflect"]) == 0
    assert "taps = positions * window = 256 * 9" in capsys.readouterr().out


@pytest.mark.parametrize("argv, match", [
    (["bench", "--regions", "2"], "`--regions` needs `--layer`"),
    (["bench", "--layer", "dense", "--regions", "2"],
     "`--regions` is for a layer with regions, got --layer dense"),
])
def test_l7_bench_regions_is_refused_where_it_would_be_ignored(capsys, argv, match):
    assert main(argv) == 2
    assert match in capsys.readouterr().err


def test_l8_config_keys_that_are_not_strings_are_named():
    with pytest.raises(TypeError, match=r"ModelConfig.from_json: field names must be strings, "
                                        r"got 1 \(int\)\."):
        ModelConfig.from_json({"kind": "conv", 1: 2})


def test_l9_warmup_cosine_over_more_than_2_31_steps_trains():
    ds = data.load("digits", seed=0, n_train=32, n_test=16)
    run = train.fit(models.build("conv", channels=(2,), hidden=0), ds, steps=2**40,
                    schedule="warmup_cosine", batch_size=4, eval_every=0, steps_per_dispatch=1)
    assert [r.step for r in itertools.islice(run, 2)] == [1, 2]


def test_l9_the_long_schedule_follows_optax_where_both_exist():
    import optax

    from jaxconv.train.optim import _long_warmup_cosine

    ours, theirs = _long_warmup_cosine(1e-3, 100, 1000), optax.warmup_cosine_decay_schedule(
        0.0, 1e-3, 100, 1000)
    assert max(abs(float(ours(c)) - float(theirs(c))) for c in range(0, 1200, 7)) < 1e-9


def test_l10_strides_past_int64_are_one_line(capsys):
    assert main(["train", "--strides", "99999999999999999999", "--steps", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "`strides` must be at most 2**63 - 1 (XLA takes int64)" in err


def test_l13_asyncio_never_retrieved_about_orbax_futures_is_dropped(caplog):
    _orbax_noise.install()
    fake = type(sys)("fake")  # an exception raised in a frame of orbax's files
    code = compile("def fail():\n    raise RuntimeError('read failed')\n",
                   "/site-packages/orbax/checkpoint/fake.py", "exec")
    exec(code, fake.__dict__)
    try:
        fake.fail()
    except RuntimeError as err:
        exc_info = (RuntimeError, err, err.__traceback__)
    logger = logging.getLogger("asyncio")
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        logger.error("_GatheringFuture exception was never retrieved", exc_info=exc_info)
        logger.error("Task exception was never retrieved")  # not orbax's: kept
    assert [r.getMessage() for r in caplog.records] == ["Task exception was never retrieved"]
    assert asyncio  # the logger is asyncio's own


def test_l14_a_save_failure_names_the_failed_step_and_the_reason():
    err = RuntimeError('RESOURCE_EXHAUSTED: Error writing local file "/x/ck/3.orbax-checkpoint-'
                       'tmp/state/_sharding": Failed to write: No space left on device')
    assert _orbax_noise.save_failure(err) == (3, "no space left on device")
    assert _orbax_noise.save_failure(ValueError("odd")) == (None, "ValueError: odd")


def test_l16_the_viewer_refuses_head_and_global_pool_that_contradict(capsys):
    from jaxconv_viewer.__main__ import main as viewer

    assert viewer(["--head", "flatten", "--global-pool", "--report", "r.json",
                   "--dataset", "digits"]) == 2
    assert "--head flatten contradicts --global-pool" in capsys.readouterr().err
