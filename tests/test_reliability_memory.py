"""Regression tests for memory refusals: issue 18's ``channels=(2**20,)`` init and issue 19's
``--channels 1000000 --hidden 0`` step, each refused in one sentence with its bytes before
anything is allocated; and the host draw that made the init need 5 times its parameters."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

from jaxconv import data, models, train, validate
from jaxconv.layers import initializers
from jaxconv.train import host_init, preflight

BIG_INIT = models.ModelConfig(kind="conv", channels=(2**20,))


def _no_init(*args, **kwargs):
    raise AssertionError("init_state ran: fit allocated before refusing")


def test_i19_channels_1000000_hidden_0_step_counts_the_largest_activation_gradient():
    model = models.build("conv", channels=(10**6,), hidden=0)
    memory = preflight.step_memory(model, train.make_optimizer(), (8, 8, 1), 64)
    # The conv output 64x8x8x10**6 float32 is both the largest activation and its gradient.
    assert memory.largest == 64 * 8 * 8 * 10**6 * 4 == 16_384_000_000
    assert memory.total == 35_488_002_724  # was 19,104,002,724 without it: XLA OOM after 77 s
    assert memory.total - memory.largest == 19_104_002_724


def test_i19_channels_1000000_hidden_0_is_refused_by_fit_before_allocating(monkeypatch):
    # 30 GB lies between the old bound (19.1 GB) and the new (35.5 GB), on any machine.
    monkeypatch.setattr(validate, "available_memory_bytes", lambda: 30 * 10**9)
    monkeypatch.setattr("jaxconv.train.loop.init_state", _no_init)
    ds = data.load("digits", seed=0, n_train=64, n_test=16)
    with pytest.raises(ValueError, match=r"^fit: one training step \(parameters 680\.0 MB, "
                       r"optimizer state 1\.4 GB, gradients 680\.0 MB, activations of a batch of "
                       r"64 16\.4 GB, the gradient of the largest of them 16\.4 GB\) needs "
                       r"35,488,002,724 bytes \(35\.5 GB\) but this machine can hold at most "
                       r"30,000,000,000 bytes"):
        train.fit(models.build("conv", channels=(10**6,), hidden=0), ds, steps=1)


def test_i18_init_state_conv_2pow20_with_adam_is_refused_naming_each_part(monkeypatch):
    monkeypatch.setattr(validate, "available_memory_bytes", lambda: 16 * 10**9)
    monkeypatch.setattr(host_init, "_jit_init", _no_init)
    monkeypatch.setattr(initializers.LecunNormal, "host", _no_init)
    with pytest.raises(ValueError, match=r"^init_state: the initial state \(parameters 4\.3 GB, "
                       r"optimizer state 8\.7 GB, and 9\.7 GB more while drawing the largest "
                       r"parameter on the host\) needs 22,674,415,996 bytes \(22\.7 GB\) but this "
                       r"machine can hold at most 16,000,000,000 bytes \(16\.0 GB\); count it "
                       r"without allocating with jaxconv\.summary"):
        train.init_state(models.build(BIG_INIT), train.make_optimizer(), (8, 8, 1))


def test_init_state_peak_is_parameters_plus_optimizer_state_plus_the_largest_draw(monkeypatch):
    model = models.build("conv", channels=(4,), hidden=3)
    tx = train.make_optimizer()  # adam: two moments as large as the parameters, and a count
    abstract, plan = host_init.abstract_plan(model, (8, 8, 1))
    params = sum(math.prod(s) * 4 for _, _, s, _ in plan)
    largest = max(math.prod(s) for _, _, s, _ in plan) * 9  # 2 float32 copies + a mask byte
    peak = host_init.check_init_fits(abstract, plan, tx)
    assert peak == params + (2 * params + 4) + largest
    monkeypatch.setattr(validate, "available_memory_bytes", lambda: peak - 1)
    with pytest.raises(ValueError, match=rf"^init_state: the initial state .* needs {peak:,} bytes"):
        train.init_state(model, tx, (8, 8, 1))
    monkeypatch.setattr(validate, "available_memory_bytes", lambda: peak)
    assert int(train.init_state(model, tx, (8, 8, 1)).step) == 0


def _old_host(init, rng, shape, dtype):
    """LecunNormal.host before blocks: every value drawn as float64 at once (5.25x the result)."""
    values = rng.standard_normal(math.prod(shape))
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    std = math.sqrt(1.0 / max(1, init.fan_in(shape))) / 0.87962566103423978
    return (values * std).reshape(shape).astype(dtype)


@pytest.mark.parametrize("block", [1, 7, 2**20])
@pytest.mark.parametrize("shape, dtype", [((3, 3, 2, 16), np.float32), ((300, 70), np.float16),
                                          ((4, 4, 3, 3, 2, 5), np.float32)])
def test_host_draw_in_blocks_gives_the_same_values_as_one_draw(monkeypatch, block, shape, dtype):
    monkeypatch.setattr(initializers, "HOST_BLOCK", block)
    init = initializers.LecunNormal(batch_leading=len(shape) == 6)
    new = init.host(np.random.default_rng([3, 1]), shape, dtype)
    old = _old_host(init, np.random.default_rng([3, 1]), shape, dtype)
    assert new.dtype == old.dtype == dtype and new.shape == old.shape == shape
    np.testing.assert_array_equal(new, old)


_UNDER_LIMIT = """
import resource
resource.setrlimit(resource.RLIMIT_AS, (8 * 2**30, 8 * 2**30))
from jaxconv import models, train
try:
    train.init_state(models.build(models.ModelConfig(kind="conv", channels=(2**20,))),
                     train.make_optimizer(), (8, 8, 1))
    print("returned")
except ValueError as err:
    print(err)
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS as Linux counts it")
def test_i18_init_state_conv_2pow20_under_an_address_space_limit_is_one_sentence():
    # Was killed for memory (rc 137) while drawing the 4.3 GB hidden kernel as float64.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", _UNDER_LIMIT], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == (
        "init_state: the initial state (parameters 4.3 GB, optimizer state 8.7 GB, and 9.7 GB "
        "more while drawing the largest parameter on the host) needs 22,674,415,996 bytes "
        "(22.7 GB) but this machine can hold at most 8,589,934,592 bytes (8.6 GB); count it "
        "without allocating with jaxconv.summary(model, input_shape).")


def test_m2_bench_of_a_workload_beyond_memory_is_refused_before_allocating(capsys):
    from jaxconv.cli import main
    from jaxconv.experiments import bench
    from jaxconv.experiments.bench import runner

    workload = bench.make_workload("local", (100000, 100000, 1), 32)
    with pytest.raises(ValueError, match=r"^bench: workload 'local 3x3 1->32 @100000x100000 s1x1 "
                                         r"VALID b128' \(input 5\.1 TB, parameters 12\.8 TB, "
                                         r"output 163\.8 TB\) needs 181,752,934,470,656 bytes"):
        runner.run_workload(workload, rounds=1, peak_gflops=1.0)
    # The CLI (was a JaxRuntimeError RESOURCE_EXHAUSTED line after 14 s): exit 2, one line.
    assert main(["bench", "--layer", "local", "--input", "100000x100000x1", "--quick",
                 "--no-torch"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("jaxconv bench: error: bench: workload 'local")
