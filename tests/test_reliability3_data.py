"""Values quoted as the file holds them (round 3's M9, M10, L12, L17): the first bad pixel or
label is named with its index and its value before any cast, NaN included."""

import re

import numpy as np
import pytest

from jaxconv import data
from jaxconv.cli import main


def _npz(path, x=None, y=None, y_test=None, **extra):
    x = np.random.default_rng(0).random((8, 8, 8)).astype("f4") if x is None else x
    y = np.arange(len(x)) % 2 if y is None else y
    y_test = np.arange(len(x)) % 2 if y_test is None else y_test
    np.savez(path, x_train=x, y_train=y, x_test=x, y_test=y_test, **extra)
    return str(path)


def test_m9_a_nan_pixel_is_named_with_its_index(tmp_path):
    x = np.random.default_rng(0).random((8, 8, 8)).astype("f4")
    x[2, 3, 4] = np.nan
    with pytest.raises(ValueError, match=re.escape("x_train must lie in [0, 1] (or be uint8 in "
                                                   "[0, 255]), got x_train[2, 3, 4] = nan.")):
        data.load(_npz(tmp_path / "nan.npz", x))


def test_m9_a_pixel_just_above_one_is_quoted_as_the_file_holds_it(tmp_path):
    x = np.full((8, 8, 8), 0.5, "f4")
    x[1, 0, 0] = np.float32(1.0000001)
    with pytest.raises(ValueError, match=re.escape("got x_train[1, 0, 0] = 1.0000001.")):
        data.load(_npz(tmp_path / "above.npz", x))
    # float64 1 + 1e-10 would round to 1.0 in float32: checked before the cast.
    x = np.full((8, 8, 8), 0.5)
    x[0, 1, 2] = 1 + 1e-10
    with pytest.raises(ValueError, match=re.escape("got x_train[0, 1, 2] = 1.0000000001.")):
        data.load(_npz(tmp_path / "above64.npz", x))


def test_m9_a_float_label_of_1e10_is_named_not_wrapped(tmp_path):
    y = np.arange(8) % 2.0
    y[5] = 1e10
    with pytest.raises(ValueError, match=re.escape("y_train must be non-negative class labels "
                                                   "below 2**31 (int32), got y_train[5] = "
                                                   "10000000000.0.")):
        data.load(_npz(tmp_path / "big.npz", y=y))


def test_m9_a_nan_label_is_named(tmp_path):
    y = np.arange(8) % 2.0
    y[3] = np.nan
    with pytest.raises(ValueError, match=re.escape("must hold integer class labels, got "
                                                   "y_train[3] = nan (dtype float64).")):
        data.load(_npz(tmp_path / "nanlabel.npz", y=y))


def test_m10_a_label_of_2_32_plus_3_is_refused_not_read_as_3(tmp_path, capsys):
    y = np.arange(64) % 4
    y[7] = 2**32 + 3
    x = np.zeros((64, 8, 8), "u1")
    path = tmp_path / "wrap.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:16], y_test=np.arange(16) % 4)
    code = main(["train", "--dataset", str(path), "--steps", "2", "--batch-size", "2", "--json",
                 "--no-compile-cache"])
    err = capsys.readouterr().err
    assert code == 2 and "y_train[7] = 4294967299" in err and len(err.splitlines()) == 1


def test_l12_bytes_class_names_read_as_text(tmp_path):
    ds = data.load(_npz(tmp_path / "bytes.npz", class_names=np.array([b"cat", b"dog"])))
    assert ds.class_names == ("cat", "dog")


def test_l17_a_single_class_is_named_as_the_datasets(tmp_path):
    with pytest.raises(ValueError, match=r"load: '.*one.npz': its labels hold a single class "
                                         r"\('0'\); a classifier needs at least 2 classes."):
        data.load(_npz(tmp_path / "one.npz", y=np.zeros(8, int), y_test=np.zeros(8, int)))
