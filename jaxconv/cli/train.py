"""``jaxconv train``: train one model with a progress bar, checkpoints and a CSV of metrics.

``--steps`` is the step to train up to, so ``--resume --steps 1000`` after a run that stopped at
step 400 trains 600 more. A resumed run takes the model, dataset, optimiser, learning rate,
schedule, batch size and seed from the checkpoint; giving one of those flags with another value
is an error rather than a silent change of run.
"""

from __future__ import annotations

import csv
import json
import sys
import time

from jaxconv.cli import CPU_LIBRARIES
from jaxconv.cli.compare import add_model_arguments, model_config

# TrainConfig fields (and the dataset) a resumed run takes from its checkpoint.
_RESUMED = ("optimizer", "learning_rate", "schedule", "batch_size", "seed")
_LEGACY = {"lr": "learning_rate"}  # the key a checkpoint's "train" entry used before TrainConfig


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a dense, local or conv model")
    p.add_argument("--model", help="dense, local or conv (default conv)")
    p.add_argument("--dataset", help="digits (default), mnist-5k, mnist, fashion-mnist, shifted "
                                     "or a path")
    p.add_argument("--steps", type=int, default=500, help="train up to this step (default 500)")
    p.add_argument("--batch-size", type=int, help="examples per step (default 64)")
    p.add_argument("--lr", dest="learning_rate", type=float, help="learning rate (default 1e-3)")
    p.add_argument("--optimizer", help="sgd, momentum or adam (default adam)")
    p.add_argument("--schedule", help="constant (default), cosine or warmup_cosine")
    p.add_argument("--seed", type=int, help="parameter and batch-order seed (default 0)")
    p.add_argument("--eval-every", type=int, default=50, help="test every N steps (default 50)")
    p.add_argument("--global-pool", action="store_true", help="average-pool head (ModelConfig)")
    add_model_arguments(p)
    p.add_argument("--bf16", action="store_true", help="compute in bfloat16, keep float32 params")
    p.add_argument("--cpu-library", choices=CPU_LIBRARIES, default="auto",
                   help="what XLA runs in Eigen instead of YNNPACK on the CPU (default auto, "
                        "from the step's program); see jaxconv.xla_cpu")
    p.add_argument("--checkpoint-dir", help="save checkpoints here")
    p.add_argument("--save-every", type=int, help="checkpoint every N steps (default: at the end "
                                                  "and every --eval-every steps)")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint-dir's newest")
    p.add_argument("--csv", help="write step, loss, accuracy, test_loss, test_accuracy, elapsed")
    p.add_argument("--json", action="store_true", help="print the final result as JSON, no bar")
    p.set_defaults(run=run)


def _saved(meta) -> tuple[dict, str | None]:
    """A checkpoint's TrainConfig fields and dataset name (also from before TrainConfig)."""
    if meta.get("train_config"):
        return meta["train_config"], meta.get("dataset")
    legacy = dict(meta.get("train", {}))
    return {_LEGACY.get(k, k): v for k, v in legacy.items()}, legacy.get("dataset")


def _flag(key: str) -> str:
    return {"learning_rate": "--lr"}.get(key, "--" + key.replace("_", "-"))


def _configs(args, meta):
    """The dataset name and TrainConfig: flags, else the checkpoint's (resuming), else defaults."""
    from jaxconv.config import TrainConfig

    saved, saved_dataset = _saved(meta) if meta is not None else ({}, None)
    saved = {k: v for k, v in saved.items() if k in _RESUMED}
    if saved_dataset is not None:
        saved["dataset"] = saved_dataset
    chosen = {}
    for key in (*_RESUMED, "dataset"):
        given = getattr(args, key)
        if given is not None and key in saved and given != saved[key]:
            raise ValueError(f"{_flag(key)} {given!r} differs from the checkpoint's "
                             f"{saved[key]!r}; drop the flag or use another --checkpoint-dir.")
        if given is not None or key in saved:
            chosen[key] = given if given is not None else saved[key]
    dataset = chosen.pop("dataset", "digits")
    config = TrainConfig(steps=args.steps, eval_every=args.eval_every,
                         compute_dtype="bfloat16" if args.bf16 else None,
                         cpu_library=args.cpu_library, **chosen)
    return dataset, config


