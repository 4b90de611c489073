"""Runs fuzz calls sent by tests/test_fuzz.py, one JSON line in, one JSON line out.

A separate process, started once and reused for every call, because some junk used to abort the
whole process inside XLA (SIGABRT): the parent sees the pipe close and reports the call that did it.
Each request is ``{"target": name, "kwargs": {...}}`` with values encoded by :func:`decode`; the
answer says whether the call returned or raised, with the exception's type, message and where it
was raised.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
import traceback

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from flax import nnx  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")

import jaxconv  # noqa: E402
from jaxconv import data, experiments, models, train  # noqa: E402
from jaxconv.costs import counting  # noqa: E402

_TMP = tempfile.mkdtemp(prefix="jaxconv-fuzz-")


def decode(value):
    """Inverse of test_fuzz.encode: tagged dicts become tuples, odd floats, arrays, NumPy ints."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$t" in value:
        return tuple(decode(v) for v in value["$t"])
    if "$f" in value:
        return float(value["$f"])
    if "$a" in value:
        return jnp.full(tuple(value["$a"]), value.get("v", 1), value.get("d", "float32"))
    if "$np" in value:
        return getattr(np, value["$np"])(value["v"])
    if "$d" in value:
        return {k: decode(v) for k, v in value["$d"]}
    raise ValueError(f"unknown tag in {value!r}")


def _first(result):
    """Generators check their arguments at the first ``next``: take one item."""
    if hasattr(result, "__next__"):
        return next(result)
    return result


_DS = None


def _dataset():
    global _DS
    if _DS is None:
        x = np.zeros((8, 8, 8, 1), np.float32)
        _DS = data.Dataset(x, np.arange(8) % 2, x[:4], np.arange(4) % 2, ("a", "b"), "toy")
    return _DS


def _fit(model_kind="conv", **overrides):
    return _first(train.fit(models.build(model_kind, num_classes=2, channels=(2,), hidden=0),
                            _dataset(), **overrides))


_MODEL = models.build("conv", num_classes=2, channels=(2,), hidden=0)
_PARAMS = []


def _evaluate(**kw):
    if not _PARAMS:
        # Zeros in the parameters' shapes: nothing compiled, which is all a failing call needs.
        shapes = jax.eval_shape(_MODEL.init, jax.random.key(0), jnp.zeros((1, 8, 8, 1)))["params"]
        _PARAMS.append(jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes))
    return train.evaluate(_MODEL, _PARAMS[0], **kw)


def _cli(argv):
    from jaxconv.cli import main

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            rc = main(list(argv))
        except SystemExit as exc:  # argparse
            rc = exc.code if isinstance(exc.code, int) else 1
    return {"rc": rc, "stderr": err.getvalue(), "stdout": out.getvalue()[-500:]}


def _viewer(argv):
    """The viewer's checks before its window: argument parsing, then `check_arguments`."""
    from jaxconv_viewer.__main__ import _parser, check_arguments

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            problem = check_arguments(_parser().parse_args(list(argv)))
        except SystemExit as exc:
            return {"rc": exc.code, "stderr": err.getvalue(), "stdout": ""}
    if problem:
        return {"rc": 2, "stderr": f"jaxconv-viewer: {problem}\n", "stdout": ""}
    return {"rc": 0, "stderr": "would open the window", "stdout": ""}


TARGETS = {
    "conv": jaxconv.conv,
    "locally_connected": jaxconv.locally_connected,
    "dense": jaxconv.dense,
    "max_pool": jaxconv.max_pool,
    "avg_pool": jaxconv.avg_pool,
    "to_flax_conv_local": jaxconv.to_flax_conv_local,
    "from_flax_conv_local": jaxconv.from_flax_conv_local,
    "dense_cost": counting.dense_cost,
    "conv_cost": counting.conv_cost,
    "local_cost": counting.local_cost,
    "pool_cost": counting.pool_cost,
    "compare_connectivity": jaxconv.compare_connectivity,
    "summary": lambda kind="conv", **kw: jaxconv.summary(models.build(kind), **kw),
    "ModelConfig": models.ModelConfig,
    "build": lambda kind="conv", **kw: models.build(kind, **kw),
    "param_count": models.param_count,
    "make_shifted": data.make_shifted,
    "load": data.load,
    "batches": lambda **kw: _first(data.batches(**kw)),
    "Dataset": data.Dataset,
    "make_optimizer": train.make_optimizer,
    "TrainConfig": train.TrainConfig,
    "fit": _fit,
    "init_state": lambda kind="conv", tx=None, **kw: train.init_state(
        models.build(kind, channels=(2,), hidden=0), train.make_optimizer() if tx is None else tx, **kw),
    "evaluate": lambda **kw: _evaluate(**kw),
    "Checkpointer": lambda directory=None, **kw: train.Checkpointer(
        os.path.join(_TMP, "ck") if directory is None else directory, **kw),
    "shift_images": experiments.shift_images,
    "linen.Dense": lambda **kw: jaxconv.layers.linen.Dense(**kw).init(jax.random.key(0), jnp.ones((1, 4))),
    "linen.Conv": lambda **kw: jaxconv.layers.linen.Conv(**kw).init(jax.random.key(0), jnp.ones((1, 8, 8, 1))),
    "linen.LocallyConnected": lambda **kw: jaxconv.layers.linen.LocallyConnected(**kw).init(
        jax.random.key(0), jnp.ones((1, 8, 8, 1))),
    "nnx.Linear": lambda **kw: jaxconv.layers.nnx.Linear(**kw, rngs=nnx.Rngs(0)),
    "nnx.Conv": lambda **kw: jaxconv.layers.nnx.Conv(**kw, rngs=nnx.Rngs(0)),
    "cli": _cli,
    "viewer": _viewer,
}


def run(request):
    target = TARGETS[request["target"]]
    kwargs = {k: decode(v) for k, v in request["kwargs"].items()}
    try:
        result = target(**kwargs)
    except BaseException as err:  # noqa: BLE001 - report everything, even SystemExit
        frames = traceback.extract_tb(err.__traceback__)
        inner = frames[-1] if frames else None
        return {"outcome": "raised", "type": type(err).__name__,
                "bases": [c.__name__ for c in type(err).__mro__],
                "message": str(err)[:2000],
                "where": None if inner is None else f"{inner.filename}:{inner.lineno}",
                "files": [f.filename for f in frames],
                "context": None if err.__context__ is None else type(err.__context__).__name__,
                "cause": None if err.__cause__ is None else type(err.__cause__).__name__}
    if request["target"] in ("cli", "viewer"):
        return {"outcome": "cli", **result}
    return {"outcome": "returned", "repr": repr(result)[:300]}


def main():
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        print(json.dumps(run(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
