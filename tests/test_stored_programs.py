"""Stored programs: a later launch loads what an earlier one compiled; a refused or damaged entry
is a miss that compiles again, says so in one line, and trains to the same bits."""

import jax
import numpy as np
import pytest

from jaxconv import data, models, train
from jaxconv.backend import executables, programs
from jaxconv.train import programs as train_programs


@pytest.fixture(scope="module")
def ds():
    return data.load("digits", seed=0, n_train=64, n_test=16)


@pytest.fixture
def store(tmp_path):
    lines = []
    made = executables.use(tmp_path / "programs", max_bytes=2**26, say=lines.append)
    programs.forget()
    yield made, lines
    executables.use(None)
    programs.forget()


def _fit(ds, model):
    results = list(train.fit(model, ds, steps=3, batch_size=8, eval_every=0,
                             learning_rate=1e-2))
    return results[-1].state.params


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def _entries(store, name):
    return sorted(store.directory.glob(f"{name}-*.program"))


def test_a_stored_step_is_loaded_and_trains_to_the_same_bits(ds, store):
    made, lines = store
    model = models.build("conv", channels=(5,), hidden=0, num_classes=ds.num_classes)
    compiled = _fit(ds, model)
    assert len(_entries(made, "train_step")) == 1 and not lines
    programs.forget()  # as a new launch: nothing in memory, the store on disk
    before = executables.counts()["stored"]
    assert _same(_fit(ds, model), compiled)
    assert executables.counts()["stored"] > before and not lines


