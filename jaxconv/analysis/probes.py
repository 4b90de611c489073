"""Probes of the lecture's claim: shifting the input, accuracy against shift, equivariance.

- :func:`shift_images`: move images by whole pixels, zero-filled or wrapped around.
- :func:`shift_accuracy`: a classifier's accuracy on inputs moved by each of a list of shifts.
- :func:`equivariance`: for each spatial layer, how far ``f(shift x)`` is from ``shift f(x)``.

Images are channels-last (N, H, W, C); a shift ``(dy, dx)`` moves content down by ``dy`` rows and
right by ``dx`` columns (negative: up, left). Shifts are static Python ints, so every function here
can be called inside ``jax.jit`` with the shifts held static; on numpy input `shift_images` stays
in numpy (the viewer and the experiments use it on host arrays).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxconv.validate import check_int

__all__ = ["SHIFT_MODES", "axis_shifts", "equivariance", "shift_accuracy", "shift_images"]

#: ``"zeros"``: pixels moved in from outside are 0 (a digit moved on a page). ``"circular"``:
#: pixels moved off one edge come back at the other (the shift that a CIRCULAR-padded conv commutes
#: with exactly).
SHIFT_MODES = ("zeros", "circular")


def _check_shift(fn, name, value, size):
    return check_int(fn, name, value, -(size - 1), size - 1)


def _check_mode(fn, mode):
    if mode not in SHIFT_MODES:
        raise ValueError(f"{fn}: `mode` must be one of {', '.join(SHIFT_MODES)}, got mode={mode!r}.")
    return mode


def shift_images(x, dy: int, dx: int, *, mode: str = "zeros"):
    """Moves images down by ``dy`` and right by ``dx`` pixels (negative: up/left).

    Args:
        x: images of shape (N, H, W, C), numpy or JAX (a tracer inside ``jit`` too).
        dy: rows to move down, an int with |dy| < H.
        dx: columns to move right, an int with |dx| < W.
        mode: ``"zeros"`` (pixels moved off the edge are dropped, zeros come in) or
            ``"circular"`` (they wrap around).

    Returns:
        An array of the same shape and dtype, numpy for numpy input, else JAX.

    Raises:
        ValueError: ``x`` is not 4-D, a shift is not smaller than the image, or an unknown mode.
        TypeError: a shift is not an int.

    Example:
        >>> shift_images(np.eye(3).reshape(1, 3, 3, 1), 0, 1)[0, :, :, 0]
        array([[0., 1., 0.],
               [0., 0., 1.],
               [0., 0., 0.]])
    """
    fn = "shift_images"
    xp = jnp if isinstance(x, jax.Array) else np
    x = xp.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{fn}: `x` must have shape (N, H, W, C), got shape {x.shape}.")
    dy = _check_shift(fn, "dy", dy, x.shape[1])
    dx = _check_shift(fn, "dx", dx, x.shape[2])
    if _check_mode(fn, mode) == "circular":
        return xp.roll(x, (dy, dx), axis=(1, 2))
    h, w = x.shape[1:3]
    padded = xp.pad(x, ((0, 0), (max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0)), (0, 0)))
    return padded[:, max(-dy, 0):max(-dy, 0) + h, max(-dx, 0):max(-dx, 0) + w]


def axis_shifts(k: int) -> tuple[tuple[int, int], ...]:
    """The shifts ``(dx, dy)`` along each axis from -k to k: ``(0, 0)`` once, then 4k more.

    Example:
        >>> axis_shifts(1)
        ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))
    """
    k = check_int("axis_shifts", "k", k, 0)
    out = [(0, 0)]
    for d in range(1, k + 1):
        out += [(-d, 0), (d, 0), (0, -d), (0, d)]
    return tuple(out)


def shift_accuracy(logits_fn, x, y, shifts, *, mode: str = "zeros", where=None):
    """Accuracy of ``logits_fn`` on the images ``x`` moved by each shift, in one call.

    Args:
        logits_fn: maps images (M, H, W, C) to logits (M, K); traced once for all the shifts.
        x: images of shape (N, H, W, C).
        y: integer labels of shape (N,).
        shifts: a sequence of ``(dx, dy)`` int pairs (static under ``jit``).
        mode: how to fill, as for `shift_images`.
        where: optional bool mask of shape (N,): count only these images (a padded last batch).

    Returns:
        A float32 array of shape (len(shifts),): the fraction of ``x`` (of ``x[where]``)
        classified right under each shift. Wrap in ``jax.jit`` with ``logits_fn`` and ``shifts`` static to compile once.

    Example:
        >>> acc = shift_accuracy(lambda x: model.apply({"params": params}, x), x, y,
        ...                      axis_shifts(3))  # doctest: +SKIP
    """
    shifts = _canonical_shifts("shift_accuracy", shifts)
    x = jnp.asarray(x)
    if x.ndim != 4 or jnp.shape(y) != x.shape[:1]:
        raise ValueError(f"shift_accuracy: `x` must have shape (N, H, W, C) and `y` shape (N,), "
                         f"got shapes {x.shape} and {jnp.shape(y)}.")
    moved = jnp.concatenate([shift_images(x, dy, dx, mode=mode) for dx, dy in shifts])
    right = jnp.argmax(logits_fn(moved), axis=-1) == jnp.tile(jnp.asarray(y), len(shifts))
    right = right.reshape(len(shifts), x.shape[0]).astype(jnp.float32)
    if where is None:
        return right.mean(axis=1)
    where = jnp.asarray(where, jnp.float32)
    if where.shape != x.shape[:1]:
        raise ValueError(f"shift_accuracy: `where` must have shape (N,) = {x.shape[:1]}, got "
                         f"shape {where.shape}.")
    return (right @ where) / jnp.maximum(where.sum(), 1.0)


def _canonical_shifts(fn, shifts):
    try:
        shifts = tuple((int(dx), int(dy)) for dx, dy in shifts)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: `shifts` must be a sequence of (dx, dy) int pairs, got "
                        f"shifts={shifts!r}.") from None
    if not shifts:
        raise ValueError(f"{fn}: `shifts` must hold at least one (dx, dy) pair, got shifts=().")
    return shifts


def equivariance(features_fn, x, *, mode: str = "zeros") -> dict:
    """For each spatial feature map, ``||f(shift x) - shift f(x)|| / ||f(x)||``, one-pixel shifts.

    A map of size (H', W') on an input of size (H, W) moves by one of its own pixels when the input
    moves by ``s = H // H'`` rows (``W // W'`` columns): a stride or a 2x2 pool halves the grid, so
    the input moves 2 pixels for that layer. The error is averaged over four shifts (one map pixel
    up, down, left, right) as one ratio of sums of squares over the batch. A map is exactly
    equivariant (0) when it commutes with the shift: conv with CIRCULAR padding and
    ``mode="circular"``; dense and locally-connected maps are not (near 1 or more).

    Args:
        features_fn: maps images (M, H, W, C) to ``{name: activation}``; the spatial ones, of
            shape (M, H', W', F) with 2 <= H' dividing H and 2 <= W' dividing W, are measured;
            the others are skipped.
        x: images of shape (N, H, W, C).
        mode: how shifts fill, as for `shift_images` (for both ``shift x`` and ``shift f(x)``).

    Returns:
        ``{name: float32 scalar}`` for each spatial feature map, in ``features_fn``'s order.

    Example:
        >>> equivariance(lambda x: dict(activations(model, params, x)), x)  # doctest: +SKIP
        {'layer1': Array(0.03, dtype=float32), 'layer2': Array(0.05, dtype=float32)}
    """
    _check_mode("equivariance", mode)
    x = jnp.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"equivariance: `x` must have shape (N, H, W, C), got shape {x.shape}.")
    base = features_fn(x)
    h, w = x.shape[1:3]
    steps = {}
    for name, a in base.items():
        if (a.ndim == 4 and min(a.shape[1:3]) >= 2 and h % a.shape[1] == 0
                and w % a.shape[2] == 0):
            steps[name] = (h // a.shape[1], w // a.shape[2])
    moves = sorted({(sy * d, 0) for sy, _ in steps.values() for d in (-1, 1)}
                   | {(0, sx * d) for _, sx in steps.values() for d in (-1, 1)})
    moved = dict(zip(moves, _split(features_fn(jnp.concatenate(
        [shift_images(x, dy, dx, mode=mode) for dy, dx in moves])), len(moves))))
    out = {}
    for name, (sy, sx) in steps.items():
        ref, err = jnp.sum(base[name] ** 2) * 4, 0.0
        for (dy, dx) in ((sy, 0), (-sy, 0), (0, sx), (0, -sx)):
            expected = shift_images(base[name], dy // sy, dx // sx, mode=mode)
            err = err + jnp.sum((moved[dy, dx][name] - expected) ** 2)
        out[name] = jnp.sqrt(err / jnp.maximum(ref, jnp.finfo(jnp.float32).tiny))
    return out


def _split(features: dict, parts: int) -> list[dict]:
    """``{name: (parts * N, ...)}`` -> ``[{name: (N, ...)}] * parts``."""
    return [{name: a[i * (a.shape[0] // parts):(i + 1) * (a.shape[0] // parts)]
             for name, a in features.items()} for i in range(parts)]
