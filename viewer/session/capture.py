"""What the panels draw of a `jaxconv_viewer.session.session.Session`, copied to the host: `take_snapshot`.

No Qt. Runs on the worker thread (`Session.snapshot`, asked for by the redraw timer), between
training steps: one device-to-host transfer per snapshot for every model's kernels, gradients
and features of the probed input, plus the clicked unit's receptive fields
(`jaxconv.analysis.receptive`) and the dial column's filter likeness
(`jaxconv_viewer.session.columns.filter_similarity`). Layer names, order and shapes come from the
model's settings (`jaxconv.models.topology.layer_shapes`), what a layer's weights are wired to
from its kind's record (`jaxconv.kinds`).
"""

from __future__ import annotations

import numpy as np

from jaxconv_viewer.session.snapshot import LayerMaps, Probe, Snapshot, Unit

__all__ = ["default_unit", "field_growth", "fires", "layer_maps", "shift_one", "take_snapshot",
           "unit_fields"]


def _first_spatial(features):
    """``(name, (H, W, F) activation)`` of the first spatial layer of ``[(name, activation)]``."""
    return next(((name, np.asarray(a)) for name, a in features if np.ndim(a) == 3), (None, None))


def default_unit(features_by_model: dict) -> Unit | None:
    """The unit shown before one is clicked: the first layer's unit that fires most in every model.

    The lecture's picture is a layer-1 unit: wired to the whole image (dense), to one window
    (local, conv). Of its units (every channel and position, the same in every model of
    matched topology), the one whose smallest activation over the models, each divided by that
    model's largest, is largest: it fires in all of them on this input, so no model's effective
    field is black. When no unit fires in every model, the one firing most in the last model.

    Args:
        features_by_model: model -> ``[(name, activation)]`` (`LayerMaps.features`) for one input.

    Example:
        >>> a = np.zeros((4, 4, 2)); a[1, 2, 1] = 1.0
        >>> default_unit({"conv": [("layer1", a)]})
        Unit(layer='layer1', channel=1, position=(1, 2))
    """
    maps = [(name, a) for name, a in map(_first_spatial, features_by_model.values())
            if name is not None and a is not None]
    if not maps or len({(name, a.shape) for name, a in maps}) != 1:
        return None  # no spatial layer, or models of other shapes: no unit they all have
    name = maps[0][0]
    scaled = np.stack([a / max(float(a.max()), 1e-12) for _, a in maps])  # (models, H, W, F)
    score = scaled.min(axis=0)
    if score.max() <= 0:
        score = scaled[-1]
    row, col, channel = np.unravel_index(int(np.argmax(score)), score.shape)
    return Unit(name, int(channel), (int(row), int(col)))


def fires(features_by_model: dict, unit: Unit | None) -> bool:
    """Whether ``unit``'s activation is above 0 in every model (its effective field is not black)."""
    if unit is None or unit.position is None:
        return False
    for features in features_by_model.values():
        a = dict(features).get(unit.layer)
        if a is None or np.ndim(a) != 3 or unit.channel >= np.shape(a)[-1]:
            return False
        row, col = unit.position
        if row >= np.shape(a)[0] or col >= np.shape(a)[1] or not np.asarray(a)[row, col, unit.channel] > 0:
            return False
    return True


def shift_one(image, dy: int, dx: int) -> np.ndarray:
    """One image (H, W, C) moved ``dy`` down and ``dx`` right, zero-filled; all zeros once it
    has moved all the way out (the arrow keys may go that far). `jaxconv.analysis.probes.shift_images`."""
    from jaxconv.analysis.probes import shift_images

    image = np.asarray(image, np.float32)
    h, w = image.shape[:2]
    if abs(dy) >= h or abs(dx) >= w:
        return np.zeros_like(image)
    return np.asarray(shift_images(image[None], int(dy), int(dx))[0])


