"""The `aligned` task: the label is the glyph at the left slot; the right glyph is a distractor."""

import numpy as np
import pytest

from jaxconv import data
from jaxconv.data import GLYPHS


def _find(image, glyphs):
    """(glyph index, row, col) of every exact 5x5 glyph placement in a noise-free image."""
    hits = []
    for r in range(image.shape[0] - 4):
        for c in range(image.shape[1] - 4):
            for g, glyph in enumerate(glyphs):
                patch = image[r:r + 5, c:c + 5]
                if np.array_equal(patch, glyph) and patch.sum() == glyph.sum():
                    hits.append((g, r, c))
    return hits


def test_label_is_the_left_glyph_and_slots_are_fixed():
    ds = data.load("aligned", n_train=40, n_test=8, noise=0.0, num_classes=4, seed=3)
    assert ds.x_train.shape == (40, 16, 16, 1) and ds.x_test.shape == (8, 16, 16, 1)
    glyphs = list(GLYPHS.values())[:4]
    for image, label in zip(ds.x_train[..., 0], ds.y_train):
        left = [h for h in _find(image, glyphs) if h[2] <= 3]
        right = [h for h in _find(image, glyphs) if h[2] >= 8]
        assert [h[0] for h in left] == [label]
        assert len(right) == 1 and 4 <= right[0][1] <= 6 and 8 <= right[0][2] <= 10
        assert 4 <= left[0][1] <= 6 and 0 <= left[0][2] <= 2
    # The distractor is independent of the label: it differs from it in most images.
    distractor = [[h for h in _find(i, glyphs) if h[2] >= 8][0][0] for i in ds.x_train[..., 0]]
    assert np.mean(np.array(distractor) != ds.y_train) > 0.5


def test_deterministic_and_errors():
    a, b = data.make_aligned(n_train=5, n_test=3, seed=1), data.make_aligned(n_train=5, n_test=3,
                                                                             seed=1)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert a.name == "aligned" and a.num_classes == 5
    with pytest.raises(ValueError, match=r"make_aligned: `jitter` must be"):
        data.make_aligned(jitter=2)
    with pytest.raises(ValueError, match=r"make_aligned: `canvas_size` must be"):
        data.make_aligned(canvas_size=10)
