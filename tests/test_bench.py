"""`jaxconv bench`: the report's structure on tiny shapes (speed is never asserted), and its errors."""

import json

import pytest

from jaxconv import kinds
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
    (local,) = report["gemm_by_kind"]["local"]  # the ratio per kind, both modes
    assert local == {"workload": work[0].name, "forward": mine["x_gemm"],
                     "train": rows[("train", "jaxconv")]["x_gemm"]}
    assert "per kind:" in bench.format_table(report)


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
    with pytest.raises(ValueError, match=r"bench: `layer` must be one of dense, local, regional, "
                                         r"conv, got layer='lstm'"):
        bench.make_workload("lstm", (8,), 4)
    with pytest.raises(ValueError, match=r"bench: a dense layer's `input` is one size"):
        bench.make_workload("dense", (8, 8), 4)
    with pytest.raises(ValueError, match=r"bench: a local layer's `input` is \(\*spatial, C\)"):
        bench.make_workload("local", (8,), 4)
    with pytest.raises(ValueError, match=r"bench: `input` must be a tuple of positive integers "
                                         r"\(one example's shape, no batch\), got input=\(0, 8, 1\)"):
        bench.make_workload("conv", (0, 8, 1), 4)
    with pytest.raises(TypeError, match=r"bench: `input` must be a tuple of positive integers .*"
                                        r"got input='8x8'"):
        bench.make_workload("conv", "8x8", 4)
    with pytest.raises(ValueError, match=r"bench: `batch` must be a positive integer, got batch=0"):
        bench.make_workload("dense", (8,), 4, batch=0)
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
    with pytest.raises(ValueError, match=r"bench: `regions` is given for a layer that needs them "
                                         r"\(regional\) and only for one, got layer='local', "
                                         r"regions=2"):
        bench.make_workload("local", (6, 6, 1), 2, regions=2)


class DepthwiseKind(kinds.ConvKind):
    """A kind from outside: a convolution whose feature groups are its input channels."""

    name = "depthwise"
    order = 25

    def layer_settings(self, input_shape, **given):
        return {**super().layer_settings(input_shape, **given), "groups": input_shape[-1]}


class DilatedLocalKind(kinds.LocalKind):
    """A kind from outside: a locally-connected layer whose window taps are 2 apart."""

    name = "dilated_local"
    order = 15
    regional_form = None

    def layer_settings(self, input_shape, **given):
        return {**super().layer_settings(input_shape, **given), "dilation": 2}


@pytest.fixture
def toy_kinds():
    added = [kinds.register(DepthwiseKind()), kinds.register(DilatedLocalKind())]
    try:
        yield added
    finally:
        for kind in added:
            kinds.unregister(kind.name)


