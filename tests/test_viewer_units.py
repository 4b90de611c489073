"""Units in the mosaics and strokes on the canvas: pure numpy, checked against the drawings."""

import numpy as np
import pytest

from jaxconv_viewer.gui import kernel_tiles
from jaxconv_viewer.gui import unit_geometry as units
from jaxconv_viewer.gui.panels.drawing import paint_stroke
from jaxconv_viewer.gui.tiling import feature_strip
from jaxconv_viewer.session.snapshot import Unit

FEATURES = [("layer1", np.arange(48, dtype=np.float32).reshape(4, 4, 3)),
            ("layer2", np.arange(20, dtype=np.float32).reshape(2, 2, 5)),
            ("head", np.arange(5, dtype=np.float32))]


def _every_unit():
    for name, a in FEATURES:
        if a.ndim == 1:
            yield name, a, Unit(name, int(a.size - 2), None)
            continue
        for index in np.ndindex(a.shape):
            yield name, a, Unit(name, index[2], index[:2])


def test_every_unit_is_found_where_the_strip_draws_it():
    strip = feature_strip(FEATURES)
    for _, a, unit in _every_unit():
        row, col, _, _ = units.feature_rect(FEATURES, unit)
        assert units.locate_feature(FEATURES, row, col) == unit
        value = a[(*unit.position, unit.channel)] if unit.position else a[unit.channel]
        assert strip[row, col] == pytest.approx((value - a.min()) / (a.max() - a.min()))


def test_gaps_between_tiles_and_layers_are_no_unit():
    strip = feature_strip(FEATURES)
    gaps = np.argwhere(np.isnan(strip))
    assert len(gaps) > 0
    assert all(units.locate_feature(FEATURES, int(r), int(c)) is None for r, c in gaps)
    assert units.locate_feature(FEATURES, 0, strip.shape[1] + 5) is None


def test_local_unit_uses_its_own_tile():
    kernel = np.random.default_rng(0).normal(size=(3, 4, 2, 2, 3, 5)).astype(np.float32)
    unit = Unit("layer1", 4, (2, 1))
    mosaic = kernel_tiles.weight_mosaic(kernel, feature=unit.channel)
    r, c, h, w = units.weight_rect(kernel, None, None, unit)
    own = kernel[2, 1, :, :, :, 4].transpose(0, 2, 1).reshape(2, 3 * 2)  # (kh, C * kw)
    np.testing.assert_array_equal(mosaic[r:r + h, c:c + w], own)


@pytest.mark.parametrize("channels", [1, 3])
def test_conv_unit_uses_the_one_shared_kernel(channels):
    kernel = np.random.default_rng(1).normal(size=(3, 3, channels, 6)).astype(np.float32)
    unit = Unit("layer2", 5, (0, 0))
    mosaic = kernel_tiles.weight_mosaic(kernel)
    r, c, h, w = units.weight_rect(kernel, None, None, unit)
    block = mosaic[r:r + h, c:c + w]
    for ci in range(channels):
        np.testing.assert_array_equal(block[:, ci * 4:ci * 4 + 3], kernel[:, :, ci, 5])
    # Another position of the same channel uses the very same weights.
    assert units.weight_rect(kernel, None, None, Unit("layer2", 5, (3, 2))) == (r, c, h, w)


def test_dense_unit_uses_its_weights_over_the_whole_input():
    kernel = np.random.default_rng(2).normal(size=(6 * 6 * 1, 4 * 4 * 3)).astype(np.float32)
    unit = Unit("layer1", 2, (3, 1))
    mosaic = kernel_tiles.weight_mosaic(kernel, (6, 6, 1), (4, 4, 3), feature=2, centre=unit.position)
    r, c, h, w = units.weight_rect(kernel, (6, 6, 1), (4, 4, 3), unit)
    column = kernel[:, (3 * 4 + 1) * 3 + 2].reshape(6, 6)
    np.testing.assert_array_equal(mosaic[r:r + h, c:c + w], column)


