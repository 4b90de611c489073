"""Every locally-connected implementation against the numpy oracle, under jit and autodiff.

Tiny shapes only: each (implementation, geometry) pair compiles. The "auto" rule is tested as a
table of shapes -> names, so the bench's report of what auto picked can be trusted.
"""

import jax
import jax.numpy as jnp
import numpy as np
import oracle
import pytest
from jax.test_util import check_grads

import jaxconv
from jaxconv import shapes
from jaxconv.ops._bias import add_bias, add_bias_by_ones
from jaxconv.ops._local_impl import choose_implementation, tiles_exactly

RNG = np.random.default_rng(6)
HI = "highest"


def randn(*shape):
    return jnp.asarray(RNG.standard_normal(shape), jnp.float32)


# (input shape, window, strides, dilation, padding, features)
GEOMETRIES = [
    ((2, 7, 2), 3, 2, 1, "SAME", 3),
    ((2, 6, 5, 2), (3, 2), (1, 2), (2, 1), "VALID", 2),
    ((1, 5, 5, 1), 3, 1, 1, "CIRCULAR", 2),
    ((2, 5, 6, 3), 2, 2, 1, ((1, 0), (2, 1)), 2),
    ((1, 4, 3, 4, 2), 2, 1, 1, "SAME", 2),
    ((2, 7, 8, 2), (3, 4), (3, 4), 1, "VALID", 2),   # windows tile: "reshape" applies
    ((1, 5, 2), 2, 2, 1, "SAME", 1),                 # 1-D tiling, padded
    ((1, 4, 4, 4, 1), 2, 2, 1, "VALID", 3),          # 3-D tiling
]


def _case(spec):
    shape, window, strides, dilation, padding, features = spec
    geom = shapes.geometry("t", shape[1:-1], window, strides=strides, padding=padding,
                           dilation=dilation)
    x = randn(*shape)
    kernel = randn(*geom.out_spatial, *geom.window, shape[-1], features)
    kw = {"strides": strides, "padding": padding, "dilation": dilation}
    return geom, x, kernel, kw


def _impls(geom):
    return ["patches", "taps"] + (["reshape"] if tiles_exactly(geom) else [])


@pytest.mark.parametrize("spec", GEOMETRIES, ids=lambda s: f"{s[0]}-{s[4]}")
def test_every_implementation_matches_oracle(spec):
    geom, x, kernel, kw = _case(spec)
    pos_bias, shared_bias = randn(*geom.out_spatial, kernel.shape[-1]), randn(kernel.shape[-1])
    for impl in _impls(geom):
        for bias in (pos_bias, shared_bias):
            want = oracle.local(x, kernel, bias, geom.strides, geom.dilation, geom.pads,
                                geom.circular)
            f = jax.jit(lambda a, k, b, impl=impl: jaxconv.locally_connected(
                a, k, b, precision=HI, implementation=impl, **kw))
            np.testing.assert_allclose(f(x, kernel, bias), want, rtol=1e-5, atol=1e-5,
                                       err_msg=impl)
        eager = jaxconv.locally_connected(x, kernel, precision=HI, implementation=impl, **kw)
        np.testing.assert_allclose(eager, want - np.asarray(shared_bias), rtol=1e-5, atol=1e-5)


def _grads(impl, x, kernel, bias, kw):
    """Gradients of sum(sin(layer)) for input, kernel and bias, with implementation ``impl``."""
    loss = lambda a, k, b: jnp.sum(jnp.sin(  # noqa: E731
        jaxconv.locally_connected(a, k, b, precision=HI, implementation=impl, **kw)))
    return jax.jit(jax.grad(loss, argnums=(0, 1, 2)))(x, kernel, bias)


# "taps" differentiates three ways: as "reshape" when windows tile, elementwise with few features,
# and by products over positions-first patches with more than 8 features (the last spec).
@pytest.mark.parametrize("spec", [GEOMETRIES[1], GEOMETRIES[3], GEOMETRIES[5],
                                  ((2, 5, 5, 1), 3, 1, 1, "SAME", 9)],
                         ids=["dilated", "explicit", "tiling", "many-features"])
