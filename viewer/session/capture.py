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

from jaxconv_viewer.session.snapshot import LayerMaps, Probe, Snapshot

__all__ = ["layer_maps", "shift_one", "take_snapshot", "unit_fields"]


def shift_one(image, dy: int, dx: int) -> np.ndarray:
    """One image (H, W, C) moved ``dy`` down and ``dx`` right, zero-filled; all zeros once it
    has moved all the way out (the arrow keys may go that far). `jaxconv.analysis.probes.shift_images`."""
    from jaxconv.analysis.probes import shift_images

    image = np.asarray(image, np.float32)
    h, w = image.shape[:2]
    if abs(dy) >= h or abs(dx) >= w:
        return np.zeros_like(image)
    return shift_images(image[None], int(dy), int(dx))[0]


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
    return Snapshot(session.step, maps, {k: session.history[k].view() for k in columns}, image,
                    None if drawn else int(dataset.y_test[index]), probe, len(dataset.y_test),
                    pending=bool(later), compiling=session.compiling())


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
