"""jaxconv.costs.tpu tile padding and the human-readable byte units of the counting tables."""

import pytest

from jaxconv.costs import counting, tpu
from jaxconv.costs.table import human_bytes, render


@pytest.mark.parametrize("dtype,expected", [("float32", (8, 128)), ("bfloat16", (16, 128)),
                                            ("int8", (32, 128)), ("float64", (8, 128))])
def test_tile_per_dtype(dtype, expected):
    assert tpu.tile(dtype) == expected


def test_padded_shapes_and_bytes():
    assert tpu.padded_shape((32, 28, 28, 3)) == (32, 28, 32, 128)
    assert tpu.padded_shape((20, 3), "bfloat16") == (32, 128)
    assert tpu.padded_shape((3,)) == (256,) and tpu.padded_shape(()) == (256,)
    assert tpu.padded_bytes((8, 128)) == 8 * 128 * 4
    assert tpu.padded_bytes((1, 1), "bfloat16") == 16 * 128 * 2


def test_tpu_bytes_waste_and_flag():
    half = tpu.TpuBytes(logical=50, padded=100)
    assert half.waste == 0.5 and not half.wasteful
    assert tpu.TpuBytes(logical=49, padded=100).wasteful
    assert tpu.TpuBytes(0, 0).waste == 0.0
    assert tpu.TpuBytes.of([(8, 128), (3,)]) == tpu.TpuBytes(4 * (1024 + 3), 4 * (1024 + 256))


def test_layer_bytes_of_a_cost():
    params, acts = tpu.layer_bytes(counting.conv_cost((28, 28, 1), 8, 3, batch_size=2))
    assert params == tpu.TpuBytes((72 + 8) * 4, (3 * 3 * 8 * 128 + 256) * 4)
    assert acts == tpu.TpuBytes(2 * 28 * 28 * 8 * 4, 2 * 28 * 32 * 128 * 4) and acts.wasteful


@pytest.mark.parametrize("call,error,match", [
    (lambda: tpu.padded_shape(5), TypeError, r"padded_shape: `shape` must be a tuple of ints, got shape=5"),
    (lambda: tpu.padded_shape((2.0, 3)), TypeError, r"padded_shape: `shape` must hold ints"),
    (lambda: tpu.padded_bytes((-1, 3)), ValueError, r"padded_shape: `shape` must not be negative"),
    (lambda: tpu.tile("nope"), TypeError, r"tile: `dtype` must be a dtype or its name"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("num_bytes,text", [
    (0, "0 B"), (400, "400 B"), (999, "999 B"), (1000, "1.0 kB"), (999_960, "1.0 MB"),
    (4 * 10**8, "400.0 MB"), (4 * 10**12, "4.0 TB"), (404 * 10**6, "404.0 MB")])
def test_human_bytes_are_decimal_si(num_bytes, text):
    assert human_bytes(num_bytes) == text


def test_render_aligns_columns():
    lines = render(["a", "num"], [["xx", "1"], ["y", "100"]], right={1}).splitlines()
    assert lines == ["a   num", "-------", "xx    1", "y   100"]
