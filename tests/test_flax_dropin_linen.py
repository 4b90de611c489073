"""jaxconv.layers.linen's Dense, Conv and ConvLocal are drop-ins for Flax's: same calls, same results.

Two kinds of test. Flax-style tests run one body over both libraries (``lib`` is ``flax.linen`` or
``jaxconv.layers.linen``, the classes looked up by name, the constructor calls identical), with exact
answers from all-ones kernels. Equivalence tests build the same call on both classes and compare
the parameter trees (shapes and values: the initialisers draw the same numbers), the outputs and
the gradients with respect to parameters and input, in float32 at precision highest, over the
documented edge cases and a seeded grid of random configurations.

The same file runs in CI's floors job (the oldest declared Flax): a case that Flax itself cannot
compute there (``"REFLECT"`` padding arrived after flax 0.10.0) is skipped with Flax's reason,
and only there, so the newest Flax runs every case.
"""

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn
from flax.linen import initializers

import jaxconv
import jaxconv.layers.linen

LIBS = pytest.mark.parametrize("lib", [nn, jaxconv.layers.linen], ids=["flax", "jaxconv"])
KEY = jax.random.key(0)
HI = "highest"
# jax.lax.DotAlgorithmPreset, where this jax has it (0.4.35 on)
PRESET = getattr(jax.lax, "DotAlgorithmPreset", None)
OLD_FLAX = tuple(int(v) for v in flax.__version__.split(".")[:2]) < (0, 11)


def skip_where_old_flax_refuses(call):
    """Runs ``call`` (Flax's side) abstractly; on a Flax older than 0.11 that raises, skips."""
    if not OLD_FLAX:
        return
    try:
        jax.eval_shape(call)
    except Exception as err:  # noqa: BLE001 - whatever Flax raises, there is nothing to compare
        pytest.skip(f"flax {flax.__version__} cannot compute it: {type(err).__name__}: {err}"[:200])


def randn(seed, *shape, dtype=jnp.float32):
    return jax.random.normal(jax.random.key(seed), shape, dtype)


def assert_same(name, x, *args, rtol=1e-5, **kwargs):
    """Same constructor call on Flax's and jaxconv's class: same params, outputs and gradients.

    Both sides run in one jitted program for the init and one for outputs and gradients: two
    compiles per case (XLA compiles each new program on the 2-core CI machine).
    """
    theirs, ours = getattr(nn, name)(*args, **kwargs), getattr(jaxconv.layers.linen, name)(*args, **kwargs)
    skip_where_old_flax_refuses(lambda: theirs.init_with_output(KEY, x))
    p_theirs, p_ours = jax.jit(lambda k, a: (theirs.init(k, a), ours.init(k, a)))(KEY, x)
    assert jax.tree.map(jnp.shape, p_ours) == jax.tree.map(jnp.shape, p_theirs)
    jax.tree.map(np.testing.assert_array_equal, p_ours, p_theirs)

    def run(module, p, a):
        def loss(p, a):
            y = module.apply(p, a)
            return jnp.sum(jnp.real(y * randn(7, *y.shape).astype(y.dtype)))
        return module.apply(p, a), jax.grad(loss, argnums=(0, 1))(p, a)

    both = jax.jit(lambda p, a: (run(theirs, p, a), run(ours, p, a)))
    (y_theirs, g_theirs), (y_ours, g_ours) = both(p_theirs, x)
    assert y_ours.shape == y_theirs.shape and y_ours.dtype == y_theirs.dtype
    np.testing.assert_allclose(y_ours, y_theirs, rtol=rtol, atol=rtol)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol), g_ours, g_theirs)


# --- Flax-style tests, one body for both libraries -------------------------------------------


@LIBS
def test_dense_ones(lib):
    x = jnp.ones((1, 3))
    layer = lib.Dense(features=4, kernel_init=initializers.ones, bias_init=initializers.ones)
    y, params = layer.init_with_output(KEY, x)
    assert jax.tree.map(jnp.shape, params) == {"params": {"bias": (4,), "kernel": (3, 4)}}
    np.testing.assert_array_equal(y, jnp.full((1, 4), 4.0))


