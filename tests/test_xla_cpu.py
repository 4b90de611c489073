"""jaxconv.xla_cpu: the CPU library option takes effect, "auto" reads the program, same numbers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxconv import ops, xla_cpu

EIGEN = xla_cpu.eigen_available()
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


def test_uses_products_finds_convolutions_and_batched_products():
    assert xla_cpu.uses_products(conv, CONV_K, X)
    assert not xla_cpu.uses_products(dense, DENSE_W, X)
    assert xla_cpu.uses_products(local, LOCAL_K, X)  # one product per output position
    # Elementwise taps have no product in the forward pass...
    assert not xla_cpu.uses_products(lambda k, x: local(k, x, "taps"), LOCAL_K, X)
    # ... and products show up inside nested calls and under differentiation.
    assert xla_cpu.uses_products(jax.jit(conv), CONV_K, X)
    assert xla_cpu.uses_products(
        lambda k, x: jax.lax.cond(True, conv, lambda k, x: jnp.zeros((2, 6, 6, 4)), k, x),
        CONV_K, X)
    assert xla_cpu.uses_products(jax.grad(lambda k, x: local(k, x).sum()), LOCAL_K, X)
    # Shapes are enough: nothing is computed.
    assert xla_cpu.uses_products(conv, jax.ShapeDtypeStruct(CONV_K.shape, jnp.float32),
                                 jax.ShapeDtypeStruct(X.shape, jnp.float32))


@needs_eigen
def test_auto_resolves_by_program():
    assert xla_cpu.resolve("auto", conv, CONV_K, X) == "eigen"
    assert xla_cpu.resolve("auto", dense, DENSE_W, X) == "xla"
    assert xla_cpu.resolve("eigen") == "eigen" and xla_cpu.resolve("xla") == "xla"
    step = xla_cpu.jit(conv)
    assert step.library(CONV_K, X) == "eigen"
    assert xla_cpu.jit(dense).library(DENSE_W, X) == "xla"


@needs_eigen
def test_eigen_option_keeps_products_out_of_ynnpack():
    lowered = jax.jit(conv).lower(CONV_K, X)
    eigen = lowered.compile(compiler_options=xla_cpu.compiler_options("eigen")).as_text()
    assert "__ynn_fusion" not in eigen and "convolution(" in eigen
    assert "__ynn_fusion" not in xla_cpu.jit(conv, library="eigen").lower(CONV_K, X).compile(
    ).as_text()


def test_options_are_empty_where_they_change_nothing(monkeypatch):
    assert xla_cpu.compiler_options("xla") == {}
    assert xla_cpu.compiler_options("eigen", backend="gpu") == {}
    assert xla_cpu.compiler_options("eigen", backend="tpu") == {}
    monkeypatch.setattr(xla_cpu, "eigen_available", lambda: False)
    assert xla_cpu.compiler_options("eigen") == {}
    assert xla_cpu.resolve("auto", conv, CONV_K, X) == "xla"
    assert type(xla_cpu.jit(conv)) is type(jax.jit(conv))


def test_eigen_unavailable_on_a_jax_without_compiler_options(monkeypatch):
    def old_jit(fun, *, static_argnums=None):  # jax.jit before it took compiler_options
        return fun

    xla_cpu.eigen_available.cache_clear()
    monkeypatch.setattr(xla_cpu.jax, "jit", old_jit)
    try:
        assert xla_cpu.eigen_available() is False
    finally:
        monkeypatch.undo()
        xla_cpu.eigen_available.cache_clear()


@pytest.mark.parametrize("library", ["auto", "xla", "eigen"])
def test_every_library_gives_the_same_numbers(library):
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
    step = xla_cpu.jit(lambda k, x, scale: conv(k, x) * scale, static_argnums=(2,))
    np.testing.assert_allclose(step(CONV_K, X, 2), 2 * conv(CONV_K, X), rtol=1e-5, atol=1e-5)
    assert step.lower(CONV_K, X, 2).compile() is not None


def test_errors_name_the_argument_and_value():
    with pytest.raises(ValueError, match=r"compiler_options: `library` must be one of 'auto', "
                                         r"'xla', 'eigen', got library='mkl'"):
        xla_cpu.compiler_options("mkl")
    with pytest.raises(ValueError, match=r"compiler_options: `library` 'auto' depends on the "
                                         r"program: pass xla_cpu.resolve\('auto', fn, \*args\)"):
        xla_cpu.compiler_options("auto")
    with pytest.raises(ValueError, match=r"resolve: `library` 'auto' needs the program: pass fn "
                                         r"and its arguments, got fn=None"):
        xla_cpu.resolve("auto")
    with pytest.raises(ValueError, match=r"resolve: `library` must be one of .* got library=3"):
        xla_cpu.resolve(3)
    with pytest.raises(ValueError, match=r"jit: `library` must be one of .* got library='YNN'"):
        xla_cpu.jit(conv, library="YNN")
    with pytest.raises(TypeError, match=r"jit: `fn` must be callable, got int"):
        xla_cpu.jit(3)
    with pytest.raises(ValueError, match=r"jit: `library` sets the compiler options; pass "
                                         r"jax.jit directly to set your own, got "
                                         r"compiler_options=\{\}"):
        xla_cpu.jit(conv, compiler_options={})
