"""The viewer's image tiling and normalising: pure numpy, no Qt."""

import numpy as np
import pytest

from jaxconv_viewer.gui import kernel_tiles, tiling


def test_grid_shape_holds_every_tile():
    for n in range(1, 50):
        rows, cols = tiling.grid_shape(n)
        assert rows * cols >= n and (rows - 1) * cols < n and cols >= rows


def test_tile_places_each_image_at_its_cell():
    images = np.arange(4 * 2 * 3, dtype=np.float32).reshape(4, 2, 3)
    out = tiling.tile(images, cols=2, pad=1, fill=-1)
    assert out.shape == (2 * 3 - 1, 2 * 4 - 1)
    np.testing.assert_array_equal(out[0:2, 0:3], images[0])
    np.testing.assert_array_equal(out[0:2, 4:7], images[1])
    np.testing.assert_array_equal(out[3:5, 4:7], images[3])
    assert np.all(out[2, :] == -1) and np.all(out[:, 3] == -1)


def test_tile_rejects_wrong_rank():
    with pytest.raises(ValueError, match=r"tile: `images` must have shape \(N, h, w\)"):
        tiling.tile(np.zeros((2, 2)))


def test_normalise_and_symmetric_limit():
    np.testing.assert_allclose(tiling.normalise([1.0, 3.0, np.nan]), [0.0, 1.0, np.nan])
    assert tiling.normalise(np.full(3, 7.0)).tolist() == [0.0, 0.0, 0.0]
    assert tiling.symmetric_limit([-3.0, 2.0, np.inf]) == 3.0
    assert tiling.symmetric_limit(np.zeros(4)) == 1.0


def test_dense_weight_images_are_images_of_the_input():
    h, w, c, units = 3, 4, 2, 5
    image = np.random.default_rng(0).normal(size=(h, w, c)).astype(np.float32)
    kernel = np.zeros((h * w * c, units), np.float32)
    kernel[:, 2] = image.reshape(-1)  # unit 2's incoming weights are exactly `image`
    out = kernel_tiles.dense_weight_images(kernel, (h, w, c))
    assert out.shape == (units, h, w * c)
    np.testing.assert_array_equal(out[2][:, :w], image[..., 0])
    np.testing.assert_array_equal(out[2][:, w:], image[..., 1])
    with pytest.raises(ValueError, match=r"kernel must have shape \(24, units\)"):
        kernel_tiles.dense_weight_images(np.zeros((5, 2)), (h, w, c))


def test_dense_unit_grid_draws_one_channel_at_every_position():
    h, w, c, oh, ow, f = 3, 3, 1, 2, 2, 3
    kernel = np.zeros((h * w * c, oh * ow * f), np.float32)
    kernel[4, (1 * ow + 0) * f + 2] = 7.0  # unit at (1, 0), channel 2: centre pixel
    out = kernel_tiles.dense_unit_grid(kernel, (h, w, c), (oh, ow, f), feature=2)
    assert out.shape == (2 * 4 - 1, 2 * 4 - 1)
    assert out[4 + 1, 0 + 1] == 7.0 and np.nansum(out) == 7.0
    assert np.nansum(kernel_tiles.dense_unit_grid(kernel, (h, w, c), (oh, ow, f), feature=1)) == 0.0
    with pytest.raises(ValueError, match=r"dense_unit_grid: kernel must have shape \(in, 12\)"):
        kernel_tiles.dense_unit_grid(np.zeros((9, 5)), (h, w, c), (oh, ow, f))


