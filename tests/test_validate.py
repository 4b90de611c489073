"""The shared validation layer: one phrasing per rule, the same text wherever a rule is broken."""

import numpy as np
import pytest

import jaxconv
from jaxconv import models
from jaxconv import validate as v
from jaxconv.costs import counting


@pytest.mark.parametrize("call, error, match", [
    (lambda: v.check_int("f", "n", 0), ValueError, r"^f: `n` must be a positive integer, got n=0\.$"),
    (lambda: v.check_int("f", "n", -1, 0), ValueError, r"^f: `n` must be an integer >= 0, got n=-1\.$"),
    (lambda: v.check_int("f", "n", 9, 2, 8), ValueError, r"^f: `n` must be an integer in \[2, 8\], got n=9\.$"),
    (lambda: v.check_int("f", "n", True), TypeError, r"^f: `n` must be an int, got n=True\.$"),
    (lambda: v.check_int("f", "n", np.bool_(True)), TypeError, r"^f: `n` must be an int, got n="),
    (lambda: v.check_int("f", "n", 2.0), TypeError, r"^f: `n` must be an int, got n=2\.0\.$"),
    (lambda: v.check_int("f", "n", "3"), TypeError, r"^f: `n` must be an int, got n='3'\.$"),
    (lambda: v.check_optional_int("f", "n", 0), ValueError,
     r"^f: `n` must be None or a positive integer, got n=0\.$"),
    (lambda: v.check_bool("f", "b", "no"), TypeError, r"^f: `b` must be True or False, got b='no'\.$"),
    (lambda: v.check_bool("f", "b", 1), TypeError, r"^f: `b` must be True or False, got b=1\.$"),
    (lambda: v.check_choice("f", "c", "d", ("a", "b")), ValueError, r"^f: `c` must be one of a, b, got c='d'\.$"),
    (lambda: v.check_choice("f", "c", None, ("a", "b")), TypeError, r"^f: `c` must be one of a, b, got c=None\.$"),
    (lambda: v.check_float("f", "x", -1, 0, low_open=True), ValueError,
     r"^f: `x` must be a positive finite number, got x=-1\.$"),
    (lambda: v.check_float("f", "x", float("nan"), 0), ValueError, r"^f: `x` must be a finite number >= 0, got x=nan\.$"),
    (lambda: v.check_float("f", "x", 1.0, 0, 1, high_open=True), ValueError,
     r"^f: `x` must be a finite number in \[0, 1\), got x=1\.0\.$"),
    (lambda: v.check_float("f", "x", "1"), TypeError, r"^f: `x` must be a finite number, got x='1'\.$"),
    (lambda: v.check_float("f", "x", True), TypeError, r"^f: `x` must be a finite number, got x=True\.$"),
])
def test_one_phrasing_per_rule(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_valid_values_come_back_canonical():
    assert v.check_int("f", "n", np.int64(3)) == 3 and type(v.check_int("f", "n", np.int64(3))) is int
    assert v.check_bool("f", "b", np.bool_(False)) is False
    assert v.check_choice("f", "p", "same", ("SAME", "VALID"), upper=True) == "SAME"
    assert v.check_float("f", "x", np.float32(0.5), 0, 1) == 0.5
    assert v.check_optional_int("f", "n", None) is None


@pytest.mark.parametrize("call", [
    lambda: jaxconv.conv(np.ones((1, 8, 8, 1), np.float32), np.ones((3, 3, 1, 2), np.float32), strides=0),
    lambda: counting.conv_cost((8, 8, 1), 2, 3, strides=0),
    lambda: models.ModelConfig("conv", strides=0),
])
def test_strides_zero_reads_the_same_everywhere(call):
    with pytest.raises(ValueError, match=r": `strides` must be a positive integer, got strides=0\.$"):
        call()


def test_array_beyond_int64_names_the_count_and_bytes():
    with pytest.raises(ValueError, match=r"^f: the output \(padding=2\) would have shape \(2, 4294967296, "
                                         r"4294967296, 3\): 110,680,464,442,257,309,696 elements, "
                                         r"442,721,857,769,029,238,784 bytes \(442.7 EB\), beyond the "
                                         r"2\*\*63 bytes"):
        v.check_array_size("f", "the output (padding=2)", (2, 2**32, 2**32, 3), 4)


def test_memory_check_names_the_bytes_and_points_to_summary():
    limit = v.available_memory_bytes()
    assert 2**20 < limit < 2**63
    assert v.check_fits_memory("f", "x", limit) == limit
    with pytest.raises(ValueError, match=r"^Dense: its parameters \(kernel \(4, 1099511627776\), bias "
                                         r"\(1099511627776,\); features=1099511627776\) take "
                                         r"21,990,232,555,520 bytes \(22.0 TB\), and initialising "
                                         r"them needs 87,960,930,222,080 bytes \(88.0 TB\) but this "
                                         r"machine can hold at most .* bytes .*jaxconv.summary\(model, "
                                         r"input_shape\)"):
        v.check_params_fit("Dense", {"kernel": (4, 2**40), "bias": (2**40 - 0,)}, np.float32,
                           "features=1099511627776")


def test_abstract_block_skips_the_memory_check_only():
    with v.abstract():
        assert v.check_fits_memory("f", "x", 2**62) == 2**62
        with pytest.raises(ValueError, match="beyond the 2\\*\\*63 bytes"):
            v.check_array_size("f", "x", (2**62, 4), 4)
    with pytest.raises(ValueError, match="needs 4,611,686,018,427,387,904 bytes"):
        v.check_fits_memory("f", "x", 2**62)
