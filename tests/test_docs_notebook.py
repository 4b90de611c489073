"""docs/colab_tpu.ipynb is what tools/make_colab_notebook.py writes, and it runs on the CPU.

CI has no TPU, so the notebook runs with tiny settings on two simulated CPU devices: the install
cell skips itself (not on Colab), the fallback check finds no TPU to compare, and training still
splits each batch over both devices, as it would over a TPU's chips.
"""

import importlib.util
import os
import pathlib
import subprocess
import sys
import types

import nbclient
import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "colab_tpu.ipynb"


def _generator():
    spec = importlib.util.spec_from_file_location("make_colab_notebook",
                                                  ROOT / "tools" / "make_colab_notebook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notebook_matches_its_generator():
    written = nbformat.read(NOTEBOOK, as_version=4)
    expected = _generator().build()
    nbformat.validate(written)
    assert [(c.cell_type, c.source) for c in written.cells] == \
        [(c.cell_type, c.source) for c in expected.cells], \
        "docs/colab_tpu.ipynb is stale: run `python tools/make_colab_notebook.py`"
    assert written.metadata["accelerator"] == "TPU"


def _text(cell) -> str:
    outputs = cell.get("outputs", [])
    return "".join(out.get("text", "") for out in outputs if out.output_type == "stream")


def test_notebook_runs_on_cpu(monkeypatch, tmp_path):
    monkeypatch.setenv("JAXCONV_NB_STEPS", "3")
    monkeypatch.setenv("JAXCONV_NB_BATCH_SIZE", "16")
    monkeypatch.setenv("JAXCONV_NB_DATASET", "digits")
    monkeypatch.setenv("JAXCONV_NB_CHANNELS", "4")
    monkeypatch.setenv("JAXCONV_NB_HIDDEN", "0")
    monkeypatch.setenv("JAXCONV_NB_BENCH_ARGS", "--quick --no-torch --layer conv --input 6x6x2 "
                       "--features 3 --batch 2 --mode forward")
    # conftest's XLA flags (no backend optimisation) kept, two devices added
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=2"
    monkeypatch.setenv("XLA_FLAGS", flags.strip())
    monkeypatch.setenv("JAX_PLATFORMS", "cpu")
    monkeypatch.setenv("JAX_NUMPY_RANK_PROMOTION", "raise")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for name in ("COLAB_TPU_ADDR", "TPU_NAME", "TPU_ACCELERATOR_TYPE"):
        monkeypatch.delenv(name, raising=False)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # Raises CellExecutionError, naming the cell, if any cell fails.
    nbclient.NotebookClient(nb, timeout=240, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()

    printed = "\n".join(_text(cell) for cell in nb.cells if cell.cell_type == "code")
    assert "Not on Colab" in printed
    assert "2 cpu device(s)" in printed and "No TPU attached" in printed
    assert "1,000,000,000,000" in printed and "100,000,000" in printed
    assert "batch 16 over 2 device(s)" in printed
    for kind in ("dense", "local", "conv"):
        assert f"{kind:>6}: " in printed and "test accuracy" in printed
    assert "conv 3x3 2->3 @6x6" in printed and "vs flax" in printed
    images = [out for cell in nb.cells for out in cell.get("outputs", [])
              if "image/png" in out.get("data", {})]
    assert len(images) == 1, "the weights and feature maps figure should be shown inline"


def _install(monkeypatch, content, source="", uploads=None):
    """Runs the install cell as on Colab (google.colab faked, pip recorded): what pip installs."""
    cell = next(c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells
                if c.cell_type == "code" and "def jaxconv_source" in c.source)
    calls, frozen = [], "jax==0.4.38\njaxlib==0.4.38\nlibtpu==0.0.1\nnumpy==2.0.0\n"

    def pip(args, **kwargs):
        calls.append(args)
        return subprocess.CompletedProcess(args, 0, stdout=frozen if "list" in args else "")

    colab = types.ModuleType("google.colab")
    colab.files = types.SimpleNamespace(upload=lambda: dict(uploads or {}))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setattr(subprocess, "run", pip)
    exec(cell, {"os": os, "JAXCONV_SOURCE": source, "COLAB_CONTENT": str(content)})
    (install,) = [args for args in calls if "install" in args]
    assert install[-3:-1] == ["-c", "/tmp/keep-jax.txt"]
    assert open("/tmp/keep-jax.txt").read().split() == ["jax==0.4.38", "jaxlib==0.4.38",
                                                      "libtpu==0.0.1"]
    return install[-1]


def test_install_cell_takes_the_given_source_then_an_uploaded_or_drive_wheel(monkeypatch,
                                                                            tmp_path):
    url = "https://example.org/jaxconv-0.1.0-py3-none-any.whl"
    assert _install(monkeypatch, tmp_path, source=url) == url
    drive = tmp_path / "drive" / "MyDrive" / "wheels"
    drive.mkdir(parents=True)
    (drive / "jaxconv-0.1.0-py3-none-any.whl").write_bytes(b"zip")
    assert _install(monkeypatch, tmp_path) == str(drive / "jaxconv-0.1.0-py3-none-any.whl")
    (tmp_path / "jaxconv-0.2.0-py3-none-any.whl").write_bytes(b"zip")  # uploaded: first
    assert _install(monkeypatch, tmp_path) == str(tmp_path / "jaxconv-0.2.0-py3-none-any.whl")


def test_install_cell_asks_for_an_upload_and_keeps_the_wheel_name(monkeypatch, tmp_path):
    # Colab names a second upload of one file "name (1).whl"; pip needs the wheel's own name.
    got = _install(monkeypatch, tmp_path,
                   uploads={"jaxconv-0.1.0-py3-none-any (1).whl": b"zip"})
    assert got == str(tmp_path / "jaxconv-0.1.0-py3-none-any.whl")
    assert pathlib.Path(got).read_bytes() == b"zip"
    with pytest.raises(ValueError, match=r"No .whl among the uploaded files \['notes.txt'\]; "
                                         r"upload dist/jaxconv-<version>-py3-none-any.whl"):
        _install(monkeypatch, tmp_path / "empty", uploads={"notes.txt": b""})
