"""RegionalConv modules and the "regional" model kind: shapes, identities, counts, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxconv
from jaxconv import models
from jaxconv.layers import linen

KEY = jax.random.key(0)
X = jax.random.normal(jax.random.key(1), (2, 8, 8, 1))


def test_linen_regional_conv_calls_the_op():
    layer = linen.RegionalConv(4, (3, 3), regions=(2, 3), padding="SAME")
    params = layer.init(KEY, X)["params"]
    assert params["kernel"].shape == (2, 3, 3, 3, 1, 4) and params["bias"].shape == (2, 3, 4)
    want = jaxconv.regional_conv(X, params["kernel"], params["bias"], regions=(2, 3),
                                 padding="SAME")
    np.testing.assert_allclose(layer.apply({"params": params}, X), want, rtol=1e-6)


def test_linen_regional_conv_errors():
    with pytest.raises(ValueError, match=r"RegionalConv: `regions` must be at most the output "
                                         r"size in each dim .* got regions=7 for output shape "
                                         r"\(6, 6\)"):
        linen.RegionalConv(4, (3, 3), regions=7).init(KEY, X)
    with pytest.raises(ValueError, match=r"RegionalConv: `features` must be a positive integer"):
        linen.RegionalConv(0, (3, 3), regions=2).init(KEY, X)


def test_regional_model_spans_conv_to_local():
    shapes = {r: jax.tree.map(jnp.shape, jax.eval_shape(
        models.build("regional", channels=(4,), hidden=0, regions=r).init, KEY, X)["params"])
        for r in (1, 3, 100)}
    assert shapes[1]["layer1"] == {"kernel": (1, 1, 3, 3, 1, 4), "bias": (1, 1, 4)}
    assert shapes[3]["layer1"] == {"kernel": (3, 3, 3, 3, 1, 4), "bias": (3, 3, 4)}
    # Capped at the output size: one kernel per position, the local model's parameters.
    local = jax.tree.map(jnp.shape, jax.eval_shape(
        models.build("local", channels=(4,), hidden=0).init, KEY, X)["params"])
    assert shapes[100] == local


def test_one_region_model_is_the_conv_model():
    conv = models.build("conv", channels=(3,), hidden=0)
    regional = models.build("regional", channels=(3,), hidden=0, regions=1)
    p = conv.init(KEY, X)["params"]
    q = dict(p, layer1={"kernel": p["layer1"]["kernel"][None, None],
                        "bias": p["layer1"]["bias"][None, None]})
    np.testing.assert_allclose(regional.apply({"params": q}, X), conv.apply({"params": p}, X),
                               rtol=1e-5, atol=1e-5)


def test_summary_counts_the_regional_layer():
    model = models.build("regional", channels=(4,), hidden=0, regions=2)
    rows = {row.module: row for row in jaxconv.summary(model, (8, 8, 1)).rows}
    row = rows["RegionalConv"]
    assert row.layer == "regional" and row.params == 2 * 2 * 9 * 4 + 2 * 2 * 4


def test_config_regions_is_checked():
    with pytest.raises(ValueError, match=r"ModelConfig: `regions` must be a positive integer, "
                                         r"got regions=0"):
        models.ModelConfig("regional", regions=0)


def test_nnx_regional_conv_calls_the_op_and_is_counted():
    from flax import nnx

    from jaxconv.layers import nnx as jnnx

    layer = jnnx.RegionalConv(1, 4, (3, 3), regions=(2, 3), input_size=(8, 8), padding="SAME",
                              rngs=nnx.Rngs(0))
    assert layer.kernel[...].shape == (2, 3, 3, 3, 1, 4) and layer.bias[...].shape == (2, 3, 4)
    want = jaxconv.regional_conv(X, layer.kernel[...], layer.bias[...], regions=(2, 3),
                                 padding="SAME")
    np.testing.assert_allclose(layer(X), want, rtol=1e-6)
    rows = jaxconv.summary(lambda rngs: jnnx.RegionalConv(1, 4, (3, 3), regions=2,
                                                          input_size=(8, 8), rngs=rngs),
                           (8, 8, 1)).rows
    assert [(r.layer, r.params) for r in rows] == [("regional", 2 * 2 * 9 * 4 + 2 * 2 * 4)]


def test_nnx_regional_conv_errors():
    from flax import nnx

    from jaxconv.layers import nnx as jnnx

    with pytest.raises(ValueError, match=r"RegionalConv: `regions` must be at most the output "
                                         r"size in each dim"):
        jnnx.RegionalConv(1, 4, (3, 3), regions=9, input_size=(8, 8), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"RegionalConv: `implementation` must be one of auto, "
                                         r"grouped, local, got implementation='taps'"):
        jnnx.RegionalConv(1, 4, (3, 3), regions=2, input_size=(8, 8), implementation="taps",
                          rngs=nnx.Rngs(0))
    layer = jnnx.RegionalConv(1, 4, (3, 3), regions=2, input_size=(8, 8), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"RegionalConv: input spatial shape \(6, 6\) differs "
                                         r"from the input_size \(8, 8\)"):
        layer(jnp.ones((1, 6, 6, 1)))
