"""The training loop: optimisers, fit's results, determinism, resume, non-finite steps, bf16."""

import dataclasses
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxconv import data, models, train

MODEL = models.build("conv", channels=(4,), hidden=0)


@pytest.fixture(scope="module")
def ds():
    return data.load("digits", seed=0, n_train=128, n_test=40)


def params_equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def run(ds, **kw):
    kw = {"steps": 4, "batch_size": 16, "eval_every": 2, "learning_rate": 1e-2, **kw}
    return list(train.fit(MODEL, ds, **kw))


def test_fit_yields_one_result_per_step_with_evaluations(ds):
    results = run(ds, return_grads=True)
    assert [r.step for r in results] == [1, 2, 3, 4]
    assert [r.test_accuracy is not None for r in results] == [False, True, False, True]
    assert all(isinstance(r.loss, float) and isinstance(r.accuracy, float) for r in results)
    assert 0.0 <= results[-1].test_accuracy <= 1.0 and results[-1].test_loss > 0
    assert [r.elapsed for r in results] == sorted(r.elapsed for r in results)
    assert int(results[-1].state.step) == 4
    grads = results[-1].grads
    assert jax.tree.map(jnp.shape, grads) == jax.tree.map(jnp.shape, results[-1].state.params)
    assert run(ds, steps=1)[0].grads is None


def test_training_lowers_the_loss(ds):
    losses = [r.loss for r in run(ds, steps=40, eval_every=0)]
    assert np.mean(losses[-8:]) < 0.7 * np.mean(losses[:8])


def test_clip_norm_clips_each_step_and_still_trains(ds):
    grads, params = {"w": jnp.array([1.0, -2.0])}, {"w": jnp.zeros(2)}  # global norm sqrt(5)
    tx = train.make_tx(train.TrainConfig(optimizer="sgd", learning_rate=1.0, clip_norm=0.5))
    assert tx is train.make_tx(train.TrainConfig(optimizer="sgd", learning_rate=1.0,
                                                 clip_norm=0.5, seed=2))
    updates, _ = tx.update(grads, tx.init(params))
    np.testing.assert_allclose(updates["w"], np.array([-0.5, 1.0]) / np.sqrt(5), rtol=1e-6)
    own = optax.sgd(1.0)  # an optax optimiser is clipped too
    updates, _ = (clipped := train.make_tx(train.TrainConfig(optimizer=own, clip_norm=0.5))).update(
        grads, clipped.init(params))
    np.testing.assert_allclose(updates["w"], np.array([-0.5, 1.0]) / np.sqrt(5), rtol=1e-6)
    # one SGD step at rate 1 moves the parameters by exactly the clip norm
    start = train.init_state(MODEL, train.make_tx(train.TrainConfig()), (8, 8, 1)).params
    first = run(ds, steps=1, optimizer="sgd", learning_rate=1.0, clip_norm=1e-3)[0].state
    moved = optax.tree.norm(jax.tree.map(jnp.subtract, first.params, start))
    np.testing.assert_allclose(float(moved), 1e-3, rtol=1e-4)
    losses = [r.loss for r in run(ds, steps=40, eval_every=0, clip_norm=1.0)]
    assert np.mean(losses[-8:]) < 0.7 * np.mean(losses[:8])
    with pytest.raises(ValueError, match=r"TrainConfig: `clip_norm` must be a positive finite "
                                         r"number, got clip_norm=0"):
        train.TrainConfig(clip_norm=0)


def test_same_seed_same_run_other_seed_other_run(ds):
    a, b, c = run(ds), run(ds), run(ds, seed=1)
    assert [r.loss for r in a] == [r.loss for r in b]
    assert params_equal(a[-1].state.params, b[-1].state.params)
    assert not params_equal(a[-1].state.params, c[-1].state.params)


def test_resuming_a_state_continues_the_same_run(ds):
    whole = run(ds, steps=4)
    half = run(ds, steps=2)
    rest = run(ds, state=half[-1].state)
    assert [r.step for r in rest] == [3, 4]
    assert params_equal(whole[-1].state.params, rest[-1].state.params)
    assert run(ds, steps=2, state=rest[-1].state) == []


