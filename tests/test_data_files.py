"""jaxconv.data on local files: the IDX reader/writer, .npz archives and IDX directories."""

import gzip
import re

import numpy as np
import pytest

from jaxconv import data
from jaxconv.data.idx import IDX_NAMES


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    array = (np.arange(24).reshape(2, 3, 4) % 7).astype(dtype)
    path = tmp_path / f"a.idx{suffix}"
    data.write_idx(path, array)
    back = data.read_idx(path)
    assert back.dtype == dtype and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, array)


def test_idx_header_is_lecuns_format_and_gzip_is_sniffed(tmp_path):
    data.write_idx(tmp_path / "y", np.array([7, 8, 9], np.uint8))
    assert (tmp_path / "y").read_bytes() == bytes.fromhex("00000801 00000003 070809")
    data.write_idx(tmp_path / "y.gz", np.array([7, 8, 9], np.uint8))
    (tmp_path / "y.gz").rename(tmp_path / "y_no_suffix")  # gzip found by magic, not by name
    np.testing.assert_array_equal(data.read_idx(tmp_path / "y_no_suffix"), [7, 8, 9])
    first = (tmp_path / "y_no_suffix").read_bytes()
    data.write_idx(tmp_path / "again.gz", np.array([7, 8, 9], np.uint8))
    assert (tmp_path / "again.gz").read_bytes() == first  # mtime=0: reproducible bytes


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"PK\x03\x04rest", r"is not an IDX file: magic bytes '504b0304'"),
        (bytes.fromhex("00000701") + b"\0" * 8, r"is not an IDX file: magic bytes '00000701'"),
        (bytes.fromhex("00000803 00000002"), r"is truncated: 8 bytes, shorter than its 16-byte header"),
        (bytes.fromhex("00000801 00000003 0708"), r"has 10 bytes but its header \(shape \(3,\), dtype uint8\) needs 11"),
        (bytes.fromhex("00000801 00000001 0708"), r"has 10 bytes but its header \(shape \(1,\), dtype uint8\) needs 9"),
        (gzip.compress(bytes.fromhex("00000801 00000003 070809"), mtime=0)[:-6], r"is a corrupt gzip file"),
    ],
)  # fmt: skip
def test_read_idx_rejects_corrupt_files_naming_the_path(tmp_path, raw, message):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=r"read_idx: '" + re.escape(str(path)) + "' " + message):
        data.read_idx(path)


def test_write_idx_rejects_unsupported_arrays(tmp_path):
    with pytest.raises(ValueError, match=r"write_idx: `array` dtype must be one of uint8, .*, got int64"):
        data.write_idx(tmp_path / "a", np.zeros(3, np.int64))
    with pytest.raises(ValueError, match=r"write_idx: `array` must have 1 to 255 axes, got shape \(\)"):
        data.write_idx(tmp_path / "a", np.uint8(3))


# --- .npz ------------------------------------------------------------------------------------


def _arrays(n_train=4, n_test=2):
    rng = np.random.default_rng(0)
    return dict(
        x_train=rng.integers(0, 256, (n_train, 5, 6), dtype=np.uint8),
        y_train=np.array([0, 1, 2, 1])[:n_train],
        x_test=rng.integers(0, 256, (n_test, 5, 6), dtype=np.uint8),
        y_test=np.array([2, 0])[:n_test],
    )


def test_load_npz_with_and_without_class_names(tmp_path):
    arrays = _arrays()
    np.savez(tmp_path / "plain.npz", **arrays)
    ds = data.load(str(tmp_path / "plain.npz"))
    assert ds.name == str(tmp_path / "plain.npz")
    assert ds.x_train.shape == (4, 5, 6, 1) and ds.x_train.dtype == np.float32
    np.testing.assert_allclose(ds.x_train[..., 0] * 255, arrays["x_train"], atol=1e-4)
    assert ds.class_names == ("0", "1", "2")
    np.savez(tmp_path / "named.npz", class_names=np.array(["cat", "dog", "eel", "fox"]), **arrays)
    named = data.load(tmp_path / "named.npz", n_train=2, seed=1)  # a Path works too
    assert named.class_names == ("cat", "dog", "eel", "fox") and named.x_train.shape[0] == 2


