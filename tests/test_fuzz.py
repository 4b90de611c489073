"""Property-based fuzzing of the public API and the CLI with hostile but realistic input.

Every generated call has exactly one bad argument (the rest valid), so it must fail, and fail
well: a ``ValueError``/``TypeError`` raised by jaxconv's own code (not by lax, XLA, Flax, orbax
or TensorStore) whose message names the argument. A CLI invocation must exit 2 with one line on
stderr that names the flag. A call that returns is silent junk; a worker that dies is an abort.

The calls run in one worker process (``tests/fuzz_worker.py``), started once and restarted after
an abort, so a SIGABRT inside XLA fails one example instead of the test run, and the CLI runs
in-process there (``jaxconv.cli.main(argv)``) instead of one Python start-up per invocation.

Budget: a fixed, derandomised number of examples per target (CI: at least 300 API calls and 60 CLI
invocations). ``JAXCONV_FUZZ_EXAMPLES=<n>`` runs ``n`` examples per target instead.
"""

from __future__ import annotations

import json
import math
import os
import re
import selectors
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow

_API_EXAMPLES = int(os.environ.get("JAXCONV_FUZZ_EXAMPLES", 12))
_CLI_EXAMPLES = int(os.environ.get("JAXCONV_FUZZ_EXAMPLES", 10))
# No shrinking: each shrink step is another call (and maybe a compile); the report names the call.
_SETTINGS = settings(max_examples=_API_EXAMPLES, derandomize=True, deadline=None, database=None,
                     suppress_health_check=list(HealthCheck),
                     phases=(Phase.explicit, Phase.reuse, Phase.generate))
_CLI_SETTINGS = settings(_SETTINGS, max_examples=_CLI_EXAMPLES)
_TIMEOUT_S = 120
# Where a user must never see an exception come from.
_INTERNALS = ("/jax/", "/jaxlib/", "/flax/", "/orbax/", "/tensorstore/", "/optax/", "/numpy/")
COUNTS = {"api": 0, "cli": 0}


class A:
    """An array to build in the worker: ``jnp.full(shape, v, dtype)``."""

    def __init__(self, *shape, dtype="float32", v=1):
        self.shape, self.dtype, self.v = shape, dtype, v

    def __repr__(self):
        return f"A{self.shape}" + ("" if self.dtype == "float32" else f"[{self.dtype}]")