def test_gradients_agree_across_implementations(spec):
    geom, x, kernel, kw = _case(spec)
    bias = randn(*geom.out_spatial, kernel.shape[-1])

    want = _grads("patches", x, kernel, bias, kw)
    for impl in _impls(geom)[1:]:
        for got, ref in zip(_grads(impl, x, kernel, bias, kw), want):
            scale = float(jnp.max(jnp.abs(ref)))
            np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * scale, err_msg=impl)


@pytest.mark.parametrize("impl, strides, features", [
    ("patches", 1, 2), ("taps", 2, 2), ("taps", 1, 2), ("taps", 1, 9), ("reshape", 2, 2)])
def test_check_grads_forward_and_reverse(impl, strides, features):
    out = 2 if strides == 2 else 3
    x, bias = randn(1, 4, 4, 2), randn(out, out, features)
    kernel = randn(out, out, 2, 2, 2, features)
    f = lambda a, k, b: jaxconv.locally_connected(
        a, k, b, strides=strides, precision=HI, implementation=impl)
    check_grads(f, (x, kernel, bias), order=1, modes=["fwd", "rev"], atol=1e-2, rtol=1e-2)


@pytest.mark.parametrize("add", [add_bias, add_bias_by_ones])
def test_bias_gradient_is_the_sum_over_leading_axes(add):
    y, b = randn(3, 2, 4), randn(2, 4)
    g = randn(3, 2, 4)
    np.testing.assert_allclose(add(y, b), np.asarray(y) + np.asarray(b), rtol=1e-6)
    _, vjp = jax.vjp(add, y, b)
    dy, db = vjp(g)
    np.testing.assert_allclose(dy, g)
    np.testing.assert_allclose(db, np.asarray(g).sum(0), rtol=1e-6, atol=1e-6)
    # Forward mode and second order still work (a custom_jvp, not a custom_vjp).
    _, tangent = jax.jvp(add, (y, b), (jnp.zeros_like(y), jnp.ones_like(b)))
    np.testing.assert_allclose(tangent, np.ones((3, 2, 4)))
    h = jax.hessian(lambda bb: jnp.sum(jaxconv.dense(y[0], randn(4, 3), bb[:3]) ** 2))(b[0])
    assert h.shape == (4, 4)


@pytest.mark.parametrize("shape, window, strides, channels, features, want", [
    ((14, 14), 3, 1, 32, 64, "patches"),
    ((28, 28), 3, 1, 1, 32, "taps"),
    ((1000, 1000), 10, 10, 1, 1, "taps"),       # 100 terms, one feature
    ((1000, 1000), 10, 10, 1, 9, "patches"),    # 100 terms, more than 8 features
    ((8, 8), 2, 2, 4, 64, "taps"),              # 16 terms
    ((28, 28), 5, 1, 1, 9, "patches"),          # 25 terms, 9 features
    ((32, 32), 10, 1, 4, 8, "patches"),         # 400 > 300 terms: unrolling too long
])
def test_auto_rule(shape, window, strides, channels, features, want):
    geom = shapes.geometry("t", shape, window, strides=strides)
    assert choose_implementation(geom, channels, features, backend="cpu") == want
    # off the CPU: patch-free "taps" wherever its unrolled sum is short enough
    terms = geom.window_size * channels
    off = choose_implementation(geom, channels, features, backend="gpu")
    assert off == ("taps" if terms <= 300 else "patches")


