"""``jaxconv train``: train one model with a progress bar, checkpoints and a CSV of metrics.

``--steps`` is the step to train up to, so ``--resume --steps 1000`` after a run that stopped at
step 400 trains 600 more. A resumed run takes the model, the dataset and the training settings
its saved state depends on from the checkpoint (the TrainConfig fields marked ``resume``: the
optimiser, learning rate, schedule, batch size and seed, ...); giving one of those flags with
another value is an error rather than a silent change of run (``--allow-changed-settings`` accepts
the ``"changeable"`` ones, e.g. to continue a diverged run with a smaller ``--learning-rate``).
Its restore target is the state :func:`jaxconv.train.make_tx` of the resumed settings makes.

Before training, every output path is checked writable (``--csv``, ``--checkpoint-dir``); a fresh
run refuses a checkpoint directory that already holds steps or stray step-named folders, naming
them. ``--resume`` uses the newest step whose metadata and data both read and says in one line
which newer steps it skipped and why (the skipped folders are moved aside to
``<step>.unused-<n>``, so nothing is deleted); ``--verbose`` prints the full reasons. When the
divergence guard stops a run (:mod:`jaxconv.train.guard`), the last state that passed it is saved
to ``--checkpoint-dir`` and the command to continue it is printed; exit status 1.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import sys
import time
import warnings

from jaxconv.cli._paths import check_writable_file
from jaxconv.cli._progress import Heartbeat
from jaxconv.cli.fields import add_alias, add_config_arguments, flag, given_fields

_LEGACY = {"lr": "learning_rate"}  # the key a checkpoint's "train" entry used before TrainConfig


def _resumed() -> dict:
    """TrainConfig fields a resumed run takes from its checkpoint, each ``"kept"`` or
    ``"changeable"`` (their ``metadata["resume"]``, see :mod:`jaxconv.config`)."""
    import dataclasses

    from jaxconv.config import TrainConfig

    return {f.name: f.metadata["resume"] for f in dataclasses.fields(TrainConfig)
            if f.metadata.get("resume")}


def register(subparsers) -> None:
    from jaxconv.config import ModelConfig, TrainConfig

    resumed = ", ".join(name.replace("_", " ") for name in _resumed())
    p = subparsers.add_parser(
        "train", help="train a dense, local, regional or conv model",
        description="Train one model. Every ModelConfig and TrainConfig field is a flag named "
                    f"after it; a resumed run takes its model, dataset and {resumed} from the "
                    "checkpoint.")
    p.add_argument("--dataset", help="digits (default), mnist-5k, mnist, fashion-mnist, shifted "
                                     "or a path")
    add_config_arguments(p, ModelConfig, TrainConfig, defaults=(ModelConfig("conv"),))
    add_alias(p, "--model", "kind")
    add_alias(p, "--lr", "learning_rate", type=float)
    add_alias(p, "--bf16", "compute_dtype", action="store_const", const="bfloat16")
    p.add_argument("--checkpoint-dir", help="save checkpoints here")
    p.add_argument("--save-every", type=int, help="checkpoint every N steps (default: at the end "
                                                  "and every --eval-every steps)")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint-dir's newest")
    p.add_argument("--csv", help="write step, loss, accuracy, test_loss, test_accuracy, elapsed")
    p.add_argument("--json", action="store_true", help="print the final result as JSON, no bar")
    changeable = [flag(name) for name, how in _resumed().items() if how == "changeable"]
    p.add_argument("--allow-changed-settings", action="store_true",
                   help=f"with --resume: accept another {', '.join(changeable[:-1])} or "
                        f"{changeable[-1]} than the checkpoint's (e.g. a smaller rate after "
                        f"divergence)")
    p.add_argument("--verbose", action="store_true",
                   help="full reasons for skipped checkpoints and orbax's tracebacks")
    p.set_defaults(run=run)


def _saved(meta) -> tuple[dict, str | None]:
    """A checkpoint's TrainConfig fields and dataset name (also from before TrainConfig)."""
    if meta.get("train_config"):
        return meta["train_config"], meta.get("dataset")
    legacy = dict(meta.get("train", {}))
    return {_LEGACY.get(k, k): v for k, v in legacy.items()}, legacy.get("dataset")


