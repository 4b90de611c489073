"""`jaxconv experiment sharing`: its JSON shape on a tiny run, its table, its plot, its errors."""

import json

import pytest

from jaxconv.cli import main
from jaxconv.cli.sharing import table
from jaxconv.experiments import sharing


@pytest.mark.slow
def test_cli_json_has_both_tasks_and_writes_the_plot(capsys, tmp_path):
    plot = tmp_path / "sharing.png"
    argv = ["experiment", "sharing", "--regions", "1,100", "--steps", "2", "--n-train", "64",
            "--channels", "2", "--json", "--plot", str(plot)]
    assert main(argv) == 0
    out = capsys.readouterr()
    result = json.loads(out.out)
    assert list(result) == ["tasks", "plot"]
    assert [t["task"] for t in result["tasks"]] == ["shifted", "aligned"]
    for task in result["tasks"]:
        rows = task["rows"]
        # 100 is capped at the 16x16 output: one kernel per position, the local layer.
        assert [(r["regions"], r["sharing"]) for r in rows] == [(1, "conv"), (16, "local")]
        assert all(isinstance(r["params"], int) and 0 <= r["test_accuracy"] <= 1 for r in rows)
        assert rows[1]["params"] > rows[0]["params"]
    assert "accuracy_seen" in result["tasks"][0]["rows"][0]
    assert plot.stat().st_size > 1000 and json.loads(out.out)["plot"] == str(plot)
    text = table(result)
    assert "| regions | sharing | parameters | test accuracy |" in text and "aligned (" in text


@pytest.mark.parametrize("kwargs,match", [
    (dict(tasks=("faces",)), r"sharing_experiment: `tasks` must be a non-empty subset of "
                             r"shifted, aligned, got tasks=\('faces',\)"),
    (dict(regions=()), r"sharing_experiment: `regions` must name at least one setting"),
    (dict(regions=(0,)), r"sharing_experiment: `regions` must be a positive integer, got "
                         r"regions=0"),
    (dict(n_train=0), r"sharing_experiment: `n_train` must be a positive integer"),
])
def test_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sharing.sharing_experiment(**kwargs)
