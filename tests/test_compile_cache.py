"""The persistent compilation cache: written by one launch, read by the next; off on request."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jaxconv.backend import compile_cache
from jaxconv.cli import build_parser

# One launch: a tiny model's first training step through fit, with the cache as the CLI sets it.
_LAUNCH = """
import json, jax
from jaxconv.backend import compile_cache, executables
from jaxconv import data, models, train
directory = compile_cache.enable()
ds = data.load("digits", n_train=64, n_test=16)
model = models.build("conv", num_classes=ds.num_classes, channels=(2,), hidden=0)
result = next(train.fit(model, ds, steps=1, batch_size=8))
print(json.dumps({"directory": str(directory), **executables.counts(), "loss": result.loss}))
"""


def _launch(env):
    out = subprocess.run([sys.executable, "-c", _LAUNCH], capture_output=True, text=True,
                         env=env, check=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_second_launch_reads_what_the_first_wrote(tmp_path, monkeypatch):
    import os

    env = {**os.environ, compile_cache.ENV: str(tmp_path / "xla")}
    first = _launch(env)
    written = sorted(p.name for p in (tmp_path / "xla").iterdir() if p.name.endswith("-cache"))
    stored = sorted(p.name for p in (tmp_path / "xla" / "programs").iterdir())
    assert first["directory"] == str(tmp_path / "xla") and first["loaded"] == 0 and written
    # the step, the evaluation, the start state and the starting norm, whole
    assert {name.split("-")[0] for name in stored} >= {"train_step", "eval", "start_state",
                                                       "tree_norm"}
    second = _launch(env)
    # nothing compiles: every program comes from disk, the stored ones without tracing
    assert second["compiled"] == 0 and second["stored"] == len(stored)
    assert second["loss"] == first["loss"]
    off = _launch({**env, compile_cache.ENV: "0"})
    assert off["directory"] == "None" and off["loaded"] == 0


@pytest.mark.parametrize("value", ["0", "off", "False", "no"])
def test_the_environment_turns_it_off(monkeypatch, value):
    from jaxconv.backend import executables

    monkeypatch.setenv(compile_cache.ENV, value)
    assert compile_cache.from_environment() is None and compile_cache.enable() is None
    assert executables.active() is None  # the stored programs too


def test_the_default_is_the_user_cache_directory(monkeypatch):
    monkeypatch.delenv(compile_cache.ENV, raising=False)
    directory = compile_cache.from_environment()
    assert directory == compile_cache.default_directory() and directory.parts[-2:] == (
        "jaxconv", "xla")
    monkeypatch.setenv(compile_cache.ENV, "/somewhere/else")
    assert compile_cache.from_environment() == Path("/somewhere/else")


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_a_bad_size_bound_is_refused(bad):
    with pytest.raises(ValueError, match=r"compile_cache.enable: `max_bytes` must be a positive "
                                         r"integer, got max_bytes="):
        compile_cache.enable("/tmp/unused", max_bytes=bad)


def test_the_cli_flag_turns_it_off_for_commands_that_compile():
    parser = build_parser()
    assert parser.parse_args(["compare"]).compile_cache is True
    assert parser.parse_args(["compare", "--no-compile-cache"]).compile_cache is False
    assert parser.parse_args(["train", "--no-compile-cache"]).compile_cache is False
    assert not hasattr(parser.parse_args(["bench", "--quick"]), "compile_cache")


def test_the_viewer_flag_turns_it_off():
    from jaxconv_viewer.__main__ import _parser

    assert _parser().parse_args([]).compile_cache is True
    assert _parser().parse_args(["--no-compile-cache"]).compile_cache is False


# --- A cache that cannot be used never stops a run (reliability findings M1, L15) ---

def _enable(directory=None):
    lines = []
    try:
        return compile_cache.enable(directory, say=lines.append), lines
    finally:
        from jaxconv.backend import executables

        executables.use(None)


@pytest.mark.parametrize("case", ["file", "dangling link", "uncreatable", "under a file"])
def test_an_unusable_directory_turns_the_cache_off_in_one_line(tmp_path, monkeypatch, case):
    (tmp_path / "f").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    path = {"file": tmp_path / "f", "dangling link": tmp_path / "link",
            "uncreatable": Path("/proc/self/jaxconv-cache"),
            "under a file": tmp_path / "f" / "xla"}[case]
    monkeypatch.setenv(compile_cache.ENV, str(path))
    directory, lines = _enable()
    assert directory is None and len(lines) == 1, lines
    reason = {"file": "is a file, not a directory", "dangling link": "which does not exist",
              "uncreatable": "cannot be created", "under a file": "cannot be created"}[case]
    assert str(path) in lines[0] and reason in lines[0], lines
    assert "--no-compile-cache" in lines[0] and f"{compile_cache.ENV} to a writable" in lines[0]


def test_a_missing_home_turns_the_cache_off_in_one_line(monkeypatch):
    monkeypatch.delenv(compile_cache.ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", "/proc/nohome")
    directory, lines = _enable()
    assert directory is None and len(lines) == 1
    assert "/proc/nohome" in lines[0] and "set HOME (or JAXCONV_COMPILE_CACHE)" in lines[0]


def test_an_unwritable_or_full_directory_turns_the_cache_off(tmp_path, monkeypatch):
    import shutil
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)  # root may write anywhere: pretend
    assert compile_cache.problem(tmp_path) == "cannot be written (Permission denied)"
    monkeypatch.undo()
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage._replace(free=10**6))
    directory, lines = _enable(tmp_path)
    assert directory is None and "is on a disk with only 1.0 MB free" in lines[0]


_FILL = """
import sys
from jaxconv.backend import compile_cache
from jaxconv import data, models, train
compile_cache.enable(sys.argv[1])
ds = data.load("digits", n_train=32, n_test=8)
next(train.fit(models.build("conv", channels=(2,), hidden=0), ds, steps=1, batch_size=8))
"""


@pytest.mark.slow
def test_damaged_entries_are_removed_or_repaired_in_one_line(tmp_path):
    import os
    import shutil

    subprocess.run([sys.executable, "-c", _FILL, str(tmp_path)], check=True, timeout=300,
                   env={**os.environ, compile_cache.ENV: "1"})
    entries = sorted(tmp_path.glob("*-cache"))
    assert len(entries) >= 5
    truncated, emptied, flipped, orphan = entries[:4]
    truncated.write_bytes(truncated.read_bytes()[:100])
    emptied.write_bytes(b"")
    data_ = bytearray(flipped.read_bytes())
    data_[len(data_) // 2] ^= 0xFF
    flipped.write_bytes(bytes(data_))
    orphan.with_name(orphan.name.replace("-cache", "-atime")).unlink()
    directory, lines = _enable(tmp_path)
    assert directory == tmp_path and lines == [
        f"jaxconv: compile cache {tmp_path}: removed 3 damaged entries (they compile again), "
        f"repaired 1."]
    assert not truncated.exists() and not emptied.exists() and not flipped.exists()
    assert orphan.exists() and orphan.with_name(orphan.name.replace("-cache", "-atime")).exists()
    assert _enable(tmp_path)[1] == []  # checked once: the next start reads nothing again
    # the next launch runs with no warning at all and writes the removed programs again
    shutil.rmtree(tmp_path / "programs")  # (the stored programs would spare it the compiles)
    out = subprocess.run([sys.executable, "-c", _FILL, str(tmp_path)], capture_output=True,
                         text=True, check=True, timeout=300)
    assert "compilation cache" not in out.stderr and "jaxconv:" not in out.stderr, out.stderr
    # the damaged ones compiled and written again (an entry JAX's cache served for a program
    # that could not then be stored is forgotten on purpose: `compile_cache.forget`)
    assert truncated.exists() and emptied.exists() and flipped.exists()


def test_a_failed_write_turns_the_cache_off_for_the_rest_of_the_run(tmp_path):
    import warnings

    import jax

    lines = []
    try:
        with warnings.catch_warnings(record=True) as shown:
            warnings.simplefilter("always")
            assert compile_cache.enable(tmp_path, say=lines.append) == tmp_path
            for name in ("a", "b", "c"):
                warnings.warn(f"Error writing persistent compilation cache entry for "
                              f"'jit_{name}': OSError: [Errno 28] No space left on device", stacklevel=2)
            warnings.warn("an unrelated warning", stacklevel=2)
    finally:
        from jaxconv.backend import executables

        executables.use(None)
    assert lines == [f"jaxconv: compile cache off for the rest of this run: cannot write to "
                     f"{tmp_path} (OSError: [Errno 28] No space left on device); set "
                     f"{compile_cache.ENV} to a writable directory, or turn the cache off with "
                     f"--no-compile-cache ({compile_cache.ENV}=0)."]
    assert [str(w.message) for w in shown] == ["an unrelated warning"]
    assert jax.config.values["jax_enable_compilation_cache"] is False
    jax.config.update("jax_enable_compilation_cache", True)
