"""Checkpoints of the full train state with orbax, plus JSON metadata (model config, versions).

Each step is a directory ``<dir>/<step>/`` holding ``state`` (the :class:`TrainState` pytree) and
``meta`` (JSON: ``model_config``, ``train_config``, ``jaxconv`` and ``jax`` versions, ``step``
and whatever the caller adds, e.g. the dataset's name). Orbax writes a step into a temporary directory and renames
it when complete, so a process killed mid-save (even by SIGKILL) leaves every earlier step intact;
the half-written temporary directory is never listed as a step and is removed on the next open.
Saves run in the background; :meth:`Checkpointer.close` (or leaving its ``with`` block, or the
end of the program, through ``atexit``) waits for them.

Damaged checkpoints: :meth:`Checkpointer.restore` with an explicit ``step`` raises
:class:`CheckpointError` if that step cannot be read. Without a step it tries the newest first and,
if that fails, warns (``RuntimeWarning`` naming the bad step and the reason) and falls back to the
next newest that restores; only when none restores does it raise. Training can then resume from
the last good state instead of stopping on one damaged directory.
"""

from __future__ import annotations

import atexit
import os
import warnings
from pathlib import Path

import jax
import orbax.checkpoint as ocp

from jaxconv.config import ModelConfig, TrainConfig
from jaxconv.train import sharding

__all__ = ["CheckpointError", "Checkpointer", "abstract_state"]


class CheckpointError(ValueError):
    """A checkpoint directory or step that cannot be used; the message names the path and step."""


def abstract_state(state, mesh=None):
    """Shape/dtype/sharding skeleton of ``state`` to restore into, without its values.

    Args:
        state: a train state (concrete or from ``jax.eval_shape``), or a function returning one,
            which is traced with ``jax.eval_shape`` (nothing is allocated).
        mesh: restore replicated on this mesh; default: the first local device.

    Returns:
        A pytree of ``jax.ShapeDtypeStruct`` with shardings.
    """
    if callable(state):
        state = jax.eval_shape(state)
    target = (jax.sharding.SingleDeviceSharding(jax.local_devices()[0]) if mesh is None
              else sharding.replicated(mesh))
    return jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=target), state)


