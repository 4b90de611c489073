"""Building one column's model, and the sharing dial that rebuilds the dial's column alone.

A column is named by its kind (``settings.columns``, names of `jaxconv.kinds`). The dial belongs
to the first column whose kind has a ``regional_form`` (`dial_column`: the lecture's
locally-connected column): ``settings.model.regions`` (`jaxconv.config.ModelConfig.regions`) of
None, or at least the first layer's output size, is one kernel per position (the column's own
kind); any smaller value trains the kind's regional form with that many regions per dim (1: one
kernel, a convolution). Output sizes come from `jaxconv.shapes`, layer shapes from
`jaxconv.models.topology`, counts from `jaxconv.summary`. No Qt here; JAX is imported inside the
functions, which run on the worker thread.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from jaxconv import kinds
from jaxconv_viewer.session.snapshot import History, ModelCounts

__all__ = ["Column", "build_column", "column_kind", "dial_column", "filter_similarity",
           "head_line", "per_position", "restored_settings", "set_regions", "sharing_report",
           "shown_regions"]


class Column(NamedTuple):
    """One built column: its model, initial state, counts, compiled feature function, and the
    preflight's long-compile notice (None when it compiles quickly)."""

    model: object
    state: object
    counts: ModelCounts
    features: object
    notice: str | None


def dial_column(columns) -> str | None:
    """The column the sharing dial sets: the first whose kind has a ``regional_form``, or None.

    Example:
        >>> dial_column(("dense", "local", "conv")), dial_column(("dense", "conv"))
        ('local', None)
    """
    return next((c for c in columns if kinds.get(c).regional_form is not None), None)


def per_position(settings, input_shape) -> int:
    """Regions per dim that give one kernel per position: the first layer's largest output dim.

    Later layers are smaller, and the regional model caps each layer at its own size, so this
    many regions is the locally-connected model in every layer.
    """
    from jaxconv.shapes import geometry  # the window starts with no more of jaxconv

    m = settings.model
    out = geometry("per_position", tuple(input_shape[:2]), m.kernel_size, strides=m.strides,
                   padding=m.padding).out_spatial
    return max(out)


def shown_regions(settings, input_shape) -> int:
    """The dial's value for ``settings``: regions per dim, ``per_position`` when none is set."""
    top, regions = per_position(settings, input_shape), settings.model.regions
    return top if regions is None else min(regions, top)


def column_kind(column: str, settings, input_shape) -> str:
    """The model kind column ``column`` trains: its kind's regional form for the dialled column."""
    if (column != dial_column(settings.columns)
            or shown_regions(settings, input_shape) == per_position(settings, input_shape)):
        return column
    form = kinds.get(column).regional_form
    assert form is not None  # the dial's column is a kind with a regional form (dial_column)
    return form


def head_line(config, input_shape) -> str:
    """How the last feature maps reach the dense head: flattened, or averaged over positions.

    Args:
        config: the column's `jaxconv.config.ModelConfig`.
        input_shape: one image (H, W, C).

    Example:
        >>> from jaxconv.config import ModelConfig
        >>> head_line(ModelConfig("conv", channels=(4,), pool=True), (8, 8, 1))
        'head input: flatten 4 * 4 * 4 = 64'
    """
    from jaxconv.models.topology import layer_shapes

    last = [layer for layer in layer_shapes(config, input_shape) if layer.spatial][-1]
    h, w, c = last.pooled_shape
    if config.global_pool:
        return f"head input: global average pool of {h} * {w} positions -> {c}"
    return f"head input: flatten {h} * {w} * {c} = {h * w * c:,}"


def build_column(session, column: str, tx) -> Column:
    """Builds, counts and initialises column ``column`` of ``session`` from its settings."""
    from jaxconv import models, train

    s, shape = session.settings, session.dataset.input_shape
    fields = s.model_fields(session.dataset.num_classes)
    kind = column_kind(column, s, shape)
    if kinds.get(kind).needs_regions:
        fields["regions"] = shown_regions(s, shape)
    model = models.build(kind, **fields)
    table = train.preflight.table(model, shape, s.train.batch_size)  # as fit traces it: once
    state = train.init_state(model, tx, shape, seed=s.train.seed)
    formulas = [f"{r.name}: {r.formula}" for r in table.rows]
    spatial = sum(r.name.startswith("layer") for r in table.rows)
    formulas.insert(spatial, head_line(model.config, shape))
    counts = ModelCounts(table.total_params, table.total_weights, table.total_biases,
                         table.total_param_bytes, tuple(formulas))
    from jaxconv.backend.programs import Program
    from jaxconv.train.programs import describe

    features = Program(_features, (model,), name="viewer_features", key=describe(model),
                       library="xla", packages=("jaxconv", "jaxconv_viewer"))
    return Column(model, state, counts, features, train.preflight.compile_warning(table))