def encode(value):
    if isinstance(value, A):
        return {"$a": list(value.shape), "d": value.dtype, "v": value.v}
    if isinstance(value, tuple):
        return {"$t": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return {"$f": repr(value)}
    if isinstance(value, dict):
        return {"$d": [[k, encode(v)] for k, v in value.items()]}
    return value


# --- junk of each kind ---------------------------------------------------------------------------

_TEXT = st.text(alphabet="abcxyzSAMEVLID-_ 0", max_size=4)
_FLOATS = st.one_of(st.sampled_from([0.5, 1.5, 2.0, -1.0, float("nan"), float("inf")]), st.floats())
_NOT_INT = st.one_of(_FLOATS, st.booleans(), _TEXT, st.just([3, "a"]))  # None: see "pos" vs "pos_opt"
_NOT_POSITIVE = st.one_of(st.integers(max_value=0), st.sampled_from([0, -1, -2**31, -2**63]))


def _choice(choices, upper=False, ints=True):
    ok = {c.upper() if upper else c for c in choices}
    return st.one_of(_TEXT.filter(lambda s: (s.upper() if upper else s) not in ok),
                     st.integers() if ints else st.nothing(), st.none(), st.just(("SAME",)))


_BAD_TUPLES = st.sampled_from([(0, 1), (1, -1), (1, 1, 1), (), (1.5, 1), (True, 1)])
JUNK = {
    "pos": st.one_of(_NOT_POSITIVE, _NOT_INT, st.none()),
    "pos_opt": st.one_of(_NOT_POSITIVE, _NOT_INT),  # where None means a default
    "pos_t": st.one_of(_NOT_POSITIVE, _NOT_INT, st.none(), _BAD_TUPLES),
    "pos_t_opt": st.one_of(_NOT_POSITIVE, _NOT_INT, _BAD_TUPLES),
    "nonneg": st.one_of(st.integers(max_value=-1), _NOT_INT, st.none()),
    "classes": st.one_of(st.integers(max_value=1), _NOT_INT, st.none()),
    "mesh": st.sampled_from(["junk", 3, (), [None]]),
    # 0 and 1 are Flax's use_bias=0/1 (accepted where Flax accepts them).
    "bool": st.one_of(st.integers().filter(lambda i: i not in (0, 1)), _TEXT, st.none(), _FLOATS,
                      st.just("no")),
    "float_pos": st.one_of(st.floats(max_value=0), st.sampled_from([float("nan"), float("inf"), -1e-9]),
                           _TEXT, st.none(), st.booleans()),
    "unit": st.one_of(st.floats(max_value=-1e-6), st.floats(min_value=1.000001), _TEXT, st.none(),
                      st.just(float("nan"))),
    "padding": st.one_of(_choice(("SAME", "VALID", "CIRCULAR"), upper=True, ints=False),
                         # A negative width crops, as in lax; cropping past the input cannot be.
                         st.integers(max_value=-50),
                         st.just(((1, 1),)), st.just(((1, -50), (0, 0))), st.just(1.5), st.none()),
    # What no input makes valid: what a module refuses when it is made, before it sees an input.
    "padding_form": st.one_of(_choice(("SAME", "VALID", "CIRCULAR"), upper=True, ints=False),
                              st.just(((1, 1),)), st.just(1.5), st.none()),
    # Padding that overflows what any process can hold (2**31 and up) or lies in the window.
    "padding_huge": st.integers(min_value=2**31, max_value=2**62),
    "array": st.one_of(st.none(), _TEXT, st.just(A(8, 8)), st.just(A(2, 8, 8, 3, dtype="int32")),
                       st.just(A(2, 8, 8, 0))),
    "kind": _choice(("dense", "local", "conv")),
    "optimizer": _choice(("sgd", "momentum", "adam")),
    "schedule": _choice(("constant", "cosine", "warmup_cosine")),
    "dtype": st.sampled_from(["nope", "int4x", "", "float33"]),
    "channels": st.one_of(st.just(()), st.just((0,)), st.just((8, -1)), st.just("16"), st.none(),
                          st.just((8.0,)), st.just((True,)), st.integers()),
    "shape": st.one_of(st.just(()), st.just((0, 8, 1)), st.just((8, -8, 1)), st.none(), st.just("8x8"),
                       st.just((8.5, 8, 1)), st.integers()),
    "params": st.one_of(st.none(), st.just({"w": "abc"}), st.just("params"), st.just([None, "x"])),
}

X = A(2, 8, 8, 3)
# target: (valid kwargs, {argument: junk kind}); one argument at a time is replaced by junk.
API = {
    "conv": (dict(x=X, kernel=A(3, 3, 3, 4), strides=1, padding="SAME", dilation=1, groups=1),
             dict(x="array", strides="pos_t", padding="padding", dilation="pos_t", groups="pos")),
    "conv_huge": (dict(x=X, kernel=A(3, 3, 3, 4)), dict(padding="padding_huge")),
    "locally_connected": (dict(x=A(1, 5, 5, 2), kernel=A(3, 3, 3, 3, 2, 4)),
                          dict(x="array", strides="pos_t", dilation="pos_t", padding="padding")),
    "dense": (dict(x=A(2, 3), kernel=A(3, 4)), dict(x="array", kernel="array")),
    "max_pool": (dict(x=X, window=2, strides=None, padding="VALID"),
                 dict(x="array", window="pos_t", strides="pos_t_opt", padding="padding")),
    "max_pool_huge": (dict(x=X, window=2), dict(padding="padding_huge")),
    "avg_pool": (dict(x=X, window=2, count_include_pad=True),
                 dict(x="array", window="pos_t", padding="padding", count_include_pad="bool")),
    "from_flax_conv_local": (dict(kernel=A(6, 6, 27, 4), in_features=3, kernel_size=3),
                             dict(in_features="pos", kernel_size="pos_t")),
    "dense_cost": (dict(in_features=4, out_features=3, batch_size=1, use_bias=True, dtype="float32"),
                   dict(in_features="pos", out_features="pos", batch_size="pos", use_bias="bool",
                        dtype="dtype")),
    "conv_cost": (dict(input_shape=(8, 8, 1), features=4, kernel_size=3, strides=1, padding="SAME",
                       dilation=1, groups=1, batch_size=1, use_bias=True),
                  dict(input_shape="shape", features="pos", kernel_size="pos_t", strides="pos_t",
                       padding="padding", dilation="pos_t", groups="pos", batch_size="pos",
                       use_bias="bool")),
    "local_cost": (dict(input_shape=(8, 8, 1), features=4, kernel_size=3),
                   dict(input_shape="shape", features="pos", kernel_size="pos_t", strides="pos_t",
                        padding="padding", batch_size="pos")),
    "pool_cost": (dict(input_shape=(8, 8, 1), window=2), dict(input_shape="shape", window="pos_t",
                                                              batch_size="pos")),
    "compare_connectivity": (dict(input_shape=(8, 8, 1), kernel_size=3, features=1),
                             dict(input_shape="shape", kernel_size="pos_t", strides="pos_t",
                                  features="pos", batch_size="pos", tpu="bool", use_bias="bool")),
    "summary": (dict(input_shape=(8, 8, 1), batch_size=1), dict(input_shape="shape", batch_size="pos")),
    "ModelConfig": (dict(kind="conv", num_classes=10, channels=(4,), kernel_size=3, strides=1,
                         padding="SAME", pool=True, global_pool=False, hidden=8),
                    dict(kind="kind", num_classes="classes", channels="channels", kernel_size="pos",
                         strides="pos", padding="padding", pool="bool", global_pool="bool",
                         hidden="nonneg")),
    "build": (dict(kind="conv", channels=(4,)), dict(kind="kind", channels="channels",
                                                      kernel_size="pos", hidden="nonneg")),
    "param_count": (dict(params={"w": A(2)}), dict(params="params")),
    "make_shifted": (dict(num_classes=2, canvas_size=16, n_train=8, n_test=4, noise=0.0, seed=0),
                     dict(num_classes="classes", canvas_size="pos", n_train="pos", n_test="pos",
                          noise="unit", seed="nonneg")),
    "load": (dict(name="digits", seed=0, n_train=16, n_test=8),
             dict(seed="nonneg", n_train="pos_opt", n_test="pos_opt")),
    "batches": (dict(x=A(5, 2), y=A(5, dtype="int32"), batch_size=2, seed=0),
                dict(batch_size="pos", seed="nonneg")),
    "make_optimizer": (dict(name="adam", learning_rate=1e-3, schedule="constant", momentum=0.9),
                       dict(name="optimizer", learning_rate="float_pos", schedule="schedule",
                            momentum="unit")),
    "TrainConfig": (dict(steps=10, batch_size=4, learning_rate=1e-3, seed=0, eval_every=0,
                         eval_batch_size=4, return_grads=False),
                    dict(steps="nonneg", batch_size="pos", optimizer="optimizer",
                         learning_rate="float_pos", schedule="schedule", seed="nonneg",
                         eval_every="nonneg", eval_batch_size="pos", compute_dtype="dtype",
                         return_grads="bool")),
    "fit": (dict(steps=1, batch_size=4, eval_every=0),
            dict(steps="nonneg", batch_size="pos", learning_rate="float_pos", seed="nonneg",
                 optimizer="optimizer", return_grads="bool", mesh="mesh")),
    "init_state": (dict(input_shape=(8, 8, 1), seed=0), dict(input_shape="shape", seed="nonneg")),
    "evaluate": (dict(x=A(4, 8, 8, 1), y=A(4, dtype="int32"), batch_size=4),
                 dict(batch_size="pos")),
    "Checkpointer": (dict(max_to_keep=None), dict(max_to_keep="pos_opt")),
    "shift_images": (dict(x=A(1, 3, 3, 1), dy=0, dx=0), dict(dy="nonneg_shift", dx="nonneg_shift")),
}
_MODULES = {
    "linen.Dense": (dict(features=3), dict(features="pos", features_huge="huge", use_bias="bool")),
    "linen.Conv": (dict(features=3, kernel_size=(3, 3)),
                   dict(features="pos", features_huge="huge", kernel_size="kernel", strides="pos_t_opt",
                        padding="padding", feature_group_count="pos")),
    "linen.LocallyConnected": (dict(features=3, kernel_size=(3, 3)),
                               dict(features="pos", kernel_size="kernel", strides="pos_t_opt",
                                    padding="padding")),
    "nnx.Linear": (dict(in_features=4, out_features=3),
                   dict(in_features="pos", out_features="pos", in_features_huge="huge", use_bias="bool")),
    "nnx.Conv": (dict(in_features=1, out_features=3, kernel_size=(3, 3)),
                 dict(in_features="pos", out_features="pos", out_features_huge="huge",
                      kernel_size="kernel", strides="pos_t_opt", padding="padding_form")),
}
API.update(_MODULES)
JUNK["huge"] = st.integers(min_value=2**40, max_value=2**62)
JUNK["kernel"] = st.one_of(_NOT_POSITIVE, _NOT_INT, st.none(), st.sampled_from([(0, 1), (1, -1), (), (1.5, 1)]))
JUNK["nonneg_shift"] = st.one_of(st.sampled_from([3, -3, 100]), _NOT_INT)
# Names the message may use for an argument besides its own.
ALIASES = {"x": ("input",), "name": ("optimizer",), "padding_huge": ("padding",), "dtype": ("dtype",),
           "features_huge": ("features",), "in_features_huge": ("in_features",),
           "out_features_huge": ("out_features",)}


# --- the worker ----------------------------------------------------------------------------------

class Worker:
    """The fuzz worker process: one JSON request per line, one JSON answer per line."""

    def __init__(self):
        self.proc = None

    def start(self):
        root = Path(__file__).resolve().parents[1]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("fuzz_worker.py"))],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, env=env, cwd=root)
        assert json.loads(self._read()) == {"ready": True}

    def _read(self):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(_TIMEOUT_S):
            self.proc.kill()
            self.proc.wait()
            return None
        return self.proc.stdout.readline() or None

    def call(self, target, kwargs):
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        self.proc.stdin.write(json.dumps({"target": target, "kwargs": {k: encode(v) for k, v in kwargs.items()}}) + "\n")
        self.proc.stdin.flush()
        line = self._read()
        if line is None:
            rc = self.proc.wait()
            self.proc = None
            return {"outcome": "died", "rc": rc}
        return json.loads(line)

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    w.start()
    yield w
    w.close()


