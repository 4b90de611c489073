"""Checkpoints of the full train state with orbax, plus JSON metadata (model config, versions).

Each step is a directory ``<dir>/<step>/`` holding ``state`` (the :class:`TrainState` pytree) and
``meta`` (JSON: ``model_config``, ``train_config``, ``jaxconv`` and ``jax`` versions, ``step``
and whatever the caller adds, e.g. the dataset's name). Orbax writes a step into a temporary
directory and renames
it when complete, so a process killed mid-save (even by SIGKILL) leaves every earlier step intact;
the half-written temporary directory is never listed as a step.
Saves run in the background; :meth:`Checkpointer.close` (or leaving its ``with`` block, or the
end of the program, through ``atexit``) waits for them.

One writer: the first save (or :meth:`Checkpointer.own`) claims the directory
(:class:`jaxconv.train.lock.DirectoryLock`); a second process that tries to write it is refused at
once with :class:`DirectoryBusyError`, naming the holder's pid and command. Only the owner
removes half-written steps (those of a killed earlier owner, when it takes the directory over).
Opening a directory, listing its steps and restoring never delete or change anything, so a
monitor may poll a directory while a run writes it.

Damaged checkpoints: :meth:`Checkpointer.restore` with an explicit ``step`` raises
:class:`CheckpointError` if that step cannot be read. Without a step it tries the newest first and,
if that fails, warns (``RuntimeWarning`` naming the bad step and the reason) and falls back to the
next newest that restores; only when none restores does it raise. Training can then resume from
the last good state instead of stopping on one damaged directory.
:meth:`Checkpointer.restore_newest` does the same for a caller that builds the restore target from
each step's metadata (the CLI builds the model from it): it uses the newest step whose metadata
and data both read, and returns the steps it skipped with a one-line reason each.

Stray folders: a directory named like a step but holding no ``state`` and ``meta`` (``mkdir ck/20``)
is not a checkpoint; :meth:`Checkpointer.strays` lists them, so a caller can report their paths
before training instead of failing with orbax's "Checkpoint for step 20 already exists" at step 20.
:meth:`Checkpointer.set_aside` renames such a folder (or a skipped step) to ``<step>.unused-<n>``,
which keeps its contents and frees the step number.
"""

from __future__ import annotations

import atexit
import errno
import os
import shutil
import warnings
from importlib import metadata
from pathlib import Path

import jax
import orbax.checkpoint as ocp

from jaxconv.config import ModelConfig, TrainConfig
from jaxconv.train import _orbax_noise, sharding
from jaxconv.train._orbax_noise import one_line
from jaxconv.train._reading import CheckpointError, StepsReader, _retried
from jaxconv.train.lock import DirectoryBusyError, DirectoryLock
from jaxconv.train.sharding import abstract_state
from jaxconv.validate import check_optional_int

# Its public home, where the package and the docs name it (as numpy's ``set_module``); it is
# defined with the reading half, which raises it most.
CheckpointError.__module__ = __name__

__all__ = ["CheckpointError", "Checkpointer", "DirectoryBusyError", "abstract_state", "one_line"]


def _version() -> str:
    """The installed jaxconv's version (the package metadata, as ``jaxconv.__version__``)."""
    try:
        return metadata.version("jaxconv")
    except metadata.PackageNotFoundError:
        return "0.0.0+unknown"


# What a filesystem without locks answers to flock.
_NO_LOCKS = (errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOLCK)


