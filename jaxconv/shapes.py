"""Shape arithmetic for dense, convolutional, locally-connected and pooling layers.

The one place where window sizes, strides, dilation and padding turn into output shapes and
parameter shapes. The ops, the Flax modules, the cost counters and the viewer all call it, so they
cannot disagree.

Conventions: channels-last inputs ``(N, *spatial, C)``; conv kernels ``(*window, C // groups, F)``;
locally-connected kernels ``(*out_spatial, *window, C, F)``. Everything here works on Python ints
and tuples, never on arrays, so it serves sizes no machine could allocate.

Every function that takes user input canonicalises it once and raises a ``ValueError`` or
``TypeError`` naming the calling function (``fn``), the argument, the rule and the value received.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from jaxconv.names import CONV_PADDING_MODES, PADDING_MODES  # noqa: F401 (re-exported)
from jaxconv.validate import check_int, int_rule, is_int


def none_as_one(value):
    """``value``, or 1 for None: Flax's spelling of a stride or dilation of 1.

    Example:
        >>> none_as_one(None), none_as_one((2, 1))
        (1, (2, 1))
    """
    return 1 if value is None else value


def as_sequence(value):
    """A one-dimensional array (``np.array([2, 2])``) as the tuple of its values, as Flax's
    ``tuple(strides)`` reads it; any other value unchanged.

    Example:
        >>> import numpy as np
        >>> as_sequence(np.array([2, 3]))
        (2, 3)
    """
    if getattr(value, "ndim", None) == 1 and hasattr(value, "tolist"):
        return tuple(value.tolist())
    return value


def canonical_ints(fn: str, name: str, value, ndim: int, *, minimum: int = 1) -> tuple[int, ...]:
    """Turns an int or a sequence (or 1-D array) of ``ndim`` ints into a tuple, checking each is
    >= ``minimum``.

    Example:
        >>> canonical_ints("conv", "strides", 2, 2)
        (2, 2)
    """
    if is_int(value):
        values = (int(value),) * ndim
    elif isinstance(seq := as_sequence(value), Sequence) and not isinstance(value, str):
        values = tuple(seq)
        if len(values) != ndim:
            raise ValueError(
                f"{fn}: `{name}` must be an int or {ndim} ints (one per spatial dimension), "
                f"got {name}={value!r}."
            )
        if not all(is_int(v) for v in values):
            raise TypeError(f"{fn}: `{name}` must be integers, got {name}={value!r}.")
        values = tuple(int(v) for v in values)
    else:
        raise TypeError(f"{fn}: `{name}` must be an int or a sequence of ints, got {name}={value!r}.")
    if any(v < minimum for v in values):
        rule = int_rule(minimum, plural=not is_int(value))
        raise ValueError(f"{fn}: `{name}` must be {rule}, got {name}={value!r}.")
    return values


def canonical_padding(fn: str, padding, ndim: int, modes: Sequence[str] = PADDING_MODES, *,
                      negative: bool = False) -> str | tuple[tuple[int, int], ...]:
    """Returns a mode name from ``modes`` or one ``(low, high)`` pair per spatial dim.

    ``padding`` is a name, an int (every side), or ``ndim`` entries each an int (both sides) or a
    ``(low, high)`` pair, as Flax's ``Conv`` accepts. With ``negative``, a negative width crops
    that side of the input (as ``lax`` and Flax do); without it, it is refused.
    """
    if isinstance(padding, str):
        mode = padding.upper()
        if mode not in modes:
            raise ValueError(
                f"{fn}: `padding` must be one of {', '.join(modes)}, an int or "
                f"{ndim} (low, high) pairs, got padding={padding!r}."
            )
        return mode
    if is_int(padding):
        pairs = ((int(padding), int(padding)),) * ndim
    elif isinstance(padding, Sequence):
        pairs = tuple((p, p) if is_int(p) else p for p in padding)
        if len(pairs) != ndim or not all(
            isinstance(p, Sequence) and not isinstance(p, str) and len(p) == 2 for p in pairs
        ):
            raise ValueError(
                f"{fn}: `padding` must give {ndim} (low, high) pairs or ints (one per spatial "
                f"dimension), got padding={padding!r}."
            )
        if not all(is_int(v) for p in pairs for v in p):
            raise TypeError(f"{fn}: `padding` pairs must be integers, got padding={padding!r}.")
        pairs = tuple((int(lo), int(hi)) for lo, hi in pairs)
    else:
        raise TypeError(
            f"{fn}: `padding` must be a string, an int or (low, high) pairs, got padding={padding!r}."
        )
    if not negative and any(v < 0 for p in pairs for v in p):
        raise ValueError(f"{fn}: `padding` must not be negative (a negative width crops in conv, "
                         f"locally_connected and the Flax layers only), got padding={padding!r}.")
    return pairs


def effective_window(window: Sequence[int], dilation: Sequence[int]) -> tuple[int, ...]:
    """The span a dilated window covers: ``(k - 1) * d + 1`` per dimension."""
    return tuple((k - 1) * d + 1 for k, d in zip(window, dilation))


def dilate_shape(shape: Sequence[int], dilation: Sequence[int]) -> tuple[int, ...]:
    """Shape after putting ``d - 1`` zeros between neighbours: ``(n - 1) * d + 1`` per dim."""
    return tuple((n - 1) * d + 1 for n, d in zip(shape, dilation))


def same_pads(in_spatial, window, strides, dilation) -> tuple[tuple[int, int], ...]:
    """Padding that gives ``ceil(in / stride)`` outputs, the extra pixel on the high side (as lax)."""
    pads = []
    for n, k, s in zip(in_spatial, effective_window(window, dilation), strides):
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


@dataclasses.dataclass(frozen=True)
class Geometry:
    """How a sliding window meets an input: everything an op needs, all plain ints.

    Attributes:
        in_spatial: input spatial shape, e.g. ``(H, W)``.
        window: window size per spatial dim.
        strides: step per spatial dim.
        dilation: spacing between window taps per spatial dim.
        pads: explicit ``(low, high)`` padding per spatial dim.
        circular: whether the padding wraps around (``"CIRCULAR"``) instead of adding zeros.
        out_spatial: output spatial shape.
        reflect: whether the padding mirrors the input (``"REFLECT"``) instead of adding zeros.
        input_dilation: the input's dilation per spatial dim (``d - 1`` zeros between its
            values, before padding, as ``lax``'s ``lhs_dilation``); ``()`` means none.
    """

    in_spatial: tuple[int, ...]
    window: tuple[int, ...]
    strides: tuple[int, ...]
    dilation: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    circular: bool
    out_spatial: tuple[int, ...]
    reflect: bool = False
    input_dilation: tuple[int, ...] = ()

    @property
    def pad_mode(self) -> str:
        """``jnp.pad``'s mode for this padding: ``"wrap"``, ``"reflect"`` or ``"constant"``."""
        return "wrap" if self.circular else "reflect" if self.reflect else "constant"

    @property
    def dilated_spatial(self) -> tuple[int, ...]:
        """Input spatial shape after input dilation: ``(n - 1) * d + 1`` per dim."""
        return dilate_shape(self.in_spatial, self.input_dilation or (1,) * self.ndim)

    @property
    def ndim(self) -> int:
        """Number of spatial dims (1, 2 or 3)."""
        return len(self.in_spatial)

    @property
    def padded_spatial(self) -> tuple[int, ...]:
        """Input spatial shape after padding: ``n + low + high`` per dim."""
        return tuple(n + lo + hi for n, (lo, hi) in zip(self.dilated_spatial, self.pads))

    @property
    def num_positions(self) -> int:
        """Number of output positions, ``prod(out_spatial)``."""
        return math.prod(self.out_spatial)

    @property
    def window_size(self) -> int:
        """Number of taps in the window, ``prod(window)``."""
        return math.prod(self.window)


