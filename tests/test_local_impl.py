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


def _plain(x, kernel, geom):
    """The layer as one einsum over positions-first patches: what plain autodiff differentiates."""
    patches = jnp.stack([t for t in _taps(x, geom)], axis=3)  # (N, *out, taps, C)
    k = kernel.reshape(*geom.out_spatial, -1, *kernel.shape[-2:])  # (*out, taps, C, F)
    return jnp.einsum("nijtc,ijtcf->nijf", patches, k, precision=HI)


def _taps(x, geom):
    from jaxconv.ops._local_impl import pad_spatial, window_taps

    return window_taps(pad_spatial(x, geom, 1), geom, 1)


@pytest.mark.parametrize("spec", [((3, 5, 5, 2), 3, 1, 1, "VALID", 9),
                                  ((2, 6, 5, 3), (3, 2), (1, 2), (2, 1), "SAME", 4),
                                  ((2, 5, 5, 1), 3, 2, 1, "CIRCULAR", 3)],
                         ids=["valid", "dilated-same", "strided-circular"])
def test_patches_gradients_equal_plain_autodiff(spec):
    # "patches" writes the terms of its derivative so that their transposes are fast products
    # (jaxconv.ops._local_impl._derivative_terms); the gradients are the ones autodiff gives.
    geom, x, kernel, kw = _case(spec)
    g = randn(x.shape[0], *geom.out_spatial, kernel.shape[-1])
    mine = lambda a, k: jnp.sum(g * jaxconv.locally_connected(  # noqa: E731
        a, k, precision=HI, implementation="patches", **kw))
    plain = lambda a, k: jnp.sum(g * _plain(a, k, geom))  # noqa: E731
    for jit in (False, True):
        wrap = jax.jit if jit else (lambda f: f)
        got = wrap(jax.grad(mine, argnums=(0, 1)))(x, kernel)
        want = jax.grad(plain, argnums=(0, 1))(x, kernel)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    # forward mode too: the tangent is the same sums
    t = (randn(*x.shape), randn(*kernel.shape))
    np.testing.assert_allclose(jax.jvp(mine, (x, kernel), t)[1], jax.jvp(plain, (x, kernel), t)[1],
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("input_gradient", [False, True])
def test_the_patches_training_step_runs_every_product_in_ynnpack(input_gradient):
    # The fast path, read from the compiled program: on a jaxlib whose XLA hands dots to
    # YNNPACK, every product of the training step (forward, kernel gradient, input gradient)
    # is a YNNPACK fusion. The kernel gradient of autodiff's own transpose was not (it ran as a
    # loop of small products on one core), nor the input gradient without the barrier that
    # keeps the output gradient positions-first.
    from jaxconv.backend import xla_cpu

    geom, x, kernel, kw = _case(((3, 5, 5, 2), 3, 1, 1, "VALID", 9))
    loss = lambda k, a: jnp.sum(jaxconv.locally_connected(  # noqa: E731
        a, k, implementation="patches", **kw) ** 2)
    step = jax.jit(jax.grad(loss, argnums=(0, 1) if input_gradient else 0))
    text = step.lower(kernel, x).compile().as_text()
    if not xla_cpu.available("eigen-dot") or "__ynn_fusion" not in jax.jit(
            lambda a, b: jnp.matmul(a, b)).lower(x[0, 0], kernel[0, 0, 0, 0]).compile().as_text():
        pytest.skip("this jaxlib hands no products to YNNPACK")
    assert text.count("__ynn_fusion") == text.count(" dot(") == 2 + input_gradient, text
