"""Building one column's model, and the sharing dial that rebuilds the middle column alone.

The middle column is the lecture's locally-connected model until the dial asks for sharing:
``settings.model.regions`` (`jaxconv.config.ModelConfig.regions`) of None, or at least the
first layer's output size, is one kernel per position (kind ``"local"``); any smaller value is
kind ``"regional"`` with that many regions per dim (1: one kernel, a convolution). Output sizes
come from `jaxconv.shapes`, counts from `jaxconv.summary`. No Qt here; JAX is imported inside the
functions, which run on the worker thread.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from viewer.session.snapshot import History, ModelCounts

__all__ = ["DIAL_KIND", "Column", "build_column", "column_kind", "per_position", "set_regions",
           "restored_settings", "sharing_report", "shown_regions"]

#: The column whose weight sharing the dial sets.
DIAL_KIND = "local"


class Column(NamedTuple):
    """One built column: its model, initial state, counts, compiled feature function, and the
    preflight's long-compile notice (None when it compiles quickly)."""

    model: object
    state: object
    counts: ModelCounts
    features: object
    notice: str | None


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


def column_kind(kind: str, settings, input_shape) -> str:
    """The model kind column ``kind`` trains: ``"regional"`` for the dialled middle column."""
    if kind != DIAL_KIND or shown_regions(settings, input_shape) == per_position(settings,
                                                                                 input_shape):
        return kind
    return "regional"


def build_column(session, kind: str, tx) -> Column:
    """Builds, counts and initialises column ``kind`` of ``session`` from its settings."""
    import jax

    from jaxconv import models, summary, train

    s, shape = session.settings, session.dataset.input_shape
    fields = s.model_fields(session.dataset.num_classes)
    if column_kind(kind, s, shape) == "regional":
        fields["regions"] = shown_regions(s, shape)
    model = models.build(column_kind(kind, s, shape), **fields)
    table = summary(model, shape)
    state = train.init_state(model, tx, shape, seed=s.train.seed)
    formulas = [f"{r.name}: {r.formula}" for r in table.rows]
    spatial = sum(r.name.startswith("layer") for r in table.rows)
    formulas.insert(spatial, session._head_line(model, state.params))
    counts = ModelCounts(table.total_params, table.total_weights, table.total_biases,
                         table.total_param_bytes, tuple(formulas))
    features = jax.jit(  # a dict: its keys are static, unlike a list's names
        lambda params, x, model=model: dict(models.activations(model, params, x)))
    return Column(model, state, counts, features, train.preflight.compile_warning(table))


def set_regions(session, regions) -> ModelCounts:
    """Rebuilds the middle column with ``regions`` per dim (None: one kernel per position).

    The other two columns train on from where they are; the middle one starts again from fresh
    weights at step 0 with its own curves. Returns its new `ModelCounts`. Runs on the worker
    thread, between two steps (`TrainWorker.request`).

    Raises:
        TypeError, ValueError: ``regions`` is not None or a positive int.
    """
    import dataclasses

    from jaxconv import train
    from jaxconv.validate import check_int

    if regions is not None:
        regions = check_int("Session.set_regions", "regions", regions)
    s = session.settings = session.settings.with_fields(regions=regions)
    column = build_column(session, DIAL_KIND, train.make_tx(s.train))
    session.models[DIAL_KIND], session.states[DIAL_KIND] = column.model, column.state
    session._features[DIAL_KIND] = column.features
    session.grads.pop(DIAL_KIND, None)
    session.history[DIAL_KIND], session._time[DIAL_KIND] = History(), 0.0
    session.prober.set_model(DIAL_KIND, column.model)
    if session.counts is not None:
        session.counts = dataclasses.replace(
            session.counts, models={**session.counts.models, DIAL_KIND: column.counts})
    return column.counts



def sharing_report(session) -> dict:
    """The ``--report`` JSON's ``"sharing"``: the middle column's setting and, per layer with a
    filter per position or region, the mean cosine similarity of those filters to their mean
    (`jaxconv.analysis.similarity.similarity_to_mean`, over positions and channels; 1: a convolution).

    Returns:
        ``{"kind": "local" | "regional", "regions": int, "per_position": int,
        "filter_similarity": {layer: float}}``.
    """
    import jax

    from jaxconv.analysis.similarity import similarity_to_mean

    s, shape = session.settings, session.dataset.input_shape
    params = jax.device_get(session.states[DIAL_KIND].params)
    similarity = {name: float(np.nanmean(similarity_to_mean(layer["kernel"])))
                  for name, layer in sorted(params.items())
                  if "kernel" in layer and np.ndim(layer["kernel"]) == 6}
    return {"kind": column_kind(DIAL_KIND, s, shape), "regions": shown_regions(s, shape),
            "per_position": per_position(s, shape), "filter_similarity": similarity}


def restored_settings(settings, directory):
    """``settings`` with the regions of the middle column saved under ``directory``.

    The saved checkpoint knows what the column was (its ``model_config``); ``session.json``
    of a session saved before the dial existed says ``regions: 2`` beside a locally-connected
    column, which must restore as one kernel per position.

    Raises:
        jaxconv.train.CheckpointError: no readable checkpoint there.
    """
    from pathlib import Path

    from jaxconv import train

    checkpointer = train.Checkpointer(Path(directory) / DIAL_KIND, create=False)
    try:
        config = checkpointer.metadata().get("model_config") or {}
    finally:
        checkpointer.close()
    if config.get("kind") == "local":
        return settings.with_fields(regions=None)
    if config.get("kind") == "regional":
        return settings.with_fields(regions=config.get("regions"))
    return settings  # a checkpoint without its config: the settings as saved
