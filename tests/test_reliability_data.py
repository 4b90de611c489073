"""Regression tests for the reliability findings M3, M5, M6: labels and splits checked at load."""

import numpy as np
import pytest

from jaxconv import data, models, train


@pytest.fixture(scope="module")
def digits():
    return data.load("digits", seed=0, n_train=64, n_test=16)


def _idx_dir(tmp_path, digits, y_train):
    x = (digits.x_train[:, :, :, 0] * 255).astype(np.uint8)
    data.write_idx(str(tmp_path / "train-images-idx3-ubyte"), x)
    data.write_idx(str(tmp_path / "train-labels-idx1-ubyte"), y_train.astype(np.int32))
    data.write_idx(str(tmp_path / "t10k-images-idx3-ubyte"), x[:8])
    data.write_idx(str(tmp_path / "t10k-labels-idx1-ubyte"), y_train[:8].astype(np.int32))
    return str(tmp_path)


def test_m6_one_stray_label_255_does_not_make_256_classes(tmp_path, digits):
    y = digits.y_train.copy()
    y[-1] = 255
    with pytest.raises(ValueError, match=r"y_train\[63\] = 255 would make 256 classes, but only "
                                         r"11 distinct labels occur \(no example of 10, 11, 12, "
                                         r"13, 14, \.\.\.\): a stray label\?"):
        data.load(_idx_dir(tmp_path, digits, y))


def test_m6_h1_a_corrupt_label_of_5e7_is_refused_quickly(tmp_path, digits):
    y = digits.y_train.copy()
    y[5] = 50_000_000
    with pytest.raises(ValueError, match=r"y_train\[5\] = 50000000 would make 50000001 classes"):
        data.load(_idx_dir(tmp_path, digits, y))


def test_m6_a_gap_in_inferred_labels_is_named(tmp_path, digits):
    y = np.where(digits.y_train == 2, 3, digits.y_train)
    with pytest.raises(ValueError, match=r"no example of 2\)"):
        data.load(_idx_dir(tmp_path, digits, y))


def test_a_label_beyond_the_declared_class_names_names_its_index(digits):
    y = digits.y_train.copy()
    y[7] = 12
    with pytest.raises(ValueError, match=r"Dataset 'toy': y_train\[7\] = 12 is not a class: there "
                                         r"are 10 class_names \(labels 0\.\.9\)"):
        data.Dataset(digits.x_train, y, digits.x_test, digits.y_test, digits.class_names, "toy")


@pytest.mark.parametrize("split", ["train", "test"])
def test_m3_an_empty_split_is_refused_at_load(tmp_path, digits, split):
    arrays = dict(x_train=digits.x_train, y_train=digits.y_train, x_test=digits.x_test,
                  y_test=digits.y_test)
    arrays[f"x_{split}"], arrays[f"y_{split}"] = arrays[f"x_{split}"][:0], arrays[f"y_{split}"][:0]
    path = tmp_path / "empty.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=rf"empty.npz': x_{split} must hold at least 1 image, "
                                         rf"got shape \(0, 8, 8, 1\)"):
        data.load(str(path))


def test_m3_fit_refuses_an_empty_test_split_before_training(digits):
    class Bare:  # a duck-typed dataset, which skips Dataset's own check
        x_train, y_train = digits.x_train, digits.y_train
        x_test, y_test = digits.x_test[:0], digits.y_test[:0]

    with pytest.raises(ValueError, match=r"fit: the dataset's test split is empty"):
        train.fit(models.build("dense", hidden=0), Bare(), steps=3)


def test_m5_fewer_model_classes_than_labels_is_a_label_error_not_divergence(digits):
    model = models.build("dense", hidden=0, num_classes=2)
    first = int(np.argmax(digits.y_train >= 2))
    with pytest.raises(ValueError, match=rf"fit: the model has 2 output classes but dataset "
                                         rf"'digits': y_train\[{first}\] = "
                                         rf"{digits.y_train[first]}; build it with num_classes"):
        train.fit(model, digits, steps=3)
