"""What a run compiles and traces before its first step: no per-operation programs, few traces.

Start-up time is measured by ``python -m jaxconv_viewer.bench`` (docs/performance.md); these tests only
count programs and traces, which do not depend on the machine's load.
"""

import logging

import jax
import pytest

import jaxconv
from jaxconv import data, models, train

# The names jax gives the one-operation programs of an eager computation over a pytree.
EAGER_NAMES = ("jit(square)", "jit(add)", "jit(imag)", "jit(real)", "jit(_reduce_sum)")


@pytest.fixture(scope="module")
def ds():
    return data.load("digits", seed=0, n_train=32, n_test=8)


def compiled_names(caplog, fn):
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="jax._src.dispatch"), jax.log_compiles(True):
        fn()
    return [r.getMessage().split(" of ", 1)[1].split(" in ")[0] for r in caplog.records
            if r.getMessage().startswith("Finished XLA compilation of ")]


def test_first_step_compiles_no_eager_per_leaf_programs(ds, caplog):
    # A fresh architecture (channels nobody else uses), so nothing is in jax's caches yet.
    model = models.build("conv", channels=(3,), hidden=5)
    names = compiled_names(caplog, lambda: next(train.fit(  # steps=2: no evaluation
        model, ds, steps=2, batch_size=8, eval_every=0)))
    assert "jit(train_update)" in names
    assert not [n for n in names if n in EAGER_NAMES], names


def test_fit_checks_trace_the_model_once():
    import flax.linen as nn

    from jaxconv.train import preflight

    traced = []

    class Counting(nn.Module):
        features: int = 3

        @nn.compact
        def __call__(self, x):
            traced.append(x.shape)
            return nn.Dense(self.features)(x.reshape(len(x), -1))

    model = Counting(features=4)
    assert preflight.output_classes(model, (2, 2, 1)) == 4
    memory = preflight.step_memory(model, train.make_optimizer(), (2, 2, 1), 8,
                                   table=jaxconv.summary(model, (2, 2, 1), batch_size=8))
    assert memory.params == (4 * 4 + 4) * 4
    assert len(traced) == 2  # one trace for the classes and the memory, one for the summary


def test_the_starting_norm_compiles_as_a_one_off_program(ds, monkeypatch):
    # fit's starting parameter norm runs once per fit: compiled without XLA's backend
    # optimisation, as init_state's programs are (jaxconv.train.host_init).
    import optax

    from jaxconv.train import host_init, programs

    seen = []
    real_jit = jax.jit

    def spy(fn, **kw):
        if fn is optax.tree.norm:
            seen.append(kw["compiler_options"])
        return real_jit(fn, **kw)

    monkeypatch.setattr(jax, "jit", spy)
    programs.start_norm_program.cache_clear()
    try:
        result = next(train.fit(models.build("dense", channels=(2,), hidden=0), ds, steps=1,
                                batch_size=8, eval_every=0))
    finally:
        monkeypatch.undo()
        programs.start_norm_program.cache_clear()
    assert seen == [host_init._ONE_OFF] or seen == []  # [] when this process had it compiled
    assert result.step == 1 and result.state is not None


def test_the_library_choice_and_the_step_share_one_trace(ds):
    # fit traces its step once: the "auto" CPU library is read from the trace the step's jit
    # then reuses (jaxconv.backend.xla_cpu.library_for), not from a trace of its own.
    import flax.linen as nn

    calls = []

    class Counting(nn.Module):
        features: int = 10

        @nn.compact
        def __call__(self, x):
            calls.append(x.shape)
            return nn.Dense(self.features)(x.reshape(len(x), -1))

    result = next(train.fit(Counting(), ds, steps=2, batch_size=7, eval_every=0))
    assert result.step == 1
    # at the step's batch size: the summary's abstract pass and the step (3 before: the library
    # choice traced the step once more)
    assert calls.count((7, 8, 8, 1)) == 2, calls


def test_library_for_names_what_it_needs():
    from jaxconv.backend import xla_cpu

    traced = jax.make_jaxpr(lambda a: a @ a)(jax.numpy.ones((2, 2)))
    assert xla_cpu.library_for(traced) in xla_cpu.LIBRARIES
    with pytest.raises(TypeError, match=r"library_for: `traced` must be a jaxpr .* got function"):
        xla_cpu.library_for(lambda a: a)