def test_non_finite_loss_stops_with_the_last_good_state(ds):
    x = ds.x_train.copy()
    x[np.arange(len(x)) % 2 == 1] = np.nan  # every batch of 16 holds a NaN image
    bad = SimpleNamespace(x_train=x, y_train=ds.y_train, x_test=ds.x_test, y_test=ds.y_test)
    results = train.fit(MODEL, bad, steps=3, batch_size=16, learning_rate=1e-2)
    with pytest.raises(train.NonFiniteError, match=r"fit: training diverged at step 1 \(loss "
                                                   r"nan\); .* state of step 0"):
        next(results)
    try:
        next(train.fit(MODEL, bad, steps=3, batch_size=16, learning_rate=1e-2))
    except FloatingPointError as err:
        assert err.step == 1 and int(err.state.step) == 0
        fresh = train.init_state(MODEL, optax.adam(1e-3), (8, 8, 1))
        assert params_equal(err.state.params, fresh.params)


@pytest.mark.slow
def test_bfloat16_compute_keeps_float32_state(ds):
    results = run(ds, compute_dtype="bfloat16", steps=2)
    state = results[-1].state
    assert {a.dtype for a in jax.tree.leaves((state.params, state.opt_state))} <= {
        jnp.dtype("float32"), jnp.dtype("int32")}
    params = state.params
    loss_fn = jax.jit(train.loss_fn, static_argnums=(0, 4))
    full, _ = loss_fn(MODEL, params, ds.x_test, ds.y_test, None)
    half, logits = loss_fn(MODEL, params, ds.x_test, ds.y_test, jnp.bfloat16)
    assert logits.dtype == jnp.float32 and abs(float(full) - float(half)) < 0.05


def test_evaluate_batches_agree(ds):
    params = run(ds, steps=1)[-1].state.params
    small = train.evaluate(MODEL, params, ds.x_test, ds.y_test, batch_size=7)
    whole = train.evaluate(MODEL, params, ds.x_test, ds.y_test, batch_size=1000)
    np.testing.assert_allclose(small, whole, rtol=1e-5)
    loss, logits = jax.jit(train.loss_fn, static_argnums=0)(MODEL, params, ds.x_test, ds.y_test)
    accuracy = float(np.mean(np.argmax(logits, -1) == ds.y_test))
    np.testing.assert_allclose(whole, (float(loss), accuracy), rtol=1e-5)


def test_optimizers_by_name():
    grads = {"w": jnp.array([1.0, -2.0])}
    params = {"w": jnp.zeros(2)}
    sgd = train.make_optimizer("sgd", 0.1)
    updates, _ = sgd.update(grads, sgd.init(params))
    np.testing.assert_allclose(updates["w"], [-0.1, 0.2])
    for name in train.OPTIMIZERS:
        for schedule in train.SCHEDULES:
            tx = train.make_optimizer(name, 0.1, schedule=schedule, steps=10)
            assert isinstance(tx, optax.GradientTransformation)
    cosine = train.make_optimizer("sgd", 0.1, schedule="cosine", steps=4)
    state = cosine.init(params)
    for _ in range(5):  # the k-th update uses the rate at count k - 1
        updates, state = cosine.update(grads, state)
    np.testing.assert_allclose(updates["w"], [0.0, 0.0], atol=1e-7)  # decayed to zero at count 4


