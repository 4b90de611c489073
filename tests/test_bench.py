"""`jaxconv bench`: the report's structure on tiny shapes (speed is never asserted), and its errors."""

import json

import pytest

from jaxconv.cli import main
from jaxconv.experiments import bench
from jaxconv.experiments.bench import workloads as wl

KEYS = {"workload", "mode", "impl", "chosen", "ms", "gflops", "peak_share", "vs_flax", "vs_torch",
        "compile_s", "flops", "cpu_library", "x_gemm", "patch_bytes", "bytes", "intensity",
        "bandwidth_share", "roofline_share", "memory_bound"}


def test_run_reports_every_peer_and_mode():
    work = [bench.make_workload("local", (6, 6, 1), 2, 3, batch=2),
            bench.make_workload("local", (4, 4, 1), 1, 2, strides=2, batch=2, modes=("forward",))]
    report = bench.run(work, rounds=1, quick=True, variants=True, use_torch=False)
    assert report["environment"]["peak_gflops"] > 0
    rows = report["results"]
    assert all(set(r) == KEYS for r in rows)
    assert [(r["mode"], r["impl"]) for r in rows[:4]] == [
        ("forward", "jaxconv"), ("forward", "jaxconv[patches]"), ("forward", "jaxconv[taps]"),
        ("forward", "flax")]
    assert rows[0]["chosen"] == "taps" and rows[-5]["chosen"] == "taps"
    assert {r["impl"] for r in rows if r["workload"] == work[1].name} == {
        "jaxconv", "jaxconv[patches]", "jaxconv[taps]", "jaxconv[reshape]", "flax"}
    train = [r for r in rows if r["mode"] == "train"]
    assert train and all(r["compile_s"] > 0 for r in train)
    flax_row = next(r for r in rows if r["impl"] == "flax")
    assert flax_row["vs_flax"] == pytest.approx(1.0)
    # FLOPs come from shape arithmetic (jaxconv.costs.counting): 2 * N * positions * window * C * F
    # multiply-adds plus N * positions * F bias adds; 3x that for training.
    assert rows[0]["flops"] == 2 * 2 * 16 * 9 * 1 * 2 + 2 * 16 * 2
    assert train[0]["flops"] == 3 * rows[0]["flops"]
    assert "vs flax" in bench.format_table(report)


def test_gemm_ratio_and_roofline_fields():
    work = [bench.make_workload("local", (6, 6, 2), 3, 3, batch=2)]
    report = bench.run(work, rounds=2, quick=True, use_torch=False, gemm_ratio=True)
    rows = {(r["mode"], r["impl"]): r for r in report["results"]}
    assert report["environment"]["bandwidth_gbs"] > 0
    gemm, mine = rows[("forward", "gemm")], rows[("forward", "jaxconv")]
    assert gemm["x_gemm"] == pytest.approx(1.0) and mine["x_gemm"] > 0
    # the same-FLOP GEMM: 2 n^3 closest to the row's FLOPs
    n = bench.roofline.gemm_size(mine["flops"])
    assert abs(2 * n ** 3 - mine["flops"]) <= abs(2 * (n + 1) ** 3 - mine["flops"])
    # compulsory bytes, float32: input 2*6*6*2, kernel 4*4*9*2*3, bias 4*4*3, output 2*4*4*3
    assert mine["bytes"] == 4 * (144 + 864 + 48 + 96)
    assert mine["intensity"] == pytest.approx(mine["flops"] / mine["bytes"])
    assert 0 < mine["roofline_share"] and mine["patch_bytes"] == 4 * 2 * 16 * 18
    assert rows[("train", "jaxconv")]["bytes"] == 4 * (3 * 144 + 6 * 864 + 5 * 48 + 2 * 96)
    assert "x gemm" in bench.format_table(report)


