"""jaxconv.costs.counting: exact counts, checked against the arrays the modules create and against XLA."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxconv
from jaxconv import shapes
from jaxconv.costs import counting

KEY = jax.random.key(0)


def _init_shapes(module, x_shape):
    """Kernel/bias/output shapes the linen module really makes, on abstract values."""
    x = jax.ShapeDtypeStruct(x_shape, jnp.float32)
    variables = jax.eval_shape(module.init, KEY, x)
    out = jax.eval_shape(module.apply, variables, x)
    params = variables["params"]
    bias = params.get("bias")
    return tuple(params["kernel"].shape), None if bias is None else tuple(bias.shape), out.shape


# ---------------------------------------------------------------- the lecture's numbers, exactly


def test_lecture_numbers_are_exact_ints():
    dense = counting.dense_cost(1000 * 1000, 1000 * 1000)
    local = counting.local_cost((1000, 1000, 1), 1, 10, padding="SAME")
    conv = counting.conv_cost((1000, 1000, 1), 1, 10)
    assert (dense.weights, local.weights, conv.weights) == (10**12, 10**8, 100)
    assert type(dense.weights) is int and type(dense.weight_bytes) is int
    assert dense.weight_bytes == 4 * 10**12  # 4 TB, not the lecture's "400 MB"
    assert (local.weight_bytes, conv.weight_bytes) == (4 * 10**8, 400)
    assert (dense.biases, local.biases, conv.biases) == (10**6, 10**6, 1)
    assert dense.formula == "in * out = 1,000,000 * 1,000,000 = 1,000,000,000,000"
    assert local.formula == "positions * window * C * F = 1,000,000 * 100 * 1 * 1 = 100,000,000"


def test_stride_ten_gives_100x100_positions():
    local = counting.local_cost((1000, 1000, 1), 1, 10, strides=10)
    assert local.output_shape == (100, 100, 1)
    assert local.weights == 10**6  # 10^8 needs stride 1


def test_derived_counts():
    cost = counting.conv_cost((6, 6, 3), 4, 3, padding="VALID", batch_size=2, dtype="bfloat16")
    assert (cost.weights, cost.biases, cost.params) == (108, 4, 112)
    assert (cost.itemsize, cost.param_bytes, cost.weight_bytes) == (2, 224, 216)
    assert cost.activation_bytes == 2 * 4 * 4 * 4 * 2
    assert cost.patch_bytes == 2 * 16 * 9 * 3 * 2
    assert cost.train_flops == 3 * cost.forward_flops
    assert cost.to_dict()["params"] == 112 and cost.to_dict()["kernel_shape"] == [3, 3, 3, 4]


def test_pools_have_no_parameters():
    cost = counting.pool_cost((4, 4, 3), 2, kind="avg")
    assert (cost.weights, cost.biases, cost.kernel_shape, cost.output_shape) == (0, 0, None, (2, 2, 3))
    assert cost.forward_flops == 4 * 3 * 4


# ------------------------------------------------- formula == the arrays the modules actually make

CONV_GRID = [
    # (spatial, C, F, kernel, strides, padding, dilation, groups)
    ((7,), 2, 3, 3, 1, "SAME", 1, 1),
    ((7,), 4, 6, 2, 2, "VALID", 2, 2),
    ((6, 5), 3, 4, (3, 2), (2, 1), "SAME", 1, 1),
    ((6, 5), 2, 4, 3, 1, "CIRCULAR", 1, 2),
    ((6, 5), 3, 2, 3, 2, ((1, 0), (2, 1)), (1, 2), 1),
    ((4, 5, 3), 2, 2, 2, 1, "VALID", 1, 1),
    ((4, 5, 3), 3, 3, (2, 3, 1), (1, 2, 1), "SAME", 1, 3),
    ((5, 4, 4), 1, 2, 3, 2, "CIRCULAR", 1, 1),
    ((2, 3), 2, 2, (5, 4), (1, 2), "CIRCULAR", (1, 2), 1),  # wraps more than once, as Flax
    ((6, 5), 2, 2, (3, 2), (2, 1), ((-1, 2), (1, -1)), 1, 2),  # negative widths crop, as lax
]


@pytest.mark.parametrize("spatial,c,f,kernel,strides,padding,dilation,groups", CONV_GRID)
def test_conv_counts_match_linen_arrays(spatial, c, f, kernel, strides, padding, dilation, groups):
    window = shapes.canonical_ints("t", "k", kernel, len(spatial))
    module = jaxconv.layers.linen.Conv(f, window, strides=strides, padding=padding,
                                kernel_dilation=dilation, feature_group_count=groups)
    kernel_shape, bias_shape, out = _init_shapes(module, (2, *spatial, c))
    cost = counting.conv_cost((*spatial, c), f, kernel, strides=strides, padding=padding,
                              dilation=dilation, groups=groups, batch_size=2)
    assert (cost.kernel_shape, cost.bias_shape) == (kernel_shape, bias_shape)
    assert (cost.weights, cost.biases) == (int(np.prod(kernel_shape)), int(np.prod(bias_shape)))
    assert (2, *cost.output_shape) == out


@pytest.mark.parametrize("spatial,c,f,kernel,strides,padding,dilation,groups", CONV_GRID)
def test_local_counts_match_linen_arrays(spatial, c, f, kernel, strides, padding, dilation, groups):
    del groups  # locally-connected layers have none
    window = shapes.canonical_ints("t", "k", kernel, len(spatial))
    module = jaxconv.layers.linen.LocallyConnected(f, window, strides=strides, padding=padding,
                                            kernel_dilation=dilation)
    kernel_shape, bias_shape, out = _init_shapes(module, (1, *spatial, c))
    cost = counting.local_cost((*spatial, c), f, kernel, strides=strides, padding=padding,
                               dilation=dilation)
    assert (cost.kernel_shape, cost.bias_shape) == (kernel_shape, bias_shape)
    assert cost.params == int(np.prod(kernel_shape)) + int(np.prod(bias_shape))
    assert (1, *cost.output_shape) == out


@pytest.mark.parametrize("use_bias", [False, True])
def test_dense_counts_match_linen_arrays(use_bias):
    kernel_shape, bias_shape, out = _init_shapes(jaxconv.layers.linen.Dense(5, use_bias=use_bias), (3, 7))
    cost = counting.dense_cost(7, 5, use_bias=use_bias, batch_size=3)
    assert (cost.kernel_shape, cost.bias_shape, (3, *cost.output_shape)) == (
        kernel_shape, bias_shape, out)
    assert cost.biases == (5 if use_bias else 0)


@pytest.mark.parametrize("spatial,window,strides,padding", [
    ((7,), 2, None, "VALID"), ((6, 5), 3, 1, "SAME"), ((4, 4, 4), 2, (1, 2, 2), "CIRCULAR")])
def test_pool_shapes_match_ops(spatial, window, strides, padding):
    x = jax.ShapeDtypeStruct((1, *spatial, 2), jnp.float32)
    out = jax.eval_shape(lambda x: jaxconv.max_pool(x, window, strides, padding), x)
    assert (1, *counting.pool_cost((*spatial, 2), window, strides=strides,
                                   padding=padding).output_shape) == out.shape


# ------------------------------------------------------------------------ FLOPs against XLA


def _xla_flops(f, *shapes_):
    args = [jnp.ones(s, jnp.float32) for s in shapes_]
    analysis = jax.jit(f).lower(*args).compile().cost_analysis()
    if isinstance(analysis, (list, tuple)):  # older jax returned one dict per device
        analysis = analysis[0]
    return analysis["flops"]


XLA_CASES = [
    ("dense", lambda x, k, b: jaxconv.dense(x, k, b), [(2, 5), (5, 3), (3,)],
     counting.dense_cost(5, 3, batch_size=2)),
    ("conv-same", lambda x, k, b: jaxconv.conv(x, k, b), [(2, 6, 6, 3), (3, 3, 3, 4), (4,)],
     counting.conv_cost((6, 6, 3), 4, 3, batch_size=2)),
    ("conv-explicit", lambda x, k: jaxconv.conv(x, k, padding=((2, 0), (1, 3))),
     [(2, 6, 6, 3), (3, 3, 3, 4)],
     counting.conv_cost((6, 6, 3), 4, 3, padding=((2, 0), (1, 3)), use_bias=False, batch_size=2)),
    ("conv-dilated-strided", lambda x, k: jaxconv.conv(x, k, strides=2, dilation=2),
     [(2, 6, 6, 3), (3, 3, 3, 4)],
     counting.conv_cost((6, 6, 3), 4, 3, strides=2, dilation=2, use_bias=False, batch_size=2)),
    ("conv-circular-groups", lambda x, k: jaxconv.conv(x, k, padding="CIRCULAR", groups=3),
     [(1, 5, 6, 3), (3, 3, 1, 6)],
     counting.conv_cost((5, 6, 3), 6, 3, padding="CIRCULAR", groups=3, use_bias=False)),
    ("conv-1d", lambda x, k: jaxconv.conv(x, k, strides=2), [(2, 7, 2), (3, 2, 3)],
     counting.conv_cost((7, 2), 3, 3, strides=2, use_bias=False, batch_size=2)),
    ("conv-3d", lambda x, k: jaxconv.conv(x, k), [(1, 4, 4, 3, 2), (2, 2, 2, 2, 2)],
     counting.conv_cost((4, 4, 3, 2), 2, 2, use_bias=False)),
    # The matmul form ("patches"): XLA counts 2 * K * C per output there, as the formula does; the
    # shifted multiply-adds ("taps") that auto picks for small K * C do one add fewer per output.
    ("local-valid", lambda x, k, b: jaxconv.locally_connected(x, k, b, implementation="patches"),
     [(2, 6, 6, 3), (4, 4, 3, 3, 3, 4), (4, 4, 4)],
     counting.local_cost((6, 6, 3), 4, 3, batch_size=2)),
    ("local-circular", lambda x, k: jaxconv.locally_connected(x, k, padding="CIRCULAR",
                                                              implementation="patches"),
     [(1, 5, 5, 2), (5, 5, 3, 3, 2, 3)],
     counting.local_cost((5, 5, 2), 3, 3, padding="CIRCULAR", use_bias=False)),
    ("max-pool-same", lambda x: jaxconv.max_pool(x, 3, 1, "SAME"), [(2, 6, 6, 3)],
     counting.pool_cost((6, 6, 3), 3, strides=1, padding="SAME", batch_size=2)),
    ("avg-pool", lambda x: jaxconv.avg_pool(x, 2), [(2, 6, 6, 3)],
     counting.pool_cost((6, 6, 3), 2, kind="avg", batch_size=2)),
]


@pytest.mark.parametrize("name,f,arg_shapes,cost", XLA_CASES, ids=[c[0] for c in XLA_CASES])
def test_forward_flops_match_xla_cost_analysis(name, f, arg_shapes, cost):
    assert cost.forward_flops == pytest.approx(_xla_flops(f, *arg_shapes), rel=0.01)


def _train(op):
    """One training step's arithmetic: the loss and its gradients for input and kernel."""
    return lambda x, k: jax.value_and_grad(lambda x, k: op(x, k).sum(), argnums=(0, 1))(x, k)