def _configs(args, meta, report=False):
    """The dataset name and TrainConfig: flags, else the checkpoint's (resuming), else defaults."""
    from jaxconv.config import TrainConfig

    resumed = {**_resumed(), "dataset": "kept"}
    saved, saved_dataset = _saved(meta) if meta is not None else ({}, None)
    saved = {k: v for k, v in saved.items() if k in resumed}
    if saved_dataset is not None:
        saved["dataset"] = saved_dataset
    given = given_fields(TrainConfig, args)  # "off" given reads None, a flag left out is absent
    if args.dataset is not None:
        given["dataset"] = args.dataset
    chosen, changed = {}, []
    for key, how in resumed.items():
        if key in given and key in saved and given[key] != saved[key]:
            if not (args.allow_changed_settings and how == "changeable"):
                hint = ("add --allow-changed-settings to continue with it"
                        if how == "changeable" else "it cannot change on resume")
                raise ValueError(f"{flag(key)} {_shown(given[key])!r} differs from the "
                                 f"checkpoint's {_shown(saved[key])!r}; {hint}, drop the flag, "
                                 f"or use another --checkpoint-dir.")
            changed.append(f"{flag(key)} {_shown(saved[key])!r} -> {_shown(given[key])!r}")
        if key in given or key in saved:
            chosen[key] = given[key] if key in given else saved[key]
    if changed and report:
        print(f"jaxconv train: resuming with changed settings: {', '.join(changed)}.",
              file=sys.stderr)
    dataset = chosen.pop("dataset", "digits")
    given.pop("dataset", None)
    config = TrainConfig(**{**given, **chosen})
    return dataset, config


def _model_config(args, num_classes: int):
    """A fresh run's ModelConfig: the flags over ``ModelConfig("conv", num_classes=<the
    dataset's>)`` (a resumed run's is the checkpoint's, :func:`_check_model_flags`)."""
    from jaxconv.config import ModelConfig

    return ModelConfig.from_json({"kind": "conv", "num_classes": num_classes,
                                  **given_fields(ModelConfig, args)})


def _check(args):
    if args.save_every is not None and args.save_every < 1:
        raise ValueError(f"--save-every must be >= 1, got {args.save_every}.")
    if args.resume and not args.checkpoint_dir:
        raise ValueError("--resume needs --checkpoint-dir.")
    if args.allow_changed_settings and not args.resume:
        raise ValueError("--allow-changed-settings needs --resume.")
    if args.csv:
        check_writable_file("--csv", args.csv)


def _shown(value):
    """A setting as its flag takes it: ``(4, 8)`` -> ``"4,8"``, None -> ``"off"``."""
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return "off" if value is None else value


def _check_model_flags(args, saved):
    """Model flags given on --resume must give the checkpoint's model ``saved`` (a ModelConfig):
    its state has that shape. Compared as ModelConfigs, so ``--padding valid`` is ``VALID``."""
    from jaxconv.config import ModelConfig

    given = given_fields(ModelConfig, args)
    wanted = ModelConfig.from_json({**saved.to_json(), **given})
    differ = [f"{flag(key)} {_shown(getattr(wanted, key))!r} differs from the checkpoint's "
              f"{_shown(getattr(saved, key))!r}" for key in given
              if getattr(wanted, key) != getattr(saved, key)]
    if differ:
        raise ValueError(f"{'; '.join(differ)}; the saved parameters have the checkpoint's "
                         f"model, so drop the flag(s) or use another --checkpoint-dir.")


