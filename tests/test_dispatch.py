"""Many steps per dispatch: the same numbers as one step per dispatch, every step still reported."""

from types import SimpleNamespace

import jax
import numpy as np
import pytest

from jaxconv import data, models, train
from jaxconv.train import dispatch

MODEL = models.build("conv", channels=(2,), hidden=0)


@pytest.fixture(scope="module")
def ds():
    return data.load("digits", seed=0, n_train=96, n_test=24)


def run(ds, k, **kw):
    kw = {"steps": 7, "batch_size": 8, "eval_every": 5, "learning_rate": 1e-2, **kw}
    return list(train.fit(MODEL, ds, steps_per_dispatch=k, **kw))


def test_k_steps_per_dispatch_equal_one_step_per_dispatch(ds):
    one, three = run(ds, 1), run(ds, 3, return_grads=True)
    assert [r.step for r in three] == list(range(1, 8))
    np.testing.assert_allclose([r.loss for r in three], [r.loss for r in one], rtol=1e-6)
    np.testing.assert_allclose([r.accuracy for r in three], [r.accuracy for r in one])
    for a, b in zip(jax.tree.leaves(three[-1].state.params), jax.tree.leaves(one[-1].state.params)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # dispatches of 3, cut at the evaluation step 5 and at the end: 1-3, 4-5, 6-7
    assert [r.step for r in three if r.state is not None] == [3, 5, 7]
    assert [r.step for r in three if r.grads is not None] == [3, 5, 7]
    assert [r.step for r in three if r.test_loss is not None] == [5, 7]
    assert int(three[4].state.step) == 5 and three[4].test_loss == pytest.approx(one[4].test_loss)


def test_auto_starts_with_single_steps_then_grows(ds):
    results = run(ds, 0, steps=12, eval_every=0)
    with_state = [r.step for r in results if r.state is not None]
    assert with_state[:3] == [1, 2, 3] and with_state[-1] == 12
    assert [r.step for r in results] == list(range(1, 13))


def test_a_non_finite_step_inside_a_dispatch_stops_there(ds):
    x = ds.x_train.copy()
    bad = SimpleNamespace(x_train=x, y_train=ds.y_train, x_test=ds.x_test, y_test=ds.y_test)
    clean = run(ds, 1, steps=3, eval_every=0)
    stream = data.batches(ds.x_train, ds.y_train, 8, seed=0)
    order = [next(stream) for _ in range(3)]
    # poison the third batch only: find its images in the training set by value
    for image in order[2][0]:
        x[np.all(ds.x_train == image, axis=(1, 2, 3))] = np.nan
    results = train.fit(MODEL, bad, steps=6, batch_size=8, eval_every=0, learning_rate=1e-2,
                        steps_per_dispatch=4)
    seen = []
    with pytest.raises(train.NonFiniteError, match="at step 3") as err:
        for r in results:
            seen.append(r)
    # the guard keeps the state the NaN loss was not measured on (step 1), rebuilt step by step
    assert [r.step for r in seen] == [1, 2] and seen[1].state is None
    assert int(err.value.state.step) == err.value.good_step == 1
    for a, b in zip(jax.tree.leaves(err.value.state.params), jax.tree.leaves(clean[0].state.params)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose([r.loss for r in seen], [r.loss for r in clean[:2]], rtol=1e-6)


def test_choose_steps_and_capacity():
    assert dispatch.choose_steps(0.0005, 64) == 4  # 2 ms / 0.5 ms, a power of two
    assert dispatch.choose_steps(0.0007, 64) == 2 and dispatch.choose_steps(0.0015, 64) == 1
    assert dispatch.choose_steps(1e-6, 64) == 64 and dispatch.choose_steps(0.5, 64) == 1
    assert dispatch.choose_steps(0.0, 16) == 16
    assert dispatch.capacity_for(16 * 1024) == 64 and dispatch.capacity_for(1024 * 1024) == 4
    assert dispatch.capacity_for(2**30) == 1


def test_steps_per_dispatch_is_checked():
    with pytest.raises(ValueError, match=r"TrainConfig: `steps_per_dispatch` must be"):
        train.TrainConfig(steps_per_dispatch=-1)


def test_the_next_dispatch_is_sent_before_a_result_is_read(ds, monkeypatch):
    from jaxconv.train import loop

    calls, made = [], loop.make_train_step

    def counting(*args, **kwargs):
        step = made(*args, **kwargs)
        return lambda state, x, y: calls.append(int(state.step)) or step(state, x, y)

    monkeypatch.setattr(loop, "make_train_step", counting)
    kw = {"steps": 4, "batch_size": 8, "eval_every": 0, "learning_rate": 1e-2}
    results = train.fit(MODEL, ds, steps_per_dispatch=1, **kw)
    first = next(results)
    assert first.step == 1 and calls == [0, 1]  # step 2 went out before step 1's loss was read
    rest = list(results)
    assert calls == [0, 1, 2, 3] and [r.step for r in rest] == [2, 3, 4]  # none past the end
    # the same numbers as steps taken one at a time by hand
    tx = train.make_tx(train.TrainConfig(**kw))  # the transform fit ran with
    state = train.init_state(MODEL, tx, (8, 8, 1))
    step = made(MODEL, tx)
    stream = data.batches(ds.x_train, ds.y_train, 8, seed=0)
    for r in [first, *rest]:
        x, y = next(stream)
        state, metrics, _ = step(state, x, y.astype(np.int32))
        assert r.loss == pytest.approx(float(metrics["loss"]), rel=1e-6)
