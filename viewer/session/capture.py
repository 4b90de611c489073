"""What the panels draw of a `viewer.session.session.Session`, copied to the host: `take_snapshot`.

No Qt. Runs on the worker thread (`Session.snapshot`, asked for by the redraw timer), between
training steps: one device-to-host transfer per snapshot for every model's kernels, gradients
and features of the probed input, plus the clicked unit's receptive fields
(`jaxconv.analysis.receptive`).
"""

from __future__ import annotations

import math

import numpy as np

from viewer.session.snapshot import KINDS, LayerMaps, Probe, Snapshot

__all__ = ["layer_maps", "layer_order", "shift_one", "take_snapshot", "unit_fields"]


def shift_one(image, dy: int, dx: int) -> np.ndarray:
    """One image (H, W, C) moved ``dy`` down and ``dx`` right, zero-filled; all zeros once it
    has moved all the way out (the arrow keys may go that far). `jaxconv.analysis.probes.shift_images`."""
    from jaxconv.analysis.probes import shift_images

    image = np.asarray(image, np.float32)
    h, w = image.shape[:2]
    if abs(dy) >= h or abs(dx) >= w:
        return np.zeros_like(image)
    return shift_images(image[None], int(dy), int(dx))[0]


def layer_order(name: str):
    """layer1, layer2, ..., layer10, hidden, head: the order the model calls them."""
    digits = "".join(ch for ch in name if ch.isdigit())
    return (name == "head", name == "hidden", int(digits or 0), name)


def take_snapshot(session, probe=None) -> Snapshot:
    """Host copies of every model's kernels, gradients and features for input ``probe``.

    The first snapshot that asks a model for a unit's fields leaves them out (None) and says it
    is ``pending``: their program's compile (1.7-3.2 s per model on digits, load average 5)
    would hold back that model's drawing, the first trained step's included. The next snapshot
    (after the next step while training) computes them.

    Args:
        session: a prepared `viewer.session.session.Session`.
        probe: a `Probe` (or ``(index, dy, dx)``): a test image or the user's drawing, its
            shift, and the unit whose receptive fields to compute.
    """
    import jax

    probe = Probe(*probe) if isinstance(probe, tuple) else probe or Probe()
    dataset, states = session.dataset, session.states
    index = probe.index % len(dataset.y_test)
    drawn = probe.drawn and probe.drawing is not None
    source = probe.drawing if drawn else dataset.x_test[index]
    image = shift_one(source, probe.dy, probe.dx)
    device = {kind: (states[kind].params, session.grads.get(kind),
                     session._features[kind](states[kind].params, image[None]))
              for kind in KINDS}
    host = jax.device_get(device)  # one transfer for everything drawn
    later = {kind for kind in KINDS if probe.unit is not None
             and session.models[kind] not in session.fields_asked}
    session.fields_asked.update(session.models[kind] for kind in later)
    maps = {kind: layer_maps(session, kind, *host[kind], fields=None if kind in later
                             else unit_fields(session, kind, image, probe)) for kind in KINDS}
    return Snapshot(session.step, maps, {k: h.view() for k, h in session.history.items()}, image,
                    None if drawn else int(dataset.y_test[index]), probe, len(dataset.y_test),
                    pending=bool(later))


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


def layer_maps(session, kind, params, grads, features, fields=None) -> LayerMaps:
    """One model's `LayerMaps` from host copies of its params, grads and features (batch of 1)."""
    names = sorted((n for n in params if "kernel" in params[n]), key=layer_order)
    in_shapes, out_shapes = {}, {}
    previous = session.dataset.input_shape
    for name in names:
        out = np.shape(features.get(name, ()))[1:]
        spatial = len(out) == 3
        in_shapes[name] = previous if kind == "dense" and spatial else None
        out_shapes[name] = out if kind == "dense" and spatial else None
        if spatial and session.settings.model.pool:
            out = (math.ceil(out[0] / 2), math.ceil(out[1] / 2), out[2])
        previous = out if spatial else None
    logits = np.asarray(features["head"][0], np.float64)
    probs = np.exp(logits - logits.max())
    return LayerMaps(
        kernels={n: params[n]["kernel"] for n in names},
        grads=None if grads is None else {n: grads[n]["kernel"] for n in names},
        in_shapes=in_shapes, out_shapes=out_shapes,
        features=[(n, features[n][0]) for n in sorted(features, key=layer_order) if n != "head"]
        + [("head", (probs / probs.sum()).astype(np.float32))],
        probs=(probs / probs.sum()).astype(np.float32), fields=fields)