def _check_fresh_directory(ckpt):
    """A fresh run must not collide with steps or stray folders already in the directory."""
    strays, steps = ckpt.strays(), ckpt.steps()
    if strays:
        raise ValueError(f"--checkpoint-dir: {str(strays[0])!r} is named like a step but is not a "
                         f"checkpoint (no state/ or meta/); remove it or choose another "
                         f"directory.")
    if steps:
        raise ValueError(f"--checkpoint-dir: {str(ckpt.directory)!r} already holds steps "
                         f"{steps}; add --resume to continue them, or choose another directory.")


def _restore(args, ckpt, build):
    """Restores the newest usable step; reports skipped steps and stray folders in one line each."""
    strays = [ckpt.set_aside(int(p.name)) for p in ckpt.strays()]
    state, meta, step, skipped = ckpt.restore_newest(build)
    moved = [ckpt.set_aside(bad) for bad, _ in skipped]  # so the run can save those steps again
    if skipped:
        what = "; ".join(f"step {bad}: {_short(reason, args.verbose)}" for bad, reason in skipped)
        print(f"jaxconv train: resuming from step {step}, skipped {what} (moved to "
              f"{', '.join(str(p) for p in moved)}).", file=sys.stderr)
    for path in strays:
        print(f"jaxconv train: moved the stray folder {str(path).rsplit('.unused-', 1)[0]!r} "
              f"(not a checkpoint) to {str(path)!r}.", file=sys.stderr)
    return state, meta


def _short(reason, verbose):
    return reason if verbose or len(reason) <= 120 else reason[:117] + "..."




def _prepare(args, ckpt):
    """Model, dataset, its name for the checkpoint, TrainConfig and (resuming) the state."""
    from jaxconv import data, models, train

    if not args.resume:
        if ckpt is not None:
            _check_fresh_directory(ckpt)
        dataset, config = _configs(args, None)
        ds = data.load(dataset, seed=config.seed)
        model = models.build(_model_config(args, ds.num_classes))
        return model, ds, {"dataset": dataset}, config, None
    loaded = {}

    def build(meta):  # the restore target of one step, from that step's own metadata
        try:
            saved = models.ModelConfig.from_json(meta["model_config"])
        except (ValueError, TypeError) as err:
            raise train.CheckpointError(f"its model_config cannot be built: {err}") from None
        _check_model_flags(args, saved)
        dataset, config = _configs(args, meta)
        if dataset not in loaded:
            loaded[dataset] = data.load(dataset, seed=config.seed)
        model = models.build(saved)
        tx = train.make_tx(config)  # the recipe fit runs with makes the state it restores
        ds = loaded[dataset]
        build.result = model, ds, dataset, config
        return train.abstract_state(lambda: train.init_state(model, tx, ds.input_shape))

    try:
        state, meta = _restore(args, ckpt, build)
    except train.CheckpointError as err:
        raise train.CheckpointError(_short(str(err), args.verbose)) from None
    model, ds, dataset, config = build.result
    _configs(args, meta, report=True)
    return model, ds, {"dataset": dataset}, config, state


def _report_divergence(args, ckpt, err, model, ds, config, meta):
    """Saves the state that passed the guard (dropping steps saved after it), finds a learning
    rate that continues from it (:func:`jaxconv.train.recover.suggest_learning_rate`) and says so."""
    from jaxconv.train import recover

    print(f"jaxconv train: diverged at step {err.step}: {err.reason}.", file=sys.stderr)
    if ckpt is not None:
        ckpt.wait()
        for newer in [step for step in ckpt.steps() if step > err.good_step]:
            ckpt.delete(newer)  # saved from states the guard has since condemned
        if err.good_step not in ckpt.steps():
            ckpt.save(err.state, config=model.config, train_config=config, metadata=meta)
            ckpt.wait()
    print(f"jaxconv train: trying smaller learning rates from step {err.good_step} for a few "
          f"steps each...", file=sys.stderr)
    found = recover.suggest_learning_rate(model, ds, err, config)
    rate = f"{found.learning_rate:g}" if found.learning_rate is not None else None
    if ckpt is None:
        again = f"; rerun with --learning-rate {rate}" if rate else ""
        print(f"jaxconv train: nothing was saved (no --checkpoint-dir); the state of step "
              f"{err.good_step} passed the guard: {found.describe()}{again}, or with "
              f"--checkpoint-dir to keep it.", file=sys.stderr)
        return
    path = ckpt.directory / str(err.good_step)
    if rate is None:
        print(f"jaxconv train: saved step {err.good_step}, the last state that passed the guard, "
              f"to {str(path)!r}; {found.describe()}.", file=sys.stderr)
        return
    print(f"jaxconv train: saved step {err.good_step}, the last state that passed the guard, to "
          f"{str(path)!r}; {found.describe()}: jaxconv train --resume --checkpoint-dir "
          f"{args.checkpoint_dir} --learning-rate {rate} --allow-changed-settings",
          file=sys.stderr)


