"""jaxconv.layers.nnx's Linear and Conv are drop-ins for Flax NNX's; every setting is checked at construction.

As in tests/test_flax_dropin_linen.py: Flax-style bodies run over both libraries with identical
constructor calls, and equivalence tests compare parameter states, outputs and gradients. On a
Flax older than 0.11 (CI's floors job), a case Flax itself cannot build or split there
(``preferred_element_type``, ``kernel_metadata``, an array ``mask``) is skipped with its reason.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from test_flax_dropin_linen import OLD_FLAX, PRESET

import jaxconv
import jaxconv.layers.nnx

LIBS = pytest.mark.parametrize("lib", [nnx, jaxconv.layers.nnx], ids=["flax", "jaxconv"])
HI = "highest"
ONES = nnx.initializers.ones
# nnx.to_pure_dict (flax 0.11 on; State.to_pure_dict, deprecated there, before)
pure = getattr(nnx, "to_pure_dict", None) or (lambda state: state.to_pure_dict())


def _flax_layer(name, args, kwargs, x):
    """Flax's layer, or a skip where a Flax older than 0.11 cannot build, split or call it."""
    try:
        layer = getattr(nnx, name)(*args, rngs=nnx.Rngs(0), **kwargs)
        nnx.split(layer)
        if OLD_FLAX:
            layer(x)  # "REFLECT" padding, say, which flax 0.10.0 does not have
    except Exception as err:  # noqa: BLE001 - whatever Flax raises, there is nothing to compare
        if not OLD_FLAX:
            raise
        pytest.skip(f"this Flax cannot build it: {type(err).__name__}: {err}"[:200])
    return layer


def randn(seed, *shape, dtype=jnp.float32):
    return jax.random.normal(jax.random.key(seed), shape, dtype)


def assert_same(name, x, *args, **kwargs):
    """Same constructor call on Flax's and jaxconv's class: same params, outputs and gradients."""
    theirs = _flax_layer(name, args, kwargs, x)
    ours = getattr(jaxconv.layers.nnx, name)(*args, rngs=nnx.Rngs(0), **kwargs)
    s_theirs, s_ours = nnx.state(theirs, nnx.Param), nnx.state(ours, nnx.Param)
    jax.tree.map(np.testing.assert_array_equal, pure(s_ours), pure(s_theirs))
    for attr in ("kernel", "bias"):
        mine, flax_var = getattr(ours, attr), getattr(theirs, attr)
        assert (mine is None) == (flax_var is None)
        if mine is not None:
            assert mine.get_metadata() == flax_var.get_metadata()

    def run(graphdef, s, rest, a):
        # Gradients of the parameters only: the rest of the state may hold integer arrays (an
        # np.array of strides is module state in Flax's NNX Conv, and in ours).
        def loss(s, a):
            y = nnx.merge(graphdef, s, rest)(a)
            return jnp.sum(jnp.real(y * randn(7, *y.shape).astype(y.dtype)))
        g_state, g_x = jax.grad(loss, argnums=(0, 1))(s, a)
        return nnx.merge(graphdef, s, rest)(a), pure(g_state), g_x

    g_theirs, *st_theirs = nnx.split(theirs, nnx.Param, ...)
    g_ours, *st_ours = nnx.split(ours, nnx.Param, ...)
    both = jax.jit(lambda s1, s2, a: (run(g_theirs, *s1, a), run(g_ours, *s2, a)))
    (y_theirs, *d_theirs), (y_ours, *d_ours) = both(st_theirs, st_ours, x)
    assert y_ours.shape == y_theirs.shape and y_ours.dtype == y_theirs.dtype
    np.testing.assert_allclose(y_ours, y_theirs, rtol=1e-5, atol=1e-5)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5),
                 d_ours, d_theirs)


