"""Writes docs/colab_tpu.ipynb from the cells below: `python tools/make_colab_notebook.py`.

The cells live here as plain strings so that they read and diff as code; the notebook is the file
people open in Colab. tests/test_docs_notebook.py checks the notebook matches this script and runs
it on the CPU with tiny settings (the JAXCONV_NB_* environment variables of the parameters cell).
"""

from __future__ import annotations

import pathlib
import sys

import nbformat

NOTEBOOK = pathlib.Path(__file__).resolve().parents[1] / "docs" / "colab_tpu.ipynb"

CELLS = [
    ("markdown", """\
# jaxconv on a Colab TPU

Dense, locally-connected and convolutional layers, side by side, on whatever accelerator this
runtime has. Choose *Runtime > Change runtime type > TPU* (the free tier gives one chip, v5e-1 or
v6e-1), then *Runtime > Run all*. The notebook

1. installs jaxconv without touching Colab's JAX,
2. checks that JAX really uses the TPU (it silently falls back to the CPU when the TPU is busy),
3. counts the lecture's table: 10^12, 10^8 and 100 weights,
4. trains the three kinds of model in bfloat16, with the batch split over all chips,
5. shows their first-layer weights and feature maps,
6. times jaxconv's layers against Flax's with `jaxconv bench`.

It also runs on a GPU or CPU runtime, and outside Colab: the project's tests execute it on a CPU
with tiny settings."""),
    ("code", """\
# Parameters. The defaults are for a Colab TPU; the project's CI sets tiny values through the
# environment. JAXCONV_SOURCE is what pip installs on Colab: left empty, the install cell takes
# the wheel you uploaded (or asks for it), or one in your Drive; or give a wheel's path, or any
# URL pip takes ("https://.../jaxconv-0.1.0-py3-none-any.whl", "git+https://...").
import os

STEPS = int(os.environ.get("JAXCONV_NB_STEPS", "500"))            # training steps per model
BATCH_SIZE = int(os.environ.get("JAXCONV_NB_BATCH_SIZE", "256"))  # global batch, all chips
DATASET = os.environ.get("JAXCONV_NB_DATASET", "digits")         # bundled: no download
CHANNELS = tuple(int(c) for c in os.environ.get("JAXCONV_NB_CHANNELS", "16,32").split(","))
HIDDEN = int(os.environ.get("JAXCONV_NB_HIDDEN", "64"))           # dense layer before the head
BENCH_ARGS = os.environ.get("JAXCONV_NB_BENCH_ARGS", "--quick")    # arguments of `jaxconv bench`
JAXCONV_SOURCE = os.environ.get("JAXCONV_SOURCE", "")
COLAB_CONTENT = os.environ.get("JAXCONV_NB_CONTENT", "/content")  # Colab's working folder"""),
    ("markdown", """\
## 1. Install jaxconv, keep Colab's JAX

jaxconv comes as a wheel, one file: build it in a clone with `make wheel` (it writes
`dist/jaxconv-<version>-py3-none-any.whl`). The cell below installs, the first it finds:

1. `JAXCONV_SOURCE` from the parameters cell, if set: a wheel's path or a URL pip takes;
2. a `jaxconv-*.whl` uploaded to this runtime (the *Files* sidebar puts it in `/content`);
3. a `jaxconv-*.whl` in your Google Drive, if Drive is mounted (the *Files* sidebar's Drive
   button, or `drive.mount("/content/drive")`): the newest in `MyDrive` or a folder directly in it;
4. otherwise it asks you to upload the wheel, with a file chooser.

Colab's JAX, jaxlib and libtpu are built to match the runtime. A plain `pip install` could replace
them: if the newest flax or optax asks for a newer JAX, pip upgrades JAX to a build that need not
match libtpu. So the cell writes the installed JAX packages to a *constraints* file and installs
jaxconv under it: pip may add or pick versions of flax, optax and the rest that work with this JAX,
and stops with a conflict rather than replace JAX. (`pip install --no-deps` would keep JAX too, but
then a missing dependency only shows up later, as an import error.) jaxconv's floors cover every
Colab JAX from 0.4.27 on ([TPU and GPU](tpu.md#installing)). The cell runs only on Colab; elsewhere
install jaxconv as usual (`pip install -e .` in a clone)."""),
    ("code", """\
import glob
import re
import subprocess
import sys

JAX_PACKAGES = re.compile(r"^(jax|jaxlib|libtpu[-a-z]*|jax-cuda[0-9]+-[a-z]+)==", re.I)


def installed_jax() -> list[str]:
    frozen = subprocess.run([sys.executable, "-m", "pip", "list", "--format=freeze"],
                            capture_output=True, text=True, check=True).stdout
    return sorted(line for line in frozen.splitlines() if JAX_PACKAGES.match(line))


def newest(pattern: str) -> str | None:
    found = glob.glob(pattern)
    return max(found, key=os.path.getmtime) if found else None


def jaxconv_source() -> str:
    \"\"\"What pip installs: JAXCONV_SOURCE, an uploaded wheel, a wheel in Drive, or an upload.\"\"\"
    if JAXCONV_SOURCE:
        return JAXCONV_SOURCE
    found = (newest(f"{COLAB_CONTENT}/jaxconv-*.whl")  # uploaded before
             or newest(f"{COLAB_CONTENT}/drive/MyDrive/jaxconv-*.whl")  # Drive, when mounted
             or newest(f"{COLAB_CONTENT}/drive/MyDrive/*/jaxconv-*.whl"))
    if found:
        return found
    from google.colab import files

    print("Upload the wheel `make wheel` builds (dist/jaxconv-<version>-py3-none-any.whl):")
    uploaded = files.upload()
    wheels = [name for name in uploaded if name.endswith(".whl")]
    if not wheels:
        raise ValueError(f"No .whl among the uploaded files {sorted(uploaded)}; upload "
                         "dist/jaxconv-<version>-py3-none-any.whl.")
    # A second upload of one name arrives as "name (1).whl", which pip refuses as a wheel name.
    path = os.path.join(COLAB_CONTENT, re.sub(r" \\(\\d+\\)(?=\\.whl$)", "", wheels[0]))
    with open(path, "wb") as f:
        f.write(uploaded[wheels[0]])
    return path


if "google.colab" in sys.modules:
    source = jaxconv_source()
    keep = installed_jax()
    with open("/tmp/keep-jax.txt", "w") as f:
        f.write("\\n".join(keep) + "\\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-c", "/tmp/keep-jax.txt",
                    source], check=True)
    assert installed_jax() == keep, "pip changed the JAX packages; restart the runtime"
    print(f"installed {source}; kept:", ", ".join(keep))
else:
    print("Not on Colab: using the jaxconv already installed.")"""),
    ("markdown", """\
## 2. Is JAX using the TPU?

When the TPU is held by another process (a second notebook on the same runtime, a kernel that did
not exit) JAX logs a warning and runs on the CPU:
[googlecolab/colabtools#4336](https://github.com/googlecolab/colabtools/issues/4336).
The cell compares the hardware the machine has with the devices JAX uses and stops if a TPU is
attached but unused. On a machine without a TPU the check has nothing to compare and passes."""),
    ("code", """\
import glob
import pathlib

import jax

# PCI device ids of Google TPU chips (vendor 0x1ae0), as JAX's own hardware probe lists them.
TPU_PCI_IDS = {"0x0027", "0x0056", "0x005e", "0x0062", "0x0063", "0x006f", "0x0076"}


def has_tpu_hardware() -> bool:
    \"\"\"True on a machine with a TPU attached, whether or not JAX managed to open it.\"\"\"
    if any(os.environ.get(v) for v in ("COLAB_TPU_ADDR", "TPU_NAME", "TPU_ACCELERATOR_TYPE")):
        return True
    if glob.glob("/dev/accel*") or glob.glob("/dev/vfio/[0-9]*"):
        return True
    for vendor in glob.glob("/sys/bus/pci/devices/*/vendor"):
        device = pathlib.Path(vendor).with_name("device")
        if (pathlib.Path(vendor).read_text().strip() == "0x1ae0"
                and device.read_text().strip() in TPU_PCI_IDS):
            return True
    return False


devices = jax.devices()
platform = devices[0].platform
print(f"JAX {jax.__version__}: {len(devices)} {platform} device(s): {devices}")
if has_tpu_hardware():
    if platform != "tpu":
        raise RuntimeError(
            f"This machine has a TPU but JAX is running on {platform!r}: the TPU is probably held "
            "by another process. Use Runtime > Restart session (or Disconnect and delete "
            "runtime) and run again.")
    print("TPU in use.")
else:
    print("No TPU attached to this machine: nothing to check.")"""),
    ("markdown", """\
## 3. The lecture's table

A 1000 x 1000 image connected to a 1000 x 1000 hidden layer: fully (every pixel to every unit),
locally (each unit sees a 10 x 10 window, stride 1) and convolutionally (one shared 10 x 10
kernel). The counts come from shapes alone; nothing is allocated. The lecture says the 10^12
weights take about 400 MB; at 4 bytes each they take 4 TB."""),
    ("code", """\
import jaxconv

table = jaxconv.compare_connectivity((1000, 1000, 1), kernel_size=10)
print(table)
assert [row.weights for row in table.rows] == [10**12, 10**8, 100]
assert table.dense.weight_bytes == 4 * 10**12"""),
    ("markdown", """\
On a TPU every array's last two dimensions are stored in (8, 128) tiles (16 rows for bfloat16), so
few channels waste memory ([google/flax#1733](https://github.com/google/flax/issues/1733)).
`tpu=True`, or `jaxconv count --tpu` in a shell, adds the padded sizes:"""),
    ("code", """\
print(jaxconv.compare_connectivity((28, 28, 3), kernel_size=5, features=8, batch_size=32,
                                   tpu=True))"""),
    ("markdown", """\
## 4. Train the three kinds in bfloat16, the batch split over all chips

`jaxconv.train.fit` builds a one-axis mesh over every device, replicates the parameters and splits
each batch across the chips; `compute_dtype="bfloat16"` runs the forward and backward passes in
bfloat16 and keeps the parameters and the optimiser state in float32. The batch must divide by the
number of devices, and should divide by 8 per device (the TPU's tile has 8 rows).

The three models have the same layer shapes; they differ only in connectivity: `dense` connects
every input to every unit, `local` gives each position its own 3 x 3 window weights, `conv` shares
one 3 x 3 kernel."""),
    ("code", """\
import time

from jaxconv import data, models, train

ds = data.load(DATASET, seed=0)
per_step = 8 * jax.device_count()
batch_size = max(per_step, BATCH_SIZE // per_step * per_step)   # divides by 8 per device
mesh = train.data_mesh()
print(f"{DATASET}: {len(ds.y_train)} training images {ds.input_shape}; batch {batch_size} "
      f"over {mesh.size} device(s)")

trained = {}
for kind in models.LECTURE_KINDS:   # dense, local, conv: the lecture's three
    model = models.build(kind, num_classes=ds.num_classes, channels=CHANNELS, hidden=HIDDEN)
    start = time.perf_counter()
    for result in train.fit(model, ds, steps=STEPS, batch_size=batch_size,
                            compute_dtype="bfloat16", mesh=mesh, eval_every=0):
        pass
    params = result.state.params
    trained[kind] = (model, params)
    print(f"{kind:>6}: {models.param_count(params):>9,} parameters, test accuracy "
          f"{result.test_accuracy:.3f}, {time.perf_counter() - start:.1f} s")"""),
    ("markdown", """\
## 5. What the first layers learned, and what they see

Top: each model's first-layer weights for feature 0, on a diverging colour map centred on zero.
The conv kernel is one 3 x 3 patch; the locally-connected layer has a different 3 x 3 patch at each
position (shown tiled, one per position); a dense unit's weights cover the whole image. Bottom:
the first layer's feature 0 for one test image."""),
    ("code", """\
import matplotlib.pyplot as plt
import numpy as np

x = ds.x_test[:1]
fig, axes = plt.subplots(2, 3, figsize=(9, 6))
for column, kind in enumerate(models.LECTURE_KINDS):
    model, params = trained[kind]
    kernel = np.asarray(params["layer1"]["kernel"], dtype=np.float32)
    if kind == "conv":                      # (kh, kw, C, F)
        weights = kernel[:, :, 0, 0]
        label = f"the one {weights.shape[0]}x{weights.shape[1]} kernel"
    elif kind == "local":                   # (H', W', kh, kw, C, F): tile the patches
        patches = np.pad(kernel[:, :, :, :, 0, 0], ((0, 0), (0, 0), (0, 1), (0, 1)),
                         constant_values=np.nan)  # a blank line between neighbouring patches
        weights = patches.transpose(0, 2, 1, 3).reshape(
            patches.shape[0] * patches.shape[2], patches.shape[1] * patches.shape[3])
        label = f"a patch at each of {kernel.shape[0]}x{kernel.shape[1]} positions"
    else:                                   # (H * W * C, H' * W' * F): unit 0's weights
        weights = kernel[:, 0].reshape(ds.input_shape)[:, :, 0]
        label = "unit 0, over the whole image"
    scale = np.nanmax(np.abs(weights)) or 1.0
    image = axes[0, column].imshow(weights, cmap="RdBu_r", vmin=-scale, vmax=scale)
    fig.colorbar(image, ax=axes[0, column], shrink=0.8)
    axes[0, column].set_title(f"{kind}: {label}", fontsize=10)
    feature_map = dict(models.activations(model, params, x))["layer1"]
    axes[1, column].imshow(np.asarray(feature_map[0, :, :, 0], dtype=np.float32), cmap="viridis")
    axes[1, column].set_title(f"{kind}: layer1 feature 0", fontsize=10)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
plt.show()"""),
    ("markdown", """\
## 6. How fast, next to Flax

`jaxconv bench` times jaxconv's layers and Flax's on the same shapes in one process, alternating
rounds, and reports the ratio (above 1: jaxconv is faster). `--quick` runs tiny shapes twice: a
check that every code path works on this device, not a measurement. Without it the command runs
the full workloads (minutes)."""),
    ("code", """\
import shlex

bench = subprocess.run([sys.executable, "-m", "jaxconv.cli", "bench", *shlex.split(BENCH_ARGS)],
                       capture_output=True, text=True)
print(bench.stdout or bench.stderr)
bench.check_returncode()"""),
]


def build() -> nbformat.NotebookNode:
    """The notebook, from CELLS, with Colab metadata asking for a TPU runtime."""
    make = {"markdown": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell}
    nb = nbformat.v4.new_notebook()
    nb.cells = [make[kind](source) for kind, source in CELLS]
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index}"    # stable ids: regenerating gives the same file
        if cell.source.startswith("# Parameters."):
            cell.metadata["tags"] = ["parameters"]  # papermill's convention, for other runners
    nb.metadata = {
        "accelerator": "TPU",
        "colab": {"provenance": []},
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb


def main() -> int:
    nbformat.write(build(), NOTEBOOK)
    print(f"wrote {NOTEBOOK}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