def _announce(beats, message, category, *_args, **_kwargs):
    """fit's warnings in one line each; a long compile also starts an elapsed-time line every
    10 s (from the moment it is announced until the first step), so no run sits silent."""
    from jaxconv.train import preflight

    print(f"jaxconv train: warning: {message}", file=sys.stderr)
    if issubclass(category, preflight.LongCompileWarning) and not beats:
        beats.append(Heartbeat("jaxconv train", "still compiling the training step"))


def _write_csv(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "loss", "accuracy", "test_loss", "test_accuracy", "elapsed"])
        writer.writerows(rows)


def run(args) -> int:
    from tqdm import tqdm

    from jaxconv import models, train
    from jaxconv.train import preflight

    _check(args)
    if args.verbose:
        os.environ["JAXCONV_VERBOSE"] = "1"
    ckpt = None
    if args.checkpoint_dir:
        ckpt = train.Checkpointer(args.checkpoint_dir, create=not args.resume)
    began, rows, last, heartbeat = time.perf_counter(), [], None, None
    try:
        model, ds, dataset_meta, config, state = _prepare(args, ckpt)
        beats = []
        with warnings.catch_warnings():
            warnings.simplefilter("always", preflight.LongCompileWarning)
            warnings.showwarning = functools.partial(_announce, beats)
            results = train.fit(model, ds, config, state=state)  # may lower the step (slow)
        if not beats and sys.stderr.isatty():
            beats.append(Heartbeat("jaxconv train", "still compiling the training step"))
        heartbeat = beats[0] if beats else None
        start = 0 if state is None else int(state.step)
        save_every = args.save_every or config.eval_every or config.steps or 1
        saved = start
        with tqdm(total=config.steps, initial=start, file=sys.stderr, unit="step",
                  disable=args.json or not sys.stderr.isatty()) as bar:
            try:
                for last in results:
                    if heartbeat is not None:
                        heartbeat = heartbeat.stop()
                    bar.update(1)
                    bar.set_postfix(loss=f"{last.loss:.4f}", refresh=False)
                    rows.append([last.step, last.loss, last.accuracy, last.test_loss,
                                 last.test_accuracy, round(last.elapsed, 4)])
                    # Steps inside one dispatch carry no state: save the first state at or
                    # after each multiple of save_every.
                    due = last.step == config.steps or last.step // save_every > saved // save_every
                    if ckpt is not None and last.state is not None and due:
                        ckpt.save(last.state, config=model.config, train_config=config,
                                  metadata=dataset_meta)
                        saved = last.step
            except train.DivergenceError as err:
                _report_divergence(args, ckpt, err, model, ds, config, {**dataset_meta, "diverged": {
                    "step": err.step, "reason": err.reason}})
                return 1
    finally:
        if heartbeat is not None:
            heartbeat.stop()
        if ckpt is not None:
            ckpt.close()  # saves finish before the program exits
        if args.csv and rows:
            _write_csv(args.csv, rows)
    if last is None:
        print(f"jaxconv train: nothing to do: already at step {start} >= --steps {config.steps}.",
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