def geometry(
    fn: str, in_spatial, window, *, strides: int | Sequence[int] = 1, padding="VALID",
    dilation: int | Sequence[int] = 1, input_dilation: int | Sequence[int] = 1,
    window_name: str = "kernel_size", dilation_name: str = "dilation",
    padding_modes: Sequence[str] = PADDING_MODES, negative_padding: bool = False,
) -> Geometry:
    """Canonicalises window settings for an input and computes the output shape.

    Args:
        fn: name of the public function, used in error messages.
        in_spatial: input spatial shape ``(*spatial,)`` (ints).
        window: int or one int per spatial dim.
        strides: int or one int per spatial dim.
        padding: a name from ``padding_modes``, an int, or one int or ``(low, high)`` pair per dim.
        dilation: spacing between window taps; int or one int per spatial dim.
        input_dilation: spacing put between input values (``lax``'s ``lhs_dilation``); int or one
            per spatial dim. Other than 1 it needs explicit padding or ``"VALID"``.
        window_name: what the caller calls the window, for error messages.
        dilation_name: what the caller calls ``dilation`` (Flax: ``kernel_dilation``).
        padding_modes: the padding names the caller accepts (:data:`CONV_PADDING_MODES` for
            convolutions).
        negative_padding: whether a negative width crops the input (``lax``'s and Flax's
            meaning, for callers whose padding ``lax`` or ``lax.pad`` applies) or is refused.

    Raises:
        ValueError: if a setting is invalid or the output would be empty.

    Example:
        >>> geometry("conv", (1000, 1000), 10, strides=10).out_spatial
        (100, 100)
    """
    in_spatial = tuple(int(n) for n in in_spatial)
    ndim = len(in_spatial)
    if any(n <= 0 for n in in_spatial):
        raise ValueError(f"{fn}: input spatial shape must be positive, got {in_spatial}.")
    window = canonical_ints(fn, window_name, window, ndim)
    strides = canonical_ints(fn, "strides", strides, ndim)
    dilation = canonical_ints(fn, dilation_name, dilation, ndim)
    lhs = canonical_ints(fn, "input_dilation", input_dilation, ndim)
    mode = canonical_padding(fn, padding, ndim, padding_modes, negative=negative_padding)
    if any(d != 1 for d in lhs) and mode in ("SAME", "CIRCULAR", "REFLECT", "CAUSAL"):
        raise ValueError(f"{fn}: `input_dilation` other than 1 needs padding 'VALID', an int or "
                         f"(low, high) pairs, got padding={padding!r} with "
                         f"input_dilation={input_dilation!r}.")
    span = effective_window(window, dilation)
    if mode == "VALID":
        pads = ((0, 0),) * ndim
    elif mode == "SAME":
        pads = same_pads(in_spatial, window, strides, dilation)
    elif mode in ("CIRCULAR", "REFLECT"):
        # Centred windows (output i sees input i * stride in its middle), as Flax's CIRCULAR. A
        # window wider than the input wraps around it more than once (jnp.pad's "wrap", as Flax):
        # still a convolution on the circle, whose kernel taps that land on one pixel add up.
        pads = tuple(((k - 1) // 2, k // 2) for k in span)
    elif mode == "CAUSAL":
        if ndim != 1:
            raise ValueError(f"{fn}: padding 'CAUSAL' is for 1-D inputs only, got a {ndim}-D "
                             f"input {in_spatial}.")
        pads = ((span[0] - 1, 0),)
    else:
        assert not isinstance(mode, str)  # every mode name is handled above: these are pairs
        pads = mode
    dilated = dilate_shape(in_spatial, lhs)
    out = tuple(
        (n + lo + hi - k) // s + 1 for n, (lo, hi), k, s in zip(dilated, pads, span, strides)
    )
    if any(o <= 0 for o in out):
        shown = mode if isinstance(mode, str) else pads
        lhs_text = f", input_dilation {lhs}" if any(d != 1 for d in lhs) else ""
        raise ValueError(
            f"{fn}: output size would be zero or negative: input {in_spatial}, window {window}, "
            f"strides {strides}, {dilation_name} {dilation}, padding {shown}{lhs_text}."
        )
    return Geometry(in_spatial, window, strides, dilation, pads, mode == "CIRCULAR", out,
                    reflect=mode == "REFLECT", input_dilation=lhs if any(d != 1 for d in lhs) else ())


def conv_kernel_shape(window, in_channels: int, features: int, groups: int = 1) -> tuple[int, ...]:
    """Kernel shape of a convolution: ``(*window, in_channels // groups, features)``."""
    return (*window, in_channels // groups, features)


def local_kernel_shape(out_spatial, window, in_channels: int, features: int) -> tuple[int, ...]:
    """Kernel shape of a locally-connected layer: ``(*out_spatial, *window, C, F)``."""
    return (*out_spatial, *window, in_channels, features)


def check_groups(fn: str, groups, in_channels: int, features: int, name: str = "groups") -> int:
    """Checks that ``groups`` is a positive int dividing both channel counts.

    ``name`` is what the caller calls it (Flax's modules: ``feature_group_count``).
    """
    groups = check_int(fn, name, groups)
    if in_channels % groups or features % groups:
        raise ValueError(
            f"{fn}: `{name}` must divide both input channels ({in_channels}) and features "
            f"({features}), got {name}={groups}."
        )
    return int(groups)


def canonical_regions(fn: str, regions, out_spatial) -> tuple[int, ...]:
    """Checks ``regions`` (an int or one per spatial dim) against the output shape.

    A regional layer splits each output dim into ``regions`` contiguous blocks, so there can be
    no more regions than output positions along a dim.

    Example:
        >>> canonical_regions("regional_conv", 2, (5, 4))
        (2, 2)
    """
    out_spatial = tuple(out_spatial)
    values = canonical_ints(fn, "regions", regions, len(out_spatial))
    if any(r > o for r, o in zip(values, out_spatial)):
        raise ValueError(f"{fn}: `regions` must be at most the output size in each dim (one "
                         f"region per output position at most), got regions={regions!r} for "
                         f"output shape {out_spatial}.")
    return values


def region_sizes(size: int, regions: int) -> tuple[int, ...]:
    """Block sizes of ``size`` positions split into ``regions`` blocks, as ``numpy.array_split``.

    When ``regions`` does not divide ``size``, the first ``size % regions`` blocks are one larger.

    Example:
        >>> region_sizes(7, 3)
        (3, 2, 2)
    """
    q, r = divmod(size, regions)
    return tuple(q + 1 if j < r else q for j in range(regions))


def region_of_position(size: int, regions: int) -> tuple[int, ...]:
    """The region (block index) of each of ``size`` positions along one dim.

    Example:
        >>> region_of_position(7, 3)
        (0, 0, 0, 1, 1, 2, 2)
    """
    return tuple(j for j, n in enumerate(region_sizes(size, regions)) for _ in range(n))


def regional_kernel_shape(regions, window, in_channels: int, features: int) -> tuple[int, ...]:
    """Kernel shape of a regional convolution: ``(*regions, *window, C, F)``."""
    return (*regions, *window, in_channels, features)