def _names(arg):
    return (arg, *ALIASES.get(arg, ()))


def check_api(worker, target, kwargs, arg):
    answer = worker.call(target.removesuffix("_huge"), kwargs)
    COUNTS["api"] += 1
    call = f"{target}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
    assert answer["outcome"] != "died", f"{call} killed the process (rc {answer['rc']})"
    assert answer["outcome"] == "raised", f"{call} returned {answer.get('repr')} for junk {arg}"
    assert {"ValueError", "TypeError"} & set(answer["bases"]), f"{call} raised {answer['type']}: {answer['message']}"
    where = answer["where"] or ""
    assert "/jaxconv/" in where and not any(s in where for s in _INTERNALS), (
        f"{call} raised {answer['type']} from {where}: {answer['message']}")
    message = answer["message"]
    assert any(re.search(rf"\b{re.escape(n)}\b", message) for n in _names(arg)), (
        f"{call}: the message does not name `{arg}`: {message}")


@pytest.mark.parametrize("target", sorted(API))
def test_api_junk_gets_a_clear_error(worker, target):
    valid, kinds = API[target]

    @_SETTINGS
    @given(st.data())
    def run(draw):
        arg = draw.draw(st.sampled_from(sorted(kinds)), label="argument")
        junk = draw.draw(JUNK[kinds[arg]], label=arg)
        check_api(worker, target, {**valid, arg.removesuffix("_huge"): junk}, arg)

    run()


