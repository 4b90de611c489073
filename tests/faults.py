"""Helpers of the fault suite (not a test module): real commands in real subprocesses.

Runs use a tiny model (2 channels, no hidden layer, one step per dispatch, no evaluation) so
that a step takes about a millisecond and a subprocess's cost is its start-up (a few seconds,
most of it importing JAX). Every wait is bounded.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np

from jaxconv import models, train
from jaxconv.cli import main

TINY = ["--channels", "2", "--hidden", "0", "--steps-per-dispatch", "1", "--eval-every", "0",
        "--batch-size", "16", "--schedule", "constant"]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "JAXCONV_VERBOSE": "0"}
HERE = Path(__file__).parent


def start(*argv, module="jaxconv.cli", cwd=None) -> subprocess.Popen:
    """``python -m <module> <argv>`` in a subprocess, stdout and stderr captured."""
    return subprocess.Popen([sys.executable, "-m", module, *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV, cwd=cwd)


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    """Waits for ``proc`` (killing it past ``timeout``); returns ``(code, out, err)``."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"still running after {timeout} s: {err[-2000:]}") from None
    return proc.returncode, out, err


def newest_step(directory) -> int | None:
    """The newest step folder holding state/ and meta/ (read from the listing, as a monitor)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return None
    return max((int(n) for n in names if n.isdigit()
                and (Path(directory) / n / "state").is_dir()
                and (Path(directory) / n / "meta").is_dir()), default=None)


def wait_until(check, proc: subprocess.Popen, timeout: float = 120, what: str = ""):
    """Polls ``check()`` until it is truthy; fails if ``proc`` ends first or time runs out."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        value = check()
        if value:
            return value
        if proc.poll() is not None:
            raise AssertionError(f"the run ended ({proc.returncode}) before {what}: "
                                 f"{proc.stderr.read()[-2000:] if proc.stderr else ''}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"timed out waiting for {what}")


def send(proc: subprocess.Popen, signum: int) -> None:
    proc.send_signal(signum)


def catches(proc: subprocess.Popen, signum: int) -> bool:
    """Whether ``proc`` has a handler for ``signum`` (its ``SigCgt`` mask, Linux): before that,
    the signal would end it as the interpreter starts, before any of jaxconv runs."""
    try:
        with open(f"/proc/{proc.pid}/status") as f:
            mask = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
    except (OSError, StopIteration):
        return False
    return bool(mask >> (signum - 1) & 1)


def one_line(err: str) -> str:
    """The stderr of a stopped command: exactly one non-empty line."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def params_of(directory, step: int):
    """The parameters saved at ``step`` in ``directory``, restored into their model's shape."""
    with train.Checkpointer(directory, create=False) as ckpt:
        meta = ckpt.metadata(step)
        model = models.build(meta["model_config"])
        config = train.TrainConfig.from_json(meta["train_config"])
        tx = train.make_tx(config)
        target = train.abstract_state(lambda: train.init_state(model, tx, (8, 8, 1)))
        state, _ = ckpt.restore(target, step=step)
    return jax.tree.map(np.asarray, state.params)


def uninterrupted(directory, steps: int):
    """The parameters of an uninterrupted ``jaxconv train --steps steps`` (in-process)."""
    code = main(["train", *TINY, "--steps", str(steps), "--save-every", str(steps),
                 "--checkpoint-dir", str(directory), "--json"])
    assert code == 0
    return params_of(directory, steps)


def assert_same_params(a, b) -> None:
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(x, y)


SIGNALS = {"SIGINT": (signal.SIGINT, 130, "SIGINT (Ctrl-C)"),
           "SIGTERM": (signal.SIGTERM, 143, "SIGTERM")}
