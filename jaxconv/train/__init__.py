"""Training: the recipe (:func:`make_tx`), the train state and step, the ``fit`` generator,
checkpoints, sharding.

Example:
    >>> from jaxconv import data, models, train
    >>> ds = data.load("digits")
    >>> for result in train.fit(models.build("conv"), ds, train.TrainConfig(steps=300)):
    ...     pass
    >>> result.test_accuracy  # about 0.97
"""

from typing import TYPE_CHECKING, Any

from jaxconv.config import TrainConfig
from jaxconv.train.guard import DivergenceError, NonFiniteError
from jaxconv.train.loop import StepResult, fit
from jaxconv.train.optim import OPTIMIZERS, SCHEDULES, make_optimizer, make_tx
from jaxconv.train.recover import LearningRateSuggestion, suggest_learning_rate
from jaxconv.train.sharding import (
                                    DATA_AXIS,
                                    abstract_state,
                                    batch_sharding,
                                    data_mesh,
                                    initialize_distributed,
                                    replicate,
                                    replicated,
                                    shard_batch,
                                    to_host,
)
from jaxconv.train.state import TrainState, evaluate, init_state, loss_fn, make_train_step

__all__ = [
    "DATA_AXIS",
    "OPTIMIZERS",
    "SCHEDULES",
    "CheckpointError",
    "Checkpointer",
    "DirectoryBusyError",
    "DirectoryLock",
    "DivergenceError",
    "LearningRateSuggestion",
    "NonFiniteError",
    "StepResult",
    "TrainConfig",
    "TrainState",
    "abstract_state",
    "batch_sharding",
    "data_mesh",
    "evaluate",
    "fit",
    "init_state",
    "initialize_distributed",
    "loss_fn",
    "make_optimizer",
    "make_tx",
    "make_train_step",
    "replicate",
    "replicated",
    "shard_batch",
    "suggest_learning_rate",
    "to_host",
]

# Checkpoints import orbax (0.66 s of a viewer launch, which only needs it to save or load):
# imported on first use (PEP 562).
if TYPE_CHECKING:  # what a type checker, an IDE and the API docs see
    from jaxconv.train.checkpoint import Checkpointer, CheckpointError
    from jaxconv.train.lock import DirectoryBusyError, DirectoryLock

_CHECKPOINT = ("CheckpointError", "Checkpointer")
_LOCK = ("DirectoryBusyError", "DirectoryLock")


def __getattr__(name: str) -> Any:
    if name in _CHECKPOINT:
        from jaxconv.train import checkpoint

        return getattr(checkpoint, name)
    if name in _LOCK:  # no orbax: a viewer's session save takes the lock before it
        from jaxconv.train import lock

        return getattr(lock, name)
    raise AttributeError(f"module 'jaxconv.train' has no attribute {name!r}")