@LIBS
def test_linear_ones(lib):
    layer = lib.Linear(3, 4, kernel_init=ONES, bias_init=ONES, rngs=nnx.Rngs(0))
    assert layer.kernel[...].shape == (3, 4) and layer.bias[...].shape == (4,)
    np.testing.assert_array_equal(layer(jnp.ones((1, 3))), jnp.full((1, 4), 4.0))


@LIBS
def test_conv_ones_unbatched_and_multibatch(lib):
    layer = lib.Conv(3, 4, kernel_size=(3,), padding="VALID", kernel_init=ONES, bias_init=ONES,
                     rngs=nnx.Rngs(0))
    assert layer.kernel[...].shape == (3, 3, 4) and layer.kernel_shape == (3, 3, 4)
    np.testing.assert_array_equal(layer(jnp.ones((8, 3))), jnp.full((6, 4), 10.0))
    np.testing.assert_array_equal(layer(jnp.ones((2, 5, 8, 3))), jnp.full((2, 5, 6, 4), 10.0))


@LIBS
def test_conv_keyword_only_after_strides(lib):
    assert lib.Conv(1, 8, 3, 2, rngs=nnx.Rngs(0)).kernel[...].shape == (3, 1, 8)
    with pytest.raises(TypeError, match="positional argument"):  # Python's own message
        lib.Conv(1, 8, 3, 1, "SAME", rngs=nnx.Rngs(0))


@LIBS
def test_conv_stored_attributes(lib):
    layer = lib.Conv(4, 6, 3, padding="CIRCULAR", feature_group_count=2, rngs=nnx.Rngs(0))
    assert (layer.in_features, layer.out_features, layer.kernel_size) == (4, 6, (3,))
    assert (layer.padding, layer.feature_group_count, layer.strides) == ("CIRCULAR", 2, 1)


X2 = randn(1, 2, 7, 6, 4)

# The padding forms, dilations and ranks run through the same op as linen's Conv and are compared
# one by one in tests/test_flax_dropin_linen.py; here, NNX's own arguments and call forms.
EDGE_CASES = [
    ("Linear", (4, 5), {}, randn(2, 3, 4)),
    ("Linear", (4, 5), {"use_bias": False}, randn(2, 4)),
    ("Linear", (4, 5), {"preferred_element_type": jnp.float32}, randn(2, 2, 4)),
    ("Linear", (4, 3), {"param_dtype": jnp.complex64}, randn(3, 2, 4, dtype=jnp.complex64)),
    ("Linear", (4, 5), {"kernel_metadata": {"tag": "w"}, "bias_metadata": {"tag": "b"}},
     randn(2, 4)),
    ("Conv", (4, 6, (3, 2)), {}, X2),
    ("Conv", (4, 6, (3, 2), 2), {"input_dilation": (2, 1), "padding": ((1, 0), 2),
                                 "kernel_dilation": 2, "feature_group_count": 2}, X2),
    ("Conv", (4, 6, (3, 2)), {"mask": jnp.tril(jnp.ones((3, 2, 4, 6)))}, X2),
    ("Conv", (4, 6, (3, 2)), {"preferred_element_type": jnp.float32}, X2),
    ("Conv", (4, 6, (3, 2)), {"kernel_metadata": {"tag": "w"}, "bias_metadata": {"tag": "b"}}, X2),
    ("Conv", (2, 4, 3), {"padding": "CAUSAL", "kernel_dilation": 2}, randn(3, 9, 2)),
    ("Conv", (2, 4, (3,)), {}, randn(4, 2, 3, 7, 2)),
    ("Conv", (2, 4, (3, 3)), {"param_dtype": jnp.complex64}, randn(6, 1, 5, 5, 2)),
    # a CIRCULAR window wider than the 2x3 input, wrapping more than once (as Flax)
    ("Conv", (3, 4, (5, 4)), {"padding": "CIRCULAR", "strides": (1, 2), "kernel_dilation": 2},
     randn(8, 2, 2, 3, 3)),
    # negative (cropping) padding, int use_bias (NumPy array sizes: test_numpy_array_sizes)
    ("Conv", (4, 6, (3, 2)), {"strides": (2, 1), "padding": -1, "use_bias": 1}, X2),
    # a dot algorithm as precision (where this jax has them), use_bias 0
    ("Conv", (4, 6, (3, 2)), {"padding": ((-1, 2), (1, -1)), "input_dilation": (2, 1),
                              "use_bias": 0, "precision": PRESET.F32_F32_F32 if PRESET else HI},
     X2),
    ("Linear", (4, 5), {"use_bias": 0, "precision": PRESET.F32_F32_F32 if PRESET else HI},
     randn(2, 2, 4)),
]


