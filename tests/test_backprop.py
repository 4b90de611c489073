"""Hand-derived gradients: the worked examples of docs/backprop.md, exact, then against jax.vjp."""

import json
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxconv import kinds, ops
from jaxconv.cli import main
from jaxconv.experiments import backprop_check
from jaxconv.ops.backprop import (
    avg_pool_backward,
    check,
    conv_backward,
    dense_backward,
    locally_connected_backward,
    max_pool_backward,
)

# The 4x4 max-pooling example of the docs: every window but the bottom-left one has a tie.
TIED = np.array([[1, 3, 2, 2],
                 [3, 0, 2, 1],
                 [0, 5, 4, 4],
                 [5, 1, 4, 4]], np.float32).reshape(1, 4, 4, 1)


def test_conv_worked_example_by_hand():
    x = jnp.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1)
    kernel = jnp.array([1.0, -1.0]).reshape(2, 1, 1)
    assert ops.conv(x, kernel, padding="VALID").ravel().tolist() == [-1.0, -1.0, -1.0]
    gx, gk, gb = conv_backward(x, kernel, jnp.array([1.0, 2.0, -1.0]).reshape(1, 3, 1),
                               padding="VALID")
    assert gx.ravel().tolist() == [1.0, 1.0, -3.0, 1.0]
    assert gk.ravel().tolist() == [2.0, 4.0]
    assert gb.tolist() == [2.0]
    # Stride 2: the output gradient is dilated to [1, 0, 2] before the flipped-kernel conv.
    gx, gk, _ = conv_backward(x, kernel, jnp.array([1.0, 2.0]).reshape(1, 2, 1), strides=2,
                              padding="VALID")
    assert gx.ravel().tolist() == [1.0, -1.0, 2.0, -2.0]
    assert gk.ravel().tolist() == [7.0, 10.0]


def test_circular_input_gradient_folds_the_border_back():
    # 1-wide kernel of ones, window 3, CIRCULAR: every input is read by exactly 3 windows.
    x = jnp.arange(4.0).reshape(1, 4, 1)
    gx, gk, _ = conv_backward(x, jnp.ones((3, 1, 1)), jnp.ones((1, 4, 1)), padding="CIRCULAR")
    assert gx.ravel().tolist() == [3.0, 3.0, 3.0, 3.0]
    assert gk.ravel().tolist() == [6.0, 6.0, 6.0]  # each tap sees every input once: 0+1+2+3


def test_max_pool_worked_example_routes_ties_to_the_first():
    g = jnp.array([[10.0, 20.0], [30.0, 40.0]]).reshape(1, 2, 2, 1)
    expected = [[0, 10, 20, 0], [0, 0, 0, 0], [0, 30, 40, 0], [0, 0, 0, 0]]
    assert max_pool_backward(TIED, g, 2)[0, ..., 0].tolist() == expected
    _, vjp = jax.vjp(lambda x: ops.max_pool(x, 2), jnp.asarray(TIED))
    assert vjp(g)[0][0, ..., 0].tolist() == expected  # JAX's autodiff breaks ties the same way
    spread = avg_pool_backward(TIED, g, 2)[0, ..., 0]
    assert spread.tolist() == [[2.5, 2.5, 5, 5], [2.5, 2.5, 5, 5], [7.5, 7.5, 10, 10],
                               [7.5, 7.5, 10, 10]]


def test_max_pool_tie_rule_matches_autodiff_on_constant_overlapping_windows():
    x = jnp.ones((1, 3, 3, 1))  # four overlapping 2x2 windows, every value tied
    g = jnp.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 2, 2, 1)
    _, vjp = jax.vjp(lambda x: ops.max_pool(x, 2, 1), x)
    got = max_pool_backward(x, g, 2, 1)
    np.testing.assert_array_equal(got, vjp(g)[0])
    assert got[0, ..., 0].tolist() == [[1, 2, 0], [3, 4, 0], [0, 0, 0]]  # each window's top-left


def test_avg_pool_count_include_pad():
    x, g = jnp.ones((1, 3, 1)), jnp.ones((1, 3, 1))
    with_pad = avg_pool_backward(x, g, 3, 1, "SAME")[0, :, 0]
    without = avg_pool_backward(x, g, 3, 1, "SAME", count_include_pad=False)[0, :, 0]
    np.testing.assert_allclose(with_pad, [2 / 3, 1.0, 2 / 3], rtol=1e-6)
    np.testing.assert_allclose(without, [1 / 2 + 1 / 3, 1 + 1 / 3, 1 / 2 + 1 / 3], rtol=1e-6)


def test_dense_backward_any_leading_shape():
    x, kernel = jnp.arange(12.0).reshape(2, 3, 2), jnp.ones((2, 4))
    gx, gk, gb = dense_backward(x, kernel, jnp.ones((2, 3, 4)))
    assert gx.shape == (2, 3, 2) and gx.ravel().tolist() == [4.0] * 12
    assert gk.tolist() == [[30.0] * 4, [36.0] * 4]  # column sums of x: 0+2+..+10, 1+3+..+11
    assert gb.tolist() == [6.0] * 4


