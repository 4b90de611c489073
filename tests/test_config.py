"""ModelConfig and TrainConfig: one home per setting, checked once, JSON round-trip, overrides."""

import dataclasses
import json

import pytest

from jaxconv import models, train
from jaxconv.config import ModelConfig, TrainConfig, replace_fields


def test_configs_round_trip_through_json():
    model = ModelConfig("local", num_classes=5, channels=(4, 8), padding="valid", pool=False)
    config = TrainConfig(steps=7, batch_size=8, optimizer="sgd", learning_rate=0.5,
                         schedule="cosine", compute_dtype="bfloat16", cpu_library="xla")
    for c in (model, config):
        text = json.dumps(c.to_json())
        assert type(c).from_json(json.loads(text)) == c
    assert model.padding == "VALID" and model.to_json()["channels"] == [4, 8]
    assert models.ModelConfig is ModelConfig and train.TrainConfig is TrainConfig


def test_train_config_canonicalises_dtypes_and_is_hashable():
    import jax.numpy as jnp

    assert TrainConfig(compute_dtype=jnp.bfloat16).compute_dtype == "bfloat16"
    assert hash(TrainConfig()) == hash(TrainConfig())


def test_compute_dtype_and_cpu_library_have_one_rule_each():
    import jax.numpy as jnp
    import numpy as np

    from jaxconv.backend import xla_cpu
    from jaxconv.train.state import canonical_dtype

    for value, dtype in (("bfloat16", jnp.bfloat16), (jnp.float16, jnp.float16),
                         (np.float32, jnp.float32), (None, None)):
        assert canonical_dtype("evaluate", value) is dtype
        assert canonical_dtype("evaluate", TrainConfig(compute_dtype=value).compute_dtype) is dtype
    for bad in ("int8", "f4", np.int32, 3):
        with pytest.raises(ValueError) as config_error:
            TrainConfig(compute_dtype=bad)
        with pytest.raises(ValueError, match=r"evaluate: `compute_dtype` must be None or one of "
                                             r"float32, bfloat16, float16, got compute_dtype=") as err:
            canonical_dtype("evaluate", bad)
        assert str(err.value) == str(config_error.value).replace("TrainConfig", "evaluate")
    for bad, error in (("mkl", ValueError), (3, TypeError)):
        with pytest.raises(error, match=r"TrainConfig: `cpu_library` must be one of auto, xla, "
                                        r"eigen-conv, .*, eigen, got cpu_library=") as config_error:
            TrainConfig(cpu_library=bad)
        with pytest.raises(error) as err:
            xla_cpu.check_library("TrainConfig", bad, "cpu_library")
        assert str(err.value) == str(config_error.value)


def test_config_errors_name_the_rule_and_value():
    with pytest.raises(TypeError, match=r"TrainConfig.from_json: unknown TrainConfig field\(s\) "
                                        r"lr; fields are steps, batch_size"):
        TrainConfig.from_json({"lr": 0.1})
    with pytest.raises(TypeError, match=r"ModelConfig.from_json: `data` must be a dict, got list"):
        ModelConfig.from_json([])
    with pytest.raises(ValueError, match=r"TrainConfig: `batch_size` must be a positive integer, "
                                         r"got batch_size=0"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match=r"TrainConfig: `learning_rate` must be a positive "
                                         r"finite number, got learning_rate=nan"):
        TrainConfig(learning_rate=float("nan"))
    with pytest.raises(ValueError, match=r"ModelConfig: `padding` must be one of SAME, VALID, "
                                         r"CIRCULAR, got padding='FULL'"):
        ModelConfig("conv", padding="FULL")
    with pytest.raises(TypeError, match=r"TrainConfig.to_json: `optimizer` must be a name to be "
                                        r"saved, got an GradientTransformationExtraArgs"):
        import optax

        TrainConfig(optimizer=optax.sgd(0.1)).to_json()


def test_replace_fields_applies_overrides_and_names_unknown_ones():
    base = TrainConfig(steps=3)
    assert replace_fields("fit", TrainConfig, base, {"seed": 2}) == dataclasses.replace(base,
                                                                                       seed=2)
    with pytest.raises(TypeError, match=r"fit: unknown TrainConfig field\(s\) kernel_size, lr; "
                                        r"fields are"):
        replace_fields("fit", TrainConfig, base, {"lr": 1, "kernel_size": 3})


def test_fit_takes_a_config_and_keyword_overrides_alike():
    from jaxconv import data

    ds = data.load("digits", seed=0, n_train=32, n_test=8)
    model = models.build("conv", channels=(2,), hidden=0)
    config = TrainConfig(steps=2, batch_size=8, eval_every=0)
    a = [r.loss for r in train.fit(model, ds, config)]
    b = [r.loss for r in train.fit(model, ds, steps=2, batch_size=8, eval_every=0)]
    c = [r.loss for r in train.fit(model, ds, dataclasses.replace(config, steps=1), steps=2)]
    assert a == b == c and len(a) == 2
