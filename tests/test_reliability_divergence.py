"""Regression tests for M4, M9: divergence is caught early and the kept state can be continued."""

import dataclasses
import math

import jax
import numpy as np
import pytest

from jaxconv import data, models, train
from jaxconv.train import recover
from jaxconv.train.guard import Guard

MODEL = models.build("dense", hidden=0)


@pytest.fixture(scope="module")
def ds():
    return data.load("digits", seed=0, n_train=64, n_test=16)


def _diverge(ds, optimizer, learning_rate, **kw):
    with pytest.raises(train.DivergenceError) as info:
        for _ in train.fit(MODEL, ds, steps=30, batch_size=16, optimizer=optimizer,
                           learning_rate=learning_rate, eval_every=0, **kw):
            pass
    return info.value


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_m9_m4_an_absurd_learning_rate_stops_with_a_state_that_can_continue(ds, optimizer):
    # Adam never made a NaN here: loss 1e26 and exit 0. SGD runs one step per dispatch, Adam
    # several (the guard rebuilds the state inside a dispatch).
    err = _diverge(ds, optimizer, 1e6, steps_per_dispatch=1 if optimizer == "sgd" else 0)
    assert err.step == 1 and err.good_step == 0 and int(err.state.step) == 0
    assert re_match(r"one step grew the parameter norm from \S+ to \S+, more than 10 x", err.reason)
    assert re_match(r"fit: training diverged at step 1 \(.*\); .* state of step 0, the last that "
                    r"passed the divergence guard", str(err))
    loss, _ = train.evaluate(MODEL, err.state.params, ds.x_test, ds.y_test)
    assert math.isfinite(loss) and loss < 3.0  # not the 1e21 parameters the old guard kept
    again = list(train.fit(MODEL, ds, steps=5, batch_size=16, optimizer=optimizer,
                           learning_rate=1e-2, eval_every=0, state=err.state,
                           steps_per_dispatch=1))
    assert [r.step for r in again] == [1, 2, 3, 4, 5] and math.isfinite(again[-1].loss)


def re_match(pattern, text):
    import re

    return re.search(pattern, text) is not None


def test_a_loss_far_above_its_running_minimum_keeps_the_state_before_the_bad_one():
    guard = Guard((0, "s0"), 1.0, loss_ratio=10.0, norm_growth=None, chance_loss=math.log(10))
    guard.check(1, 2.3, True, 1.0, "s1")
    guard.check(2, 0.5, True, 1.0, "s2")
    with pytest.raises(train.DivergenceError, match=r"loss 60 is above 10 x its running minimum "
                                                    r"0.5") as info:
        guard.check(3, 60.0, True, 1.0, "s3")  # measured on s2's parameters: s2 is bad
    assert (info.value.good_step, info.value.state) == (1, "s1")


def test_a_converged_runs_noise_below_the_chance_loss_never_fires():
    guard = Guard((0, "s0"), 1.0, loss_ratio=10.0, norm_growth=None, chance_loss=math.log(10))
    for step, loss in enumerate([0.01, 0.002, 0.3, 0.001, 1.5], start=1):
        guard.check(step, loss, True, 1.0, f"s{step}")


def test_non_finite_gradients_keep_the_state_before_the_step():
    guard = Guard((4, "s4"), 1.0)
    guard.check(5, 2.0, True, 1.1, "s5")
    with pytest.raises(train.NonFiniteError, match=r"at step 6 \(non-finite gradients or "
                                                   r"parameters\)") as info:
        guard.check(6, 2.0, False, float("nan"), "s6")
    assert (info.value.good_step, info.value.state) == (5, "s5")


def test_the_guard_can_be_turned_off(ds):
    results = list(train.fit(MODEL, ds, steps=3, batch_size=16, optimizer="adam",
                             learning_rate=1e6, eval_every=0, guard_loss_ratio=None,
                             guard_norm_growth=None))
    assert [r.step for r in results] == [1, 2, 3]