def take_snapshot(session, probe=None) -> Snapshot:
    """Host copies of every model's kernels, gradients and features for input ``probe``.

    The first snapshot that asks a model for a unit's fields leaves them out (None) and says it
    is ``pending``: their program's compile (1.7-3.2 s per model on digits, load average 5)
    would hold back that model's drawing, the first trained step's included. The next snapshot
    (after the next step while training) computes them.

    Args:
        session: a prepared `jaxconv_viewer.session.session.Session`.
        probe: a `Probe` (or ``(index, dy, dx)``): a test image or the user's drawing, its
            shift, and the unit whose receptive fields to compute.
    """
    import jax

    from jaxconv_viewer.session.columns import dial_column, filter_similarity

    probe = Probe(*probe) if isinstance(probe, tuple) else probe or Probe()
    dataset, states, columns = session.dataset, session.states, session.settings.columns
    index = probe.index % len(dataset.y_test)
    drawn = probe.drawn and probe.drawing is not None
    source = probe.drawing if drawn else dataset.x_test[index]
    image = shift_one(source, probe.dy, probe.dx)
    device = {kind: (states[kind].params, session.grads.get(kind),
                     session.feature_fns[kind](states[kind].params, image[None]))
              for kind in columns}
    host = jax.device_get(device)  # one transfer for everything drawn
    # While a model's step still compiles, no fields at all: their programs would compile on
    # this thread and hold back every model's training (they come once all models train).
    waiting = bool(session.compiling())
    later = set() if waiting else {kind for kind in columns if probe.unit is not None
                                   and session.models[kind] not in session.fields_asked}
    session.fields_asked.update(session.models[kind] for kind in later)
    dial = dial_column(columns)
    maps = {kind: layer_maps(session, kind, *host[kind], fields=None if waiting or kind in later
                             else unit_fields(session, kind, image, probe),
                             similarity=filter_similarity(host[kind][0]) if kind == dial else None)
            for kind in columns}
    from jaxconv import kinds

    windowed = [kind for kind in columns
                if not kinds.get(session.models[kind].config.kind).whole_input]
    growth = (field_growth(session.models[windowed[0]].config, image.shape, probe.unit)
              if windowed and probe.unit is not None else ())
    return Snapshot(session.step, maps, {k: session.history[k].view() for k in columns}, image,
                    None if drawn else int(dataset.y_test[index]), probe, len(dataset.y_test),
                    pending=bool(later), compiling=session.compiling(),
                    growth=growth)


def field_growth(config, input_shape, unit) -> tuple:
    """The theoretical field of the unit at ``unit``'s place in every spatial layer.

    The place is kept in proportion: position ``(r, c)`` of an ``(h, w)`` map is the unit whose
    centre is nearest the same fraction of each layer's map, so the fields of one spot of the
    image are drawn growing from the first layer up.

    Args:
        config: the `jaxconv.models.ModelConfig` of a windowed model (local, conv).
        input_shape: ``(H, W, C)``.
        unit: a `Unit` of a spatial layer (else nothing is drawn).

    Returns:
        ``((layer, (H, W) bool field), ...)``; () for a vector unit or one from other settings.

    Example:
        >>> config = ModelConfig("conv", channels=(2, 4))
        >>> [(n, int(f.sum())) for n, f in field_growth(config, (8, 8, 1), Unit("layer1", 0, (3, 3)))]
        [('layer1', 9), ('layer2', 49)]
    """
    from jaxconv.analysis import receptive

    if unit is None or unit.position is None:
        return ()
    try:
        sizes = receptive.spatial_shapes(config, input_shape)
        if unit.layer not in sizes:
            return ()
        (h, w), (r, c) = sizes[unit.layer], unit.position
        return tuple((name, receptive.theoretical_field(
            config, input_shape, name, (min(n - 1, (2 * r + 1) * n // (2 * h)),
                                        min(m - 1, (2 * c + 1) * m // (2 * w)))))
            for name, (n, m) in sizes.items())
    except ValueError:  # a unit from other settings
        return ()


def unit_fields(session, kind, image, probe):
    """The probe unit's (theoretical, effective) receptive fields in model ``kind``, or None.

    Args:
        image: the probed input (H, W, C).
    """
    from jaxconv.analysis import receptive

    if probe.unit is None:
        return None
    model, (layer, channel, position) = session.models[kind], probe.unit
    try:
        theoretical = receptive.theoretical_field(model.config, image.shape, layer, position)
        effective = receptive.effective_field(model, session.states[kind].params, image, layer,
                                              position, channel)
    except ValueError:  # a unit from other settings (fewer layers, smaller maps): none here
        return None
    return theoretical, effective


def layer_maps(session, kind, params, grads, features, fields=None, similarity=None) -> LayerMaps:
    """Column ``kind``'s `LayerMaps` from host copies of its params, grads and features (batch
    of 1); ``fields`` and ``similarity`` as `LayerMaps` holds them."""
    from jaxconv import kinds
    from jaxconv.models.topology import layer_shapes

    walk = [layer for layer in layer_shapes(session.models[kind].config,
                                            session.dataset.input_shape)
            if "kernel" in params.get(layer.name, {})]
    # A unit wired to the whole input has weights shaped like that input: tiled as images.
    whole = {layer.name: layer.spatial and kinds.get(layer.kind).whole_input for layer in walk}
    order = [layer.name for layer in walk]
    logits = np.asarray(features["head"][0], np.float64)
    probs = np.exp(logits - logits.max())
    probs = (probs / probs.sum()).astype(np.float32)
    return LayerMaps(
        kernels={n: params[n]["kernel"] for n in order},
        grads=None if grads is None else {n: grads[n]["kernel"] for n in order},
        in_shapes={layer.name: layer.input_shape if whole[layer.name] else None for layer in walk},
        out_shapes={layer.name: layer.output_shape if whole[layer.name] else None
                    for layer in walk},
        features=[(n, features[n][0]) for n in order if n in features and n != "head"]
        + [("head", probs)],
        probs=probs, fields=fields,
        layer_kinds={layer.name: layer.kind if layer.spatial else None for layer in walk},
        similarity=similarity)
