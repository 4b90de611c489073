"""How ``jaxconv train`` ends: the result first, then the CSV; a stop or a divergence in one line.

The result line is printed before the optional ``--csv`` is written, so a CSV that cannot be
written (a full disk) loses nothing but itself, and its error names its path. A run stopped by
SIGINT or SIGTERM writes the CSV to its last step, waits for its pending saves, and says in one
line where it stopped, which step is kept and how to resume. Nothing here imports JAX.
"""

from __future__ import annotations

import csv
import os
import shlex
import sys

__all__ = ["diverged", "kept_clause", "newest_complete_step", "stopped_line", "write_csv",
           "write_csv_noted"]

_HEADER = ["step", "loss", "accuracy", "test_loss", "test_accuracy", "elapsed"]


def write_csv(path: str, rows) -> None:
    """Writes the metrics rows to ``path``.

    Raises:
        OSError: ``cannot write --csv '<path>': <reason>``, naming the path (a full disk said
            only "[Errno 28] No space left on device").
    """
    try:
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(_HEADER)
            writer.writerows(rows)
    except OSError as err:
        raise OSError(err.errno, f"cannot write --csv {os.path.abspath(path)!r}: "
                                 f"{err.strerror or err}") from None


def write_csv_noted(path: str | None, rows) -> str:
    """:func:`write_csv` for a run that is ending anyway: ``"; metrics to step 137 in 'm.csv'"``,
    or the reason it could not be written, as a clause of the run's last line."""
    if not path or not rows:
        return ""
    try:
        write_csv(path, rows)
    except OSError as err:
        return f"; {err.strerror}"
    return f"; metrics to step {rows[-1][0]} in {path!r}"


def newest_complete_step(directory) -> int | None:
    """The newest step folder of ``directory`` holding both ``state`` and ``meta``; reads only
    the directory listing (safe from the signal watcher's thread)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return None
    steps = [int(n) for n in names if n.isdigit() and os.path.isdir(
        os.path.join(directory, n, "state")) and os.path.isdir(os.path.join(directory, n, "meta"))]
    return max(steps, default=None)


def kept_clause(directory, checkpoint_dir: str, steps: int | None) -> str:
    """``"step 100 is saved in '/abs/ck/100'; resume with: jaxconv train --resume ..."``."""
    step = newest_complete_step(directory)
    if step is None:
        return f"no step is saved in {str(directory)!r} yet"
    again = ["jaxconv", "train", "--resume", "--checkpoint-dir", checkpoint_dir]
    if steps is not None:
        again += ["--steps", str(steps)]
    return (f"step {step} is saved in {os.path.join(str(directory), str(step))!r}; resume with: "
            f"{shlex.join(again)}")


def stopped_line(stop, args, rows, directory, steps: int | None, csv_note: str,
                 close_error: str | None) -> str:
    """The one line of a run stopped by a signal."""
    where = f"at step {rows[-1][0]}" if rows else "before the first step"
    if directory is None:
        kept = "nothing is saved (no --checkpoint-dir)"
    else:
        kept = kept_clause(directory, args.checkpoint_dir, steps)
        if close_error:
            kept += f" (a pending save failed: {close_error})"
    return f"\njaxconv train: stopped by {stop.name} {where}; {kept}{csv_note}."


def diverged(args, ckpt, err, model, ds, config, meta) -> None:
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
