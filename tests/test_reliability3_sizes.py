"""Sizes checked where they enter (round 3's H1, H3, M7, L1): the regional op and modules refuse
arrays that cannot exist before XLA sees them, counting is arithmetic at any size, and
``steps_per_dispatch`` is capped by ``steps`` and memory."""

import itertools
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx as flax_nnx

import jaxconv
from jaxconv import linen, nnx, shapes
from jaxconv.cli import main
from jaxconv.costs import counting
from jaxconv.costs._count_args import real_taps


def _tap_loop(geom):
    """The per-tap count real_taps replaced: an oracle for small windows."""
    total = 1
    for n, out, k, s, d, (lo, _) in zip(geom.in_spatial, geom.out_spatial, geom.window,
                                         geom.strides, geom.dilation, geom.pads):
        count = 0
        for tap in range(k):
            offset = tap * d - lo
            first, last = max(0, -(offset // s)), min(out - 1, (n - 1 - offset) // s)
            count += max(0, last - first + 1)
        total *= count
    return total


def test_h3_real_taps_equals_the_loop_over_every_tap():
    for n, k, s, d, pad in itertools.product((1, 2, 5, 9), (1, 2, 3, 7), (1, 2, 3), (1, 2, 3),
                                             ("VALID", "SAME", [(0, 4)], [(5, 1)], [(9, 9)])):
        try:
            geom = shapes.geometry("t", (n,), (k,), strides=s, dilation=d, padding=pad)
        except ValueError:  # an output of size zero: nothing to count
            continue
        assert real_taps(geom) == _tap_loop(geom), (n, k, s, d, pad)
    geom = shapes.geometry("t", (7, 5), (3, 4), strides=(2, 1), dilation=(1, 2), padding="SAME")
    assert real_taps(geom) == _tap_loop(geom)


def test_h3_counting_a_window_of_any_size_answers_at_once(capsys):
    began = time.perf_counter()
    cost = counting.conv_cost((10**20, 10**20, 1), 1, 10**20)
    big = counting.conv_cost((10**8, 10**8, 1), 1, 10**7)
    assert main(["count", "--input", "100000000x100000000", "--kernel-size", "10000000"]) == 0
    # Arithmetic: milliseconds; the loop over taps took 22 s for the CLI case and never returned
    # for the first. One second leaves room for a loaded machine.
    assert time.perf_counter() - began < 1.0
    assert "conv" in capsys.readouterr().out
    # SAME keeps 10**20 positions; each reads the taps inside the input, about half per axis.
    assert 0 < cost.forward_flops < 2 * 10**80
    # 10**8 positions per axis, 10**7 taps each, less those on the zero padding: per axis
    # 10**15 - 2 * (sum of 1..(5 * 10**6 - 1)) - (5 * 10**6) (SAME pads 4999999 low, 5000000 high).
    per_axis = 10**8 * 10**7 - (4999999 * 5000000 // 2) - (5000000 * 5000001 // 2)
    assert big.forward_flops == 2 * per_axis**2 + 10**16


@pytest.mark.parametrize("implementation", ["grouped", "local", "auto"])
def test_h1_regional_padding_beyond_int64_is_refused_before_xla(implementation):
    with pytest.raises(ValueError, match=r"regional_conv: the padded input \(padding=2147483648.*"
                                         r"beyond the 2\*\*63 bytes"):
        jaxconv.regional_conv(jnp.ones((1, 8, 8, 1)), jnp.ones((2, 2, 3, 3, 1, 1)), regions=2,
                              padding=2**31, implementation=implementation)


def test_h1_regional_output_larger_than_memory_is_refused_with_its_bytes():
    with pytest.raises(ValueError, match=r"regional_conv: the padded input \(padding=1048576.* "
                                         r"needs [\d,]+ bytes \(35.2 TB\) but this machine"):
        jaxconv.regional_conv(jnp.ones((2, 8, 8, 1)), jnp.ones((2, 2, 3, 3, 1, 4)), regions=2,
                              padding=2**20)


def test_h1_regional_modules_refuse_before_making_parameters():
    with pytest.raises(ValueError, match=r"RegionalConv: the padded input .* 2\*\*63 bytes"):
        linen.RegionalConv(1, (3, 3), regions=2, padding=2**31).init(
            jax.random.key(0), jnp.ones((1, 8, 8, 1)))
    with pytest.raises(ValueError, match=r"RegionalConv: the padded input .* 2\*\*63 bytes"):
        nnx.RegionalConv(1, 1, (3, 3), regions=2, padding=2**31, input_size=(8, 8),
                         rngs=flax_nnx.Rngs(0))
    layer = nnx.RegionalConv(1, 1, (3, 3), regions=2, padding=2**12, input_size=(8, 8),
                             rngs=flax_nnx.Rngs(0))  # one example fits; a huge batch does not
    with pytest.raises(ValueError, match=r"RegionalConv: the padded input .* needs"):
        layer(jnp.zeros((2**16, 8, 8, 1)))


def test_h1_the_repeated_kernel_of_the_local_implementation_is_checked():
    # 4096 x 4096 positions each holding a 64x64x1x256 kernel: 1 PB, refused before the index.
    with pytest.raises(ValueError, match="the kernel repeated to every output position"):
        jaxconv.regional_conv(jnp.ones((1, 8, 8, 1)), jnp.ones((2, 2, 64, 64, 1, 256)), regions=2,
                              padding=[(2100, 2100), (2100, 2100)], implementation="local")


def test_l1_regional_refuses_zero_features_and_zero_channels():
    with pytest.raises(ValueError, match="regional_conv: `kernel` must have at least 1 output"):
        jaxconv.regional_conv(np.ones((2, 8, 8, 3), "f4"), np.ones((2, 2, 3, 3, 3, 0), "f4"),
                              regions=2)
    with pytest.raises(ValueError, match="regional_conv: `x` must have at least 1 channel"):
        jaxconv.regional_conv(np.ones((2, 8, 8, 0), "f4"), np.ones((2, 2, 3, 3, 0, 2), "f4"),
                              regions=2)


@pytest.fixture(scope="module")
def tiny():
    from jaxconv import data, models

    return models.build("conv", channels=(2,), hidden=0), data.load("digits", seed=0, n_train=32,
                                                                  n_test=16)


def test_m7_steps_per_dispatch_is_capped_by_steps(tiny):
    from jaxconv import train

    model, ds = tiny
    results = list(train.fit(model, ds, steps=2, batch_size=4, eval_every=0,
                             steps_per_dispatch=2**40))
    assert [r.step for r in results] == [1, 2] and results[-1].state is not None


def test_m7_a_staged_block_larger_than_memory_is_refused_naming_the_setting(tiny):
    from jaxconv import train

    model, ds = tiny
    with pytest.raises(ValueError, match=r"fit: `steps_per_dispatch` stages 1,099,511,627,776 "
                                         r"batches .* capped at steps=1099511627776\): .* use a "
                                         r"smaller value, or 0"):
        next(train.fit(model, ds, steps=2**40, batch_size=4, eval_every=0,
                       steps_per_dispatch=2**40))
