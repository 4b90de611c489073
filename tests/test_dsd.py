"""The DSD task of Lahoti et al. (2024) and `jaxconv experiment data-size --task dsd`."""

import json

import numpy as np
import pytest

from jaxconv.cli import main
from jaxconv.experiments import dsd


def test_one_patch_holds_the_signed_signal():
    ds = dsd.make_dsd(5, 6, n_train=4000, n_test=10, signal=3.0, noise=0.0, seed=2)
    x = (ds.x_train[:, 0] - 0.5) * 2 * dsd.SCALE  # undo the [0, 1] storage: (N, k, d)
    norms = np.linalg.norm(x, axis=-1)
    assert x.shape == (4000, 5, 6) and ds.num_classes == 2
    # Without noise exactly one patch per image is nonzero, with norm `signal`.
    np.testing.assert_allclose(np.sort(norms, axis=1)[:, -1], 3.0, rtol=1e-5)
    assert np.all(np.sort(norms, axis=1)[:, :-1] < 1e-5)
    signed = x[np.arange(4000), norms.argmax(1)] * (2 * ds.y_train - 1)[:, None]
    np.testing.assert_allclose(signed, np.broadcast_to(signed[0], signed.shape), atol=1e-5)
    # The signal patch is uniform over the k positions and the labels are balanced.
    assert np.bincount(norms.argmax(1), minlength=5).min() > 700
    assert 0.45 < ds.y_train.mean() < 0.55


def test_crossing_and_slope():
    assert dsd.crossing([16, 32, 64], [0.6, 0.9, 0.95], 0.9) == 32.0
    assert dsd.crossing([16, 64], [0.95, 0.99], 0.9) == 16.0
    assert dsd.crossing([16, 64], [0.5, 0.6], 0.9) is None
    assert dsd.fit_slope([2, 4, 8], [8, 32, 128]) == pytest.approx(2.0)
    curve = dsd.predicted_curve("dense", "k", 3, [1, 2, 4], 2, 100.0)
    assert curve == pytest.approx([25.0, 100.0, 400.0])  # k^2 d through (2, 100)


@pytest.mark.slow
def test_cli_json_and_plot(capsys, tmp_path):
    plot = tmp_path / "dsd.png"
    argv = ["experiment", "data-size", "--task", "dsd", "--values", "2,4", "--fixed", "2",
            "--sizes", "16", "--steps", "2", "--target", "0.55", "--kinds", "conv", "--json",
            "--plot", str(plot)]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["vary"] == "d" and result["values"] == [2, 4]
    assert [r["kind"] for r in result["kinds"]] == ["conv"]
    row = result["kinds"][0]
    assert len(row["samples"]) == 2 and [len(a) for a in row["accuracies"]] == [1, 1]
    assert all(n in (None, 16.0) for n in row["samples"])
    assert plot.stat().st_size > 1000


@pytest.mark.parametrize("kwargs,match", [
    (dict(vary="n"), r"dsd_experiment: `vary` must be one of d, k, got vary='n'"),
    (dict(target=1.0), r"dsd_experiment: `target` must be a finite number in \(0.5, 1\)"),
    (dict(kinds=("mlp",)), r"dsd_experiment: `kinds` must be one of conv, local, dense"),
])
def test_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        dsd.dsd_experiment(**kwargs)