@LIBS
@pytest.mark.parametrize("module", ["Conv", "ConvLocal"])
def test_conv_ones_valid(lib, module):
    x = jnp.ones((1, 8, 3))
    layer = getattr(lib, module)(features=4, kernel_size=(3,), padding="VALID",
                                 kernel_init=initializers.ones, bias_init=initializers.ones)
    y, params = layer.init_with_output(KEY, x)
    shapes = {"Conv": {"bias": (4,), "kernel": (3, 3, 4)},
              "ConvLocal": {"bias": (6, 4), "kernel": (6, 9, 4)}}[module]
    assert jax.tree.map(jnp.shape, params["params"]) == shapes
    np.testing.assert_array_equal(y, jnp.full((1, 6, 4), 10.0))


@LIBS
@pytest.mark.parametrize("module", ["Conv", "ConvLocal"])
def test_single_input_and_multibatch(lib, module):
    unbatched = jnp.ones((8, 3))
    layer = getattr(lib, module)(features=4, kernel_size=(3,), padding="VALID",
                                 kernel_init=initializers.ones, bias_init=initializers.ones)
    y, params = layer.init_with_output(KEY, unbatched)
    np.testing.assert_array_equal(y, jnp.full((6, 4), 10.0))
    y = layer.apply(params, jnp.ones((2, 5, 8, 3)))
    np.testing.assert_array_equal(y, jnp.full((2, 5, 6, 4), 10.0))


@LIBS
def test_int_kernel_size_is_one_d(lib):
    params = lib.Conv(8, 3).init(KEY, jnp.ones((2, 8, 1)))
    assert params["params"]["kernel"].shape == (3, 1, 8)


@LIBS
def test_sixth_positional_is_kernel_dilation(lib):
    # Conv(features, kernel_size, strides, padding, input_dilation, kernel_dilation)
    layer = lib.Conv(4, (3,), 1, "VALID", 1, 2, kernel_init=initializers.ones, use_bias=False)
    y, _ = layer.init_with_output(KEY, jnp.ones((1, 8, 1)))
    assert y.shape == (1, 4, 4)


@LIBS
@pytest.mark.parametrize("module", ["Conv", "ConvLocal"])
def test_circular_conv_1d_constant(lib, module):
    x = jnp.ones((2, 8, 3))
    layer = getattr(lib, module)(features=4, kernel_size=(3,), padding="CIRCULAR",
                                 kernel_init=initializers.ones, bias_init=initializers.ones)
    y, _ = layer.init_with_output(KEY, x)
    np.testing.assert_array_equal(y, jnp.full((2, 8, 4), 10.0))