@pytest.mark.parametrize("damage", ["flipped", "truncated", "emptied", "refused"])
def test_a_damaged_or_refused_entry_compiles_again_in_one_line(ds, store, damage):
    made, lines = store
    model = models.build("dense", channels=(3,), hidden=0, num_classes=ds.num_classes)
    executables.use(None)
    reference = _fit(ds, model)  # no store at all
    executables.use(made.directory, max_bytes=made.max_bytes, say=lines.append)
    programs.forget()
    assert _same(_fit(ds, model), reference)
    (entry,) = _entries(executables.active(), "train_step")
    data_ = entry.read_bytes()
    if damage == "flipped":
        data_ = data_[:-100] + bytes([data_[-100] ^ 0xFF]) + data_[-99:]
    elif damage == "truncated":
        data_ = data_[:len(data_) // 2]
    elif damage == "emptied":
        data_ = b""
    else:  # a whole entry this jaxlib refuses to load (as one from another CPU would be)
        key = entry.name.removesuffix(".program")
        stored = executables.active().read(key)
        executables.active().write(key, {**stored, "blob": b"not an executable"})
        data_ = entry.read_bytes()
    entry.write_bytes(data_)
    programs.forget()
    assert _same(_fit(ds, model), reference)  # compiled again, the same bits
    assert len(lines) == 1 and "compiles again and is replaced" in lines[0], lines
    assert str(made.directory) in lines[0]
    programs.forget()
    assert _same(_fit(ds, model), reference)  # the replaced entry loads
    assert len(lines) == 1


def test_the_key_follows_what_shapes_the_program(ds, store):
    made, _ = store
    base = {"steps": 2, "batch_size": 8, "eval_every": 0}
    model = models.build("conv", channels=(6,), hidden=0, num_classes=ds.num_classes)
    list(train.fit(model, ds, **base))
    list(train.fit(model, ds, **base, learning_rate=0.5))  # another recipe: another program
    list(train.fit(model, ds, **{**base, "batch_size": 4}))  # another shape
    list(train.fit(models.build("conv", channels=(6,), hidden=0, num_classes=ds.num_classes,
                                pool=False), ds, **base))  # another model
    assert len(_entries(made, "train_step")) == 4
    list(train.fit(model, ds, **{**base, "eval_every": 1}, seed=3))  # the same step
    assert len(_entries(made, "train_step")) == 4


def test_models_and_transforms_it_cannot_describe_are_not_stored(ds, store):
    import flax.linen as nn
    import optax

    class Plain(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Dense(10)(x.reshape(len(x), -1))

    model = models.build("conv", channels=(2,), hidden=0)
    assert train_programs.describe(Plain()) is None
    assert train_programs.describe(model, optax.sgd(0.1)) is None
    assert train_programs.describe(model, train.make_tx(train.TrainConfig())) is not None
    list(train.fit(Plain(), ds, steps=1, batch_size=8))
    assert not _entries(store[0], "train_step")


def test_precompile_readies_the_step_fit_then_uses(ds, store, caplog):
    import logging

    model = models.build("local", channels=(2,), hidden=0, num_classes=ds.num_classes)
    config = train.TrainConfig(steps=2, batch_size=8, eval_every=0)
    assert train_programs.precompile(model, ds.input_shape, config) == "compiled"
    assert train_programs.precompile(model, ds.input_shape, config) == "memory"
    with caplog.at_level(logging.WARNING, logger="jax._src.dispatch"), jax.log_compiles(True):
        list(train.fit(model, ds, config))
    compiled = [r.getMessage() for r in caplog.records
                if r.getMessage().startswith("Finished XLA compilation of ")]
    assert compiled and not [m for m in compiled if "train_update" in m], compiled
    programs.forget()
    assert train_programs.precompile(model, ds.input_shape, config) == "stored"


def test_a_store_that_cannot_be_written_says_so_once(ds, tmp_path):
    lines = []
    (tmp_path / "file").write_text("x")
    executables.use(tmp_path / "file" / "programs", max_bytes=2**26, say=lines.append)
    programs.forget()
    try:
        list(train.fit(models.build("conv", channels=(7,), hidden=0), ds, steps=2,
                       batch_size=8, eval_every=1))
    finally:
        executables.use(None)
        programs.forget()
    assert len(lines) == 1 and "cannot store compiled programs" in lines[0], lines


def test_entries_past_the_bound_are_evicted_oldest_first(tmp_path):
    import os

    made = executables.Store(tmp_path, max_bytes=3000)
    for i in range(4):
        assert made.write(f"k{i}", {"blob": bytes(900)})
        os.utime(made.path(f"k{i}"), ns=(i * 10**9, i * 10**9))
    assert not made.path("k0").exists() and made.read("k3") is not None
    assert not made.write("big", {"blob": bytes(5000)})  # larger than the bound: not stored


def _double(x):
    return jax.numpy.broadcast_to(x[None], (4, 3)) * 2.0 + 1.0


def test_an_entry_that_loads_but_cannot_run_is_compiled_again(tmp_path, monkeypatch):
    # jaxlib 0.10.2 serialises an executable read from JAX's persistent cache without the kernels
    # it shares with its first compile: it loads, then fails with "Function ... not found".
    # Programs no longer store such executables; one stored before is a miss at its first run.
    from jaxconv.backend import compile_cache

    lines = []
    compile_cache.enable(tmp_path, say=lines.append)
    x = np.ones(3, np.float32)
    try:
        program = programs.Program(_double, name="double", key="test", library="xla")
        assert program.prepare(x) == "compiled"
        for entry in (tmp_path / "programs").glob("double-*"):
            entry.unlink()
        programs.forget()
        jax.clear_caches()
        # as jaxconv did before: the executable JAX's cache served is stored
        real = programs.Program._compile
        monkeypatch.setattr(programs.Program, "_compile",
                            lambda self, args: (real(self, args)[0], True))
        assert program.prepare(x) == "compiled" and list((tmp_path / "programs").glob("double-*"))
        monkeypatch.undo()
        programs.forget()
        out = programs.Program(_double, name="double", key="test", library="xla")(x)
    finally:
        executables.use(None)
        programs.forget()
    np.testing.assert_array_equal(out, np.full((4, 3), 3.0, np.float32))
    assert len(lines) == 1 and "could not run" in lines[0] and "not found" in lines[0], lines


class _LateFailure:
    """A loaded program's output whose missing kernel is only reported when it is waited for."""

    def block_until_ready(self):
        raise jax.errors.JaxRuntimeError("NOT_FOUND: Function compare_and_fusion not found (type id: 1)")


def test_a_stored_program_whose_kernel_is_missing_when_read_compiles_again(tmp_path, monkeypatch):
    # Seen with `jaxconv compare`: the stored evaluation ran, and float() of its loss raised.
    from jaxconv.backend import compile_cache

    lines = []
    compile_cache.enable(tmp_path, say=lines.append)
    x = np.ones(3, np.float32)
    try:
        assert programs.Program(_double, name="double", key="late", library="xla").prepare(x) == "compiled"
        programs.forget()
        real = programs.Program._load
        monkeypatch.setattr(programs.Program, "_load", lambda self, key: (
            (lambda *a: _LateFailure()), real(self, key)[1]))
        program = programs.Program(_double, name="double", key="late", library="xla")
        assert program.prepare(x) == "stored"
        monkeypatch.undo()
        out = program(x)
    finally:
        executables.use(None)
        programs.forget()
    np.testing.assert_array_equal(out, np.full((4, 3), 3.0, np.float32))
    assert len(lines) == 1 and "could not run" in lines[0] and "compare_and_fusion" in lines[0], lines


_LAUNCH = """
import json, sys
from jaxconv.backend import compile_cache, executables
from jaxconv import data, models, train
compile_cache.enable(sys.argv[1])
ds = data.load("digits", n_train=64, n_test=16)
model = models.build("local", num_classes=ds.num_classes, channels=(2,), hidden=0)
result = list(train.fit(model, ds, steps=2, batch_size=8, eval_every=0))[-1]
print(json.dumps({**executables.counts(), "loss": result.loss}))
"""


@pytest.mark.slow
def test_a_program_served_by_jax_cache_is_stored_by_the_next_launch(tmp_path):
    import json
    import subprocess
    import sys

    def launch():
        out = subprocess.run([sys.executable, "-c", _LAUNCH, str(tmp_path)], check=True,
                             capture_output=True, text=True, timeout=300)
        assert "jaxconv:" not in out.stderr, out.stderr  # nothing to say: nothing went wrong
        return json.loads(out.stdout.strip().splitlines()[-1])

    def steps():
        return list((tmp_path / "programs").glob("train_step-*"))

    first = launch()
    assert len(steps()) == 1 and first["stored"] == 0
    steps()[0].unlink()  # as after an upgrade: the store misses, JAX's cache still has it
    second = launch()
    assert not steps() and second["loaded"] > 0  # served by JAX's cache: not stored
    assert not list(tmp_path.glob("jit_train_update-*"))  # ... and gone from it
    third = launch()
    assert len(steps()) == 1 and third["compiled"] > 0  # compiled whole, stored
    fourth = launch()
    assert fourth["compiled"] == 0 and fourth["stored"] > 0
    assert first["loss"] == second["loss"] == third["loss"] == fourth["loss"]
