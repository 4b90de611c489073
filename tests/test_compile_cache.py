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
from jaxconv.backend import compile_cache
from jaxconv import data, models, train
hits = []
jax.monitoring.register_event_listener(
    lambda name, **kw: hits.append(name) if name == "/jax/compilation_cache/cache_hits" else None)
directory = compile_cache.enable()
ds = data.load("digits", n_train=64, n_test=16)
model = models.build("conv", num_classes=ds.num_classes, channels=(2,), hidden=0)
result = next(train.fit(model, ds, steps=1, batch_size=8))
print(json.dumps({"directory": str(directory), "hits": len(hits), "loss": result.loss}))
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
    assert first["directory"] == str(tmp_path / "xla") and first["hits"] == 0 and written
    second = _launch(env)
    assert second["hits"] >= len(written) - 1  # every program of the first launch, from disk
    assert second["loss"] == first["loss"]
    off = _launch({**env, compile_cache.ENV: "0"})
    assert off["directory"] == "None" and off["hits"] == 0


@pytest.mark.parametrize("value", ["0", "off", "False", "no"])
def test_the_environment_turns_it_off(monkeypatch, value):
    monkeypatch.setenv(compile_cache.ENV, value)
    assert compile_cache.from_environment() is None and compile_cache.enable() is None


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
