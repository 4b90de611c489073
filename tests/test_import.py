"""Importing jaxconv (and every submodule) never loads Qt: the library must work without a display."""

import pkgutil
import subprocess
import sys
import textwrap

import pytest

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


_HEAVY = ("jax", "jaxlib", "flax", "optax", "orbax")


def _heavy_modules_after(code: str) -> list[str]:
    code += ("\nimport sys\n"
             f"print(sorted(m for m in sys.modules if m.split('.')[0] in {_HEAVY!r}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return eval(out.stdout.strip().splitlines()[-1])


def test_the_package_face_and_the_vocabulary_load_no_jax():
    for module in ("jaxconv", "jaxconv.shapes", "jaxconv.names", "jaxconv.config"):
        assert _heavy_modules_after(f"import {module}") == [], module


def test_jaxconv_help_loads_no_jax():
    code = ("from jaxconv.cli import main\n"
            "for argv in (['--help'], ['train', '--help'], ['compare', '--help'], "
            "['count', '--help'], ['bench', '--help']):\n"
            "    try:\n"
            "        main(argv)\n"
            "    except SystemExit:\n"
            "        pass\n")
    assert _heavy_modules_after(code) == []


def test_lazy_attributes_are_the_modules_functions():
    from jaxconv import names, ops

    assert jaxconv.conv is ops.conv and jaxconv.names is names
    assert {"conv", "linen", "shapes", "train"} <= set(dir(jaxconv))
    try:
        jaxconv.no_such_name  # noqa: B018
    except AttributeError as err:
        assert "module 'jaxconv' has no attribute 'no_such_name'" in str(err)
    else:
        raise AssertionError("jaxconv.no_such_name did not raise")


def test_the_vocabulary_is_what_the_library_accepts():
    from jaxconv import data, models, names, shapes, train

    assert names.DATASET_NAMES == tuple(data.DATASETS)
    assert names.KINDS == models.KINDS and names.PADDING_MODES == shapes.PADDING_MODES
    assert (names.OPTIMIZERS, names.SCHEDULES) == (train.OPTIMIZERS, train.SCHEDULES)


def test_training_loads_orbax_only_for_checkpoints():
    # orbax (0.66 s of a viewer launch) is imported on the first use of a checkpoint name.
    loaded = _heavy_modules_after("import jaxconv.train")
    assert "jax" in loaded and not [m for m in loaded if m.startswith("orbax")], loaded
    loaded = _heavy_modules_after("from jaxconv.train import Checkpointer")
    assert "orbax.checkpoint" in loaded
    from jaxconv import train

    assert train.CheckpointError.__module__ == "jaxconv.train.checkpoint"
    with pytest.raises(AttributeError, match="module 'jaxconv.train' has no attribute 'nope'"):
        train.nope  # noqa: B018


def test_the_old_module_paths_import_their_new_homes_with_a_warning():
    # Each path the docs named before the modules moved into folders still imports, for one
    # release, as the very module at its new home, and says where that is.
    code = textwrap.dedent("""
        import importlib, warnings
        import jaxconv
        for old, new in jaxconv.MOVED.items():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                module = importlib.import_module(old)
            assert module is importlib.import_module(new), old
            assert any(w.category is DeprecationWarning and f"{old} moved to {new}" in str(w.message)
                       for w in caught), (old, [str(w.message) for w in caught])
        from jaxconv.counting import conv_cost  # a name from an old path
        from jaxconv.bench.workloads import make_workload  # a submodule of an old package
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import jaxconv.linen, jaxconv.nnx  # the drop-in names: no warning
        assert not [w for w in caught if w.category is DeprecationWarning], caught
        assert jaxconv.linen.Conv.__module__ == "jaxconv.layers.linen"
        assert jaxconv.xla_cpu is importlib.import_module("jaxconv.backend.xla_cpu")
        print("ok", len(jaxconv.MOVED))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ok", str(len(__import__("jaxconv").MOVED))]