@pytest.mark.parametrize("kw, match", [
    (dict(guard_loss_ratio=1.0), r"TrainConfig: `guard_loss_ratio` must be a finite number > 1, "
                                 r"got guard_loss_ratio=1.0"),
    (dict(guard_norm_growth="10"), r"TrainConfig: `guard_norm_growth` must be a finite number > "
                                   r"1, got guard_norm_growth='10'"),
    (dict(guard_norm_growth=float("inf")), r"`guard_norm_growth` must be a finite number > 1"),
])
def test_guard_settings_are_checked(ds, kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        train.fit(MODEL, ds, steps=3, **kw)


def test_normal_training_does_not_fire(ds):
    losses = [r.loss for r in train.fit(MODEL, ds, steps=60, batch_size=16, learning_rate=1e-2,
                                        eval_every=0)]
    assert len(losses) == 60 and np.mean(losses[-5:]) < losses[0]


# --- the suggested learning rate (M4, M9): seen to continue, not just the old rate / 10 --------

@pytest.mark.slow
@pytest.mark.parametrize("optimizer, rate", [("sgd", 100.0), ("adam", 1e6)])
def test_m4_m9_the_suggested_rate_trains_on_from_the_kept_state(ds, optimizer, rate):
    config = train.TrainConfig(steps=30, batch_size=16, optimizer=optimizer, learning_rate=rate,
                               eval_every=0, steps_per_dispatch=1)
    err = _diverge(ds, optimizer, rate, steps_per_dispatch=1)
    found = recover.suggest_learning_rate(MODEL, ds, err, config)
    assert found.learning_rate is not None and found.learning_rate < rate / 10
    assert rate / 10 in found.failed  # the old suggestion diverged again from the same state
    assert found.loss_after < min(found.loss_before, math.log(10))
    assert re_match(rf"^learning rate {found.learning_rate:g} took the loss on the next 10 "
                    rf"batches from \S+ to \S+ in 10 steps within the guard \({rate / 10:g}, ",
                    found.describe())
    resumed = list(train.fit(MODEL, ds, dataclasses.replace(
        config, learning_rate=found.learning_rate), state=err.state))
    assert resumed[-1].step == 30 and resumed[-1].loss < math.log(10)  # no divergence: trains


@pytest.mark.slow
def test_the_tries_scaled_update_equals_the_optimizer_at_the_smaller_rate(ds):
    x, y = ds.x_train[:8], ds.y_train[:8].astype(np.int32)
    model = models.build("dense", channels=(4,), hidden=0)  # small: six compiles
    for optimizer in ("sgd", "momentum", "adam"):
        tx, small = (train.make_optimizer(optimizer, r) for r in (0.5, 0.5 / 1000))
        a = b = train.init_state(model, tx, (8, 8, 1))
        step = train.make_train_step(model, small, jit=jax.jit)
        for _ in range(2):
            a, _ = recover._scaled_step(model, tx, None, a, x, y, np.float32(1e-3))
            b, _, _ = step(b, x, y)
        for p, q in zip(jax.tree.leaves((a.params, a.opt_state)),
                        jax.tree.leaves((b.params, b.opt_state))):
            np.testing.assert_allclose(np.asarray(p), np.asarray(q), rtol=1e-5, atol=1e-7)


def test_suggest_learning_rate_refuses_a_non_divergence_and_an_optax_optimizer(ds):
    err = train.DivergenceError(3, None, "x")
    with pytest.raises(TypeError, match=r"suggest_learning_rate: `err` must be a "
                                        r"DivergenceError, got ValueError"):
        recover.suggest_learning_rate(MODEL, ds, ValueError(), train.TrainConfig())
    with pytest.raises(TypeError, match=r"suggest_learning_rate: `config` must be a TrainConfig "
                                        r"naming its optimizer"):
        recover.suggest_learning_rate(MODEL, ds, err, train.TrainConfig(
            optimizer=train.make_optimizer()))
