"""Shuffled minibatches from host arrays, for training loops that pull one batch per step."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from jaxconv.data.dataset import check_int

__all__ = ["batches"]


def batches(
    x: np.ndarray, y: np.ndarray, batch_size: int, *, seed: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yields shuffled minibatches forever; every batch has exactly `batch_size` examples.

    The examples are visited epoch after epoch, each epoch in a fresh random order. When an
    epoch's remainder is shorter than a batch, the batch is completed from the start of the next
    epoch, so no example is skipped and no batch is short: over `k` batches each example is seen
    either ``floor(k * batch_size / N)`` or one more time (a batch that straddles two epochs
    may hold one example twice). Stop with `itertools.islice`.

    Args:
        x: inputs of shape (N, ...).
        y: targets of shape (N, ...).
        batch_size: examples per batch, 1 to N.
        seed: seeds the order; the same seed gives the same stream.

    Yields:
        `(x_batch, y_batch)` of shapes (batch_size, ...), copies indexed from `x` and `y`.

    Raises:
        ValueError: `x` and `y` differ in length, or `batch_size` is not in [1, N].

    Example:
        >>> import itertools
        >>> x, y = np.zeros((10, 8, 8, 1), np.float32), np.arange(10)
        >>> [xb.shape for xb, _ in itertools.islice(batches(x, y, 4, seed=0), 3)]
        [(4, 8, 8, 1), (4, 8, 8, 1), (4, 8, 8, 1)]
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise ValueError(
            f"batches: `x` and `y` must have the same leading length N, got shapes "
            f"{x.shape} and {y.shape}."
        )
    check_int(seed, fn="batches", arg="seed", minimum=0)
    batch_size = check_int(batch_size, fn="batches", arg="batch_size", minimum=1, maximum=len(x))
    return _stream(x, y, batch_size, np.random.default_rng(seed))


def _stream(x, y, batch_size, rng):
    # A generator body runs only at the first next(); validation above runs at the call.
    pending = np.empty(0, np.int64)
    while True:
        if len(pending) < batch_size:
            pending = np.concatenate([pending, rng.permutation(len(x))])
        take, pending = pending[:batch_size], pending[batch_size:]
        yield x[take], y[take]