def test_make_tx_is_the_one_recipe():
    config = train.TrainConfig(optimizer="momentum", learning_rate=0.1, schedule="cosine", steps=4)
    tx = train.make_tx(config)
    # the same object for the same recipe, whatever the fields it does not read
    assert train.make_tx(dataclasses.replace(config, eval_every=1, seed=3)) is tx
    assert train.make_tx(dataclasses.replace(config, steps=5)) is not tx  # the cosine's horizon
    constant = train.make_tx(train.TrainConfig(schedule="constant", steps=4))
    assert train.make_tx(train.TrainConfig(schedule="constant", steps=400)) is constant
    grads, params = {"w": jnp.array([1.0, -2.0])}, {"w": jnp.zeros(2)}
    by_name = train.make_optimizer("momentum", 0.1, schedule="cosine", steps=4)
    state, named = tx.init(params), by_name.init(params)
    for _ in range(3):
        updates, state = tx.update(grads, state)
        expected, named = by_name.update(grads, named)
        np.testing.assert_allclose(updates["w"], expected["w"])
    own = optax.sgd(0.5)
    assert train.make_tx(train.TrainConfig(optimizer=own)) is own  # passes through
    for name in train.OPTIMIZERS:  # every recipe builds, down to a run of zero or one step
        for schedule in train.SCHEDULES:
            for steps in (0, 1, 2):
                train.make_tx(train.TrainConfig(optimizer=name, schedule=schedule, steps=steps))
    with pytest.raises(TypeError, match=r"make_tx: `config` must be a TrainConfig, got dict"):
        train.make_tx({"optimizer": "adam"})


@pytest.mark.parametrize("args, kwargs, match", [
    (("rmsprop",), {}, r"make_optimizer: `name` must be one of sgd, momentum, adam, got "
                       r"name='rmsprop'"),
    (("adam",), {"schedule": "step"}, r"`schedule` must be one of constant, cosine"),
    (("adam", 0.0), {}, r"`learning_rate` must be a positive finite number, got "
                        r"learning_rate=0.0"),
    (("adam", float("nan")), {}, r"`learning_rate` must be a positive finite number"),
    (("momentum", 0.1), {"momentum": 1.0}, r"`momentum` must be a finite number in \[0, 1\), got momentum=1.0"),
    (("sgd", 0.1), {"schedule": "cosine"}, r"schedule 'cosine' needs the total `steps`"),
    (("sgd", 0.1), {"schedule": "warmup_cosine", "steps": 10, "warmup_steps": 10},
     r"`warmup_steps` must be an integer in \[0, 9\], got warmup_steps=10"),
])
def test_make_optimizer_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        train.make_optimizer(*args, **kwargs)
    with pytest.raises(TypeError, match=r"make_optimizer: `learning_rate` must be a positive finite "
                                        r"number, got learning_rate='fast'"):
        train.make_optimizer("adam", "fast")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"steps": -1}, ValueError, r"TrainConfig: `steps` must be an integer >= 0, got steps=-1"),
    ({"steps": 2.0}, TypeError, r"TrainConfig: `steps` must be an int, got steps=2.0"),
    ({"steps": 1, "batch_size": 129}, ValueError,
     r"fit: `batch_size` must be at most the 128 training examples, got batch_size=129"),
    ({"steps": 1, "optimizer": 3}, TypeError,
     r"TrainConfig: `optimizer` must be one of sgd, momentum, adam or an "
     r"optax.GradientTransformation, got int: optimizer=3"),
    ({"steps": 1, "optimizer": "lion"}, ValueError,
     r"TrainConfig: `optimizer` must be one of sgd, momentum, adam, got optimizer='lion'"),
    ({"steps": 1, "compute_dtype": "int8"}, ValueError,
     r"TrainConfig: `compute_dtype` must be None or one of float32, bfloat16, float16, got "
     r"compute_dtype='int8'"),
    ({"steps": 1, "learning_rate": 0.0}, ValueError,
     r"TrainConfig: `learning_rate` must be a positive finite number, got learning_rate=0.0"),
    ({"steps": 1, "schedule": "step"}, ValueError,
     r"TrainConfig: `schedule` must be one of constant, cosine, warmup_cosine, got "
     r"schedule='step'"),
    ({"steps": 1, "return_grads": 1}, TypeError,
     r"TrainConfig: `return_grads` must be True or False, got return_grads=1"),
    ({"steps": 1, "lr": 0.1}, TypeError,
     r"fit: unknown TrainConfig field\(s\) lr; fields are steps, batch_size, optimizer, "
     r"learning_rate"),
    ({"config": {"steps": 1}}, TypeError, r"fit: `config` must be a TrainConfig or None, got dict"),
    ({"steps": 1, "state": {}}, TypeError, r"fit: `state` must be a TrainState or None, got dict"),
    ({"steps": 1, "eval_every": -5}, ValueError,
     r"TrainConfig: `eval_every` must be an integer >= 0"),
    ({"steps": 1, "cpu_library": "mkl"}, ValueError,
     r"TrainConfig: `cpu_library` must be one of auto, xla, eigen-conv, .*, eigen, got "
     r"cpu_library='mkl'"),
])
def test_fit_errors_at_the_call(ds, kwargs, error, match):
    with pytest.raises(error, match=match):
        train.fit(MODEL, ds, **kwargs)


