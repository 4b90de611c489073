"""What the built-in kinds share when they hand a layer's settings on: to their op, and to the
benchmark's peers (no JAX, NumPy or PyTorch imported here; the peers import theirs inside).

``settings`` is the mapping :meth:`jaxconv.kinds.Kind.layer_settings` returns (``strides``,
``padding``, ``dilation``, ``groups``, ``regions``, None where unset), plus ``features`` and
``kernel_size`` for a peer.
"""

from __future__ import annotations

from jaxconv import shapes


def op_settings(settings, *keys) -> dict:
    """The entries of ``settings`` named by ``keys`` that are set (not None)."""
    return {k: settings[k] for k in keys if settings.get(k) is not None}


def geometry(fn: str, x_shape, settings) -> shapes.Geometry:
    """The window geometry of a batch ``x_shape`` ``(N, *spatial, C)`` under ``settings``."""
    return shapes.geometry(fn, x_shape[1:-1], settings["kernel_size"],
                           **op_settings(settings, "strides", "padding", "dilation"))


def torch_pads(geom: shapes.Geometry):
    """``torch.nn.functional.pad``'s flat pads (last spatial dim first) for zero padding, or None
    for wrap-around or mirrored padding (the peers compare zero padding only)."""
    if geom.pad_mode != "constant":
        return None
    return tuple(p for pair in reversed(geom.pads) for p in pair)


def torch_channels_first(x):
    """A copy of the channels-last batch ``x`` as a CPU ``torch`` tensor ``(N, C, *spatial)``."""
    import numpy as np
    import torch  # pyright: ignore[reportMissingImports]  # torch: the bench's optional peer

    return torch.from_numpy(np.moveaxis(np.asarray(x), -1, 1).copy())


def torch_tensor(a):
    """A copy of the array ``a`` as a CPU ``torch`` tensor."""
    import numpy as np
    import torch  # pyright: ignore[reportMissingImports]  # torch: the bench's optional peer

    return torch.from_numpy(np.array(a, order="C"))
