"""Counting the regional layer: its formula, its place between local and conv, `count --regions`."""

import json

import pytest

from jaxconv.analysis.connectivity import compare_connectivity
from jaxconv.cli import main
from jaxconv.costs import counting


def test_count_regions_row_as_json(capsys):
    argv = ["count", "--input", "1000x1000", "--kernel", "10", "--regions", "10", "--json"]
    assert main(argv) == 0
    rows = {row["layer"]: row for row in json.loads(capsys.readouterr().out)["rows"]}
    assert list(rows) == ["dense", "local", "regional", "conv"]
    assert rows["regional"]["weights"] == 10_000 and rows["regional"]["biases"] == 100
    assert rows["regional"]["formula"] == "regions * window * C * F = 100 * 100 * 1 * 1 = 10,000"
    assert rows["regional"]["flops"] == rows["local"]["flops"] == rows["conv"]["flops"]


def test_count_regions_text(capsys):
    assert main(["count", "--input", "8x8", "--kernel", "3", "--regions", "2x4"]) == 0
    out = capsys.readouterr().out
    assert "regional weights: regions * window * C * F = 8 * 9 * 1 * 1 = 72" in out


@pytest.mark.parametrize("regions,weights", [(1, 9 * 2 * 4), ((6, 6), 36 * 9 * 2 * 4),
                                             ((2, 3), 6 * 9 * 2 * 4)])
def test_regional_cost_spans_conv_to_local(regions, weights):
    cost = counting.regional_cost((8, 8, 2), 4, 3, regions=regions)
    assert cost.weights == weights and cost.kernel_shape[-4:] == (3, 3, 2, 4)
    if regions == 1:
        assert cost.weights == counting.conv_cost((8, 8, 2), 4, 3, padding="VALID").weights
    if regions == (6, 6):
        assert cost.params == counting.local_cost((8, 8, 2), 4, 3).params


def test_regional_errors():
    with pytest.raises(ValueError, match=r"regional_cost: `regions` must be at most the output "
                                         r"size in each dim .* got regions=7 for output shape "
                                         r"\(6, 6\)"):
        counting.regional_cost((8, 8, 2), 4, 3, regions=7)
    with pytest.raises(ValueError, match=r"compare_connectivity: regional_cost: `regions` must "
                                         r"be a positive integer, got regions=0"):
        compare_connectivity((8, 8, 1), kernel_size=3, regions=0)