def test_locally_connected_with_tiled_kernel_matches_conv_backward():
    """Tiling one conv kernel over the positions gives the conv's gradients (kernel summed)."""
    key = jax.random.PRNGKey(1)
    x, kernel, g = (jax.random.normal(k, s) for k, s in
                    zip(jax.random.split(key, 3), [(2, 6, 2), (3, 2, 3), (2, 3, 3)]))
    tiled = jnp.broadcast_to(kernel, (3, 3, 2, 3))  # (positions, window, C, F)
    settings = dict(strides=2, padding="CIRCULAR", precision="highest")
    lx, lk, lb = locally_connected_backward(x, tiled, g, **settings)
    cx, ck, cb = conv_backward(x, kernel, g, **settings)
    np.testing.assert_allclose(lx, cx, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(lk.sum(axis=0), ck, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(lb.sum(axis=0), cb, rtol=1e-5, atol=1e-5)
    shared = locally_connected_backward(x, tiled, g, bias_per_position=False, **settings)[2]
    assert lb.shape == (3, 3) and shared.shape == (3,)


def test_agrees_with_autodiff():
    # The quick grid (each op's hardest features); `jaxconv backprop check` runs the full one.
    report = backprop_check.check_all(quick=True)
    assert [row["op"] for row in report["ops"]] == [
        "dense", "local", "regional", "conv", "max_pool", "avg_pool"]
    for row in report["ops"]:
        assert row["ok"] and row["max_rel_error"] <= backprop_check.TOLERANCE, row


def test_the_grid_is_the_kind_records_and_the_pools():
    full, quick = backprop_check.grid(), backprop_check.grid(quick=True)
    for kind in kinds.registered():
        assert full[kind.name] == list(kind.backward_configs)
        assert quick[kind.name] == [kind.backward_configs[i] for i in kind.backward_quick]
    assert full["max_pool"] == check.POOL_CONFIGS["max_pool"]
    assert [len(c) for c in quick.values()] == [1, 1, 1, 2, 2, 1]
    assert [len(c) for c in full.values()] == [2, 5, 4, 10, 7, 5]


def test_cli_check_prints_one_row_per_op(monkeypatch, capsys):
    # --quick: the grid test_agrees_with_autodiff checks (in this file, so one worker compiles it
    # once); the full grid runs in the docs' `jaxconv backprop check`.
    assert main(["backprop", "check", "--quick", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tolerance"] == 1e-5
    quick = backprop_check.grid(quick=True)
    assert [row["op"] for row in report["ops"]] == list(quick)
    assert [row["configs"] for row in report["ops"]] == [len(c) for c in quick.values()]
    assert all(row["ok"] for row in report["ops"])
    monkeypatch.setattr(backprop_check, "TOLERANCE", -1.0)  # nothing can pass: exit status 1
    assert main(["backprop", "check", "--quick"]) == 1
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 1 + len(quick) and table[1].split()[:2] == ["dense", "1"]
    assert [line.split()[0] for line in table[1:]] == list(quick)
    assert all(line.endswith("NO") for line in table[1:])


def test_every_configuration_of_the_full_grid_traces():
    # The full grid runs in `jaxconv backprop check`, not here: trace each configuration (no
    # compiling) so that a grid the ops no longer accept fails a test, not the docs' command.
    spec = lambda shape: jax.ShapeDtypeStruct(shape, jnp.float32)  # noqa: E731
    for kind in kinds.registered():
        for config in kind.backward_configs:
            x, k, b, settings, only = backprop_check.case(kind, config)
            y = jax.eval_shape(partial(kind.op, **settings), spec(x), spec(k), spec(b))
            grads = jax.eval_shape(partial(kind.backward, **settings, **only), spec(x), spec(k),
                                   spec(y.shape))
            assert [g.shape for g in grads] == [x, k, b], (kind, config)
    for op, configs in check.POOL_CONFIGS.items():
        for config in configs:
            cfg = dict(config)
            x = cfg.pop("x")
            assert jax.eval_shape(partial(getattr(ops, op), **cfg), spec(x)).ndim == len(x)


def test_three_dims_and_dilation_agree_with_autodiff():
    row = backprop_check.check_op("conv", [kinds.get("conv").backward_configs[9]])
    assert row["ok"], row


def test_relative_error():
    assert check.relative_error([1.0, 2.0], [1.0, 4.0]) == 0.5
    assert check.relative_error([0.0], [0.0]) == 0.0
    with pytest.raises(ValueError, match=r"relative_error: shapes differ, got \(2,\) and \(3,\)"):
        check.relative_error([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"check_op: `op` must be one of dense, local, regional, "
                                         r"conv, max_pool, avg_pool, got op='pool'"):
        backprop_check.check_op("pool")
    with pytest.raises(TypeError, match=r"check_op: `seed` must be an int, got seed='0'"):
        backprop_check.check_op("dense", seed="0")


class ShiftedLocalKind(kinds.LocalKind):
    """A kind from outside with a backward pass: its record's grid is what the check runs."""

    name = "shifted_local"
    order = 12
    regional_form = None
    backward_configs = (dict(x=(1, 5, 2), window=(2,), features=2, strides=2, padding=((1, 0),),
                             bias_per_position=False),)
    backward_quick = (0,)


class NoBackwardKind(kinds.LocalKind):
    name = "no_backward"
    regional_form = None

    @property
    def backward(self):
        return None


def test_a_kind_registered_from_outside_is_checked_by_its_record():
    kinds.register(ShiftedLocalKind())
    kinds.register(NoBackwardKind())
    try:
        quick = backprop_check.grid(quick=True)
        assert list(quick)[:3] == ["dense", "local", "shifted_local"] and "no_backward" not in quick
        row = backprop_check.check_op("shifted_local")
        assert row == {"op": "shifted_local", "configs": 1, "max_rel_error": row["max_rel_error"],
                       "ok": True}
    finally:
        kinds.unregister("shifted_local")
        kinds.unregister("no_backward")
    assert "shifted_local" not in backprop_check.grid()
