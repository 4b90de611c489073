"""How ``jaxconv train`` starts: its settings from flags or a checkpoint, and the state to resume.

A fresh run takes its settings from the flags over the defaults and refuses a checkpoint directory
that already holds steps or stray step-named folders. A resumed run takes the model, the dataset
and the training settings its state depends on from the newest usable step. Every value a step
stores is checked as a fresh one would be (a learning rate of -1, an optimizer 'foo', a dataset
that does not load, a batch larger than the dataset, a ``train_config`` that is not an object):
such a step is skipped, and the one line that says so names the step and the field. A flag that
contradicts the checkpoint is the user's error, not the step's, and stops the run.
"""

from __future__ import annotations

import sys

from jaxconv.cli.fields import flag, given_fields

__all__ = ["prepare", "resumed_fields"]

_LEGACY = {"lr": "learning_rate"}  # the key a checkpoint's "train" entry used before TrainConfig


def resumed_fields() -> dict:
    """TrainConfig fields a resumed run takes from its checkpoint, each ``"kept"`` or
    ``"changeable"`` (their ``metadata["resume"]``, see :mod:`jaxconv.config`)."""
    import dataclasses

    from jaxconv.config import TrainConfig

    return {f.name: f.metadata["resume"] for f in dataclasses.fields(TrainConfig)
            if f.metadata.get("resume")}


def _saved(meta) -> tuple[dict, str | None]:
    """A checkpoint's TrainConfig fields and dataset name (also from before TrainConfig)."""
    if meta.get("train_config"):
        return meta["train_config"], meta.get("dataset")
    legacy = dict(meta.get("train", {}))
    return {_LEGACY.get(k, k): v for k, v in legacy.items()}, legacy.get("dataset")


def _check_stored(meta) -> None:
    """The training settings a step stores, checked as fresh ones are.

    Raises:
        CheckpointError: naming the field, so the step is skipped (a ValueError would be read as
            the user's and stop the run).
    """
    from jaxconv.config import TrainConfig
    from jaxconv.train import CheckpointError

    for key in ("train_config", "train"):
        value = meta.get(key)
        if value is not None and not isinstance(value, dict):
            raise CheckpointError(f"its {key} is a {type(value).__name__}, not an object: "
                                  f"{value!r:.60}")
    saved, dataset = _saved(meta)
    fields = resumed_fields()
    try:
        TrainConfig.from_json({k: v for k, v in saved.items() if k in fields})
    except (ValueError, TypeError) as err:
        raise CheckpointError(f"its train_config cannot be used: {err}") from None
    if dataset is not None and not isinstance(dataset, str):
        raise CheckpointError(f"its dataset is a {type(dataset).__name__}, not a name or path: "
                              f"{dataset!r:.60}")


def _configs(args, meta, report=False):
    """The dataset name and TrainConfig: flags, else the checkpoint's (resuming), else defaults."""
    from jaxconv.config import TrainConfig

    resumed = {**resumed_fields(), "dataset": "kept"}
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


def prepare(args, ckpt):
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
            model = models.build(saved)  # a stored num_classes of 1e30 fails here
        except (ValueError, TypeError) as err:
            raise train.CheckpointError(f"its model_config cannot be built: {err}") from None
        _check_model_flags(args, saved)  # flags that contradict it: the user's error
        _check_stored(meta)
        dataset, config = _configs(args, meta)
        if dataset not in loaded:
            try:
                loaded[dataset] = data.load(dataset, seed=config.seed)
            except ValueError as err:
                if args.dataset is not None:
                    raise  # the flag's dataset: the user's error
                raise train.CheckpointError(f"its dataset {dataset!r} cannot be loaded: "
                                            f"{err}") from None
        ds = loaded[dataset]
        if config.batch_size > len(ds.y_train) and "batch_size" not in given_fields(
                train.TrainConfig, args):
            raise train.CheckpointError(f"its batch_size {config.batch_size} is more than the "
                                        f"{len(ds.y_train)} training examples of {dataset!r}")
        tx = train.make_tx(config)  # the recipe fit runs with makes the state it restores
        try:  # shapes only; a stored num_classes of 1e30 is refused here with its bytes
            target = train.abstract_state(lambda: train.init_state(model, tx, ds.input_shape))
        except ValueError as err:
            raise train.CheckpointError(f"its model_config cannot be built: {err}") from None
        build.result = model, ds, dataset, config  # pyright: ignore[reportFunctionMemberAccess]  # its result
        return target

    try:
        state, meta = _restore(args, ckpt, build)
    except train.CheckpointError as err:
        raise train.CheckpointError(_short(str(err), args.verbose)) from None
    model, ds, dataset, config = build.result  # pyright: ignore[reportFunctionMemberAccess]  # set by build above
    _configs(args, meta, report=True)
    return model, ds, {"dataset": dataset}, config, state