@pytest.mark.parametrize("op,arg_shapes,cost", [
    (jaxconv.dense, [(8, 32), (32, 16)], counting.dense_cost(32, 16, use_bias=False, batch_size=8)),
    (lambda x, k: jaxconv.conv(x, k), [(2, 8, 8, 4), (3, 3, 4, 8)],
     counting.conv_cost((8, 8, 4), 8, 3, use_bias=False, batch_size=2)),
], ids=["dense", "conv"])
def test_train_flops_are_three_forwards_as_xla_counts(op, arg_shapes, cost):
    assert cost.train_flops == pytest.approx(_xla_flops(_train(op), *arg_shapes), rel=0.01)


def test_real_taps_matches_a_brute_force_count():
    for n, k, s, d, pads in itertools.product((5, 6), (1, 3), (1, 2), (1, 2),
                                              ((0, 0), (2, 1), (-1, 1), (1, -2))):
        if n + sum(pads) < (k - 1) * d + 1:
            continue  # cropped below the window: no output (an error, tested elsewhere)
        geom = shapes.geometry("t", (n,), k, strides=s, dilation=d, padding=(pads,),
                               negative_padding=True)
        brute = sum(0 <= o * s + t * d - pads[0] < n
                    for o in range(geom.out_spatial[0]) for t in range(k))
        assert counting.real_taps(geom) == brute