def test_kinds_registered_from_outside_run_with_no_other_edit(toy_kinds, capsys):
    depthwise = bench.make_workload("depthwise", (6, 6, 2), 4, 3, batch=2, modes=("forward",))
    dilated = bench.make_workload("dilated_local", (7, 7, 1), 2, 2, batch=2)
    assert depthwise.name == "depthwise 3x3 2->4 @6x6 s1x1 g2 SAME b2"
    assert dilated.name == "dilated_local 2x2 1->2 @7x7 s1x1 d2x2 VALID b2"
    # the parameters are the kind's: one (3, 3, 1, 4) kernel; a kernel per position of the
    # dilated window's (5, 5) outputs
    assert wl.init_params(depthwise, wl.jax.random.key(0))[0].shape == (3, 3, 1, 4)
    assert wl.init_params(dilated, wl.jax.random.key(0))[0].shape == (5, 5, 2, 2, 1, 2)
    report = bench.run([depthwise, dilated], rounds=1, quick=True, variants=True, use_torch=False)
    rows = report["results"]
    assert all(set(r) == KEYS for r in rows)
    assert [(r["workload"], r["mode"], r["impl"]) for r in rows if r["impl"] == "flax"] == [
        (depthwise.name, "forward", "flax"), (dilated.name, "forward", "flax"),
        (dilated.name, "train", "flax")]
    # FLOPs from the kind's cost: a tap reads one channel (groups = C); SAME padding leaves
    # 6 * 3 - 2 = 16 real taps per dim; the dilated window's 4 taps all land inside the input
    assert rows[0]["flops"] == 2 * 2 * 16 * 16 * 1 * 4 + 2 * 36 * 4
    assert next(r for r in rows if r["workload"] == dilated.name)["flops"] == (
        2 * 2 * 25 * 4 * 1 * 2 + 2 * 25 * 2)
    assert {r["impl"] for r in rows if r["workload"] == dilated.name} >= {
        "jaxconv", "jaxconv[patches]", "jaxconv[taps]", "flax"}
    # jaxconv's op and the kind's Flax peer give outputs of the same shape
    for work in (depthwise, dilated):
        x = wl.input_batch(work, wl.jax.random.key(1))
        mine = wl.jaxconv_apply(work)(wl.init_params(work, wl.jax.random.key(0)), x)
        apply, params = wl.flax_apply(work)
        assert mine.shape == apply(params, x).shape
    with pytest.raises(ValueError, match=r"bench: `groups` must divide both input channels "
                                         r"\(2\) and features \(3\), got groups=2"):
        bench.make_workload("depthwise", (6, 6, 2), 3)
    assert main(["bench", "--quick", "--json", "--no-torch", "--layer", "depthwise", "--input",
                 "5x5x2", "--features", "2", "--batch", "2", "--mode", "forward", "--rounds",
                 "1"]) == 0
    rows = json.loads(capsys.readouterr().out)["results"]
    assert [r["impl"] for r in rows] == ["jaxconv", "flax"]
    assert rows[0]["workload"] == "depthwise 3x3 2->2 @5x5 s1x1 g2 SAME b2"


def test_the_companion_is_a_record_attribute():
    assert kinds.Kind.bench_companion is None
    assert [k.name for k in kinds.registered() if k.bench_companion] == ["regional"]
    assert kinds.get("regional").bench_companion == "local"


def test_torch_peers_compute_the_kinds_ops(toy_kinds):
    # Each kind's record builds its PyTorch peer from jaxconv's parameters: same outputs.
    pytest.importorskip("torch")
    import numpy as np

    from jaxconv.experiments.bench import torch_peer

    works = [bench.make_workload("dense", (8,), 4, batch=2),
             bench.make_workload("conv", (7, 6, 2), 3, (3, 2), strides=2, batch=2),
             bench.make_workload("conv", (8, 2), 3, 3, batch=2),
             bench.make_workload("depthwise", (6, 6, 2), 4, 3, batch=2),
             bench.make_workload("local", (7, 7, 2), 3, 3, strides=2, padding="SAME", batch=2),
             bench.make_workload("dilated_local", (7, 7, 1), 2, 2, batch=2)]
    for work in works:
        kernel, bias = wl.init_params(work, wl.jax.random.key(0))
        bias = wl.jax.random.normal(wl.jax.random.key(3), bias.shape)
        x = wl.input_batch(work, wl.jax.random.key(1))
        want = np.asarray(wl.jaxconv_apply(work)((kernel, bias), x))
        forward, train = torch_peer.steps(work, kernel, bias, x)
        got = forward().numpy()  # NC* for conv, (N, positions, F) for local
        got = np.moveaxis(got, 1, -1) if work.layer.endswith("conv") or work.layer == "depthwise" \
            else got.reshape(want.shape)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=work.name)
        assert float(train().detach()) > 0
    for work in (bench.make_workload("regional", (6, 6, 2), 3, 3, regions=2, batch=2),
                 bench.make_workload("conv", (6, 6, 2), 3, 3, padding="CIRCULAR", batch=2)):
        kernel, bias = wl.init_params(work, wl.jax.random.key(0))
        assert torch_peer.steps(work, kernel, bias, wl.input_batch(work, wl.jax.random.key(1))) is None
