"""jaxconv.backend.xla_cpu: the CPU library options take effect, "auto" reads the program, same numbers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxconv import ops
from jaxconv.backend import xla_cpu

EIGEN = all(xla_cpu.available(lib) for lib in xla_cpu.LIBRARIES)
needs_eigen = pytest.mark.skipif(not EIGEN, reason="this jaxlib has no YNNPACK option")

X = jnp.asarray(np.random.default_rng(0).normal(size=(2, 6, 6, 3)), jnp.float32)
CONV_K = jnp.asarray(np.random.default_rng(1).normal(size=(3, 3, 3, 4)), jnp.float32)
LOCAL_K = jnp.asarray(np.random.default_rng(2).normal(size=(4, 4, 3, 3, 3, 5)), jnp.float32)
LOCAL_B = jnp.zeros((4, 4, 5), jnp.float32)
DENSE_W = jnp.asarray(np.random.default_rng(3).normal(size=(108, 7)), jnp.float32)


def conv(k, x):
    return ops.conv(x, k, None)


def dense(w, x):
    return ops.dense(x.reshape(len(x), -1), w, None)


def local(k, x, implementation="patches"):
    return ops.locally_connected(x, k, LOCAL_B, implementation=implementation)


def spec(*shape):
    return jax.ShapeDtypeStruct(shape, jnp.float32)


def test_large_products_counts_multiply_adds_per_batch_element():
    bmm = lambda a, b: jnp.einsum("bij,bjk->bik", a, b)  # noqa: E731
    # 64 * 64 * 64 = 2**18 multiply-adds per batch element, from shapes alone.
    assert xla_cpu.large_products(bmm, spec(2, 64, 64), spec(2, 64, 64), macs=2**18)
    assert not xla_cpu.large_products(bmm, spec(2, 64, 64), spec(2, 64, 64), macs=2**18 + 1)
    assert not xla_cpu.large_products(bmm, spec(2, 64, 64), spec(2, 64, 64))  # 2**21 default
    assert xla_cpu.large_products(bmm, spec(2, 4, 4), spec(2, 4, 4), macs=64)
    # Plain products and convolutions have no batch dimension.
    assert not xla_cpu.large_products(dense, DENSE_W, X, macs=1)
    assert not xla_cpu.large_products(conv, CONV_K, X, macs=1)
    # One product per output position: (N=2) x (27) x (5) multiply-adds each.
    assert xla_cpu.large_products(local, LOCAL_K, X, macs=270)
    assert not xla_cpu.large_products(local, LOCAL_K, X, macs=271)
    # Found inside nested calls, branches and under differentiation.
    assert xla_cpu.large_products(jax.jit(local), LOCAL_K, X, macs=270)
    assert xla_cpu.large_products(
        lambda k, x: jax.lax.cond(True, local, lambda k, x: jnp.zeros((2, 4, 4, 5)), k, x),
        LOCAL_K, X, macs=270)
    assert xla_cpu.large_products(jax.grad(lambda k, x: local(k, x, "taps").sum()), LOCAL_K, X,
                                  macs=1) is False  # taps: sums, not products, at this shape


@needs_eigen
def test_auto_resolves_by_program():
    bmm = lambda a, b: jnp.einsum("bij,bjk->bik", a, b)  # noqa: E731
    big = spec(2, 128, 128)  # 128**3 = 2**21 multiply-adds per batch element
    assert xla_cpu.resolve("auto", bmm, big, big) == "eigen-dot"
    assert xla_cpu.resolve("auto", conv, CONV_K, X) == "eigen-conv"
    assert xla_cpu.resolve("auto", lambda k, a, b: (conv(k, X), bmm(a, b)), CONV_K, big,
                           big) == "eigen-conv-dot"
    assert xla_cpu.resolve("auto", dense, DENSE_W, X) == "xla"
    assert xla_cpu.resolve("auto", local, LOCAL_K, X) == "xla"  # small per-position products
    # Window sums: the tiling "reshape" layer names them (jaxconv.names.WINDOW_SUMS_SCOPE).
    tiling_k = jnp.ones((3, 3, 2, 2, 3, 5))
    tiling = lambda k, x: ops.locally_connected(x, k, None, strides=2)  # noqa: E731
    assert xla_cpu.resolve("auto", jax.grad(lambda k, x: tiling(k, x).sum()), tiling_k, X) == (
        "eigen-reduce")
    assert xla_cpu.resolve("auto", tiling, tiling_k, X) == "xla"  # its forward pass: "taps"

    def marked(a, b):
        with xla_cpu.reductions_in_eigen():
            s = jnp.sum(a, axis=0)
        return bmm(s, b)

    assert xla_cpu.resolve("auto", marked, spec(4, 2, 128, 128), big) == "eigen-dot-reduce"
    assert [xla_cpu.resolve(lib) for lib in xla_cpu.LIBRARIES[1:]] == list(xla_cpu.LIBRARIES[1:])
    step = xla_cpu.jit(bmm)
    a = jnp.ones((2, 128, 128))
    assert step.library(a, a) == "eigen-dot" and step(a, a).shape == (2, 128, 128)
    assert xla_cpu.jit(conv).library(CONV_K, X) == "eigen-conv"


@needs_eigen
def test_options_move_operations_out_of_ynnpack():
    def ynn_fusions(fn, args, library):
        options = xla_cpu.compiler_options(library)
        return jax.jit(fn).lower(*args).compile(compiler_options=options).as_text().count(
            "__ynn_fusion")

    # Compiled, never run: a convolution large enough for XLA to hand it to YNNPACK.
    conv_args = (spec(3, 3, 32, 64), spec(2, 14, 14, 32))
    if ynn_fusions(conv, conv_args, "xla") == 0:
        pytest.skip("this jaxlib keeps convolutions out of YNNPACK anyway")
    for library in ("eigen-conv", "eigen-conv-dot", "eigen"):
        assert ynn_fusions(conv, conv_args, library) == 0
    assert ynn_fusions(conv, conv_args, "eigen-dot") == ynn_fusions(conv, conv_args, "xla")

    def grads(w, b, x):  # two products and a reduction (the bias gradient)
        return jax.grad(lambda w, b: jnp.sum(ops.dense(x, w, b) ** 2), argnums=(0, 1))(w, b)

    dense_args = (spec(512, 256), spec(256), spec(64, 512))
    default = ynn_fusions(grads, dense_args, "xla")
    assert default >= 2
    assert 0 < ynn_fusions(grads, dense_args, "eigen-reduce") < default  # the products stay
    assert ynn_fusions(grads, dense_args, "eigen-conv-reduce") < default
    assert ynn_fusions(grads, dense_args, "eigen-conv") == default
    assert 0 < ynn_fusions(grads, dense_args, "eigen-dot") < default  # the reduction stays
    assert ynn_fusions(grads, dense_args, "eigen") == 0
    assert "__ynn_fusion" not in xla_cpu.jit(conv, library="eigen").lower(*conv_args).compile(
    ).as_text()


def test_options_are_empty_where_they_change_nothing(monkeypatch):
    assert xla_cpu.compiler_options("xla") == {}
    assert xla_cpu.compiler_options("eigen", backend="gpu") == {}
    assert xla_cpu.compiler_options("eigen-conv", backend="tpu") == {}
    assert xla_cpu.available("xla")
    monkeypatch.setattr(xla_cpu, "available", lambda library: library == "xla")
    assert xla_cpu.compiler_options("eigen") == {}
    assert xla_cpu.resolve("auto", conv, CONV_K, X) == "xla"
    assert type(xla_cpu.jit(conv)) is type(jax.jit(conv))


def test_eigen_unavailable_on_a_jax_without_compiler_options(monkeypatch):
    def old_jit(fun, *, static_argnums=None):  # jax.jit before it took compiler_options
        return fun

    xla_cpu.available.cache_clear()
    monkeypatch.setattr(xla_cpu.jax, "jit", old_jit)
    try:
        assert xla_cpu.available("eigen") is False
        assert xla_cpu.available("xla") is True
    finally:
        monkeypatch.undo()
        xla_cpu.available.cache_clear()


# "eigen" moves every kind and "eigen-conv" one; the other subsets are the same mechanism (and
# their option strings are checked above), so they are not compiled again here.
@pytest.mark.parametrize("library", ["auto", "eigen-conv", "eigen"])
def test_libraries_give_the_same_numbers(library):
    cases = [(conv, CONV_K), (dense, DENSE_W), (local, LOCAL_K),
             (lambda k, x: local(k, x, "taps"), LOCAL_K)]
    for fn, param in cases:
        def loss(p, x, fn=fn):
            return jnp.sum(jnp.sin(fn(p, x)))

        want = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))(param, X)
        got = xla_cpu.jit(jax.value_and_grad(loss, argnums=(0, 1)), library=library)(param, X)
        # Eigen and YNNPACK sum in different orders: float32 rounding, relative to the array's
        # largest entry (an input gradient sums terms of both signs).
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * float(np.max(np.abs(b))))


def test_jit_passes_jax_jit_arguments_through():
    def f(k, x, twice, *, relu=False):  # static arguments steer Python control flow
        y = conv(k, x) * (2 if twice else 1)
        return jax.nn.relu(y) if relu else y

    step = xla_cpu.jit(f, static_argnums=2, static_argnames="relu")
    np.testing.assert_allclose(step(CONV_K, X, True), 2 * conv(CONV_K, X), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(step(CONV_K, X, False, relu=True),
                               jax.nn.relu(conv(CONV_K, X)), rtol=1e-5, atol=1e-5)
    assert step.lower(CONV_K, X, True).compile() is not None
    fresh = xla_cpu.jit(f, static_argnames=("relu",), static_argnums=(2,))
    assert fresh.lower(CONV_K, X, True, relu=True).compile() is not None  # lower decides too
    if EIGEN:
        assert step.library() == fresh.library() == "eigen-conv"  # decided: no arguments needed


def test_errors_name_the_argument_and_value():
    with pytest.raises(ValueError, match=r"compiler_options: `library` must be one of auto, "
                                         r"xla, eigen-conv, eigen-dot, eigen-reduce, "
                                         r"eigen-conv-dot, eigen-conv-reduce, "
                                         r"eigen-dot-reduce, eigen, got library='mkl'"):
        xla_cpu.compiler_options("mkl")
    with pytest.raises(ValueError, match=r"compiler_options: `library` 'auto' depends on the "
                                         r"program: pass xla_cpu.resolve\('auto', fn, \*args\)"):
        xla_cpu.compiler_options("auto")
    with pytest.raises(ValueError, match=r"resolve: `library` 'auto' needs the program: pass fn "
                                         r"and its arguments, got fn=None"):
        xla_cpu.resolve("auto")
    with pytest.raises(TypeError, match=r"resolve: `library` must be one of .* got library=3"):
        xla_cpu.resolve(3)
    with pytest.raises(ValueError, match=r"jit: `library` must be one of .* got library='YNN'"):
        xla_cpu.jit(conv, library="YNN")
    with pytest.raises(ValueError, match=r"available: `library` must be one of .* got "
                                         r"library='ynn'"):
        xla_cpu.available("ynn")
    with pytest.raises(TypeError, match=r"jit: `fn` must be callable, got int"):
        xla_cpu.jit(3)
    with pytest.raises(ValueError, match=r"jit: `library` sets the compiler options; pass "
                                         r"jax.jit directly to set your own, got "
                                         r"compiler_options=\{\}"):
        xla_cpu.jit(conv, compiler_options={})


def test_info_lists_the_cpu_libraries(capsys):
    import json

    from jaxconv.cli import main

    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["backend"] == "cpu"
    expected = [lib for lib in xla_cpu.LIBRARIES[1:] if xla_cpu.available(lib)]
    assert info["cpu_libraries"] == expected
    assert main(["info"]) == 0
    assert "cpu_libraries" in capsys.readouterr().out


def test_the_vocabulary_spells_the_librarys_choices():
    from jaxconv import names

    assert names.CPU_LIBRARIES == xla_cpu.LIBRARIES


def test_the_ops_know_nothing_of_xla_cpu():
    """The ops name their window sums with a scope from jaxconv.names; xla_cpu reads the name."""
    import ast
    import pathlib

    import jaxconv

    root = pathlib.Path(jaxconv.__file__).parent
    files = [*sorted((root / "ops").rglob("*.py")), *sorted((root / "layers").glob("*.py"))]
    assert len(files) > 10  # the folders are where the ops and layers live
    for path in files:
        name = str(path.relative_to(root))
        tree = ast.parse(path.read_text())
        imported = {alias.name for node in ast.walk(tree)
                    if isinstance(node, (ast.Import, ast.ImportFrom))
                    for alias in node.names} | {node.module for node in ast.walk(tree)
                                                if isinstance(node, ast.ImportFrom)}
        assert not {"xla_cpu", "jaxconv.backend.xla_cpu"} & imported, name
    assert xla_cpu._REDUCE_MARK == jaxconv.names.WINDOW_SUMS_SCOPE


def test_each_choice_keeps_the_other_kinds_in_ynnpack():
    kinds = {"conv": "INDIVIDUAL_CONVOLUTION", "dot": "INDIVIDUAL_DOT", "reduce": "REDUCE"}
    for library in xla_cpu.LIBRARIES[2:]:
        moved = set(kinds) if library == "eigen" else set(library.split("-")[1:])
        assert moved <= set(kinds), library
        option = xla_cpu.compiler_options(library, backend="cpu")
        if not option:  # a jaxlib without the option
            continue
        kept = option["xla_cpu_experimental_ynn_fusion_type"].split(",") if option[
            "xla_cpu_experimental_ynn_fusion_type"] else []
        assert sorted(kept) == sorted(f"LIBRARY_FUSION_TYPE_{kinds[k]}" for k in kinds
                                      if k not in moved), library
    assert len(set(xla_cpu.LIBRARIES)) == 9


def test_usable_choices():
    assert xla_cpu.usable(backend="gpu") == ("xla",)
    assert xla_cpu.usable(backend="cpu") == (xla_cpu.LIBRARIES[1:] if EIGEN else ("xla",))
