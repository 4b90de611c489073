"""Older jax, jaxlib, flax and optax: what jaxconv does where a newer one has a feature it lacks.

The declared floors (pyproject.toml) run in CI's floors job (.ci/floors), where these fallbacks are
the code paths taken; here, on the newest versions, each is forced by hiding the feature.
"""

import ast
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxconv
from jaxconv.ops import _checks
from jaxconv.train import host_init, state

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_out_sharding_is_passed_only_when_given(monkeypatch):
    # jax before 0.5.0 (dot_general) and 0.7.2 (conv_general_dilated) has no out_sharding.
    monkeypatch.setattr(_checks, "_takes_out_sharding", lambda primitive: False)
    x, k = jnp.ones((2, 3)), jnp.ones((3, 4))
    np.testing.assert_array_equal(jaxconv.dense(x, k), jnp.full((2, 4), 3.0))
    assert jaxconv.conv(jnp.ones((1, 5, 1)), jnp.ones((3, 1, 2))).shape == (1, 5, 2)
    with pytest.raises(TypeError, match=rf"dense: `out_sharding` needs a jax whose "
                                        rf"lax.dot_general takes it \(this is jax "
                                        rf"{jax.__version__}\), got out_sharding='x'"):
        jaxconv.dense(x, k, out_sharding="x")
    with pytest.raises(TypeError, match=r"conv: `out_sharding` needs a jax whose "
                                        r"lax.conv_general_dilated takes it"):
        jaxconv.conv(jnp.ones((1, 5, 1)), jnp.ones((3, 1, 2)), out_sharding="x")


def test_one_off_programs_compile_as_jit_does_without_compiler_options(monkeypatch):
    # jax.jit takes compiler_options from jax 0.4.36 on; before, a one-off program is plain jit.
    seen = []
    real_jit = jax.jit

    def double(a):
        return a * 2

    def triple(a):
        return a * 3

    def spy(fn, **kwargs):
        if fn in (double, triple):  # (a thread an earlier test left may be compiling)
            seen.append(kwargs)
        return real_jit(fn, **kwargs) if fn not in (double, triple) else real_jit(fn)

    monkeypatch.setattr(jax, "jit", spy)
    monkeypatch.setattr(host_init, "_jit_takes_options", lambda: False)
    assert host_init.one_off_options() is None
    assert float(host_init.one_off_jit(double)(jnp.ones(()))) == 2.0
    monkeypatch.setattr(host_init, "_jit_takes_options", lambda: True)
    host_init.one_off_jit(triple)
    assert seen[0] == {}
    assert seen[1] == ({"compiler_options": host_init._ONE_OFF}
                       if jax.default_backend() == "cpu" else {})


def test_the_parameter_norm_is_optax_s_or_its_older_name():
    # optax.tree.norm from optax 0.2.5 on, optax.tree_utils.tree_l2_norm before.
    tree = {"a": jnp.array([3.0]), "b": {"c": jnp.array([[4.0]])}}
    assert float(state.tree_norm(tree)) == 5.0
    newer = getattr(getattr(optax, "tree", None), "norm", None)
    assert state.tree_norm is (newer or optax.tree_utils.tree_l2_norm)


def test_an_xla_option_this_jaxlib_does_not_know_is_no_library_and_no_abort():
    # A CPU-library choice is a compiler option; a jaxlib that does not know it refuses the
    # compile with an error, which `available` reads as "not here". The process goes on.
    code = ("from jaxconv.backend import xla_cpu\n"
            "xla_cpu._OPTIONS['eigen'] = {'xla_no_such_option_in_any_jaxlib': 'x'}\n"
            "print(xla_cpu.available('eigen'), xla_cpu.compiler_options('eigen', 'cpu'))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env={"JAX_PLATFORMS": "cpu", "PATH": ""})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["False", "{}"]


def test_jaxconv_sets_no_xla_flags():
    # XLA_FLAGS is parsed once per process and an unknown flag there aborts it (a fatal log in
    # XLA, no exception): the library and the viewer only pass per-program compiler options.
    found = []
    for top in ("jaxconv", "viewer"):
        for path in (ROOT / top).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if _writes_xla_flags(node):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found


def _is_flags(node) -> bool:
    return isinstance(node, ast.Constant) and node.value == "XLA_FLAGS"


def _writes_xla_flags(node) -> bool:
    """``environ["XLA_FLAGS"] = ...`` (or ``+=``, ``del``), ``environ.setdefault("XLA_FLAGS",
    ...)``, ``putenv``, ``update(XLA_FLAGS=...)``; reading it (a stored program's key) is fine."""
    targets = (node.targets if isinstance(node, (ast.Assign, ast.Delete))
               else [node.target] if isinstance(node, ast.AugAssign) else [])
    if any(isinstance(t, ast.Subscript) and _is_flags(t.slice) for t in targets):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
            "setdefault", "putenv", "update", "pop", "__setitem__"):
        return (any(_is_flags(a) for a in node.args)
                or any(k.arg == "XLA_FLAGS" for k in node.keywords))
    return False


def test_every_dependency_is_a_floor_and_the_floors_job_reads_them():
    proc = subprocess.run([sys.executable, str(ROOT / ".ci" / "floors.py"),
                           str(ROOT / "pyproject.toml")], capture_output=True, text=True,
                          check=True)
    pins = dict(line.split("==") for line in proc.stdout.split())
    for name in ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "numpy", "scikit-learn",
                 "PyQt6", "pyqtgraph"):
        assert name in pins, name
    assert pins["PyQt6-Qt6"] == ".".join(pins["PyQt6"].split(".")[:2]) + ".*"
    assert pins["jax"] == pins["jaxlib"]
