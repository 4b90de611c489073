"""The two settings records: :class:`ModelConfig` (what a model is) and :class:`TrainConfig` (how
it is trained).

Both are frozen dataclasses of Python ints, floats, tuples, strings and bools, checked and
canonicalised once in ``__post_init__`` and round-tripped through JSON (``to_json`` /
``from_json``), which is how checkpoints store them. Each field's ``metadata["help"]`` is the one
line the command line and the viewer show for it, so a new field becomes a flag of ``jaxconv
train``, ``jaxconv compare`` and ``jaxconv-viewer`` with no further edit. A TrainConfig field
whose ``metadata["resume"]`` is set is one a saved run's state depends on, so ``jaxconv train
--resume`` takes it from the checkpoint: ``"kept"`` (the state's structure depends on it: it
cannot change) or ``"changeable"`` (another value needs ``--allow-changed-settings``). Importing
this module loads no JAX. :mod:`jaxconv.models` and :mod:`jaxconv.train` re-export the classes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from jaxconv import kinds
from jaxconv.names import COMPUTE_DTYPES, CPU_LIBRARIES, OPTIMIZERS, PADDING_MODES, SCHEDULES
from jaxconv.validate import check_bool, check_choice, check_float, check_int

__all__ = ["EXPERIMENT_TRAINING", "ModelConfig", "TrainConfig", "compute_dtype_name",
           "experiment_configs", "field_choices", "replace_fields"]


def _field(default, help: str, **metadata):
    return dataclasses.field(default=default, metadata={"help": help, **metadata})


def field_choices(field: dataclasses.Field) -> tuple[str, ...]:
    """The names a field takes (``metadata["choices"]``; a callable is asked now, so ``kind``
    offers every kind registered so far), or ``()``."""
    choices: Sequence[str] | Callable[[], Sequence[str]] = field.metadata.get("choices") or ()
    return tuple(choices() if callable(choices) else choices)


class _JSON:
    """``to_json`` / ``from_json`` shared by the two configs (tuples are lists in JSON)."""

    def to_json(self) -> dict:
        """The settings as a JSON-serialisable dict (tuples become lists)."""
        fields = dataclasses.asdict(self).items()  # type: ignore[call-overload]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in fields}

    @classmethod
    def from_json(cls, data: dict):
        """The config a ``to_json`` dict describes (lists become tuples); checked as usual.

        Raises:
            TypeError: ``data`` is not a dict, or names a field the class does not have.
        """
        name = cls.__name__
        if not isinstance(data, dict):
            raise TypeError(f"{name}.from_json: `data` must be a dict, got "
                            f"{type(data).__name__}.")
        return replace_fields(f"{name}.from_json", cls, None, data)


def replace_fields(fn: str, cls, config, overrides: dict):
    """``config`` (default: ``cls()``'s defaults) with ``overrides`` replacing its fields.

    Raises:
        TypeError: a key of ``overrides`` is not a field of ``cls`` (named, with the fields).
    """
    known = [f.name for f in dataclasses.fields(cls)]
    keys = [k for k in overrides if not isinstance(k, str)]
    if keys:  # a JSON object's keys are strings; {1: 2} came from elsewhere
        raise TypeError(f"{fn}: field names must be strings, got {keys[0]!r} "
                        f"({type(keys[0]).__name__}).")
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise TypeError(f"{fn}: unknown {cls.__name__} field(s) {', '.join(unknown)}; fields "
                        f"are {', '.join(known)}.")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    return cls(**values) if config is None else dataclasses.replace(config, **values)


@dataclasses.dataclass(frozen=True)
class ModelConfig(_JSON):
    """Settings of a model: Python ints, tuples, strings and bools only (hashable, JSON-able).

    Attributes:
        kind: the connectivity kind, a name of :mod:`jaxconv.kinds` (``"dense"``, ``"local"``,
            ``"regional"``, ``"conv"`` or one registered since).
        num_classes: number of outputs of the head, >= 2.
        channels: output channels of each spatial layer; its length is the depth.
        kernel_size: square window of the local and conv layers (used for the dense kind's shapes).
        strides: step of the window.
        padding: ``"SAME"`` (default: an 8x8 input stays 8x8), ``"VALID"`` or ``"CIRCULAR"``.
        pool: a 2x2 max pool (SAME padded, so odd sizes round up) after each spatial layer.
        global_pool: average over all positions before the head instead of flattening.
        hidden: units of a dense layer between the features and the classifier; 0 for none.
        regions: for ``kind="regional"``: each spatial layer's output positions are split into
            this many blocks per dim (as ``numpy.array_split``), one kernel per block; capped
            at the layer's output size, so a large value, or None, means one kernel per
            position.

    Example:
        >>> dataclasses.asdict(ModelConfig("conv"))["channels"]
        (16, 32)
    """

    kind: str = dataclasses.field(metadata={"help": "connectivity kind", "choices": kinds.names})
    num_classes: int = _field(10, "outputs of the classifier",
                              cli_default="the dataset's number of classes")
    channels: tuple[int, ...] = _field((16, 32), "output channels of each spatial layer, e.g. "
                                                 "16,32 (its length is the depth)")
    kernel_size: int = _field(3, "square window of the local and conv layers")
    strides: int = _field(1, "step of the window")
    padding: str = _field("SAME", "padding of the spatial layers", choices=PADDING_MODES)
    pool: bool = _field(True, "a 2x2 max pool after each spatial layer")
    global_pool: bool = _field(False, "average over all positions before the head")
    hidden: int = _field(64, "units of the dense layer before the classifier (0: none)")
    regions: int | None = _field(2, "regional kind: kernels per dim of each spatial layer (1: "
                                    "conv; capped at the output size; off: one per position)")

    def __post_init__(self):
        owner, set_ = "ModelConfig", object.__setattr__  # frozen: canonicalise once
        kinds.get(self.kind, fn=owner)
        set_(self, "num_classes", check_int(owner, "num_classes", self.num_classes, 2))
        if isinstance(self.channels, (str, bytes)) or not hasattr(self.channels, "__iter__"):
            raise TypeError(f"ModelConfig: `channels` must be a sequence of ints, got "
                            f"channels={self.channels!r}.")
        channels = tuple(check_int(owner, "channels", c) for c in self.channels)
        if not channels:
            raise ValueError("ModelConfig: `channels` must name at least one layer, got "
                             "channels=().")
        set_(self, "channels", channels)
        set_(self, "kernel_size", check_int(owner, "kernel_size", self.kernel_size))
        set_(self, "strides", check_int(owner, "strides", self.strides))
        if self.strides > 2**63 - 1:  # XLA's int64: 10**20 was a 40-line OverflowError in lax
            raise ValueError(f"ModelConfig: `strides` must be at most 2**63 - 1 (XLA takes "
                             f"int64), got strides={self.strides}.")
        set_(self, "hidden", check_int(owner, "hidden", self.hidden, 0))
        if self.regions is not None:  # None: one kernel per position, whatever the size
            set_(self, "regions", check_int(owner, "regions", self.regions))
        set_(self, "padding", check_choice(owner, "padding", self.padding, PADDING_MODES,
                                           upper=True))
        for name in ("pool", "global_pool"):
            set_(self, name, check_bool(owner, name, getattr(self, name)))


def compute_dtype_name(fn: str, value) -> str | None:
    """A compute dtype as its name: None, or one of :data:`jaxconv.names.COMPUTE_DTYPES` given by
    name or as a dtype (``jnp.bfloat16`` -> ``"bfloat16"``). The one rule of ``compute_dtype``,
    for :class:`TrainConfig` and the training functions that take it (JAX-free).

    Raises:
        ValueError: ``fn: `compute_dtype` must be None or one of float32, bfloat16, float16, got
            compute_dtype='int8'.``
    """
    name = value
    if value is not None and not isinstance(value, str):
        try:
            import numpy as np  # a dtype object means numpy (and, for bfloat16, ml_dtypes) is loaded

            name = np.dtype(value).name
        except (TypeError, ValueError):
            name = None
    if value is not None and name not in COMPUTE_DTYPES:
        raise ValueError(f"{fn}: `compute_dtype` must be None or one of "
                         f"{', '.join(COMPUTE_DTYPES)}, got compute_dtype={value!r}.")
    return name


@dataclasses.dataclass(frozen=True)
class TrainConfig(_JSON):
    """Settings of a training run (:func:`jaxconv.train.fit`): hashable and JSON-able.

    Attributes:
        steps: the step to train up to (a total, not a count: resuming a state at step k runs
            ``steps - k`` more updates; none if ``k >= steps``).
        batch_size: training examples per step; with several devices it must divide by their
            number.
        optimizer: ``"sgd"``, ``"momentum"`` or ``"adam"``; from Python also an
            ``optax.GradientTransformation`` (such a config has no JSON form).
        learning_rate: peak learning rate of a named optimiser, > 0.
        schedule: ``"constant"``, ``"cosine"`` or ``"warmup_cosine"`` (over ``steps``).
        clip_norm: scale each step's gradients down to this global norm when it is larger,
            before the optimiser sees them (``optax.clip_by_global_norm``); None: off.
        seed: seeds the parameters and the batch order.
        eval_every: evaluate on the test set every this many steps (and always at ``steps``);
            0 evaluates only at ``steps``.
        eval_batch_size: batch size of the evaluation.
        compute_dtype: ``None`` (float32 throughout), ``"float32"``, ``"bfloat16"`` or
            ``"float16"`` (forward and backward in that dtype, parameters and optimiser state
            kept in float32); a dtype object is stored as its name.
        cpu_library: where XLA runs the products, convolutions and reductions of the training
            step and the evaluation on the CPU: ``"auto"`` (decided once, by ``fit``, from the
            training step's program) or another of :data:`jaxconv.names.CPU_LIBRARIES`; see
            :mod:`jaxconv.backend.xla_cpu`. No effect on a GPU or TPU.
        return_grads: attach each step's gradients to its result.
        guard_loss_ratio: the divergence guard stops training when a step's loss exceeds this
            multiple of its running minimum (and the chance loss ``log(classes)``); None: off.
        guard_norm_growth: the guard stops training when one step multiplies the parameters'
            global norm by more than this; None: off. See :mod:`jaxconv.train.guard`.
        steps_per_dispatch: training steps run by one compiled program (a loop over batches
            staged on the device, one host sync for all their losses; see
            :mod:`jaxconv.train.dispatch`); 0 (default) chooses a power of two from the measured
            step time so that a dispatch takes about 2 ms (kept only if the loop's steps are faster
            than single ones), 1 runs one step per dispatch. Every
            step still yields its own result; only the last of a dispatch carries the state.

    Example:
        >>> TrainConfig(steps=100, learning_rate=3e-3).to_json()["optimizer"]
        'adam'
    """

    steps: int = _field(500, "train up to this step")
    batch_size: int = _field(64, "training examples per step", resume="changeable")
    optimizer: Any = _field("adam", "optimiser", choices=OPTIMIZERS, resume="kept")
    learning_rate: float = _field(1e-3, "peak learning rate", resume="changeable")
    schedule: str = _field("constant", "learning-rate schedule over the steps", choices=SCHEDULES,
                           resume="kept")
    clip_norm: float | None = _field(None, "clip each step's gradients to this global norm "
                                           "(none: off)", resume="kept")
    seed: int = _field(0, "seeds the parameters and the batch order", resume="changeable")
    eval_every: int = _field(50, "evaluate on the test set every N steps (0: only at the end)")
    eval_batch_size: int = _field(256, "batch size of the evaluation")
    compute_dtype: str | None = _field(None, "compute in this dtype, keep float32 parameters",
                                       choices=COMPUTE_DTYPES, cli_default="float32 throughout")
    cpu_library: str = _field("auto", "what XLA runs in Eigen instead of YNNPACK on the CPU "
                                      "(auto: from the step's program); see jaxconv.backend.xla_cpu",
                              choices=CPU_LIBRARIES)
    return_grads: bool = _field(False, "attach each step's gradients to its result", cli=False)
    guard_loss_ratio: float | None = _field(10.0, "stop as diverged when a loss exceeds this "
                                                  "multiple of its running minimum (none: off)")
    guard_norm_growth: float | None = _field(10.0, "stop as diverged when one step multiplies "
                                                   "the parameter norm by more (none: off)")
    steps_per_dispatch: int = _field(0, "training steps per compiled dispatch (0: chosen from "
                                        "the measured step time, a few ms per dispatch)")

    def __post_init__(self):
        owner, set_ = "TrainConfig", object.__setattr__
        for name, minimum in (("steps", 0), ("batch_size", 1), ("seed", 0), ("eval_every", 0),
                              ("eval_batch_size", 1), ("steps_per_dispatch", 0)):
            set_(self, name, check_int(owner, name, getattr(self, name), minimum))
        optimizer = self.optimizer
        if not isinstance(optimizer, str) and not (hasattr(optimizer, "init")
                                                   and hasattr(optimizer, "update")):
            raise TypeError(f"TrainConfig: `optimizer` must be one of {', '.join(OPTIMIZERS)} or "
                            f"an optax.GradientTransformation, got {type(optimizer).__name__}: "
                            f"optimizer={optimizer!r}.")
        if isinstance(optimizer, str):
            check_choice(owner, "optimizer", optimizer, OPTIMIZERS)
        set_(self, "learning_rate", check_float(owner, "learning_rate", self.learning_rate, 0,
                                                low_open=True))
        check_choice(owner, "schedule", self.schedule, SCHEDULES)
        if self.clip_norm is not None:
            set_(self, "clip_norm", check_float(owner, "clip_norm", self.clip_norm, 0,
                                                low_open=True))
        set_(self, "compute_dtype", compute_dtype_name(owner, self.compute_dtype))
        check_choice(owner, "cpu_library", self.cpu_library, CPU_LIBRARIES)
        set_(self, "return_grads", check_bool(owner, "return_grads", self.return_grads))
        for name in ("guard_loss_ratio", "guard_norm_growth"):
            if getattr(self, name) is not None:
                set_(self, name, check_float(owner, name, getattr(self, name), 1, low_open=True))

    def to_json(self) -> dict:
        """The settings as a JSON-serialisable dict.

        Raises:
            TypeError: ``optimizer`` is an optax transformation, which has no JSON form.
        """
        if not isinstance(self.optimizer, str):
            raise TypeError("TrainConfig.to_json: `optimizer` must be a name to be saved, got "
                            f"an {type(self.optimizer).__name__}.")
        return super().to_json()


#: The experiments' training settings unless told otherwise (:mod:`jaxconv.experiments`, ``jaxconv
#: compare`` and ``jaxconv experiment``): Adam with a cosine decay of the learning rate to zero at
#: ``steps``, which makes the final accuracy less dependent on where the last step happens to land
#: than a constant rate; no evaluation before the end.
EXPERIMENT_TRAINING = TrainConfig(steps=300, learning_rate=3e-3, schedule="cosine", eval_every=0)


def experiment_configs(fn: str, model, training, overrides: dict, **defaults):
    """The shared ModelConfig (kind ``"conv"``, to be replaced) and TrainConfig of an experiment.

    ``model`` and ``training`` are the caller's configs or None (``ModelConfig("conv")`` and
    :data:`EXPERIMENT_TRAINING`);
    ``overrides`` are fields of either class (their names do not overlap); ``defaults`` are
    applied first, to fields the caller's ``model`` and ``overrides`` do not set.
    """
    if model is not None and not isinstance(model, ModelConfig):
        raise TypeError(f"{fn}: `model` must be a ModelConfig or None, got "
                        f"{type(model).__name__}.")
    if training is not None and not isinstance(training, TrainConfig):
        raise TypeError(f"{fn}: `training` must be a TrainConfig or None, got "
                        f"{type(training).__name__}.")
    model_names = {f.name for f in dataclasses.fields(ModelConfig)}
    model_fields = {k: v for k, v in overrides.items() if k in model_names}
    train_fields = {k: v for k, v in overrides.items() if k not in model_names}
    if model is None:
        model_fields = {**defaults, **model_fields}
    model = replace_fields(fn, ModelConfig, model or ModelConfig("conv"), model_fields)
    training = replace_fields(fn, TrainConfig, training or EXPERIMENT_TRAINING, train_fields)
    return model, training
