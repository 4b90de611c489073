"""Importing jaxconv (and every submodule) never loads Qt: the library must work without a display."""

import pkgutil
import subprocess
import sys

import jaxconv


def test_import_loads_no_qt():
    names = [m.name for m in pkgutil.walk_packages(jaxconv.__path__, "jaxconv.")
             if not m.name.endswith("__main__")]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PyQt6', 'pyqtgraph', 'PySide6'))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_public_names_are_exported_and_documented():
    for name in jaxconv.__all__:
        obj = getattr(jaxconv, name)
        assert obj.__doc__, f"jaxconv.{name} has no docstring"
