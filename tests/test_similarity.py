"""`jaxconv.analysis.similarity.similarity_to_mean` and ModelConfig's ``regions=None`` (one per position)."""

import numpy as np
import pytest

from jaxconv import models, shapes
from jaxconv.analysis.similarity import similarity_to_mean
from jaxconv.config import ModelConfig


def _loop(kernel):
    """A plain loop: each position's flattened filter against the mean one."""
    oh, ow, f = kernel.shape[0], kernel.shape[1], kernel.shape[-1]
    out = np.zeros((oh, ow, f))
    for c in range(f):
        mean = kernel[..., c].mean(axis=(0, 1)).ravel()
        for i in range(oh):
            for j in range(ow):
                v = kernel[i, j, ..., c].ravel()
                out[i, j, c] = v @ mean / (np.linalg.norm(v) * np.linalg.norm(mean))
    return out


def test_a_tiled_conv_kernel_is_one_everywhere():
    conv = np.random.default_rng(0).normal(size=(3, 3, 2, 4))
    tiled = np.broadcast_to(conv, (5, 4, 3, 3, 2, 4))
    np.testing.assert_allclose(similarity_to_mean(tiled), np.ones((5, 4, 4)), atol=1e-6)


def test_random_filters_match_a_numpy_loop():
    kernel = np.random.default_rng(1).normal(size=(3, 2, 3, 3, 2, 5))
    got = similarity_to_mean(kernel)
    assert got.shape == (3, 2, 5) and got.dtype == np.float32
    np.testing.assert_allclose(got, _loop(kernel), rtol=1e-5, atol=1e-6)


def test_opposite_filters_and_zero_filters():
    a = np.random.default_rng(2).normal(size=(3, 3, 1, 1))
    kernel = np.stack([a, a, -a])[:, None]  # (3, 1, 3, 3, 1, 1): mean a/3, last one opposite
    np.testing.assert_allclose(similarity_to_mean(kernel)[:, 0, 0], [1, 1, -1], atol=1e-6)
    zero = np.zeros((2, 2, 3, 3, 1, 1))
    assert np.isnan(similarity_to_mean(zero)).all()


def test_one_dimensional_kernels():
    kernel = np.random.default_rng(3).normal(size=(6, 3, 2, 4))
    assert similarity_to_mean(kernel, spatial_dims=1).shape == (6, 4)


def test_bad_kernels_are_named():
    with pytest.raises(ValueError, match=r"similarity_to_mean: `kernel` must have shape .* rank "
                                         r"6 for spatial_dims=2, got kernel shape \(3, 3, 1, 8\)"):
        similarity_to_mean(np.ones((3, 3, 1, 8)))
    with pytest.raises(TypeError, match=r"similarity_to_mean: `spatial_dims` must be an int, "
                                        r"got spatial_dims=2.0"):
        similarity_to_mean(np.ones((2, 2, 3, 3, 1, 1)), spatial_dims=2.0)


def test_regions_none_is_one_kernel_per_position():
    import jax
    import jax.numpy as jnp

    assert ModelConfig("regional", regions=None).regions is None
    assert ModelConfig.from_json(ModelConfig("regional", regions=None).to_json()).regions is None
    model = models.build("regional", regions=None, channels=(2,), num_classes=2, hidden=0)
    params = model.init(jax.random.key(0), jnp.ones((1, 6, 5, 1)))["params"]
    out = shapes.geometry("t", (6, 5), 3, padding="SAME").out_spatial
    assert params["layer1"]["kernel"].shape == (*out, 3, 3, 1, 2)
    with pytest.raises(ValueError, match=r"ModelConfig: `regions` must be a positive integer, "
                                         r"got regions=0"):
        ModelConfig("regional", regions=0)


def test_regions_off_is_a_flag_value():
    import argparse

    from jaxconv.cli.fields import add_config_arguments, given_fields

    parser = argparse.ArgumentParser()
    add_config_arguments(parser, ModelConfig, skip=("kind",))
    assert given_fields(ModelConfig, parser.parse_args(["--regions", "off"])) == {"regions": None}
    assert given_fields(ModelConfig, parser.parse_args(["--regions", "3"])) == {"regions": 3}
