"""Named regressions for issue 18: calls that used to abort, return junk or leak internals.

Each gets a clear ValueError/TypeError naming the argument, before lax, XLA or orbax sees it.
Calls that used to abort the whole process (SIGABRT inside XLA) run in one subprocess, so a
regression fails this test instead of killing the test run.
"""

import json
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxconv
from jaxconv import data, models, train

X = jnp.ones((2, 8, 8, 3))


_TWO = models.build("conv", num_classes=2, channels=(2,), hidden=0)


def _TWO_PARAMS():
    return train.init_state(_TWO, train.make_optimizer(), (4, 4, 1)).params


def _dataset(n_train=4, n_test=2):
    x = np.zeros((n_train, 4, 4, 1), np.float32)
    return data.Dataset(x, np.arange(n_train) % 2, x[:n_test], np.arange(n_test) % 2, ("a", "b"), "toy")


@pytest.mark.parametrize("call, error, match", [
    pytest.param(lambda: jaxconv.conv(jnp.ones((2, 8, 8, 0)), jnp.ones((3, 3, 0, 4))), ValueError,
                 r"conv: `x` must have at least 1 channel .*got shape \(2, 8, 8, 0\)", id="conv-0-channels"),
    pytest.param(lambda: jaxconv.conv(X, jnp.ones((3, 3, 3, 0))), ValueError,
                 r"conv: `kernel` must have at least 1 output feature", id="conv-0-features"),
    pytest.param(lambda: jaxconv.dense(jnp.ones((2, 0)), jnp.ones((0, 4))), ValueError,
                 r"dense: `kernel` must have at least 1 input and 1 output feature, got shape \(0, 4\)",
                 id="dense-0-inputs"),
    pytest.param(lambda: jaxconv.max_pool(jnp.ones((1, 4, 4, 1)), 2, padding=3), ValueError,
                 r"max_pool: `padding` must be smaller than the window on each side .*got padding=3 "
                 r"for window \(2, 2\)", id="max-pool-padding-ge-window"),
    pytest.param(lambda: jaxconv.avg_pool(jnp.ones((1, 4, 4, 1)), 2, padding=2, count_include_pad=False),
                 ValueError, r"avg_pool: `padding` must be smaller than the window", id="avg-pool-padding-ge-window"),
    pytest.param(lambda: jaxconv.avg_pool(jnp.ones((1, 4, 4, 1)), 2, padding=1, count_include_pad="no"),
                 TypeError, r"avg_pool: `count_include_pad` must be True or False, got count_include_pad='no'",
                 id="avg-pool-count-include-pad-no"),
    pytest.param(lambda: jaxconv.conv(X, jnp.ones((3, 3, 3, 4)), padding=2**20), ValueError,
                 r"conv: the output \(input shape \(2, 8, 8, 3\), padding=1048576, .* needs "
                 r"140,738,293,662,848 bytes \(140.7 TB\) but this machine can hold at most",
                 id="conv-output-beyond-memory"),
    pytest.param(lambda: models.param_count(None), TypeError,
                 r"param_count: `params` must be a pytree of arrays .*got params=None", id="param-count-none"),
    pytest.param(lambda: models.param_count({"w": "abc"}), TypeError, r"param_count: `params` must be a pytree",
                 id="param-count-strings"),
    pytest.param(lambda: _dataset(n_train=0), ValueError,
                 r"Dataset 'toy': x_train must hold at least 1 image, got shape \(0, 4, 4, 1\)",
                 id="dataset-empty-train"),
    pytest.param(lambda: _dataset(n_test=0), ValueError, r"Dataset 'toy': x_test must hold at least 1 image",
                 id="dataset-empty-test"),
    pytest.param(lambda: train.fit(models.build("conv", num_classes=2), _dataset(), steps=1, return_grads="yes"),
                 TypeError, r"`return_grads` must be True or False, got return_grads='yes'",
                 id="fit-return-grads-yes"),
    pytest.param(lambda: train.fit(models.build("conv", num_classes=2), _dataset(), steps=1, mesh="junk"),
                 TypeError, r"fit: `mesh` must be None or a jax.sharding.Mesh .*got mesh='junk'", id="fit-mesh-junk"),
    pytest.param(lambda: train.evaluate(_TWO, _TWO_PARAMS(), np.zeros((3, 4, 4, 1), np.float32),
                                        np.array([0, 1, 5])), ValueError,
                 r"^evaluate: the model has 2 output classes but y\[2\] = 5; build it with num_classes",
                 id="evaluate-label-outside-the-classes"),
    pytest.param(lambda: train.fit(None, _dataset(), steps=1), TypeError,
                 r"fit: `model` must be a flax.linen Module .*got model=None", id="fit-model-none"),
])
def test_hostile_call_gets_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_checkpointer_refuses_junk_state_and_none_target(tmp_path):
    with train.Checkpointer(tmp_path / "ck") as ckpt:
        with pytest.raises(TypeError, match=r"Checkpointer.save: `state` must be a TrainState .*got "
                                            r"state='junk'"):
            ckpt.save("junk")
        with pytest.raises(TypeError, match=r"Checkpointer.restore: `target` must be the state's "
                                            r"structure, .*got target=None"):
            ckpt.restore(None)