def _check(args):
    if args.steps < 0:
        raise ValueError(f"--steps must be >= 0, got {args.steps}.")
    if args.eval_every < 0:
        raise ValueError(f"--eval-every must be >= 0, got {args.eval_every}.")
    if args.save_every is not None and args.save_every < 1:
        raise ValueError(f"--save-every must be >= 1, got {args.save_every}.")
    if args.resume and not args.checkpoint_dir:
        raise ValueError("--resume needs --checkpoint-dir.")


def _prepare(args, ckpt):
    """Model, dataset, its name for the checkpoint, TrainConfig and (resuming) the state."""
    from jaxconv import data, models, train

    meta = ckpt.metadata() if args.resume else None
    if meta is not None:
        saved_kind = meta["model_config"]["kind"]
        if args.model is not None and args.model != saved_kind:
            raise ValueError(f"--model {args.model!r} differs from the checkpoint's "
                             f"{saved_kind!r}.")
    dataset, config = _configs(args, meta)
    ds = data.load(dataset, seed=config.seed)
    if meta is not None:
        model = models.build(meta["model_config"])
    else:
        model = models.build(args.model or "conv", num_classes=ds.num_classes,
                             global_pool=args.global_pool, **model_config(args))
    state = None
    if meta is not None:
        tx = train.make_optimizer(config.optimizer, config.learning_rate,
                                  schedule=config.schedule, steps=max(args.steps, 1))
        target = train.abstract_state(lambda: train.init_state(model, tx, ds.input_shape))
        state, _ = ckpt.restore(target)
    return model, ds, {"dataset": dataset}, config, state


def _write_csv(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "loss", "accuracy", "test_loss", "test_accuracy", "elapsed"])
        writer.writerows(rows)


def run(args) -> int:
    from tqdm import tqdm

    from jaxconv import models, train

    _check(args)
    ckpt = None
    if args.checkpoint_dir:
        ckpt = train.Checkpointer(args.checkpoint_dir, create=not args.resume)
    began, rows, last = time.perf_counter(), [], None
    try:
        model, ds, dataset_meta, config, state = _prepare(args, ckpt)
        results = train.fit(model, ds, config, state=state)
        start = 0 if state is None else int(state.step)
        save_every = args.save_every or args.eval_every or args.steps or 1
        with tqdm(total=args.steps, initial=start, file=sys.stderr, unit="step",
                  disable=args.json or not sys.stderr.isatty()) as bar:
            try:
                for last in results:
                    bar.update(1)
                    bar.set_postfix(loss=f"{last.loss:.4f}", refresh=False)
                    rows.append([last.step, last.loss, last.accuracy, last.test_loss,
                                 last.test_accuracy, round(last.elapsed, 4)])
                    if ckpt is not None and (last.step % save_every == 0
                                             or last.step == args.steps):
                        ckpt.save(last.state, config=model.config, train_config=config,
                                  metadata=dataset_meta)
            except train.NonFiniteError as err:
                print(f"jaxconv train: error: {err}", file=sys.stderr)
                return 1
    finally:
        if ckpt is not None:
            ckpt.close()  # saves finish before the program exits
        if args.csv and rows:
            _write_csv(args.csv, rows)
    if last is None:
        print(f"jaxconv train: nothing to do: already at step {start} >= --steps {args.steps}.",
              file=sys.stderr)
        return 0
    result = {"model": model.config.kind, "dataset": ds.name, "step": last.step,
              "loss": last.loss, "test_loss": last.test_loss,
              "test_accuracy": last.test_accuracy,
              "params": models.param_count(last.state.params),
              "seconds": round(time.perf_counter() - began, 3),
              "checkpoint_dir": args.checkpoint_dir}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['model']} on {result['dataset']}: step {last.step}, test accuracy "
              f"{last.test_accuracy:.4f}, test loss {last.test_loss:.4f}, "
              f"{result['params']:,} parameters, {result['seconds']:.1f} s")
    return 0