def test_vector_unit_uses_its_row_of_the_matrix():
    kernel = np.arange(12, dtype=np.float32).reshape(4, 3)
    r, c, h, w = units.weight_rect(kernel, None, None, Unit("head", 1, None))
    np.testing.assert_array_equal(kernel_tiles.weight_mosaic(kernel)[r:r + h, c:c + w][0], kernel[:, 1])


def test_field_rgb_tints_only_the_field():
    image = np.full((4, 4, 1), 0.5, np.float32)
    field = np.zeros((4, 4), bool)
    field[1:3, 1:3] = True
    rgb = units.field_rgb(image, field, "#ff0000")
    assert rgb.shape == (4, 4, 3) and rgb.dtype == np.uint8
    assert (rgb[field][:, 0] > rgb[field][:, 1]).all() and (rgb[~field] == rgb[0, 0]).all()
    assert rgb[0, 0].max() < rgb[1, 1].min()


def test_a_stroke_paints_a_line_and_the_eraser_removes_it():
    blank = np.zeros((8, 8), np.float32)
    line = paint_stroke(blank, (4.5, 0.5), (4.5, 7.5), 0.5, 1.0)
    np.testing.assert_array_equal(line[4], np.ones(8))
    assert line.dtype == np.float32
    assert line[:3].sum() == 0 and line[6:].sum() == 0
    thick = paint_stroke(blank, (4.5, 0.5), (4.5, 7.5), 2.0, 1.0)
    assert thick[3:6].min() == 1.0 and (thick[[2, 6]] == 0.5).all() and thick[:2].max() == 0
    erased = paint_stroke(thick, (4.5, 3.5), (4.5, 3.5), 0.5, 0.0)
    assert erased[4, 3] == 0.0 and erased[4, 6] == 1.0


def test_the_default_unit_fires_in_every_model_and_is_found_again_when_it_stops():
    from jaxconv_viewer.session.capture import default_unit, fires

    rng = np.random.default_rng(3)
    dense, conv = rng.random((6, 6, 4)) - 0.7, rng.random((6, 6, 4)) - 0.2
    dense[2, 3, 1], conv[2, 3, 1] = 5.0, 9.0  # the one unit firing hard in both
    models = {"dense": [("layer1", np.maximum(dense, 0)), ("head", np.ones(3))],
              "conv": [("layer1", np.maximum(conv, 0)), ("head", np.ones(3))]}
    unit = default_unit(models)
    assert unit == Unit("layer1", 1, (2, 3)) and fires(models, unit)
    models["dense"][0][1][2, 3, 1] = 0.0  # it stops firing in one model: another one is picked
    assert not fires(models, unit)
    other = default_unit(models)
    assert other != unit and fires(models, other)
    silent = {"dense": [("layer1", np.zeros((6, 6, 4)))], "conv": models["conv"]}
    assert fires({"conv": models["conv"]}, default_unit(silent))  # none fires in all: the last
    assert default_unit({"dense": [("head", np.ones(3))]}) is None  # no spatial layer
    assert not fires(models, Unit("head", 0, None)) and not fires(models, None)


def test_one_spot_s_field_grows_layer_by_layer():
    from jaxconv.config import ModelConfig
    from jaxconv_viewer.session.capture import field_growth

    config = ModelConfig("conv", channels=(2, 4, 8))
    grown = field_growth(config, (28, 28, 1), Unit("layer1", 0, (13, 13)))
    sizes = [(name, int(field.any(1).sum()), int(field.any(0).sum())) for name, field in grown]
    assert sizes == [("layer1", 3, 3), ("layer2", 8, 8), ("layer3", 18, 18)]
    assert all(grown[i][1][grown[i - 1][1]].all() for i in (1, 2))  # each holds the one below
    from_layer3 = field_growth(config, (28, 28, 1), Unit("layer3", 0, (3, 3)))
    assert [name for name, _ in from_layer3] == ["layer1", "layer2", "layer3"]
    assert field_growth(config, (28, 28, 1), Unit("head", 0, None)) == ()
    assert field_growth(config, (28, 28, 1), Unit("layer9", 0, (0, 0))) == ()