def test_patch_free_taps_gradients_match_the_patches(monkeypatch):
    """The accelerator path (elementwise derivative with many features) on this CPU."""
    from jaxconv.ops import _local_impl

    geom, x, kernel, kw = _case(((2, 5, 5, 2), 3, 1, 1, "SAME", 9))
    bias = randn(*geom.out_spatial, kernel.shape[-1])

    want = _grads("patches", x, kernel, bias, kw)
    monkeypatch.setattr(_local_impl, "_backend", lambda: "gpu")
    jaxpr = str(jax.make_jaxpr(jax.grad(lambda k: jnp.sum(jaxconv.locally_connected(
        x, k, implementation="taps", **kw))))(kernel))
    assert "dot_general" not in jaxpr  # no product over a patch matrix
    for got, ref in zip(_grads("taps", x, kernel, bias, kw), want):
        scale = float(jnp.max(jnp.abs(ref)))
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * scale)


def test_implementation_errors():
    x, kernel = randn(1, 5, 5, 1), randn(3, 3, 3, 3, 1, 2)
    with pytest.raises(ValueError, match=r"locally_connected: `implementation` must be one of "
                                         r"auto, patches, taps, reshape, got implementation='fast'"):
        jaxconv.locally_connected(x, kernel, implementation="fast")
    with pytest.raises(TypeError, match=r"locally_connected: `implementation` must be a string"):
        jaxconv.locally_connected(x, kernel, implementation=None)
    with pytest.raises(ValueError, match=r"implementation='reshape' needs windows that tile the "
                                         r"input \(strides == window, dilation 1\), got window \(3, 3\)"):
        jaxconv.locally_connected(x, kernel, implementation="reshape")


@pytest.mark.parametrize("spec", GEOMETRIES, ids=lambda s: f"{s[0]}-{s[4]}")
def test_gathered_patches_equal_the_stack_of_slices(spec):
    # "patches" gathers its patch matrix when not differentiated and stacks slices under
    # differentiation: both must hold exactly the same values, and the derivative must be the
    # (linear) extraction of the tangent.
    from jaxconv.ops._local_impl import _stacked_patches, extract_patches

    geom, x, _, _ = _case(spec)
    gathered = jax.jit(extract_patches, static_argnums=1)(x, geom)
    np.testing.assert_array_equal(gathered, _stacked_patches(x, geom))
    dx = randn(*x.shape)
    _, tangent = jax.jvp(lambda v: extract_patches(v, geom), (x,), (dx,))
    np.testing.assert_array_equal(tangent, _stacked_patches(dx, geom))
    check_grads(lambda v: extract_patches(v, geom), (x,), order=1, modes=("rev",))


def _dots(jaxpr):
    """Every dot_general of a closed jaxpr, nested calls included."""
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "dot_general":
            yield eqn
        for value in eqn.params.values():
            for sub in (value if isinstance(value, (tuple, list)) else (value,)):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    yield from _dots(inner)


def test_differentiated_patches_never_contract_a_batch_minor_pair():
    # Under differentiation "patches" runs positions-first products: none contracts the batch
    # axis as the last axis of both operands (the batch-minor kernel gradient, which ran ~2x
    # slower). Its gradients equal the elementwise ones of "taps" with few features (the test
    # above takes "patches" as their reference); here the forward values under jvp also equal
    # the undifferentiated gather's.
    geom, x, kernel, kw = _case(((3, 5, 5, 2), 3, 1, 1, "VALID", 9))  # batch 3: no other axis
    f = lambda a, k: jaxconv.locally_connected(a, k, precision=HI, implementation="patches", **kw)
    jaxpr = jax.make_jaxpr(jax.grad(lambda a, k: jnp.sum(f(a, k) ** 2), argnums=(0, 1)))(x, kernel)
    dots = list(_dots(jaxpr.jaxpr))
    assert len(dots) >= 3  # forward, input and kernel gradients
    for eqn in dots:
        (lhs, rhs), _ = eqn.params["dimension_numbers"]
        a, b = (v.aval.shape for v in eqn.invars)
        minor_pair = tuple(lhs) == (len(a) - 1,) and tuple(rhs) == (len(b) - 1,)
        assert not (minor_pair and a[-1] == x.shape[0]), eqn
    y, _ = jax.jvp(f, (x, kernel), (x, kernel))
    np.testing.assert_allclose(y, jax.jit(f)(x, kernel), rtol=1e-5, atol=1e-5)