# --- the CLI ---------------------------------------------------------------------------------------

# Not "--": argparse stores `--steps=--` as a list, an argparse quirk no user types.
_INT_TEXT = st.sampled_from(["abc", "1.5", "", "0x10", "1e3"])
_NEG = st.integers(max_value=-1).map(str)
_NONPOS = st.integers(max_value=0).map(str)
_BAD_FLOAT = st.sampled_from(["-1", "0", "nan", "inf", "-inf", "abc", "1e-3x"])
_BAD_NAME = _TEXT.filter(lambda s: s.strip() and s.lower() not in ("conv", "dense", "local"))
_BAD_LIST = st.sampled_from(["0", "4,x", "", "-1", "4,,4", "4.5"])
_BAD_SHAPE = st.sampled_from(["0x5", "5xa", "", "2x2x2x2x2", "-5", "5x0", "x"])

# sub-command argv prefix: {flag: junk strategy}; each must fail before any training or timing.
CLI = {
    "train": {"--model": _BAD_NAME, "--steps": st.one_of(_NEG, _INT_TEXT),
              "--batch-size": st.one_of(_NONPOS, _INT_TEXT, st.just("100000")), "--lr": _BAD_FLOAT,
              "--optimizer": _BAD_NAME, "--schedule": _BAD_NAME, "--seed": st.one_of(_NEG, _INT_TEXT),
              "--eval-every": st.one_of(_NEG, _INT_TEXT), "--channels": _BAD_LIST,
              "--hidden": st.one_of(_NEG, _INT_TEXT), "--dataset": st.sampled_from(["nope", "/no/such.npz"])},
    "compare": {"--steps": st.one_of(_NONPOS, _INT_TEXT), "--models": st.sampled_from(["conv,mlp", "", "x"]),
                "--lr": _BAD_FLOAT, "--channels": _BAD_LIST, "--batch-size": st.one_of(_NONPOS, _INT_TEXT),
                "--dataset": st.sampled_from(["nope"])},
    "count": {"--input": _BAD_SHAPE, "--kernel": st.one_of(_NONPOS, _BAD_SHAPE), "--stride": _NONPOS,
              "--padding": _BAD_NAME.filter(lambda s: s.upper() not in ("SAME", "VALID", "CIRCULAR")),
              "--features": st.one_of(_NONPOS, _INT_TEXT), "--batch": st.one_of(_NONPOS, _INT_TEXT),
              "--dtype": st.sampled_from(["nope", "float33", "int4x"])},
    "bench": {"--input": _BAD_SHAPE, "--features": st.one_of(_NONPOS, _INT_TEXT),
              "--kernel": st.one_of(_NONPOS, _BAD_SHAPE), "--stride": _NONPOS,
              "--batch": st.one_of(_NONPOS, _INT_TEXT), "--rounds": st.one_of(_NONPOS, _INT_TEXT),
              "--layer": _BAD_NAME},
    "experiment shift": {"--steps": st.one_of(_NONPOS, _INT_TEXT), "--classes": st.sampled_from(["1", "9", "x"]),
                         "--channels": _BAD_LIST, "--hidden": _NEG},
    "experiment data-size": {"--sizes": st.sampled_from(["10", "a,b", "", "0"]),
                             "--steps": st.one_of(_NONPOS, _INT_TEXT)},
    "bench-default": {"--batch": st.sampled_from(["0", "2"]), "--input": st.sampled_from(["8x8x1", "0"]),
                      "--features": st.sampled_from(["4"]), "--mode": st.sampled_from(["train"])},
    "info": {"--bogus": st.sampled_from(["1", "x"])},
    "viewer": {"--channels": st.one_of(_NONPOS, _INT_TEXT, st.just("100000000")),
               "--strides": st.one_of(_NONPOS, _INT_TEXT), "--learning-rate": _BAD_FLOAT,
               "--dataset": st.sampled_from(["nope", "/no/such.npz"]),
               "--batch-size": st.one_of(_NONPOS, st.just("100000"), _INT_TEXT),
               "--kernel-size": st.one_of(_NONPOS, st.just("100")), "--depth": st.sampled_from(["0", "50"]),
               "--hidden": _NEG, "--seed": _NEG, "--optimizer": _BAD_NAME, "--redraw-every": _NONPOS},
    "backprop check": {"--bogus": st.sampled_from(["1"])},
}
_REQUIRED = {"count": ["--input", "5x5", "--kernel", "3"],
             "bench": ["--quick", "--no-torch", "--layer=conv", "--input=8x8x1", "--batch=2"]}


