"""`aligned`: a synthetic task whose statistics depend on position, where full sharing hurts.

Every image holds two glyphs of :data:`jaxconv.data.GLYPHS`, each at a fixed slot (jittered by
up to ``jitter`` pixels): one in the left half, one in the right half. The label is the glyph in
the **left** slot; the right glyph is an independent distractor drawn from the same glyphs. So the
same pattern means "this class" on the left and nothing on the right, the situation of aligned
faces that made DeepFace use locally-connected layers. A convolution whose features are averaged
over all positions sees both glyphs alike and cannot tell which one is on the left; a layer with
one kernel for the left region and another for the right can ignore the distractor, and sharing
within a region still carries what was learnt across the jittered positions of a slot.

Images are (N, H, W, 1) float32 in [0, 1], channels-last; nothing here imports JAX.
"""

from __future__ import annotations

import numpy as np

from jaxconv.data.dataset import Dataset, check_int
from jaxconv.data.synthetic import GLYPHS
from jaxconv.validate import check_float

__all__ = ["make_aligned"]

_SIZE = 5


def _render(rng, n, num_classes, canvas_size, jitter, noise):
    """n images with glyph `label` in the left slot and a random glyph in the right slot."""
    glyphs = np.stack(list(GLYPHS.values())[:num_classes])
    labels = rng.integers(0, num_classes, n)
    distractors = rng.integers(0, num_classes, n)
    half = canvas_size // 2
    x = np.zeros((n, canvas_size, canvas_size), np.float32)
    offsets = np.arange(_SIZE)
    row0 = (canvas_size - _SIZE) // 2
    for glyph, col0 in ((labels, (half - _SIZE) // 2), (distractors, half + (half - _SIZE) // 2)):
        rows = row0 + rng.integers(-jitter, jitter + 1, n)
        cols = col0 + rng.integers(-jitter, jitter + 1, n)
        x[np.arange(n)[:, None, None], rows[:, None, None] + offsets[None, :, None],
          cols[:, None, None] + offsets[None, None, :]] = glyphs[glyph]
    if noise:
        x = np.clip(x + noise * rng.standard_normal(x.shape, np.float32), 0.0, 1.0)
    return x[..., None], labels.astype(np.int32)


def make_aligned(*, num_classes: int = 5, canvas_size: int = 16, n_train: int = 1000,
                 n_test: int = 500, jitter: int = 1, noise: float = 0.05,
                 seed: int = 0) -> Dataset:
    """Generates the `aligned` task in memory.

    With canvas size S and glyph size 5, the left slot's top-left corner is at row
    ``(S - 5) // 2`` and column ``(S // 2 - 5) // 2``, the right slot's at the same row and
    ``S // 2`` columns further, each moved by an independent uniform offset in
    ``[-jitter, jitter]`` per axis; both glyphs stay within their half. Train and test come from
    separate children of ``np.random.SeedSequence(seed)``.

    Args:
        num_classes: how many glyphs, the first `num_classes` of `GLYPHS`; 2 to 8.
        canvas_size: S, at least 12 (two glyphs and their jitter side by side).
        n_train: number of training images.
        n_test: number of test images.
        jitter: largest offset of a glyph from its slot, in pixels; 0 to ``(S // 2 - 5) // 2``.
        noise: standard deviation of Gaussian pixel noise, clipped back to [0, 1]; 0 for none.
        seed: the seed; the same arguments give the same arrays.

    Returns:
        A `Dataset` named ``"aligned"`` with x_train (n_train, S, S, 1) and x_test (n_test, S,
        S, 1); labels are the left glyph's index.

    Example:
        >>> ds = make_aligned(num_classes=3, n_train=8, n_test=4)
        >>> ds.x_train.shape, ds.class_names
        ((8, 16, 16, 1), ('plus', 'cross', 'L'))
    """
    fn = "make_aligned"
    num_classes = check_int(num_classes, fn=fn, arg="num_classes", minimum=2, maximum=len(GLYPHS))
    canvas_size = check_int(canvas_size, fn=fn, arg="canvas_size", minimum=12)
    n_train = check_int(n_train, fn=fn, arg="n_train")
    n_test = check_int(n_test, fn=fn, arg="n_test")
    jitter = check_int(jitter, fn=fn, arg="jitter", minimum=0,
                       maximum=(canvas_size // 2 - _SIZE) // 2)
    check_int(seed, fn=fn, arg="seed", minimum=0)
    check_float(fn, "noise", noise, 0, 1)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2)]
    args = (num_classes, canvas_size, jitter, noise)
    return Dataset(*_render(rngs[0], n_train, *args), *_render(rngs[1], n_test, *args),
                   class_names=tuple(GLYPHS)[:num_classes], name="aligned")
