"""`shifted`: a synthetic task that separates translation-invariant models from the rest.

Small binary glyphs (``+``, ``x``, ``L``, ``T``, ``O``, ...) are stamped at random positions on
an empty canvas. Training glyphs lie entirely in the left half of the canvas; the headline test
set (`x_test`, also ``extra["test_unseen"]``) puts them entirely in the right half, at columns
no training image ever used. A conv net whose features are pooled over all positions (global
max or mean pooling) transfers what it learnt on the left to the right; a dense or
locally-connected model has never seen a stroke on the right and stays near chance.

Position is independent of class, and every glyph is 5x5 and distinct under translation, so the
glyph's shape is the only cue. Images are (N, H, W, 1) float32 in [0, 1].
"""

from __future__ import annotations

import numpy as np

from jaxconv.data.dataset import Dataset, check_int
from jaxconv.validate import check_float

__all__ = ["GLYPHS", "make_shifted"]

_ART = {
    "plus": ("..#..", "..#..", "#####", "..#..", "..#.."),
    "cross": ("#...#", ".#.#.", "..#..", ".#.#.", "#...#"),
    "L": ("#....", "#....", "#....", "#....", "#####"),
    "T": ("#####", "..#..", "..#..", "..#..", "..#.."),
    "O": ("#####", "#...#", "#...#", "#...#", "#####"),
    "H": ("#...#", "#...#", "#####", "#...#", "#...#"),
    "Z": ("#####", "...#.", "..#..", ".#...", "#####"),
    "V": ("#...#", "#...#", ".#.#.", ".#.#.", "..#.."),
}

#: Glyph name -> float32 array of shape (5, 5) with values 0 and 1, in class order.
GLYPHS = {k: np.array([[c == "#" for c in row] for row in v], np.float32) for k, v in _ART.items()}
_SIZE = 5


def _render(rng, n, num_classes, canvas_size, col_range, noise):
    """n images (n, S, S, 1) with glyph top-left columns drawn from `col_range` (inclusive)."""
    labels = rng.integers(0, num_classes, n)
    rows = rng.integers(0, canvas_size - _SIZE + 1, n)
    cols = rng.integers(col_range[0], col_range[1] + 1, n)
    glyphs = np.stack(list(GLYPHS.values())[:num_classes])
    x = np.zeros((n, canvas_size, canvas_size), np.float32)
    offsets = np.arange(_SIZE)
    x[
        np.arange(n)[:, None, None],
        rows[:, None, None] + offsets[None, :, None],
        cols[:, None, None] + offsets[None, None, :],
    ] = glyphs[labels]
    if noise:
        x = np.clip(x + noise * rng.standard_normal(x.shape, np.float32), 0.0, 1.0)
    return x[..., None], labels.astype(np.int32)


def make_shifted(
    *,
    num_classes: int = 5,
    canvas_size: int = 16,
    n_train: int = 2000,
    n_test: int = 500,
    noise: float = 0.05,
    seed: int = 0,
) -> Dataset:
    """Generates the `shifted` task in memory.

    With canvas width S and glyph width 5, a glyph's left column is drawn from
    ``[0, S//2 - 5]`` (left half) for ``train`` and ``test_seen``, from ``[S - S//2, S - 5]``
    (right half) for ``test_unseen``, and from ``[0, S - 5]`` for ``test_all``. Rows are
    uniform over ``[0, S - 5]`` everywhere. Each split comes from its own child of
    ``np.random.SeedSequence(seed)``, so changing `n_train` leaves the test sets unchanged.

    Args:
        num_classes: how many glyphs, the first `num_classes` of `GLYPHS`; 2 to 8.
        canvas_size: S, the canvas height and width; at least 10 (two glyphs side by side).
        n_train: number of training images.
        n_test: number of images in each test split.
        noise: standard deviation of Gaussian pixel noise, clipped back to [0, 1]; 0 for none.
        seed: the seed; the same arguments give the same arrays.

    Returns:
        A `Dataset` named ``"shifted"`` with x_train (n_train, S, S, 1), x_test = the unseen
        split (n_test, S, S, 1), and `extra` holding ``"test_seen"``, ``"test_unseen"`` and
        ``"test_all"`` as `(x, y)` pairs.

    Raises:
        ValueError: an argument out of range, naming the argument and its value.

    Example:
        >>> ds = make_shifted(num_classes=4, n_train=8, n_test=4)
        >>> ds.x_train.shape, ds.extra["test_all"][0].shape, ds.class_names
        ((8, 16, 16, 1), (4, 16, 16, 1), ('plus', 'cross', 'L', 'T'))
    """
    fn = "make_shifted"
    num_classes = check_int(num_classes, fn=fn, arg="num_classes", minimum=2, maximum=len(GLYPHS))
    canvas_size = check_int(canvas_size, fn=fn, arg="canvas_size", minimum=2 * _SIZE)
    n_train = check_int(n_train, fn=fn, arg="n_train")
    n_test = check_int(n_test, fn=fn, arg="n_test")
    check_int(seed, fn=fn, arg="seed", minimum=0)
    check_float(fn, "noise", noise, 0, 1)
    half = canvas_size // 2
    seen = (0, half - _SIZE)
    unseen = (canvas_size - half, canvas_size - _SIZE)
    anywhere = (0, canvas_size - _SIZE)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    args = (num_classes, canvas_size)
    train = _render(rngs[0], n_train, *args, seen, noise)
    splits = {
        "test_seen": _render(rngs[1], n_test, *args, seen, noise),
        "test_unseen": _render(rngs[2], n_test, *args, unseen, noise),
        "test_all": _render(rngs[3], n_test, *args, anywhere, noise),
    }
    return Dataset(
        *train,
        *splits["test_unseen"],
        class_names=tuple(GLYPHS)[:num_classes],
        name="shifted",
        extra=splits,
    )
