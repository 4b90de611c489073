"""Start-up: the window's modules load without JAX, so the window appears before the compile."""

import subprocess
import sys


def test_the_window_modules_do_not_import_jax():
    """The window must appear before JAX loads: only the worker thread imports it."""
    code = ("import sys, jaxconv_viewer.__main__, jaxconv_viewer.gui.window, jaxconv_viewer.bench; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'jaxconv', 'flax', "
            "'optax', 'orbax')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # Only jaxconv's JAX-free vocabulary, checks, shape arithmetic, kind records and settings
    # records (its lazy package face included).
    loaded = {m for m in eval(out.stdout.strip()) if not m.startswith("jaxconv.kinds.")}
    assert loaded <= {"jaxconv", "jaxconv.names", "jaxconv.config", "jaxconv.validate",
                      "jaxconv.shapes", "jaxconv.kinds"}, loaded
