"""jaxconv.analysis.probes: shifting images, accuracy against shift, equivariance, against simple oracles."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxconv import experiments, models
from jaxconv.analysis import probes


def _loop_shift(x, dy, dx, mode):
    """Oracle: every output pixel looked up one by one."""
    n, h, w, c = x.shape
    out = np.zeros_like(x)
    for i in range(h):
        for j in range(w):
            si, sj = i - dy, j - dx
            if mode == "circular":
                out[:, i, j] = x[:, si % h, sj % w]
            elif 0 <= si < h and 0 <= sj < w:
                out[:, i, j] = x[:, si, sj]
    return out


@pytest.mark.parametrize("mode", probes.SHIFT_MODES)
@pytest.mark.parametrize("jit", [False, True])
def test_shift_images_matches_the_loop(mode, jit):
    x = np.arange(2 * 4 * 5 * 2, dtype=np.float32).reshape(2, 4, 5, 2)
    for dy, dx in ((0, 0), (1, 0), (0, -2), (-3, 4), (2, -1)):
        fn = lambda x, dy=dy, dx=dx: probes.shift_images(x, dy, dx, mode=mode)  # noqa: E731
        got = jax.jit(fn)(x) if jit else fn(x)
        assert isinstance(got, jax.Array if jit else np.ndarray)
        np.testing.assert_array_equal(np.asarray(got), _loop_shift(x, dy, dx, mode))


def test_shift_images_exact_and_errors():
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)
    np.testing.assert_array_equal(probes.shift_images(x, 1, -1)[0, :, :, 0],
                                  [[0, 0, 0], [2, 3, 0], [5, 6, 0]])
    assert experiments.shift_images is probes.shift_images  # one shift, not two
    with pytest.raises(ValueError, match=r"shift_images: `dx` must be an integer in "
                                         r"\[-2, 2\], got dx=3"):
        probes.shift_images(x, 0, 3)
    with pytest.raises(TypeError, match=r"shift_images: `dy` must be an int, got dy=0.5"):
        probes.shift_images(x, 0.5, 0)
    with pytest.raises(ValueError, match=r"shift_images: `x` must have shape \(N, H, W, C\)"):
        probes.shift_images(x[0], 0, 0)
    with pytest.raises(ValueError, match=r"shift_images: `mode` must be one of zeros, circular, "
                                         r"got mode='wrap'"):
        probes.shift_images(x, 0, 0, mode="wrap")


def test_axis_shifts():
    assert probes.axis_shifts(0) == ((0, 0),)
    shifts = probes.axis_shifts(3)
    assert len(shifts) == 13 and len(set(shifts)) == 13
    assert {dx for dx, dy in shifts if dy == 0} == set(range(-3, 4))
    assert {dy for dx, dy in shifts if dx == 0} == set(range(-3, 4))
    with pytest.raises(ValueError, match=r"axis_shifts: `k` must be an integer >= 0, got k=-1"):
        probes.axis_shifts(-1)


@pytest.mark.parametrize("jit", [False, True])
def test_shift_accuracy_matches_one_evaluation_per_shift(jit):
    rng = np.random.default_rng(0)
    x = rng.random((6, 5, 5, 1), np.float32)
    w = rng.standard_normal((25, 3)).astype(np.float32)
    y = np.argmax(x.reshape(6, -1) @ w, axis=1)  # right on every unshifted image
    logits = lambda x: x.reshape(x.shape[0], -1) @ w  # noqa: E731
    shifts = probes.axis_shifts(2)
    fn = lambda x, y: probes.shift_accuracy(logits, x, y, shifts)  # noqa: E731
    got = np.asarray(jax.jit(fn)(x, y) if jit else fn(x, y))
    want = [np.mean(np.argmax(logits(probes.shift_images(x, dy, dx)), 1) == y)
            for dx, dy in shifts]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert got[0] == 1.0
    where = np.array([True, False, True, True, False, True])
    masked = np.asarray(probes.shift_accuracy(logits, x, y, shifts, where=where))
    np.testing.assert_allclose(masked, np.asarray(fn(x[where], y[where])), rtol=1e-6)
    with pytest.raises(ValueError, match=r"shift_accuracy: `where` must have shape \(N,\)"):
        probes.shift_accuracy(logits, x, y, shifts, where=where[:2])
    with pytest.raises(ValueError, match=r"shift_accuracy: `shifts` must hold at least one"):
        probes.shift_accuracy(logits, x, y, ())
    with pytest.raises(TypeError, match=r"shift_accuracy: `shifts` must be a sequence of \(dx, dy\)"):
        probes.shift_accuracy(logits, x, y, (1, 2))
    with pytest.raises(ValueError, match=r"shift_accuracy: `x` must have shape \(N, H, W, C\) and "
                                         r"`y` shape \(N,\), got shapes \(6, 5, 5, 1\) and \(5,\)"):
        probes.shift_accuracy(logits, x, y[:5], shifts)


def _features(kind, padding):
    model = models.build(kind, num_classes=3, channels=(4, 4), padding=padding, hidden=0)
    x = jax.random.uniform(jax.random.key(1), (3, 8, 8, 2))
    if padding != "CIRCULAR":  # content away from the edges, as a digit on its page
        x = jnp.zeros_like(x).at[:, 2:6, 2:6].set(x[:, 2:6, 2:6])
    params = model.init(jax.random.key(0), x)["params"]
    return (lambda x: dict(models.activations(model, params, x))), x


@pytest.mark.slow  # builds and compiles real models
def test_equivariance_of_circular_conv_is_zero():
    features, x = _features("conv", "CIRCULAR")
    got = probes.equivariance(features, x, mode="circular")
    assert list(got) == ["layer1", "layer2"]  # hidden and head are not spatial
    for value in got.values():
        assert float(value) < 1e-6


@pytest.mark.slow  # builds and compiles real models
def test_equivariance_orders_the_kinds():
    conv = probes.equivariance(*_features("conv", "SAME"))
    local = probes.equivariance(*_features("local", "SAME"))
    dense = probes.equivariance(*_features("dense", "SAME"))
    # Conv's first layer commutes exactly with moving content that stays inside (zero bias at
    # init); the others are position-bound. Deeper, the zero-filled edge of a 4x4 map shows.
    assert float(conv["layer1"]) < 1e-6
    for name in ("layer1", "layer2"):
        assert float(conv[name]) < 0.5 < min(float(local[name]), float(dense[name]))


def test_equivariance_exact_answers():
    x = jnp.arange(16.0).reshape(1, 4, 4, 1) + 1
    assert float(probes.equivariance(lambda x: {"id": x}, x, mode="circular")["id"]) == 0.0
    # f(x) = x with the first column blanked: under circular one-column shifts, each of the two
    # horizontal moves gets two columns wrong and the vertical moves none.
    mask = jnp.ones((1, 4, 4, 1)).at[:, :, 0].set(0)
    masked = probes.equivariance(lambda x: {"m": x * mask}, x, mode="circular")["m"]
    fx = x * mask
    wrong = sum(float(jnp.sum((probes.shift_images(x, 0, d, mode="circular") * mask
                               - probes.shift_images(fx, 0, d, mode="circular")) ** 2))
                for d in (-1, 1))
    np.testing.assert_allclose(float(masked), np.sqrt(wrong / (4 * float(jnp.sum(fx ** 2)))),
                               rtol=1e-6)
    assert float(masked) > 0.1
    with pytest.raises(ValueError, match=r"equivariance: `x` must have shape \(N, H, W, C\)"):
        probes.equivariance(lambda x: {"id": x}, x[0])