def check_cli(worker, argv, flag, target="cli"):
    answer = worker.call(target, {"argv": argv})
    COUNTS["cli"] += 1
    shown = ("jaxconv " if target == "cli" else "jaxconv-viewer ") + " ".join(argv)
    assert answer["outcome"] == "cli", f"{shown}: {answer}"  # both report as "cli"
    lines = [line for line in answer["stderr"].splitlines() if line.strip()]
    assert answer["rc"] == 2, f"{shown}: exit {answer['rc']}, stderr {answer['stderr'][-500:]}"
    assert len(lines) == 1, f"{shown}: {len(lines)} lines on stderr:\n{answer['stderr'][-1500:]}"
    assert "Traceback" not in lines[0]
    names = (flag, flag.lstrip("-").replace("-", "_"), flag.lstrip("-"))
    names += {"--lr": ("learning_rate",), "--models": ("kinds",), "--classes": ("num_classes",),
              "--model": ("kind",), "--input": ("input_shape",), "--kernel": ("kernel_size",),
              "--stride": ("strides",), "--batch": ("batch_size",), "--dataset": ("dataset", "load")}.get(flag, ())
    assert any(n in lines[0] for n in names), f"{shown}: the line does not name {flag}: {lines[0]}"


@pytest.mark.parametrize("command", sorted(CLI))
def test_cli_junk_exits_2_with_one_line(worker, command):
    flags = CLI[command]

    @_CLI_SETTINGS
    @given(st.data())
    def run(draw):
        flag = draw.draw(st.sampled_from(sorted(flags)), label="flag")
        value = draw.draw(flags[flag], label=flag)
        if command == "viewer":
            check_cli(worker, [f"{flag}={value}"], flag, target="viewer")
            return
        words = ["bench", "--quick", "--no-torch"] if command == "bench-default" else command.split()
        argv = [*words, *_REQUIRED.get(command, []), f"{flag}={value}"]
        check_cli(worker, argv, flag)

    run()


def test_budget_reached():
    """At least 300 API calls and 60 CLI invocations ran (when the whole module ran)."""
    print(f"fuzz calls: {COUNTS}")
    if COUNTS["api"] < len(API) or COUNTS["cli"] < len(CLI):
        pytest.skip("only part of the module ran")
    assert COUNTS["api"] >= min(300, len(API) * _API_EXAMPLES), COUNTS
    assert COUNTS["cli"] >= min(60, len(CLI) * _CLI_EXAMPLES), COUNTS
