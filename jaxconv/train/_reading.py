"""Reading a checkpoint directory: its steps, their metadata and states. Nothing here writes.

Split out of :mod:`jaxconv.train.checkpoint`, whose :class:`~jaxconv.train.Checkpointer` adds
the writing. A reader takes no lock and deletes nothing, so it may poll a directory while a run
writes it; it lists the directory afresh on each call (the run adds steps and drops old ones,
``max_to_keep``, at any moment, so a step may vanish mid-listing: that listing is tried again).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import jax
import orbax.checkpoint as ocp

from jaxconv.train._orbax_noise import one_line

__all__ = ["CheckpointError", "StepsReader"]


class CheckpointError(ValueError):
    """A checkpoint directory or step that cannot be used; the message names the path and step."""


def _retried(read, tries: int = 5):
    """``read()``, again when a step vanished while it was being listed: a reader of a directory
    that a live run writes sees that run drop its old steps (``max_to_keep``) at any moment."""
    for attempt in range(tries):
        try:
            return read()
        except (FileNotFoundError, NotADirectoryError):  # exists, then gone, mid-listing
            if attempt == tries - 1:
                raise
    raise AssertionError("unreachable")


class StepsReader:
    """The reading half of a :class:`~jaxconv.train.Checkpointer` (``directory``, ``_manager``:
    an orbax ``CheckpointManager`` made with ``_options``; ``_owns()``: whether this process
    writes the directory, whose listing it then keeps itself)."""

    directory: Path
    _options: ocp.CheckpointManagerOptions
    _manager: ocp.CheckpointManager

    def _owns(self) -> bool:
        return False

    def steps(self) -> list[int]:
        """The complete steps on disk, oldest first (stray folders excluded, see :meth:`strays`).

        A reader (not the owner) lists the directory afresh each time: a live run adds steps.
        """
        if not self._owns():
            self._reload()
        strays = set(self.strays())
        return sorted(s for s in self._manager.all_steps() if self._step_path(s) not in strays)

    def _reload(self) -> None:
        """Makes the manager read the directory again (orbax's ``reload``; before orbax 0.6,
        which has none, a new manager, which reads it when made)."""
        reload = getattr(self._manager, "reload", None)
        if reload is not None:
            _retried(reload)
        else:
            self._manager.wait_until_finished()  # (its pending saves, if it has any)
            self._manager = _retried(self._new_manager)

    def _new_manager(self) -> ocp.CheckpointManager:
        return ocp.CheckpointManager(self.directory, options=self._options,
                                     item_names=("state", "meta"))

    def _step_path(self, step: int) -> Path:
        return self.directory / str(step)

    def strays(self) -> list[Path]:
        """Folders named like a step that hold neither ``state`` nor ``meta``: not checkpoints."""
        out = []
        for child in self.directory.iterdir():
            if child.name.isdigit() and child.is_dir() and not (
                    (child / "state").is_dir() or (child / "meta").is_dir()):
                out.append(child)
        return sorted(out, key=lambda p: int(p.name))

    def latest_step(self) -> int | None:
        """The newest complete step, or None."""
        steps = self.steps()
        return steps[-1] if steps else None

    def metadata(self, step: int | None = None) -> dict:
        """The JSON metadata of ``step`` (default: the newest).

        Raises:
            CheckpointError: no such step, or its metadata cannot be read.
        """
        step = self._pick(step)
        try:
            # orbax types restore() as a Mapping; a Composite's result has attributes too.
            return dict(self._manager.restore(step, args=ocp.args.Composite(
                meta=ocp.args.JsonRestore())).meta)  # pyright: ignore[reportAttributeAccessIssue]
        except Exception as err:  # orbax raises many types for damaged files
            raise CheckpointError(f"Checkpointer: cannot read the metadata of step {step} in "
                                  f"{str(self.directory)!r}: {one_line(err)}") from err

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
                                  f"damaged or does not match the model: {one_line(err)}") from err
        # orbax types restore() as a Mapping; a Composite's result has attributes too.
        return restored.state, dict(restored.meta)  # pyright: ignore[reportAttributeAccessIssue]

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

    def restore_newest(self, make_target):
        """Restores the newest step whose metadata and data both read.

        Args:
            make_target: ``meta -> target``: the pytree to restore into, built from that step's
                metadata (e.g. the model its ``model_config`` names); it may raise ValueError
                for metadata it cannot use by raising CheckpointError (or a KeyError or
                TypeError), which skips the step; any other error propagates.

        Returns:
            ``(state, meta, step, skipped)``: ``skipped`` lists ``(step, reason)`` for every newer
            step that could not be used, newest first, each reason one line.

        Raises:
            CheckpointError: no checkpoints, or no step restores (naming each step's reason).
        """
        steps = self.steps()
        if not steps:
            raise CheckpointError(f"Checkpointer: no checkpoints in {str(self.directory)!r}.")
        skipped = []
        for step in reversed(steps):
            try:
                meta = self.metadata(step)
                state, meta = self._restore_one(make_target(meta), step)
            except (CheckpointError, TypeError, KeyError) as err:  # not a caller's ValueError
                reason = str(err).removeprefix("Checkpointer: ") if isinstance(
                    err, CheckpointError) else f"its metadata cannot be used: {one_line(err)}"
                skipped.append((step, reason))
                continue
            return state, meta, step, skipped
        raise CheckpointError(f"Checkpointer: no step in {str(self.directory)!r} restores: "
                              + "; ".join(f"step {s}: {r}" for s, r in skipped))
