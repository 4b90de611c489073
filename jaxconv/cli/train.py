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

import functools
import json
import os
import sys
import time
import warnings

from jaxconv.cli import _train_end, signals
from jaxconv.cli._progress import Heartbeat
from jaxconv.cli._train_start import prepare, resumed_fields
from jaxconv.cli.fields import add_alias, add_config_arguments, flag
from jaxconv.cli.paths import check_writable_file, path_arg


def register(subparsers) -> None:
    from jaxconv.config import ModelConfig, TrainConfig

    resumed = ", ".join(name.replace("_", " ") for name in resumed_fields())
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
    p.add_argument("--checkpoint-dir", type=path_arg, help="save checkpoints here")
    p.add_argument("--save-every", type=int, help="checkpoint every N steps (default: at the end "
                                                  "and every --eval-every steps)")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint-dir's newest")
    p.add_argument("--csv", type=path_arg, help="write step, loss, accuracy, test_loss, test_accuracy, elapsed")
    p.add_argument("--json", action="store_true", help="print the final result as JSON, no bar")
    changeable = [flag(name) for name, how in resumed_fields().items() if how == "changeable"]
    p.add_argument("--allow-changed-settings", action="store_true",
                   help=f"with --resume: accept another {', '.join(changeable[:-1])} or "
                        f"{changeable[-1]} than the checkpoint's (e.g. a smaller rate after "
                        f"divergence)")
    p.add_argument("--verbose", action="store_true",
                   help="full reasons for skipped checkpoints and orbax's tracebacks")
    p.set_defaults(run=run)


def _announce(beats, message, category, *_args, **_kwargs):
    """fit's warnings in one line each; a long compile also starts an elapsed-time line every
    10 s (from the moment it is announced until the first step), so no run sits silent."""
    from jaxconv.train import preflight

    print(f"jaxconv train: warning: {message}", file=sys.stderr)
    if issubclass(category, preflight.LongCompileWarning) and not beats:
        beats.append(Heartbeat("jaxconv train", "still compiling the training step"))


def _check(args):
    if args.save_every is not None and args.save_every < 1:
        raise ValueError(f"--save-every must be >= 1, got {args.save_every}.")
    if args.resume and not args.checkpoint_dir:
        raise ValueError("--resume needs --checkpoint-dir.")
    if args.allow_changed_settings and not args.resume:
        raise ValueError("--allow-changed-settings needs --resume.")
    if args.csv:
        check_writable_file("--csv", args.csv)


def _train(args, ckpt, state_of_run, rows):
    """Prepares and trains; returns ``(exit code, model, dataset, config, last result)``.
    ``state_of_run`` gets the config once known (a stop's line names its ``--steps``)."""
    from tqdm import tqdm

    from jaxconv import train
    from jaxconv.train import preflight

    model, ds, dataset_meta, config, state = prepare(args, ckpt)
    state_of_run.update(config=config, model=model, dataset=ds)
    if ckpt is not None:  # the second signal's line names the steps to resume to
        signals.keep(lambda: _train_end.kept_clause(ckpt.directory, args.checkpoint_dir,
                                                     config.steps))
    beats, heartbeat, last = [], None, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", preflight.LongCompileWarning)
            warnings.showwarning = functools.partial(_announce, beats)
            results = train.fit(model, ds, config, state=state)  # may lower the step (slow)
        if not beats and sys.stderr.isatty():
            beats.append(Heartbeat("jaxconv train", "still compiling the training step"))
        heartbeat = beats[0] if beats else None
        start = 0 if state is None else int(state.step)
        state_of_run["start"] = start
        save_every = args.save_every or config.eval_every or config.steps or 1
        saved = start
        with tqdm(total=config.steps, initial=start, file=sys.stderr, unit="step",
                  disable=args.json or not sys.stderr.isatty()) as bar:
            try:
                for last in results:
                    state_of_run["last"] = last  # a stop's --json result names it
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
                        with signals.critical():  # a signal waits until the save has started
                            ckpt.save(last.state, config=model.config, train_config=config,
                                      metadata=dataset_meta)
                        saved = last.step
            except train.DivergenceError as err:
                _train_end.diverged(args, ckpt, err, model, ds, config, {
                    **dataset_meta, "diverged": {"step": err.step, "reason": err.reason}})
                return 1, model, ds, config, None
    finally:
        if heartbeat is not None:
            heartbeat.stop()
    return 0, model, ds, config, last