def test_flops_formula_states_the_padding_taps():
    cost = counting.conv_cost((1000, 1000, 1), 1, 10, use_bias=False)
    assert cost.forward_flops == 2 * (10**8 - 499_375)
    assert "taps on padding = 1,000,000 * 100 - 499,375" in cost.flops_formula


# ---------------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("call,error,match", [
    (lambda: counting.dense_cost(0, 5), ValueError,
     r"dense_cost: `in_features` must be a positive integer, got in_features=0"),
    (lambda: counting.dense_cost(5, 2.5), TypeError, r"dense_cost: `out_features` must be an int"),
    (lambda: counting.dense_cost(5, 5, use_bias=1), TypeError,
     r"dense_cost: `use_bias` must be True or False, got use_bias=1"),
    (lambda: counting.dense_cost(5, 5, batch_size=0), ValueError,
     r"dense_cost: `batch_size` must be a positive integer"),
    (lambda: counting.dense_cost(5, 5, dtype="foo"), TypeError,
     r"dense_cost: `dtype` must be a dtype or its name, got dtype='foo'"),
    (lambda: counting.dense_cost(5, 5, dtype=None), TypeError, r"`dtype` must be a dtype"),
    (lambda: counting.dense_cost(5, 5, dtype="str"), TypeError,
     r"dense_cost: `dtype` must be a numeric dtype, got dtype='str'"),
    (lambda: counting.conv_cost((0, 5, 1), 1, 3), ValueError,
     r"conv_cost: `input_shape` must be positive, got input_shape=\(0, 5, 1\)"),
    (lambda: counting.conv_cost(5, 1, 3), TypeError,
     r"conv_cost: `input_shape` must be a tuple \(\*spatial, C\), got input_shape=5"),
    (lambda: counting.conv_cost((5.0, 1), 1, 3), TypeError, r"conv_cost: `input_shape` must hold ints"),
    (lambda: counting.conv_cost((5,), 1, 3), ValueError,
     r"conv_cost: `input_shape` must be \(\*spatial, C\) with 1-3 spatial dims \(no batch\)"),
    (lambda: counting.conv_cost((5, 5, 1), 1, -1), ValueError,
     r"conv_cost: `kernel_size` must be a positive integer, got kernel_size=-1"),
    (lambda: counting.conv_cost((5, 5, 1), 1, 7, padding="VALID"), ValueError,
     r"conv_cost: output size would be zero or negative: input \(5, 5\), window \(7, 7\)"),
    (lambda: counting.conv_cost((5, 5, 3), 4, 3, groups=2), ValueError,
     r"conv_cost: `groups` must divide both input channels \(3\) and features \(4\)"),
    (lambda: counting.conv_cost((5, 5, 3), 4, 3, padding="FULL"), ValueError,
     r"conv_cost: `padding` must be one of SAME, VALID, CIRCULAR"),
    (lambda: counting.local_cost((5, 5, 1), 0, 3), ValueError,
     r"local_cost: `features` must be a positive integer, got features=0"),
    (lambda: counting.local_cost((5, 5, 1), 1, 3, strides=0), ValueError,
     r"local_cost: `strides` must be a positive integer, got strides=0"),
    (lambda: counting.pool_cost((4, 4, 1), 2, kind="min"), ValueError,
     r"pool_cost: `kind` must be one of max, avg, got kind='min'"),
    (lambda: counting.pool_cost((4, 4, 1), 5), ValueError,
     r"pool_cost: output size would be zero or negative"),
    (lambda: counting.local_cost((5, 5, 1), 1, 3, use_bias="no"), TypeError,
     r"local_cost: `use_bias` must be True or False, got use_bias='no'"),
    (lambda: counting.pool_cost((4, 4, 1), 2, kind=None), TypeError,
     r"pool_cost: `kind` must be one of max, avg, got kind=None"),
])
def test_bad_arguments_name_function_argument_and_value(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_use_bias_takes_numpy_bools_as_validate_does():
    # One check_bool (jaxconv.validate's) for every counter: a NumPy bool is a bool.
    import numpy as np

    assert counting.dense_cost(3, 4, use_bias=np.bool_(False)).biases == 0
    assert counting.conv_cost((5, 5, 1), 2, 3, use_bias=np.bool_(True)).biases == 2
