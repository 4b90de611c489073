"""Receptive fields: geometry against the (k - 1) * stride-product rule, gradients against kernels."""

import jax
import numpy as np
import pytest

from jaxconv import models
from jaxconv.analysis import receptive
from jaxconv.analysis.receptive import effective_field, field_extent, theoretical_field
from jaxconv.models import ModelConfig


def test_conv_layer1_field_is_its_window_clipped_at_the_border():
    config = ModelConfig("conv", channels=(2,), pool=False)
    field = theoretical_field(config, (8, 8, 1), "layer1", (3, 5))
    expected = np.zeros((8, 8), bool)
    expected[2:5, 4:7] = True
    np.testing.assert_array_equal(field, expected)
    corner = theoretical_field(config, (8, 8, 1), "layer1", (0, 0))
    assert corner.sum() == 4 and corner[:2, :2].all()


def test_circular_padding_wraps_the_field():
    config = ModelConfig("conv", channels=(2,), pool=False, padding="CIRCULAR")
    field = theoretical_field(config, (8, 8, 1), "layer1", (0, 0))
    assert sorted(np.nonzero(field.any(1))[0].tolist()) == [0, 1, 7]


@pytest.mark.parametrize("kernel, stride, depth", [(3, 1, 1), (3, 1, 3), (3, 2, 2), (5, 2, 2),
                                                   (2, 3, 2), (4, 1, 2)])
def test_field_grows_by_k_minus_1_times_the_stride_product(kernel, stride, depth):
    config = ModelConfig("local", channels=(1,) * depth, kernel_size=kernel, strides=stride,
                         padding="VALID", pool=False)
    sizes = receptive.spatial_shapes(config, (40, 40, 1))
    layer = f"layer{depth}"
    field = theoretical_field(config, (40, 40, 1), layer, (0, sizes[layer][1] - 1))
    expected = 1 + sum((kernel - 1) * stride ** i for i in range(depth))
    assert field_extent(field) == (expected, expected)
    assert field.sum() == expected ** 2 or stride > kernel  # strided windows can leave gaps


def test_pools_widen_the_field_like_a_stride_2_window():
    config = ModelConfig("conv", channels=(2, 2), kernel_size=3, pool=True)
    field = theoretical_field(config, (16, 16, 1), "layer2", (3, 3))
    # layer2 window (3, stride 1) + pool (2, stride 1 below it) + layer1 window (3, stride 2).
    assert field_extent(field) == (1 + 2 + 1 + 2 * 2,) * 2
    assert np.nonzero(field.any(1))[0].tolist() == list(range(3, 11))


def test_conv_and_local_share_the_field_and_dense_sees_everything():
    fields = {kind: theoretical_field(ModelConfig(kind, channels=(2, 2)), (8, 8, 1), "layer2",
                                      (1, 2)) for kind in models.KINDS}
    np.testing.assert_array_equal(fields["conv"], fields["local"])
    assert fields["conv"].sum() < 64 and fields["dense"].all()
    assert theoretical_field(ModelConfig("conv"), (8, 8, 1), "head").all()


def _model_and_params(kind, **fields):
    model = models.build(kind, num_classes=3, hidden=0, **fields)
    params = model.init(jax.random.key(1), np.zeros((1, 6, 6, 1), np.float32))["params"]
    params = jax.tree.map(np.asarray, params)
    params["layer1"]["bias"] = params["layer1"]["bias"] + 50.0  # every layer-1 ReLU on
    return model, params


@pytest.mark.parametrize("kind", ["dense", pytest.param("local", marks=pytest.mark.slow), "conv"])
def test_effective_field_of_a_layer1_unit_is_its_kernel(kind):
    model, params = _model_and_params(kind, channels=(2,), pool=False, padding="VALID")
    image = np.random.default_rng(0).uniform(size=(6, 6, 1)).astype(np.float32)
    got = effective_field(model, params, image, "layer1", (1, 2), channel=1)
    kernel = np.abs(params["layer1"]["kernel"])
    expected = np.zeros((6, 6), np.float32)
    if kind == "conv":  # the one shared kernel, at this unit's window
        expected[1:4, 2:5] = kernel[:, :, 0, 1]
    elif kind == "local":  # this position's own kernel
        expected[1:4, 2:5] = kernel[1, 2, :, :, 0, 1]
    else:  # dense: the unit's row of weights over the whole input
        units = kernel.reshape(36, 4, 4, 2)
        expected = units[:, 1, 2, 1].reshape(6, 6)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    field = theoretical_field(model.config, (6, 6, 1), "layer1", (1, 2))
    np.testing.assert_array_equal(got != 0, field)


@pytest.mark.slow
def test_effective_field_lies_inside_the_theoretical_one():
    model, params = _model_and_params("conv", channels=(2, 2), pool=True)
    image = np.random.default_rng(1).uniform(size=(6, 6, 1)).astype(np.float32)
    for layer, position in (("layer2", (1, 1)), ("head", None)):
        got = effective_field(model, params, image, layer, position, channel=0)
        field = theoretical_field(model.config, (6, 6, 1), layer, position)
        assert got.shape == (6, 6) and (got[~field] == 0).all()


def test_effective_field_compiles_once_per_model():
    model, params = _model_and_params("conv", channels=(2, 2), pool=False)
    image = np.ones((6, 6, 1), np.float32)
    before = receptive._input_gradient._cache_size()
    for layer, position in (("layer1", (0, 0)), ("layer2", (2, 3)), ("head", None)):
        effective_field(model, params, image, layer, position, channel=1)
    assert receptive._input_gradient._cache_size() == before + 1


def test_errors_name_the_argument_and_the_value():
    config = ModelConfig("conv", channels=(2,))
    with pytest.raises(ValueError, match=r"theoretical_field: `layer` must be one of layer1, "
                                         r"hidden, head, got layer='layer3'"):
        theoretical_field(config, (8, 8, 1), "layer3", (0, 0))
    with pytest.raises(ValueError, match=r"theoretical_field: `position` must be \(row, col\) "
                                         r"inside the output \(8, 8\) of layer 'layer1', got "
                                         r"position=\(8, 0\)"):
        theoretical_field(config, (8, 8, 1), "layer1", (8, 0))
    with pytest.raises(ValueError, match=r"layer 'hidden' is a vector, so `position` must be "
                                         r"None, got position=\(0, 0\)"):
        theoretical_field(config, (8, 8, 1), "hidden", (0, 0))
    with pytest.raises(ValueError, match=r"theoretical_field: `input_shape` must be \(H, W, C\) "
                                         r"positive ints, got input_shape=\(8, 8\)"):
        theoretical_field(config, (8, 8), "layer1", (0, 0))
    model, params = _model_and_params("conv", channels=(2,))
    with pytest.raises(ValueError, match=r"effective_field: `channel` must be an int in \[0, 2\) "
                                         r"for layer 'layer1', got channel=2"):
        effective_field(model, params, np.ones((6, 6, 1)), "layer1", (0, 0), channel=2)
    with pytest.raises(ValueError, match=r"effective_field: `image` must have shape \(H, W, C\), "
                                         r"got shape \(6, 6\)"):
        effective_field(model, params, np.ones((6, 6)), "layer1", (0, 0))
    with pytest.raises(TypeError, match=r"effective_field: `model` must be a "
                                        r"jaxconv.models.Model, got ModelConfig"):
        effective_field(config, params, np.ones((6, 6, 1)), "layer1", (0, 0))