# Each line used to abort the process (SIGABRT in XLA) or exhaust memory; now each must raise.
_ABORTS = textwrap.dedent("""
    import json, jax, jax.numpy as jnp, jaxconv
    from flax import nnx
    from jaxconv import models
    X = jnp.ones((2, 8, 8, 3))
    calls = {
        "conv padding=2**40": lambda: jaxconv.conv(X, jnp.ones((3, 3, 3, 4)), padding=2**40),
        "conv padding=2**31": lambda: jaxconv.conv(X, jnp.ones((3, 3, 3, 4)), padding=2**31),
        "max_pool padding=2**31": lambda: jaxconv.max_pool(X, 2, padding=2**31),
        "max_pool window=2**31 padding=2**31-1": lambda: jaxconv.max_pool(X, 2**31, strides=1, padding=2**31 - 1),
        "avg_pool padding=2**40 CIRCULAR-free": lambda: jaxconv.avg_pool(X, 2**41, strides=1, padding=2**40),
        "nnx.Linear(2**40, 1)": lambda: jaxconv.layers.nnx.Linear(2**40, 1, rngs=nnx.Rngs(0)),
        "linen.Dense(2**40)": lambda: jaxconv.layers.linen.Dense(2**40).init(jax.random.key(0), jnp.ones((1, 4))),
        "linen.Conv(features=2**40)": lambda: jaxconv.layers.linen.Conv(2**40, (3, 3)).init(
            jax.random.key(0), jnp.ones((1, 8, 8, 1))),
        "ModelConfig dense channels=(2**20,)": lambda: models.build("dense", channels=(2**20,)).init(
            jax.random.key(0), jnp.ones((1, 8, 8, 1))),
    }
    out = {}
    for name, call in calls.items():
        try:
            call()
            out[name] = "returned"
        except (ValueError, TypeError) as err:
            out[name] = f"{type(err).__name__}: {err}"
    print(json.dumps(out))
""")


@pytest.mark.slow
def test_overflowing_sizes_raise_instead_of_aborting():
    proc = subprocess.run([sys.executable, "-c", _ABORTS], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["conv padding=2**40"].startswith("ValueError: conv: the padded input (padding=1099511627776) "
                                                "would have shape (2, 2199023255560, 2199023255560, 3)")
    assert "beyond the 2**63 bytes any process can address" in out["conv padding=2**40"]
    assert out["conv padding=2**31"].startswith("ValueError: conv: the ")
    assert out["max_pool padding=2**31"].startswith("ValueError: max_pool: `padding` must be smaller")
    for name in list(out)[3:5]:
        assert out[name].startswith("ValueError: ") and "padding=" in out[name], (name, out[name])
    assert out["nnx.Linear(2**40, 1)"].startswith(
        "ValueError: Linear: its parameters (kernel (1099511627776, 1), bias (1,); "
        "in_features=1099511627776, out_features=1) take 4,398,046,511,108 bytes (4.4 TB), and "
        "initialising them needs 17,592,186,044,432 bytes (17.6 TB) but this machine can hold at most")
    for name in list(out)[6:]:
        assert out[name].startswith("ValueError: ") and "features=" in out[name], (name, out[name])
        assert "count it without allocating with jaxconv.summary(model, input_shape)." in out[name]
    assert "Dense: its parameters (kernel (64, 67108864), bias (67108864,); features=67108864" in (
        out["ModelConfig dense channels=(2**20,)"])


def test_linen_params_made_for_another_input_are_named():
    model = models.build("conv")
    params = model.init(jax.random.key(0), jnp.ones((1, 8, 8, 1)))
    with pytest.raises(ValueError, match=r"Conv: the parameters were made for another input: they hold "
                                         r"a kernel of shape \(3, 3, 1, 16\), but this input \(shape "
                                         r"\(1, 8, 8, 3\)\) needs \(3, 3, 3, 16\)"):
        model.apply(params, jnp.ones((1, 8, 8, 3)))
    dense = jaxconv.layers.linen.Dense(4)
    with pytest.raises(ValueError, match=r"Dense: the parameters were made for another input: .*"
                                         r"\(3, 4\), but this input \(shape \(1, 5\)\) needs \(5, 4\)"):
        dense.apply(dense.init(jax.random.key(0), jnp.ones((1, 3))), jnp.ones((1, 5)))