class Checkpointer(StepsReader):
    """Saves and restores train states under one directory (orbax ``CheckpointManager``).

    Args:
        directory: where the steps live; created if missing (unless ``create=False``).
        max_to_keep: keep only this many newest steps; None keeps all.
        create: create the directory if it does not exist.
        asynchronous: save in a background thread (``wait`` or ``close`` waits for it).

    Raises:
        CheckpointError: the path is empty or a file, cannot be created, or is not readable and
            writable.

    Example:
        >>> with Checkpointer("/tmp/run") as ckpt:
        ...     ckpt.save(state, config=model.config, train_config=TrainConfig(steps=100))
        >>> state, meta = Checkpointer("/tmp/run").restore(abstract_state(state))
    """

    def __init__(self, directory, *, max_to_keep: int | None = 3, create: bool = True,
                 asynchronous: bool = True):
        if not isinstance(directory, (str, os.PathLike)):
            raise TypeError(f"Checkpointer: `directory` must be a path, got {directory!r}.")
        if not os.fspath(directory).strip():  # "" is the working directory to pathlib
            raise CheckpointError(f"Checkpointer: `directory` must not be empty, got "
                                  f"directory={os.fspath(directory)!r} (an unset variable?).")
        max_to_keep = check_optional_int("Checkpointer", "max_to_keep", max_to_keep)
        path = Path(directory).absolute()
        if path.exists() and not path.is_dir():
            raise CheckpointError(f"Checkpointer: {str(path)!r} is not a directory.")
        if not path.exists():
            if not create:
                raise CheckpointError(f"Checkpointer: checkpoint directory {str(path)!r} does not "
                                      f"exist.")
            try:
                path.mkdir(parents=True)
            except OSError as err:
                raise CheckpointError(f"Checkpointer: cannot create {str(path)!r}: {err}") from None
        if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
            raise CheckpointError(f"Checkpointer: checkpoint directory {str(path)!r} is not "
                                  f"readable and writable.")
        self.directory = path
        _orbax_noise.install(verbose=os.environ.get("JAXCONV_VERBOSE", "") not in ("", "0"))
        self._lock = DirectoryLock(path, fn="Checkpointer")
        self._unlocked = False  # set when the filesystem has no locks
        # Nothing is removed here: a half-written step may be the save a live run has in flight
        # (a monitor that deleted it killed that run). The owner removes them (own()).
        self._options = ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep, create=False, cleanup_tmp_directories=False,
            enable_async_checkpointing=asynchronous)
        self._manager = _retried(self._new_manager)
        # A program that forgets close() still finishes its background saves before exiting.
        atexit.register(self._at_exit)

    def _at_exit(self) -> None:
        try:
            self._manager.wait_until_finished()
        finally:
            self._lock.release()

    def own(self) -> str | None:
        """Claims the directory for this process's writes (idempotent; :meth:`save`,
        :meth:`set_aside` and :meth:`delete` claim it themselves).

        Returns:
            None, or one line saying whose abandoned claim was taken over (its half-written
            steps are removed then).

        Raises:
            DirectoryBusyError: another live process writes the directory; the message names
                its pid and command.
            CheckpointError: the lock file cannot be written.
        """
        if self._lock.held or self._unlocked:
            return None
        try:
            note = self._lock.acquire()
        except OSError as err:
            if err.errno not in _NO_LOCKS:
                raise CheckpointError(f"Checkpointer: cannot lock {str(self.directory)!r} for "
                                      f"writing: {err.strerror or err}") from None
            # A filesystem without locks (some network mounts): the run goes on, unguarded.
            self._unlocked = True
            return (f"cannot lock {str(self.directory)!r} ({err.strerror or err}): writing "
                    f"without a lock; make sure no other run writes there.")
        # Any half-written step now is a dead writer's: a live one would hold the lock. Orbax's
        # own clean-up runs in a thread that a process exiting early interrupts with a
        # 40-line traceback, so it is done here.
        stale = sorted(self.directory.glob("*.orbax-checkpoint-tmp*"))
        for tmp in stale:
            shutil.rmtree(tmp, ignore_errors=True)
        if note and stale:
            note = note[:-1] + f"; removed its unfinished save {stale[0].name}" + (
                f" and {len(stale) - 1} more." if len(stale) > 1 else ".")
        return note

    def _owns(self) -> bool:
        return self._lock.held or self._unlocked

    def _claim(self) -> None:
        """:meth:`own` for a write that did not ask first; a takeover is a warning."""
        note = self.own()
        if note:
            warnings.warn(f"Checkpointer: {note}", RuntimeWarning, stacklevel=3)

    def set_aside(self, step: int) -> Path:
        """Renames the folder of ``step`` to ``<step>.unused-<n>`` (kept, no longer a step).

        Returns:
            The new path.
        """
        self._claim()
        src = self._step_path(step)
        for n in range(1, 1000):
            dst = self.directory / f"{step}.unused-{n}"
            if not dst.exists():
                break
        # dst: range(1, 1000) is never empty, so the loop binds it.
        try:
            src.rename(dst)  # pyright: ignore[reportPossiblyUnboundVariable]
        except OSError as err:
            raise CheckpointError(f"Checkpointer: cannot move {str(src)!r} aside: {err}") from None
        self._reload()
        return dst  # pyright: ignore[reportPossiblyUnboundVariable]

    def save(self, state, *, config=None, train_config=None, metadata: dict | None = None) -> int:
        """Saves ``state`` as step ``int(state.step)`` (in the background if asynchronous).

        Args:
            state: the :class:`~jaxconv.train.TrainState`.
            config: the model's ``ModelConfig`` (stored as ``meta["model_config"]``), or None.
            train_config: the run's :class:`~jaxconv.train.TrainConfig` (stored as
                ``meta["train_config"]``; ``TrainConfig.from_json`` reads it back), or None.
            metadata: more JSON-serialisable entries for ``meta``.

        Returns:
            The step saved.

        Raises:
            TypeError: ``config`` or ``train_config`` of another type.
            CheckpointError: the step's folder exists already, or the save cannot start (an
                earlier background save failed); the message names the path.
        """
        if not hasattr(state, "step") or not hasattr(state, "params"):
            raise TypeError(f"Checkpointer.save: `state` must be a TrainState (from "
                            f"jaxconv.train.init_state or fit), got state={state!r:.80}.")
        for name, value, cls in (("config", config, ModelConfig),
                                 ("train_config", train_config, TrainConfig)):
            if value is not None and not isinstance(value, cls):
                raise TypeError(f"Checkpointer.save: `{name}` must be a {cls.__name__} or None, "
                                f"got {type(value).__name__}.")
        self._claim()
        step = int(sharding.to_host(state.step))
        meta = {"step": step, "jaxconv": _version(), "jax": jax.__version__,
                "model_config": None if config is None else config.to_json(),
                "train_config": None if train_config is None else train_config.to_json(),
                **(metadata or {})}
        if self._step_path(step).exists():
            raise CheckpointError(f"Checkpointer: cannot save step {step}: "
                                  f"{str(self._step_path(step))!r} already exists.")
        try:
            self._manager.save(step, args=ocp.args.Composite(
                state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)), force=True)
        except Exception as err:  # an earlier background save failed, or this one cannot start
            raise self._failed(err, step) from err
        return step

    def _failed(self, err: BaseException, step: int | None) -> CheckpointError:
        """The one line of a failed save: the step that failed (an earlier background save
        surfaces at a later call), the reason (``no space left on device``), what is kept.
        Exit status 1 in the CLI: the machine's state, not the arguments, is at fault."""
        failed, reason = _orbax_noise.save_failure(err)
        failed = step if failed is None else failed
        where = (str(self._step_path(failed)) if failed is not None else str(self.directory))
        error = CheckpointError(f"Checkpointer: cannot save step {failed} to {where!r}: "
                                f"{reason}{self._kept()}" if failed is not None else
                                f"Checkpointer: a save in {where!r} failed: {reason}"
                                f"{self._kept()}")
        error.exit_status = 1  # type: ignore[attr-defined]
        return error

    def _kept(self) -> str:
        """``"; the newest complete step on disk is 280"``, for a failed save's message."""
        try:
            self._manager.wait_until_finished()  # a save still finishing counts
        except Exception:  # noqa: BLE001 - the failure being reported; said by the caller
            pass
        try:
            done = [s for s in self.steps() if (self._step_path(s) / "state").is_dir()]
        except Exception:  # noqa: BLE001 - the directory itself may be what failed
            return ""
        return (f"; the newest complete step on disk is {done[-1]}" if done else
                "; no complete step is on disk")

    def wait(self) -> None:
        """Blocks until every save started so far is on disk.

        Raises:
            CheckpointError: a background save failed (e.g. the directory became read-only).
        """
        try:
            self._manager.wait_until_finished()
        except Exception as err:
            raise self._failed(err, None) from err

    def delete(self, step: int) -> None:
        """Deletes ``step`` from disk."""
        self._claim()
        self._manager.delete(step)

    def close(self) -> None:
        """Waits for pending saves and releases the manager.

        Raises:
            CheckpointError: a background save failed.
        """
        atexit.unregister(self._at_exit)
        try:
            self.wait()
        finally:
            try:
                self._manager.close()
            except Exception:  # noqa: BLE001 - the failed save is what wait() reported
                pass
            self._lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