def test_dense_templates_draw_the_chosen_unit_and_those_that_learned_most():
    h, w, c, oh, ow, f = 5, 5, 1, 7, 7, 2
    kernel = np.full((h * w * c, oh * ow * f), 0.01, np.float32)  # "noise" of one size
    kernel[:, (6 * ow + 6) * f + 1] = np.arange(h * w)  # the unit at (6, 6), channel 1
    learned = [(0, 1), (3, 3), (5, 0)]  # three more that learned
    for r, col in learned:
        kernel[:, (r * ow + col) * f + 1] = 2.0
    units = kernel_tiles.template_units(kernel, (oh, ow, f), feature=1, centre=(6, 6))
    assert len(units) == 9 and units == sorted(units)  # in reading order
    assert set(learned) | {(6, 6)} <= set(units) and (0, 0) in units  # then the first in order
    out = kernel_tiles.dense_templates(kernel, (h, w, c), (oh, ow, f), feature=1, centre=(6, 6))
    assert out.shape == (3 * (h + 1) - 1, 3 * (w + 1) - 1)  # 3x3 templates of 5x5
    r, col = divmod(units.index((6, 6)), 3)
    np.testing.assert_array_equal(out[r * 6:r * 6 + 5, col * 6:col * 6 + 5],
                                  np.arange(25).reshape(5, 5))
    again = kernel_tiles.dense_templates(kernel * 0, (h, w, c), (oh, ow, f), 1, (6, 6), units=units)
    assert again.shape == out.shape and np.nansum(again) == 0  # drawn at the places given
    assert kernel_tiles.template_units(kernel, (oh, ow, f), 1, (0, 0), n=1) == [(0, 0)]
    small = kernel_tiles.template_units(np.ones((3, 2 * 2 * 1)), (2, 2, 1), 0, (1, 1))
    assert small == [(0, 0), (0, 1), (1, 0), (1, 1)]  # fewer units than templates: all of them
    with pytest.raises(ValueError, match=r"dense_templates: kernel must have shape \(in, 98\) for "
                                         r"output \(7, 7, 2\), got shape \(25, 5\)\."):
        kernel_tiles.dense_templates(np.zeros((25, 5)), (h, w, c), (oh, ow, f))


def test_local_kernel_grid_has_one_tile_per_position():
    oh, ow, kh, kw, c, f = 2, 3, 2, 2, 1, 4
    kernel = np.zeros((oh, ow, kh, kw, c, f), np.float32)
    kernel[1, 2, :, :, 0, 3] = 5.0  # the filter at position (1, 2), feature 3
    out = kernel_tiles.local_kernel_grid(kernel, feature=3, pad=1)
    assert out.shape == (oh * 3 - 1, ow * 3 - 1)
    assert np.all(out[3:5, 6:8] == 5.0) and np.nansum(out) == 5.0 * kh * kw
    assert np.isnan(out[2, 0]) and np.nansum(kernel_tiles.local_kernel_grid(kernel, feature=0)) == 0.0


def test_conv_kernel_grid_rows_are_outputs_and_columns_inputs():
    kernel = np.zeros((3, 3, 2, 4), np.float32)
    kernel[:, :, 1, 2] = 1.0  # output channel 2 from input channel 1
    out = kernel_tiles.conv_kernel_grid(kernel, pad=1)
    assert out.shape == (4 * 4 - 1, 2 * 4 - 1)
    assert np.all(out[8:11, 4:7] == 1.0) and np.nansum(out) == 9.0


def test_weight_mosaic_dispatches_on_rank():
    assert kernel_tiles.weight_mosaic(np.zeros((3, 3, 1, 4))).shape == (7, 7)  # one input channel: a grid
    assert kernel_tiles.weight_mosaic(np.zeros((6, 6, 3, 3, 1, 2))).shape == (23, 23)
    assert kernel_tiles.weight_mosaic(np.zeros((64, 4)), (8, 8, 1)).shape == (17, 17)
    assert kernel_tiles.weight_mosaic(np.zeros((32, 10)), (8, 8, 1)).shape == (10, 32)
    # a dense layer on a 4x4 grid: 3x3 of its units' templates, not all 16
    assert kernel_tiles.weight_mosaic(np.zeros((64, 4 * 4 * 3)), (8, 8, 1), (4, 4, 3)).shape == (26, 26)
    with pytest.raises(ValueError, match="2, 4 or 6 dimensions"):
        kernel_tiles.weight_mosaic(np.zeros(3))


def test_feature_mosaic_of_maps_and_vectors():
    maps = np.ones((1, 4, 4, 3), np.float32)
    out = tiling.feature_mosaic(maps)
    assert out.shape == (9, 9) and np.nansum(out) == 48.0 and np.isnan(out[4, 0])
    vec = tiling.feature_mosaic(np.arange(10, dtype=np.float32))
    assert vec.shape == (3, 4) and np.nansum(vec) == 45.0