def test_cli_json(capsys):
    code = main(["bench", "--quick", "--json", "--no-torch", "--layer", "dense", "--input", "8",
                 "--features", "4", "--batch", "2", "--mode", "train", "--rounds", "1"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["impl"] for r in report["results"]] == ["jaxconv", "flax"]
    assert report["results"][0]["workload"] == "dense 8->4 b2"


def test_cli_bad_input_is_one_line_and_exit_2(capsys):
    assert main(["bench", "--layer", "local", "--input", "28xx1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("jaxconv bench: error: bench: `--input` must be integers joined by 'x', "
                   "e.g. 28x28x1, got '28xx1'.")


def test_workload_errors():
    with pytest.raises(ValueError, match=r"bench: `layer` must be one of dense, conv, local, "
                                         r"regional, got layer='lstm'"):
        bench.make_workload("lstm", (8,), 4)
    with pytest.raises(ValueError, match=r"bench: a dense layer's `input` is one size"):
        bench.make_workload("dense", (8, 8), 4)
    with pytest.raises(ValueError, match=r"bench: a local layer's `input` is \(\*spatial, C\)"):
        bench.make_workload("local", (8,), 4)
    with pytest.raises(ValueError, match=r"bench: `input` must be positive integers"):
        bench.make_workload("conv", (0, 8, 1), 4)
    with pytest.raises(ValueError, match=r"bench: `modes` must be some of forward, train"):
        bench.make_workload("dense", (8,), 4, modes=("backward",))
    with pytest.raises(ValueError, match=r"bench: output size would be zero or negative"):
        bench.make_workload("local", (2, 2, 1), 4, kernel_size=3)
    with pytest.raises(ValueError, match=r"bench: `features` must be a positive integer"):
        bench.make_workload("dense", (8,), 0)
    with pytest.raises(ValueError, match=r"bench: `rounds` must be a positive integer, got rounds=0"):
        bench.run([], rounds=0)
    with pytest.raises(TypeError, match=r"bench: `workloads` must be Workload instances"):
        bench.run(["local"], rounds=1)


def test_auto_implementation_and_flops_of_issue_workloads():
    lc1, big = bench.default_workloads()[1:3]
    assert wl.auto_implementation(lc1) == "taps"
    assert wl.auto_implementation(big) == "taps"
    assert big.flops("forward") == 2 * 8 * 1000 * 1000 * 1 + 8 * 100 * 100
    assert wl.auto_implementation(bench.default_workloads()[-1]) is None


def test_ratio_pairs_samples_of_the_same_round():
    from jaxconv.experiments.bench.runner import median_ratio

    # Round 2 was slowed for both by outside load; pairing by round cancels it.
    assert median_ratio([2.0, 40.0, 6.0], [1.0, 20.0, 3.0]) == 2.0


def test_cli_retain_freed_memory_is_reported(capsys):
    # Process-wide allocator setting: run in a fresh interpreter.
    import subprocess
    import sys

    from jaxconv.backend import host_memory

    args = ["bench", "--quick", "--json", "--no-torch", "--layer", "dense", "--input", "8",
            "--features", "4", "--batch", "2", "--mode", "forward", "--rounds", "1"]
    code = "import sys; from jaxconv.cli import main; sys.exit(main(sys.argv[1:]))"
    out = subprocess.run([sys.executable, "-c", code, *args, "--retain-freed-memory"],
                         capture_output=True, text=True, check=True).stdout
    env = json.loads(out)["environment"]
    assert env["retained_freed_memory"] is host_memory.glibc_available()
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["environment"]["retained_freed_memory"] is False
    assert "host memory: default allocator" in bench.format_table(report)


def test_cpu_library_is_the_same_for_every_jax_peer_and_reported(capsys):
    from jaxconv.backend import xla_cpu

    work = [bench.make_workload("conv", (4, 4, 1), 2, 3, batch=2, modes=("forward",)),
            bench.make_workload("dense", (8,), 4, batch=2, modes=("forward",))]
    report = bench.run(work, rounds=1, quick=True, use_torch=False, cpu_library="auto")
    conv_library = "eigen-conv" if xla_cpu.available("eigen-conv") else "xla"
    assert [(r["impl"], r["cpu_library"]) for r in report["results"]] == [
        ("jaxconv", conv_library), ("flax", conv_library), ("jaxconv", "xla"), ("flax", "xla")]
    assert report["environment"]["cpu_library"] == "auto"
    assert "cpu library: auto" in bench.format_table(report)
    with pytest.raises(ValueError, match=r"bench: `cpu_library` must be one of auto, xla, "
                                         r"eigen-conv, .*, eigen, got cpu_library='mkl'"):
        bench.run(work, rounds=1, cpu_library="mkl")
    assert main(["bench", "--quick", "--json", "--no-torch", "--layer", "conv", "--input", "4x4x1",
                 "--features", "2", "--batch", "2", "--mode", "forward", "--rounds", "1",
                 "--cpu-library", "eigen"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["environment"]["cpu_library"] == "eigen"
    assert {r["cpu_library"] for r in report["results"]} == {
        "eigen" if xla_cpu.available("eigen") else "xla"}


def test_regional_row_against_the_local_layer_of_its_shape(capsys):
    code = main(["bench", "--quick", "--json", "--no-torch", "--layer", "regional", "--input",
                 "6x6x1", "--features", "2", "--regions", "2x3", "--batch", "2", "--mode",
                 "forward", "--rounds", "1", "--variants"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)["results"]
    assert [r["impl"] for r in rows] == ["jaxconv", "jaxconv[grouped]", "jaxconv[local]",
                                         "jaxconv local", "flax"]
    assert rows[0]["workload"] == "regional2x3 3x3 1->2 @6x6 s1x1 VALID b2"
    assert rows[0]["chosen"] == "local"
    with pytest.raises(ValueError, match=r"bench: `regions` is given for a regional layer and "
                                         r"only for one, got layer='local', regions=2"):
        bench.make_workload("local", (6, 6, 1), 2, regions=2)