@pytest.mark.parametrize("name,args,kwargs,x", EDGE_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(EDGE_CASES)])
def test_same_params_outputs_gradients(name, args, kwargs, x):
    assert_same(name, x, *args, **{"precision": HI, **kwargs})


def test_numpy_array_sizes():
    # Flax reads them with tuple(); it keeps the arrays as module state, where jax.jit traces
    # them (and lax then refuses traced strides), so Flax's side is compared eagerly. jaxconv's
    # layer keeps the tuples and runs under nnx.jit too.
    sizes = dict(kernel_size=np.array([3, 2]), strides=np.array([2, 1]),
                 kernel_dilation=np.array([1, 2]), padding="CIRCULAR", precision=HI)
    theirs = nnx.Conv(4, 6, **sizes, rngs=nnx.Rngs(0))
    ours = jaxconv.layers.nnx.Conv(4, 6, **sizes, rngs=nnx.Rngs(0))
    assert (ours.kernel_size, ours.strides, ours.kernel_dilation) == ((3, 2), (2, 1), (1, 2))
    np.testing.assert_array_equal(ours.kernel[...], theirs.kernel[...])
    want = theirs(X2)
    np.testing.assert_allclose(ours(X2), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(nnx.jit(lambda layer, a: layer(a))(ours, X2), want, rtol=1e-5,
                               atol=1e-5)


def test_custom_primitives_are_called_as_flax_calls_them():
    calls = []

    def counting_conv(*args, **kwargs):
        calls.append("conv")
        return jax.lax.conv_general_dilated(*args, **kwargs)

    def counting_dot(*args, **kwargs):
        calls.append("dot")
        return jax.lax.dot_general(*args, **kwargs)

    assert_same("Conv", X2, 4, 6, (3, 2), padding="REFLECT", conv_general_dilated=counting_conv)
    assert_same("Linear", randn(2, 3, 4), 4, 5, dot_general=counting_dot)
    assert "conv" in calls and "dot" in calls


def test_conv_local_nnx_matches_linen():
    x = randn(8, 2, 6, 5, 3)
    ours = jaxconv.layers.nnx.ConvLocal(3, 4, (3, 2), (1, 2), input_size=(6, 5), precision=HI,
                                 rngs=nnx.Rngs(0))
    linen = jaxconv.layers.linen.ConvLocal(4, (3, 2), (1, 2), precision=HI)
    params = {"params": {"kernel": ours.kernel[...], "bias": ours.bias[...]}}
    assert jax.tree.map(jnp.shape, linen.init(jax.random.key(0), x)) == jax.tree.map(
        jnp.shape, params)
    np.testing.assert_allclose(ours(x), linen.apply(params, x), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"ConvLocal: input spatial shape \(5, 5\) differs from "
                                         r"the input_size \(6, 5\) the layer was built for"):
        ours(x[:, 1:])


def test_locally_connected_implementation_argument():
    x = randn(9, 2, 6, 6, 2)
    layers = [jaxconv.layers.nnx.LocallyConnected(2, 3, (2, 2), 2, input_size=(6, 6), precision=HI,
                                           implementation=impl, rngs=nnx.Rngs(0))
              for impl in ("patches", "taps", "reshape")]
    for layer in layers[1:]:
        np.testing.assert_allclose(layer(x), layers[0](x), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"LocallyConnected: implementation='reshape' needs "
                                         r"windows that tile the input"):
        jaxconv.layers.nnx.LocallyConnected(2, 3, (3, 3), input_size=(6, 6), implementation="reshape",
                                     rngs=nnx.Rngs(0))


# --- issue 18: NNX layers check every setting at construction -------------------------------

R = nnx.Rngs(0)
CONSTRUCTION_ERRORS = {
    "kernel_size_empty": (lambda: jaxconv.layers.nnx.Conv(3, 4, (), rngs=R), ValueError,
                          r"Conv: `kernel_size` must give one int per spatial dim \(at least one"),
    "kernel_size_4d_on_2d_input": (
        lambda: jaxconv.layers.nnx.LocallyConnected(3, 4, (3, 3, 3, 3), input_size=(8, 8), rngs=R),
        ValueError, r"LocallyConnected: `input_size` must be 4 positive ints \(one per "
                    r"kernel_size entry\), got input_size=\(8, 8\)"),
    "kernel_size_4d_called_on_2d": (
        lambda: jaxconv.layers.nnx.Conv(3, 4, (3, 3, 3, 3), rngs=R)(jnp.ones((2, 8, 8, 3))), ValueError,
        r"Conv: input must have shape \(\*batch, \*spatial, C\) with 4 spatial dims"),
    "kernel_size_none": (lambda: jaxconv.layers.nnx.Conv(3, 4, None, rngs=R), TypeError,
                         r"Conv: `kernel_size` must be an int \(a 1-D window, as in Flax\) or a "
                         r"sequence of ints, one per spatial dim, got kernel_size=None"),
    "strides_zero": (lambda: jaxconv.layers.nnx.Conv(3, 4, (3, 3), strides=0, rngs=R), ValueError,
                     r"Conv: `strides` must be a positive integer, got strides=0"),
    "padding_foo": (lambda: jaxconv.layers.nnx.Conv(3, 4, (3, 3), padding="foo", rngs=R), ValueError,
                    r"Conv: `padding` must be one of SAME, VALID, CIRCULAR, REFLECT, CAUSAL, an "
                    r"int or 2 \(low, high\) pairs, got padding='foo'"),
    "padding_causal_2d": (lambda: jaxconv.layers.nnx.Conv(3, 4, (3, 3), padding="CAUSAL", rngs=R),
                          ValueError, r"Conv: padding 'CAUSAL' is for 1-D windows only"),
    "kernel_dilation_zero": (lambda: jaxconv.layers.nnx.Conv(3, 4, (3, 3), kernel_dilation=0, rngs=R),
                             ValueError, r"Conv: `kernel_dilation` must be a positive integer, got kernel_dilation=0"),
    "input_dilation_with_same": (
        lambda: jaxconv.layers.nnx.Conv(3, 4, (3, 3), input_dilation=2, rngs=R), ValueError,
        r"Conv: `input_dilation` other than 1 needs padding 'VALID', an int or \(low, high\) "
        r"pairs, got padding='SAME' with input_dilation=2"),
    "mask_shape": (lambda: jaxconv.layers.nnx.Conv(3, 4, (3,), mask=jnp.ones((3, 3)), rngs=R),
                   ValueError, r"Conv: `mask` must have the kernel's shape \(3, 3, 4\), got "
                               r"shape \(3, 3\)"),
    "input_size_int": (lambda: jaxconv.layers.nnx.LocallyConnected(3, 4, (3, 3), input_size=8, rngs=R),
                       TypeError, r"LocallyConnected: `input_size` must be a tuple of ints \(the "
                                  r"input's spatial shape, one per kernel_size entry\), got "
                                  r"input_size=8"),
    "input_size_none": (lambda: jaxconv.layers.nnx.ConvLocal(3, 4, (3, 3), input_size=None, rngs=R),
                        TypeError, r"ConvLocal: `input_size` must be a tuple of ints .* got "
                                   r"input_size=None"),
    "input_size_string": (
        lambda: jaxconv.layers.nnx.LocallyConnected(3, 4, (3, 3), input_size="8x8", rngs=R), TypeError,
        r"LocallyConnected: `input_size` must be a tuple of ints .* got input_size='8x8'"),
    "input_size_floats": (
        lambda: jaxconv.layers.nnx.LocallyConnected(3, 4, (3, 3), input_size=(8.7, 8.7), rngs=R),
        TypeError, r"LocallyConnected: `input_size` must be a tuple of ints .* got "
                   r"input_size=\(8.7, 8.7\)"),
    "input_size_bool": (
        lambda: jaxconv.layers.nnx.LocallyConnected(3, 4, (3, 3), input_size=(True, 8), rngs=R),
        TypeError, r"LocallyConnected: `input_size` must be a tuple of ints .* got "
                   r"input_size=\(True, 8\)"),
    "use_bias_string": (lambda: jaxconv.layers.nnx.Linear(3, 4, use_bias="no", rngs=R), TypeError,
                        r"Linear: `use_bias` must be True or False \(or 1 or 0, as Flax reads "
                        r"them\), got use_bias='no'"),
    "use_bias_two": (lambda: jaxconv.layers.nnx.Conv(3, 4, (3, 3), use_bias=2, rngs=R), TypeError,
                     r"Conv: `use_bias` must be True or False \(or 1 or 0, as Flax reads them\), "
                     r"got use_bias=2"),
    "padding_array": (lambda: jaxconv.layers.nnx.Conv(3, 4, (3, 3), padding=np.ones((2, 2), int),
                                                      rngs=R),
                      TypeError, r"Conv: `padding` must be a string, an int or \(low, high\) "
                                 r"pairs, got padding=array"),
    "rngs_zero_linear": (lambda: jaxconv.layers.nnx.Linear(3, 4, rngs=0), TypeError,
                         r"Linear: `rngs` must be an nnx.Rngs, e.g. nnx.Rngs\(0\), got rngs=0"),
    "rngs_zero_conv": (lambda: jaxconv.layers.nnx.Conv(3, 4, (3, 3), rngs=0), TypeError,
                       r"Conv: `rngs` must be an nnx.Rngs, e.g. nnx.Rngs\(0\), got rngs=0"),
    "rngs_zero_local": (
        lambda: jaxconv.layers.nnx.LocallyConnected(3, 4, (3, 3), input_size=(8, 8), rngs=0),
        TypeError, r"LocallyConnected: `rngs` must be an nnx.Rngs"),
    "feature_group_count_bad": (
        lambda: jaxconv.layers.nnx.Conv(3, 4, (3, 3), feature_group_count=2, rngs=R), ValueError,
        r"Conv: `feature_group_count` must divide both input channels \(3\) and features \(4\)"),
    "implementation_bad": (
        lambda: jaxconv.layers.nnx.ConvLocal(3, 4, (3, 3), input_size=(8, 8), implementation="x",
                                      rngs=R),
        ValueError, r"ConvLocal: `implementation` must be one of auto, patches, taps, reshape"),
}


@pytest.mark.parametrize("call,error,match", CONSTRUCTION_ERRORS.values(),
                         ids=list(CONSTRUCTION_ERRORS))
def test_nnx_construction_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_numpy_int_kernel_size_is_an_int():
    layer = jaxconv.layers.nnx.Conv(3, 4, np.int64(3), rngs=nnx.Rngs(0))
    assert layer.kernel_size == (3,) and type(layer.kernel_size[0]) is int
    assert layer.kernel[...].shape == (3, 3, 4)
    local = jaxconv.layers.nnx.LocallyConnected(3, 4, (np.int64(3),), input_size=(np.int64(8),),
                                         rngs=nnx.Rngs(0))
    assert local.kernel[...].shape == (6, 3, 3, 4)