def _features(model, params, x) -> dict:
    """``{layer: activation}`` of ``model`` on ``x`` (a dict: its keys are static under jit,
    unlike a list's names)."""
    from jaxconv import models

    return dict(models.activations(model, params, x))


def set_regions(session, regions) -> ModelCounts:
    """Rebuilds the dial's column with ``regions`` per dim (None: one kernel per position).

    The other columns train on from where they are; the dial's starts again from fresh
    weights at step 0 with its own curves. Returns its new `ModelCounts`. Runs on the worker
    thread, between two steps (`TrainWorker.request`).

    Raises:
        TypeError, ValueError: ``regions`` is not None or a positive int.
        ValueError: no column has a dial (no kind of ``settings.columns`` has a regional form).
    """
    import dataclasses

    from jaxconv import train
    from jaxconv.validate import check_int

    if regions is not None:
        regions = check_int("Session.set_regions", "regions", regions)
    dial = dial_column(session.settings.columns)
    if dial is None:
        raise ValueError(f"Session.set_regions: no column has a sharing dial (none of the kinds "
                         f"{', '.join(session.settings.columns)} has a regional form).")
    s = session.settings = session.settings.with_fields(regions=regions)
    column = build_column(session, dial, train.make_tx(s.train))
    session.models[dial], session.states[dial] = column.model, column.state
    session.feature_fns[dial] = column.features
    session.grads.pop(dial, None)
    session.history[dial], session.train_time[dial] = History(), 0.0
    session.prober.set_model(dial, column.model)
    if session.counts is not None:
        session.counts = dataclasses.replace(
            session.counts, models={**session.counts.models, dial: column.counts})
    return column.counts


def filter_similarity(params) -> dict:
    """Per layer with a filter per position or region, each filter's likeness to the mean.

    Computed once per snapshot on the worker (`jaxconv_viewer.session.capture.take_snapshot`), drawn by
    the similarity panel, and averaged by `sharing_report`.

    Args:
        params: host copies of a model's parameters, ``{layer: {"kernel": ..., ...}}``.

    Returns:
        ``{layer: (rows, cols, F) float32}``: the cosine similarity of every position's (or
        region's) filter to the mean filter, per output channel
        (`jaxconv.analysis.similarity.similarity_to_mean`; 1 everywhere in a convolution); only
        layers whose kernel has a filter per position (rank 6).
    """
    from jaxconv.analysis.similarity import similarity_to_mean  # numpy only

    return {name: similarity_to_mean(layer["kernel"]) for name, layer in params.items()
            if "kernel" in layer and np.ndim(layer["kernel"]) == 6}


def sharing_report(session) -> dict | None:
    """The ``--report`` JSON's ``"sharing"``: the dial's setting and, per layer with a filter per
    position or region, the mean of `filter_similarity` over positions and channels (1: a
    convolution); None when no column has a dial.

    Returns:
        ``{"column": str, "kind": str, "regions": int, "per_position": int,
        "filter_similarity": {layer: float}}``: ``kind`` is the column's own kind, or its
        regional form while the dial shares.
    """
    import jax

    s, shape = session.settings, session.dataset.input_shape
    dial = dial_column(s.columns)
    if dial is None:
        return None
    params = jax.device_get(session.states[dial].params)
    similarity = {name: float(np.nanmean(values))
                  for name, values in sorted(filter_similarity(params).items())}
    return {"column": dial, "kind": column_kind(dial, s, shape),
            "regions": shown_regions(s, shape), "per_position": per_position(s, shape),
            "filter_similarity": similarity}


def restored_settings(settings, directory):
    """``settings`` with the regions of the dial's column saved under ``directory``.

    The saved checkpoint knows what the column was (its ``model_config``); ``session.json``
    of a session saved before the dial existed says ``regions: 2`` beside a locally-connected
    column, which must restore as one kernel per position.

    Raises:
        jaxconv.train.CheckpointError: no readable checkpoint there.
    """
    from pathlib import Path

    from jaxconv import train

    dial = dial_column(settings.columns)
    if dial is None:
        return settings
    checkpointer = train.Checkpointer(Path(directory) / dial, create=False)
    try:
        config = checkpointer.metadata().get("model_config") or {}
    finally:
        checkpointer.close()
    saved = config.get("kind")
    if saved == dial:  # the column's own kind: one kernel per position
        return settings.with_fields(regions=None)
    if saved is not None and saved == kinds.get(dial).regional_form:
        return settings.with_fields(regions=config.get("regions"))
    return settings  # a checkpoint without its config: the settings as saved