def _result(args, model, ds, last, began) -> dict:
    """The run's result at step ``last`` (a StepResult); ``params`` None for a step inside a
    dispatch, which carries no state."""
    from jaxconv import models

    return {"model": model.config.kind, "dataset": ds.name, "step": last.step,
            "loss": last.loss, "test_loss": last.test_loss, "test_accuracy": last.test_accuracy,
            "params": None if last.state is None else models.param_count(last.state.params),
            "seconds": round(time.perf_counter() - began, 3),
            "checkpoint_dir": args.checkpoint_dir}


def _close(ckpt) -> str | None:
    """Waits for the pending saves and gives the directory up; a failed save's one line."""
    if ckpt is None:
        return None
    try:
        ckpt.close()
    except ValueError as err:  # CheckpointError
        return str(err)
    return None


def _open(args, opened: list):
    """The run's Checkpointer, claimed (one writer per directory, refused at once naming the
    holder, before any work), or None without ``--checkpoint-dir``."""
    from jaxconv import train

    if args.checkpoint_dir is None:
        return None
    ckpt = train.Checkpointer(args.checkpoint_dir, create=not args.resume)
    opened.append(ckpt)
    note = ckpt.own()
    if note:
        print(f"jaxconv train: {note}", file=sys.stderr)
    signals.keep(lambda: _train_end.kept_clause(ckpt.directory, args.checkpoint_dir, None))
    return ckpt


def run(args) -> int:
    from pathlib import Path

    _check(args)
    if args.verbose:
        os.environ["JAXCONV_VERBOSE"] = "1"
    began, rows, state_of_run, opened = time.perf_counter(), [], {}, []
    try:  # from the start: a signal while JAX loads is said as any other
        from jaxconv import train

        ckpt = _open(args, opened)
        code, model, ds, config, last = _train(args, ckpt, state_of_run, rows)
    except signals.Stopped as stop:
        signals.caught()
        close_error = _close(opened[0] if opened else None)
        with signals.critical():
            csv_note = _train_end.write_csv_noted(args.csv, rows)
        config = state_of_run.get("config")
        if args.json and state_of_run.get("last") is not None:  # the result, to the last step
            print(json.dumps({**_result(args, state_of_run["model"], state_of_run["dataset"],
                                        state_of_run["last"], began), "stopped": stop.name}),
                  flush=True)
        directory = None if args.checkpoint_dir is None else Path(args.checkpoint_dir).absolute()
        stop.message = _train_end.stopped_line(
            stop, args, rows, directory, None if config is None else config.steps, csv_note,
            close_error)
        raise
    except BaseException:
        try:
            _close(opened[0] if opened else None)
        finally:
            _train_end.write_csv_noted(args.csv, rows)  # the metrics so far, whatever failed
        raise
    close_error = _close(ckpt)
    if close_error is not None:  # a background save failed: said as any error is
        _train_end.write_csv_noted(args.csv, rows)
        raise train.CheckpointError(close_error)
    if code:  # diverged: said by _train_end.diverged
        _train_end.write_csv_noted(args.csv, rows)
        return code
    if last is None:
        print(f"jaxconv train: nothing to do: already at step {state_of_run.get('start', 0)} >= "
              f"--steps {config.steps}.", file=sys.stderr)
        return 0
    result = _result(args, model, ds, last, began)
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        print(f"{result['model']} on {result['dataset']}: step {last.step}, test accuracy "
              f"{last.test_accuracy:.4f}, test loss {last.test_loss:.4f}, "
              f"{result['params']:,} parameters, {result['seconds']:.1f} s", flush=True)
    if args.csv:  # after the result: a CSV that cannot be written loses only itself
        with signals.critical():
            _train_end.write_csv(args.csv, rows)
    return 0
