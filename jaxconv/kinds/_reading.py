"""Reading a traced Flax module's settings, for the kinds' ``module_cost`` (no JAX imported here).

jaxconv's modules use Flax's attribute names, so one reader serves both: the window and feature
count are read from the kernel that was created, the settings from the module, the input shape
from the call.
"""

from __future__ import annotations

import math

from jaxconv import shapes


def no_input_dilation(module) -> bool:
    """Whether ``module`` has no input dilation (what the counters count)."""
    lhs = shapes.none_as_one(getattr(module, "input_dilation", 1))
    return all(v == 1 for v in ((lhs,) if isinstance(lhs, int) else lhs))


def batch(shape, rank: int) -> int:
    """The number of examples in ``shape`` whose trailing ``rank`` dims are one example."""
    return math.prod(shape[:len(shape) - rank])


def windowed(module, input_shape, kernel_shape, *, window_first: bool):
    """``(one example's input shape, window, batch)`` of a windowed module's call, or None.

    ``window_first``: the kernel starts with the window (conv) rather than with the positions or
    regions (locally connected, regional), whose window follows them.
    """
    ndim = len(kernel_shape) - 2 if window_first else (len(kernel_shape) - 2) // 2
    if not no_input_dilation(module) or len(input_shape) < ndim + 1:
        return None
    window = kernel_shape[:ndim] if window_first else kernel_shape[ndim:2 * ndim]
    return tuple(input_shape[-ndim - 1:]), tuple(window), batch(input_shape, ndim + 1)