def test_load_npz_rejects_bad_archives_naming_the_path(tmp_path):
    path = tmp_path / "set.npz"
    arrays = _arrays()
    np.savez(path, **{k: v for k, v in arrays.items() if k != "y_test"})
    with pytest.raises(ValueError, match=re.escape(f"load: '{path}' is missing key(s) ['y_test']")):
        data.load(str(path))
    np.savez(path, **{**arrays, "y_train": np.array([0, 1])})
    with pytest.raises(ValueError, match=re.escape(f"Dataset '{path}': x_train has 4 images but y_train has 2 labels")):
        data.load(str(path))
    np.savez(path, **{**arrays, "x_test": np.full((2, 5, 6), 3.0)})
    with pytest.raises(ValueError, match=re.escape(f"Dataset '{path}': x_test must lie in [0, 1]")):
        data.load(str(path))
    np.savez(path, class_names=np.array(["a", "b"]), **arrays)
    with pytest.raises(ValueError, match=re.escape(f"Dataset '{path}': y_train[2] = 2 is not a class: there are 2 class_names")):
        data.load(str(path))
    np.savez(path, class_names=np.array([["a", "b"]]), **arrays)
    with pytest.raises(ValueError, match=re.escape(f"load: '{path}': class_names must be a 1-D array of strings, got shape (1, 2)")):
        data.load(str(path))
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match=re.escape(f"load: could not read '{path}' as an .npz archive")):
        data.load(str(path))
    other = tmp_path / "set.csv"
    other.write_text("1,2\n")
    with pytest.raises(ValueError, match=re.escape(f"load: '{other}' is a file but not an .npz archive")):
        data.load(str(other))


# --- IDX directories -------------------------------------------------------------------------


def _write_idx_dir(directory, arrays, gz=(True, False, True, False)):
    directory.mkdir(exist_ok=True)
    for (role, stem), zipped in zip(IDX_NAMES.items(), gz):
        data.write_idx(directory / (stem + (".gz" if zipped else "")), arrays[role])


def test_load_idx_directory(tmp_path):
    arrays = {k: np.asarray(v, np.uint8) for k, v in _arrays().items()}
    _write_idx_dir(tmp_path / "set", arrays)
    ds = data.load(str(tmp_path / "set"))
    assert ds.x_train.shape == (4, 5, 6, 1) and ds.x_test.shape == (2, 5, 6, 1)
    np.testing.assert_array_equal(ds.y_train, arrays["y_train"])
    assert ds.class_names == ("0", "1", "2")
    (tmp_path / "dotted").mkdir()  # the spelling some mirrors use after gunzip
    for role, stem in IDX_NAMES.items():
        data.write_idx(tmp_path / "dotted" / stem.replace("-idx", ".idx"), arrays[role])
    assert data.load(str(tmp_path / "dotted")).x_train.shape == (4, 5, 6, 1)


def test_load_idx_directory_rejects_missing_and_mismatched_files(tmp_path):
    arrays = {k: np.asarray(v, np.uint8) for k, v in _arrays().items()}
    _write_idx_dir(tmp_path / "set", arrays)
    (tmp_path / "set" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(ValueError, match=re.escape(f"load: '{tmp_path / 'set'}' is missing IDX file(s) ['t10k-labels-idx1-ubyte']")):
        data.load(str(tmp_path / "set"))
    _write_idx_dir(tmp_path / "set", {**arrays, "y_test": np.array([1, 0, 1], np.uint8)})
    with pytest.raises(ValueError, match=re.escape(f"Dataset '{tmp_path / 'set'}': x_test has 2 images but y_test has 3 labels")):
        data.load(str(tmp_path / "set"))
    _write_idx_dir(tmp_path / "set", {**arrays, "x_train": np.zeros((4, 30), np.uint8)})
    bad = tmp_path / "set" / "train-images-idx3-ubyte.gz"
    with pytest.raises(ValueError, match=re.escape(f"load: '{bad}' must hold images of shape (N, H, W) or (N, H, W, C), got shape (4, 30)")):
        data.load(str(tmp_path / "set"))
