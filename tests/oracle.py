"""Plain numpy loop implementations: slow, obvious, and independent of lax. Tiny arrays only."""

import itertools

import numpy as np


def pad(x, pads, circular):
    """Pads the spatial axes of (N, *spatial, C) with zeros or by wrapping (as often as the
    width asks, np.pad's "wrap"); a negative width crops that side instead (lax's meaning)."""
    crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(pads, x.shape[1:-1]))
    widths = ((0, 0), *((max(lo, 0), max(hi, 0)) for lo, hi in pads), (0, 0))
    return np.pad(x[(slice(None), *crop)], widths, mode="wrap" if circular else "constant")


def _windows(xp, out_spatial, window, strides, dilation):
    """Yields (out_index, patch of shape (N, *window, C)) for every output position."""
    for pos in itertools.product(*(range(o) for o in out_spatial)):
        idx = tuple(
            slice(p * s, p * s + (k - 1) * d + 1, d)
            for p, s, k, d in zip(pos, strides, window, dilation)
        )
        yield pos, xp[(slice(None), *idx)]


def conv(x, kernel, bias, out_spatial, strides, dilation, pads, circular, groups=1):
    """Grouped, strided, dilated cross-correlation by explicit loops."""
    x = np.asarray(x, np.float64)
    kernel = np.asarray(kernel, np.float64)
    window, cg, features = kernel.shape[:-2], kernel.shape[-2], kernel.shape[-1]
    fg = features // groups
    y = np.zeros((x.shape[0], *out_spatial, features))
    for pos, patch in _windows(pad(x, pads, circular), out_spatial, window, strides, dilation):
        for g in range(groups):
            p = patch[..., g * cg:(g + 1) * cg].reshape(x.shape[0], -1)
            k = kernel[..., g * fg:(g + 1) * fg].reshape(-1, fg)
            y[(slice(None), *pos, slice(g * fg, (g + 1) * fg))] = p @ k
    return y if bias is None else y + np.asarray(bias, np.float64)


def local(x, kernel, bias, strides, dilation, pads, circular):
    """Locally-connected layer: a different kernel at every output position."""
    x = np.asarray(x, np.float64)
    kernel = np.asarray(kernel, np.float64)
    ndim = x.ndim - 2
    out_spatial, window = kernel.shape[:ndim], kernel.shape[ndim:2 * ndim]
    y = np.zeros((x.shape[0], *out_spatial, kernel.shape[-1]))
    for pos, patch in _windows(pad(x, pads, circular), out_spatial, window, strides, dilation):
        y[(slice(None), *pos)] = patch.reshape(x.shape[0], -1) @ kernel[pos].reshape(-1, kernel.shape[-1])
    return y if bias is None else y + np.asarray(bias, np.float64)


def pool(x, window, strides, pads, reduce):
    """Pooling with -inf (max) or zero (mean over the full window) padding."""
    x = np.asarray(x, np.float64)
    fill = -np.inf if reduce is np.max else 0.0
    xp = np.pad(x, ((0, 0), *pads, (0, 0)), constant_values=fill)
    out = [(n + lo + hi - k) // s + 1 for n, (lo, hi), k, s in zip(x.shape[1:-1], pads, window, strides)]
    y = np.zeros((x.shape[0], *out, x.shape[-1]))
    for pos, patch in _windows(xp, out, window, strides, (1,) * len(window)):
        axes = tuple(range(1, 1 + len(window)))
        y[(slice(None), *pos)] = reduce(patch, axis=axes)
    return y


def regional(x, kernel, bias, out_spatial, strides, dilation, pads, circular):
    """Regional convolution: output positions split into blocks as numpy.array_split; one kernel
    (and bias) per block, looked up for every position by explicit loops."""
    x = np.asarray(x, np.float64)
    kernel = np.asarray(kernel, np.float64)
    ndim = x.ndim - 2
    regions, window = kernel.shape[:ndim], kernel.shape[ndim:2 * ndim]
    owner = [np.concatenate([np.full(len(b), j) for j, b in
                             enumerate(np.array_split(np.arange(o), r))])
             for o, r in zip(out_spatial, regions)]
    y = np.zeros((x.shape[0], *out_spatial, kernel.shape[-1]))
    for pos, patch in _windows(pad(x, pads, circular), out_spatial, window, strides, dilation):
        region = tuple(int(owner[d][p]) for d, p in enumerate(pos))
        y[(slice(None), *pos)] = patch.reshape(x.shape[0], -1) @ kernel[region].reshape(
            -1, kernel.shape[-1])
        if bias is not None:
            b = np.asarray(bias, np.float64)
            y[(slice(None), *pos)] += b[region] if b.ndim > 1 else b
    return y