def _circular_oracle(x, k, dilation=1, stride=1):
    """1-D CIRCULAR window sums by hand: output i reads x[(i * stride - lo + t * dilation) % n]
    for taps t < k, lo = (span - 1) // 2: centred windows on the circle, wrapping as often as
    the window asks."""
    n, span = len(x), (k - 1) * dilation + 1
    lo = (span - 1) // 2
    return [sum(x[(i * stride - lo + t * dilation) % n] for t in range(k))
            for i in range((n - 1) // stride + 1)]


@LIBS
@pytest.mark.parametrize("module", ["Conv", "ConvLocal"])
# even and odd windows, on one value and on five (8 values, window 3: test_circular_conv_1d_constant)
@pytest.mark.parametrize("size, window", [(1, 3), (1, 9), (5, 2), (5, 9)])
def test_circular_window_of_any_size(lib, module, size, window):
    # A window wider than the input wraps around it more than once, as Flax computes it.
    x = np.arange(1.0, size + 1.0)
    layer = getattr(lib, module)(features=1, kernel_size=(window,), padding="CIRCULAR",
                                 kernel_init=initializers.ones, use_bias=False)
    y, _ = layer.init_with_output(KEY, jnp.asarray(x).reshape(1, size, 1))
    np.testing.assert_array_equal(y[0, :, 0], _circular_oracle(x, window))


@LIBS
@pytest.mark.parametrize("module", ["Conv", "ConvLocal"])
def test_circular_window_wider_than_the_input_strided_and_dilated(lib, module):
    x = np.arange(1.0, 4.0)
    layer = getattr(lib, module)(features=1, kernel_size=(4,), strides=2, kernel_dilation=2,
                                 padding="CIRCULAR", kernel_init=initializers.ones, use_bias=False)
    y, _ = layer.init_with_output(KEY, jnp.asarray(x).reshape(1, 3, 1))
    np.testing.assert_array_equal(y[0, :, 0], _circular_oracle(x, 4, dilation=2, stride=2))


@LIBS
@pytest.mark.parametrize("module", ["Conv", "ConvLocal"])
def test_negative_padding_crops(lib, module):
    # lax's meaning, which Flax passes on: -1 drops one input value on each side.
    layer = getattr(lib, module)(features=1, kernel_size=(2,), padding=-1,
                                 kernel_init=initializers.ones, use_bias=False)
    y, _ = layer.init_with_output(KEY, jnp.arange(1.0, 7.0).reshape(1, 6, 1))
    np.testing.assert_array_equal(y[0, :, 0], [5.0, 7.0, 9.0])


@LIBS
def test_numpy_array_settings_and_int_use_bias(lib):
    layer = lib.Conv(features=2, kernel_size=np.array([3, 3]), strides=np.array([2, 1]),
                     padding="VALID", use_bias=1, kernel_init=initializers.ones,
                     bias_init=initializers.ones)
    y, params = layer.init_with_output(KEY, jnp.ones((1, 7, 5, 1)))
    assert y.shape == (1, 3, 3, 2) and set(params["params"]) == {"bias", "kernel"}
    np.testing.assert_array_equal(y, jnp.full((1, 3, 3, 2), 10.0))
    params = lib.Conv(features=2, kernel_size=(3, 3), use_bias=0).init(KEY, jnp.ones((1, 5, 5, 1)))
    assert set(params["params"]) == {"kernel"}


@LIBS
def test_causal_conv1d(lib):
    x = jnp.ones((1, 8, 2))
    layer = lib.Conv(features=4, kernel_size=(3,), padding="CAUSAL",
                     kernel_init=initializers.ones, bias_init=initializers.ones)
    y, _ = layer.init_with_output(KEY, x)
    want = jnp.array([3.0, 5.0] + [7.0] * 6)[None, :, None] * jnp.ones((1, 8, 4))
    np.testing.assert_array_equal(y, want)


@LIBS
def test_reflect_pad_values(lib):
    x = jnp.arange(1.0, 5.0).reshape(1, 4, 1)
    layer = lib.Conv(1, (3,), padding="REFLECT", kernel_init=initializers.ones, use_bias=False)
    if lib is nn:
        skip_where_old_flax_refuses(lambda: layer.init_with_output(KEY, x))
    y, _ = layer.init_with_output(KEY, x)
    # mirrored input [2, 1, 2, 3, 4, 3]: window sums 5, 6, 9, 10
    np.testing.assert_array_equal(y[0, :, 0], [5.0, 6.0, 9.0, 10.0])


@LIBS
@pytest.mark.parametrize("module", ["Conv", "ConvLocal"])
def test_mask_zeroes_weights(lib, module):
    shape = {"Conv": (3, 3, 4), "ConvLocal": (6, 9, 4)}[module]
    mask = jnp.tril(jnp.ones(shape))
    layer = getattr(lib, module)(features=4, kernel_size=(3,), mask=mask, padding="VALID",
                                 kernel_init=initializers.ones, use_bias=False)
    y, _ = layer.init_with_output(KEY, jnp.ones((1, 8, 3)))
    # Conv: every position sums the masked taps; ConvLocal: position p sums its own masked row.
    want = jnp.sum(mask, axis=(0, 1)) if module == "Conv" else jnp.sum(mask, axis=1)
    np.testing.assert_array_equal(y, jnp.broadcast_to(want, y.shape))


@LIBS
def test_group_conv(lib):
    layer = lib.Conv(features=4, kernel_size=(3,), feature_group_count=2, padding="VALID")
    params = layer.init(KEY, jnp.ones((1, 8, 4)))
    assert params["params"]["kernel"].shape == (3, 2, 4)


@LIBS
def test_padding_forms_shapes(lib):
    x = jnp.ones((1, 8, 8, 2))
    for padding, want in [(1, (8, 8)), ((1, 2), (8, 10)), (((1, 0), 2), (7, 10)),
                          ([(0, 0), (1, 1)], (6, 8))]:
        y, _ = lib.Conv(3, (3, 3), padding=padding).init_with_output(KEY, x)
        assert y.shape[1:3] == want, padding


# --- equivalence: the same call on both classes ----------------------------------------------

X2 = randn(1, 2, 7, 6, 4)

# Each case is two compiles (init, and outputs with gradients, both libraries in one program), so
# settings are combined: every argument and form appears at least once.
EDGE_CASES = [
    ("Dense", (5,), {}, randn(2, 2, 3, 4)),
    ("Dense", (3,), {"use_bias": False, "param_dtype": jnp.complex64},
     randn(3, 2, 4, dtype=jnp.complex64)),
    ("Conv", (6, (3, 2)), {}, X2),
    ("Conv", (6, (3, 2)), {"padding": "CIRCULAR", "strides": 2, "use_bias": False}, X2),
    ("Conv", (6, (3, 2)), {"padding": "REFLECT", "kernel_dilation": (1, 2)}, X2),
    ("Conv", (6, (3, 2)), {"padding": ((1, 0), 2), "input_dilation": (2, 1),
                           "feature_group_count": 2}, X2),
    ("Conv", (6, (3, 2)), {"mask": jnp.tril(jnp.ones((3, 2, 4, 6))), "strides": None,
                           "kernel_dilation": None, "input_dilation": None, "padding": (1, 0)}, X2),
    ("Conv", (4, 3), {"padding": "CAUSAL", "kernel_dilation": 2}, randn(3, 9, 2)),
    ("Conv", (4, (3,)), {"padding": "VALID", "dtype": jnp.float32}, randn(4, 2, 3, 7, 2)),
    ("Conv", (3, (2, 2, 2, 2)), {"padding": "VALID"}, randn(5, 1, 3, 3, 3, 3, 2)),
    ("Conv", (4, (3, 3)), {"param_dtype": jnp.complex64}, randn(6, 1, 5, 5, 2)),
    ("ConvLocal", (6, (3, 2)), {}, X2),
    ("ConvLocal", (6, (3, 2)), {"padding": "CIRCULAR", "strides": 2}, X2),
    ("ConvLocal", (6, (3, 2)), {"padding": "REFLECT", "use_bias": False,
                                "kernel_dilation": (1, 2)}, X2),
    ("ConvLocal", (6, (3, 2)), {"input_dilation": 2, "padding": ((1, 0), 2)}, X2),
    ("ConvLocal", (4, 3), {"padding": "CAUSAL"}, randn(3, 9, 2)),
    ("ConvLocal", (4, (3,)), {"strides": 2}, randn(4, 2, 3, 7, 2)),
    ("ConvLocal", (3, (2, 2, 2, 2)), {"padding": "VALID"}, randn(5, 1, 3, 3, 3, 3, 2)),
    ("ConvLocal", (4, (3, 3)), {"param_dtype": jnp.complex64}, randn(6, 1, 5, 5, 2)),
    # CIRCULAR windows wider than the input (3x2 here), wrapping more than once
    ("Conv", (4, (9, 5)), {"padding": "CIRCULAR", "kernel_dilation": (1, 2), "strides": (2, 1)},
     randn(8, 2, 3, 2, 3)),
    ("ConvLocal", (4, (5, 3)), {"padding": "CIRCULAR", "strides": (1, 2)}, randn(9, 2, 3, 2, 3)),
    # NumPy arrays for sizes, negative (cropping) padding, an int use_bias
    ("Conv", (6, np.array([3, 2])), {"strides": np.array([2, 1]), "padding": -1, "use_bias": 1},
     X2),
    ("ConvLocal", (6, np.array([3, 2])), {"strides": np.array([1, 2]),
                                          "padding": ((-1, 2), (1, -1)), "use_bias": 1}, X2),
    # a dot algorithm as precision (where this jax has them), use_bias 0
    ("Conv", (6, (3, 2)), {"padding": ((-1, 2), (0, -1)), "input_dilation": (2, 1),
                           "kernel_dilation": np.array([1, 2]), "use_bias": 0,
                           "precision": PRESET.F32_F32_F32 if PRESET else HI}, X2),
    ("Dense", (5,), {"use_bias": 0, "precision": PRESET.F32_F32_F32 if PRESET else HI},
     randn(10, 2, 4)),
]


@pytest.mark.parametrize("name,args,kwargs,x", EDGE_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(EDGE_CASES)])
def test_same_params_outputs_gradients(name, args, kwargs, x):
    assert_same(name, x, *args, **{"precision": HI, **kwargs})


@pytest.mark.skipif(PRESET is None, reason="this jax has no jax.lax.DotAlgorithmPreset")
def test_conv_local_takes_a_dot_algorithm_where_flax_refuses():
    # Flax's ConvLocal hands the preset to lax.conv_general_dilated_local, which refuses it;
    # jaxconv's runs its products with it, equal to precision "highest" in float32.
    x = randn(13, 2, 6, 5, 2)
    settings = dict(features=3, kernel_size=(3, 2), padding="VALID")
    ours = jaxconv.layers.linen.ConvLocal(**settings, precision=PRESET.F32_F32_F32)
    params = ours.init(KEY, x)
    want = jaxconv.layers.linen.ConvLocal(**settings, precision=HI).apply(params, x)
    np.testing.assert_allclose(ours.apply(params, x), want, rtol=1e-6, atol=1e-6)


def _random_config(seed):
    rng = np.random.default_rng(seed)
    ndim = int(rng.integers(1, 3))
    spatial = tuple(int(v) for v in rng.integers(4, 8, ndim))
    window = tuple(int(v) for v in rng.integers(1, 4, ndim))
    kwargs = {"strides": tuple(int(v) for v in rng.integers(1, 3, ndim)),
              "kernel_dilation": tuple(int(v) for v in rng.integers(1, 3, ndim)),
              "use_bias": bool(rng.integers(0, 2))}
    kind = int(rng.integers(0, 4))
    if kind == 0:
        kwargs["padding"] = str(rng.choice(["SAME", "VALID", "CIRCULAR", "REFLECT"]))
    elif kind == 1:
        kwargs["padding"] = tuple(int(v) for v in rng.integers(0, 3, ndim))
    else:
        kwargs["padding"] = tuple((int(a), int(b)) for a, b in rng.integers(0, 3, (ndim, 2)))
        if kind == 3:
            kwargs["input_dilation"] = tuple(int(v) for v in rng.integers(1, 3, ndim))
    span = [(k - 1) * d + 1 for k, d in zip(window, kwargs["kernel_dilation"])]
    if kwargs["padding"] == "VALID" and any(s > n for s, n in zip(span, spatial)):
        kwargs["padding"] = "SAME"
    channels = int(rng.integers(1, 4))
    batch = tuple(int(v) for v in rng.integers(1, 3, int(rng.integers(0, 3))))
    x = randn(seed, *batch, *spatial, channels)
    return window, kwargs, x


@pytest.mark.parametrize("module", ["Conv", "ConvLocal"])
@pytest.mark.parametrize("seed", range(3))
def test_random_configurations_agree(module, seed):
    window, kwargs, x = _random_config(seed)
    assert_same(module, x, 3, window, precision=HI, **kwargs)


# --- a Flax ConvLocal checkpoint restores into jaxconv's ConvLocal ------------------------------


def test_flax_conv_local_checkpoint_restores(tmp_path):
    import orbax.checkpoint as ocp

    x = randn(11, 3, 6, 5, 2)
    theirs = nn.ConvLocal(4, (3, 2), strides=(1, 2), padding="SAME", precision=HI)
    trained = jax.tree.map(lambda p: p + randn(12, *p.shape), theirs.init(KEY, x))
    ckpt = ocp.StandardCheckpointer()  # (a context manager only from orbax 0.6 on)
    ckpt.save(tmp_path / "flax", trained)
    getattr(ckpt, "wait_until_finished", lambda: None)()
    ours = jaxconv.layers.linen.ConvLocal(4, (3, 2), strides=(1, 2), padding="SAME", precision=HI)
    template = ours.init(jax.random.key(1), x)
    restored = ckpt.restore(tmp_path / "flax", template)
    ckpt.close()
    np.testing.assert_allclose(ours.apply(restored, x), theirs.apply(trained, x), rtol=1e-6,
                               atol=1e-6)
    # and into jaxconv's own layout, through the documented conversion
    own = jaxconv.layers.linen.LocallyConnected(4, (3, 2), strides=(1, 2), padding="SAME", precision=HI)
    params = {"kernel": jaxconv.from_flax_conv_local(restored["params"]["kernel"], 2, (3, 2)),
              "bias": restored["params"]["bias"]}
    np.testing.assert_allclose(own.apply({"params": params}, x), theirs.apply(trained, x),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("implementation", ["patches", "taps"])
def test_conv_local_implementation_pins_the_op(implementation):
    x = randn(13, 2, 6, 6, 2)
    ours = jaxconv.layers.linen.ConvLocal(3, (2, 2), strides=2, implementation=implementation,
                                   precision=HI)
    params = ours.init(KEY, x)
    np.testing.assert_allclose(ours.apply(params, x), nn.ConvLocal(3, (2, 2), strides=2,
                               precision=HI).apply(params, x), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"ConvLocal|locally_connected: `implementation` must be"):
        jaxconv.layers.linen.ConvLocal(3, (2, 2), implementation="fast").init(KEY, x)