def test_fit_and_evaluate_input_errors(ds):
    with pytest.raises(TypeError, match=r"fit: `dataset` must have x_train, y_train, x_test and "
                                        r"y_test .* got tuple without x_train"):
        train.fit(MODEL, (ds.x_train, ds.y_train), steps=1)
    with pytest.raises(ValueError, match=r"evaluate: `x` must have shape \(N, H, W, C\) with "
                                         r"N > 0 and `y` shape \(N,\), got shapes \(40, 8, 8\)"):
        train.evaluate(MODEL, {}, ds.x_test[..., 0], ds.y_test)
    with pytest.raises(ValueError, match=r"evaluate: `batch_size` must be a positive integer, got "
                                         r"batch_size=0"):
        train.evaluate(MODEL, {}, ds.x_test, ds.y_test, batch_size=0)
    with pytest.raises(TypeError, match=r"evaluate: `jit` must be a function like jax.jit, got "
                                        r"str"):
        train.evaluate(MODEL, {}, ds.x_test, ds.y_test, jit="eigen")
    with pytest.raises(TypeError, match=r"make_train_step: `jit` must be a function like "
                                        r"jax.jit, got str"):
        train.make_train_step(MODEL, optax.sgd(0.1), jit="Eigen")
    with pytest.raises(TypeError, match=r"init_state: `tx` must be an "
                                        r"optax.GradientTransformation, got str"):
        train.init_state(MODEL, "adam", (8, 8, 1))


@pytest.mark.parametrize("library", ["eigen-conv", "eigen"])
def test_cpu_libraries_train_alike(ds, library):
    xla, other = run(ds, cpu_library="xla"), run(ds, cpu_library=library)
    np.testing.assert_allclose([r.loss for r in other], [r.loss for r in xla], rtol=1e-5)
    np.testing.assert_allclose([r.test_loss for r in other if r.test_loss is not None],
                               [r.test_loss for r in xla if r.test_loss is not None], rtol=1e-5)


def test_auto_cpu_library_is_decided_once_from_the_step(ds, monkeypatch):
    from jaxconv.backend import xla_cpu

    chosen = []
    library_for = xla_cpu.library_for  # fit reads it from the step's own trace

    def spy(traced):
        chosen.append(library_for(traced))
        return chosen[-1]

    monkeypatch.setattr(xla_cpu, "library_for", spy)
    fresh = models.build("conv", channels=(3,), hidden=0)  # nobody compiled these yet
    kw = {"batch_size": 16, "learning_rate": 1e-2}
    list(train.fit(fresh, ds, steps=2, eval_every=1, **kw))
    list(train.fit(models.build("dense", channels=(3,), hidden=8), ds, steps=1, **kw))
    can_choose = xla_cpu.available("eigen-conv")
    # One decision per fit (evaluation reuses it): convolutions to Eigen, plain products stay.
    assert chosen == (["eigen-conv", "xla"] if can_choose else ["xla", "xla"])
    # A second fit of the same model and recipe reuses the compiled step: no decision at all.
    list(train.fit(fresh, ds, steps=2, eval_every=1, **kw))
    assert len(chosen) == 2
    tx = optax.sgd(0.1)
    state = train.init_state(MODEL, tx, (8, 8, 1))
    step = train.make_train_step(MODEL, tx)  # "auto": decided on the first call's shapes
    x, y = jnp.zeros((4, 8, 8, 1)), jnp.zeros(4, jnp.int32)
    assert int(step(state, x, y)[0].step) == 1
    if can_choose:
        assert step.library(state, x, y) == "eigen-conv"