class Checkpointer:
    """Saves and restores train states under one directory (orbax ``CheckpointManager``).

    Args:
        directory: where the steps live; created if missing (unless ``create=False``).
        max_to_keep: keep only this many newest steps; None keeps all.
        create: create the directory if it does not exist.
        asynchronous: save in a background thread (``wait`` or ``close`` waits for it).

    Raises:
        CheckpointError: the path is a file, cannot be created, or is not readable and writable.

    Example:
        >>> with Checkpointer("/tmp/run") as ckpt:
        ...     ckpt.save(state, config=model.config, train_config=TrainConfig(steps=100))
        >>> state, meta = Checkpointer("/tmp/run").restore(abstract_state(state))
    """

    def __init__(self, directory, *, max_to_keep: int | None = 3, create: bool = True,
                 asynchronous: bool = True):
        if not isinstance(directory, (str, os.PathLike)):
            raise TypeError(f"Checkpointer: `directory` must be a path, got {directory!r}.")
        if max_to_keep is not None and (not isinstance(max_to_keep, int) or max_to_keep < 1):
            raise ValueError(f"Checkpointer: `max_to_keep` must be None or a positive int, got "
                             f"max_to_keep={max_to_keep!r}.")
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
        options = ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep, create=False, cleanup_tmp_directories=True,
            enable_async_checkpointing=asynchronous)
        self._manager = ocp.CheckpointManager(path, options=options, item_names=("state", "meta"))
        # A program that forgets close() still finishes its background saves before exiting.
        atexit.register(self._manager.wait_until_finished)

    def steps(self) -> list[int]:
        """The complete steps on disk, oldest first."""
        return sorted(self._manager.all_steps())

    def latest_step(self) -> int | None:
        """The newest complete step, or None."""
        steps = self.steps()
        return steps[-1] if steps else None

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
        """
        import jaxconv

        if not hasattr(state, "step") or not hasattr(state, "params"):
            raise TypeError(f"Checkpointer.save: `state` must be a TrainState (from "
                            f"jaxconv.train.init_state or fit), got state={state!r:.80}.")
        for name, value, cls in (("config", config, ModelConfig),
                                 ("train_config", train_config, TrainConfig)):
            if value is not None and not isinstance(value, cls):
                raise TypeError(f"Checkpointer.save: `{name}` must be a {cls.__name__} or None, "
                                f"got {type(value).__name__}.")
        step = int(sharding.to_host(state.step))
        meta = {"step": step, "jaxconv": jaxconv.__version__, "jax": jax.__version__,
                "model_config": None if config is None else config.to_json(),
                "train_config": None if train_config is None else train_config.to_json(),
                **(metadata or {})}
        self._manager.save(step, args=ocp.args.Composite(
            state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)), force=True)
        return step

    def wait(self) -> None:
        """Blocks until every save started so far is on disk."""
        self._manager.wait_until_finished()

    def metadata(self, step: int | None = None) -> dict:
        """The JSON metadata of ``step`` (default: the newest).

        Raises:
            CheckpointError: no such step, or its metadata cannot be read.
        """
        step = self._pick(step)
        try:
            return dict(self._manager.restore(step, args=ocp.args.Composite(
                meta=ocp.args.JsonRestore())).meta)
        except Exception as err:  # orbax raises many types for damaged files
            raise CheckpointError(f"Checkpointer: cannot read the metadata of step {step} in "
                                  f"{str(self.directory)!r}: {type(err).__name__}: {err}") from err

    def _pick(self, step):
        steps = self.steps()
        if not steps:
            raise CheckpointError(f"Checkpointer: no checkpoints in {str(self.directory)!r}.")
        if step is None:
            return steps[-1]
        if step not in steps:
            raise CheckpointError(f"Checkpointer: no step {step!r} in {str(self.directory)!r}; "
                                  f"steps are {steps}.")
        return step

    def _restore_one(self, target, step):
        try:
            restored = self._manager.restore(step, args=ocp.args.Composite(
                state=ocp.args.StandardRestore(target), meta=ocp.args.JsonRestore()))
        except Exception as err:  # orbax raises many types for damaged files
            raise CheckpointError(f"Checkpointer: step {step} in {str(self.directory)!r} is "
                                  f"damaged or does not match the model: {type(err).__name__}: "
                                  f"{err}") from err
        return restored.state, dict(restored.meta)

    def restore(self, target, step: int | None = None):
        """Restores a saved state into the structure of ``target``.

        Args:
            target: the pytree to restore into, usually :func:`abstract_state` of a fresh state
                (``jax.eval_shape`` of ``init_state``); its shardings place the arrays.
            step: the step to restore; default: the newest that can be read (see module docs).

        Returns:
            ``(state, meta)``.

        Raises:
            CheckpointError: no checkpoints, ``step`` missing or damaged, or none restores.
        """
        if target is None or not jax.tree.leaves(target):
            # orbax restores into an empty tree without complaint and returns nothing.
            raise TypeError(f"Checkpointer.restore: `target` must be the state's structure, "
                            f"e.g. abstract_state(lambda: init_state(model, tx, input_shape)), "
                            f"got target={target!r:.80}.")
        if step is not None:
            return self._restore_one(target, self._pick(step))
        steps = self.steps()
        if not steps:
            raise CheckpointError(f"Checkpointer: no checkpoints in {str(self.directory)!r}.")
        errors = []
        for candidate in reversed(steps):
            try:
                result = self._restore_one(target, candidate)
            except CheckpointError as err:
                errors.append(str(err))
                continue
            for message in errors:
                warnings.warn(f"{message}; restored step {candidate} instead.", RuntimeWarning,
                              stacklevel=2)
            return result
        raise CheckpointError(f"Checkpointer: no step in {str(self.directory)!r} restores: "
                              + " | ".join(errors))

    def close(self) -> None:
        """Waits for pending saves and releases the manager."""
        self._manager.wait_until_finished()
        atexit.unregister(self._manager.wait_until_finished)
        self._manager.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
