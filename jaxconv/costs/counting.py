"""What a layer costs, counted from its settings alone: parameters, FLOPs and bytes.

Every number is a Python int computed with :mod:`jaxconv.shapes`, never from an array, so the
counters answer "what would this cost?" for layers no machine could hold: a dense layer from a
1000x1000 image to 10^6 hidden units has exactly ``10**12`` weights.

Conventions:

* ``input_shape`` excludes the batch: ``(in_features,)`` for dense, ``(*spatial, C)`` with 1-3
  spatial dims for conv, locally-connected and pooling layers; ``batch_size`` is separate.
* Weights and biases are kept apart. The lecture counts weights only; Flax and Keras give a
  locally-connected layer one bias per output position and feature, ``(*out_spatial, F)``.
* FLOPs count 2 per multiply-add and 1 per bias add, as XLA's cost analysis does. Window taps that
  land on zero padding are not counted (XLA skips them for ``conv_general_dilated`` too); with
  ``"CIRCULAR"`` padding every tap reads a real input value and counts. Pools count what
  ``lax.reduce_window`` does: ``window - 1`` comparisons (max) or ``window - 1`` adds and one
  divide (average) per output value, padding included.
* Training FLOPs are ``3 *`` forward: the backward pass of a layer with weights is two products of
  the forward's size (gradient with respect to the input and to the weights). The rule is applied
  to every layer, pools included, and to the first layer, whose input gradient a framework may skip.
"""

from __future__ import annotations

import dataclasses
import math

from jaxconv import names, shapes
from jaxconv.costs._count_args import itemsize, real_taps, spatial_input
from jaxconv.costs.layouts import Params, conv_params, local_params, regional_params
from jaxconv.validate import check_bool, check_choice, check_int

__all__ = [
    "Cost", "Params", "conv_cost", "conv_params", "dense_cost", "itemsize", "local_cost",
    "local_params", "pool_cost", "real_taps", "regional_cost", "regional_params", "spatial_input",
    "windowed_cost",
]

TRAIN_FACTOR = 3


def _n(value: int) -> str:
    return f"{value:,}"  # the same grouping as the layouts' formulas


@dataclasses.dataclass(frozen=True)
class Cost:
    """The cost of one layer, every count an exact Python int.

    Attributes:
        layer: ``"dense"``, ``"conv"``, ``"local"``, ``"max_pool"`` or ``"avg_pool"``.
        input_shape: one example's input, ``(in_features,)`` or ``(*spatial, C)``.
        output_shape: one example's output, ``(out_features,)`` or ``(*out_spatial, F)``.
        kernel_shape: shape of the kernel, or None for a pool.
        bias_shape: shape of the bias, or None without one.
        weights: number of kernel entries.
        biases: number of bias entries.
        forward_flops: FLOPs of one forward pass over the batch.
        batch_size: examples per batch, used by the FLOP and activation counts.
        dtype: name of the dtype of parameters and activations.
        itemsize: bytes per value of ``dtype``.
        patch_bytes: bytes of the patches ``(N, positions, window * C)`` that an implementation
            materialising them (im2col) would hold; 0 for dense layers and pools.
        formula: how ``weights`` was computed, e.g. ``"in * out = 3 * 4 = 12"``.
        bias_formula: how ``biases`` was computed.
        flops_formula: how ``forward_flops`` was computed.

    Example:
        >>> cost = conv_cost((28, 28, 1), 8, 3)
        >>> cost.weights, cost.biases, cost.output_shape
        (72, 8, (28, 28, 8))
    """

    layer: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    kernel_shape: tuple[int, ...] | None
    bias_shape: tuple[int, ...] | None
    weights: int
    biases: int
    forward_flops: int
    batch_size: int
    dtype: str
    itemsize: int
    patch_bytes: int
    formula: str
    bias_formula: str
    flops_formula: str

    @property
    def params(self) -> int:
        """Weights plus biases."""
        return self.weights + self.biases

    @property
    def weight_bytes(self) -> int:
        """Bytes of the weights alone in ``dtype`` (the lecture's number: biases left out)."""
        return self.weights * self.itemsize

    @property
    def param_bytes(self) -> int:
        """Bytes of all parameters in ``dtype``."""
        return self.params * self.itemsize

    @property
    def activation_bytes(self) -> int:
        """Bytes of the batch's output activations ``(N, *output_shape)`` in ``dtype``."""
        return self.batch_size * math.prod(self.output_shape) * self.itemsize

    @property
    def train_flops(self) -> int:
        """FLOPs of one forward and backward pass: ``3 * forward_flops`` (see module docstring)."""
        return TRAIN_FACTOR * self.forward_flops

    def to_dict(self) -> dict:
        """Plain JSON-ready dict of every field and derived count (ints stay exact ints)."""
        out = dataclasses.asdict(self)
        for key in ("input_shape", "output_shape", "kernel_shape", "bias_shape"):
            out[key] = None if out[key] is None else list(out[key])
        out.update(params=self.params, weight_bytes=self.weight_bytes, param_bytes=self.param_bytes,
                   activation_bytes=self.activation_bytes, train_flops=self.train_flops)
        return out


def _taps_text(geom: shapes.Geometry, taps: int) -> str:
    every = geom.num_positions * geom.window_size
    if taps == every:
        return f"taps = positions * window = {_n(geom.num_positions)} * {_n(geom.window_size)}"
    return (f"taps = positions * window - taps on padding = {_n(geom.num_positions)} * "
            f"{_n(geom.window_size)} - {_n(every - taps)}")


def dense_cost(in_features, out_features, *, use_bias=True, batch_size=1, dtype="float32") -> Cost:
    """Cost of a fully-connected layer, kernel ``(in_features, out_features)``.

    Args:
        in_features: inputs per example, e.g. ``10**6`` for a flattened 1000x1000 image.
        out_features: hidden units.
        use_bias: whether the layer has a bias of shape ``(out_features,)``.
        batch_size: examples per batch ``N``, for FLOPs and activation bytes.
        dtype: dtype of parameters and activations.

    Returns:
        The layer's :class:`Cost`; input shape ``(in_features,)``, output ``(out_features,)``.

    Example:
        >>> dense_cost(10**6, 10**6).weights
        1000000000000
    """
    fn = "dense_cost"
    cin = check_int(fn, "in_features", in_features)
    cout = check_int(fn, "out_features", out_features)
    use_bias = check_bool(fn, "use_bias", use_bias)
    n = check_int(fn, "batch_size", batch_size)
    name, size = itemsize(fn, dtype)
    weights, biases = cin * cout, cout if use_bias else 0
    flops = 2 * n * cin * cout + (n * cout if use_bias else 0)
    bias_text = f" + N * out (bias) = 2 * {_n(n)} * {_n(cin)} * {_n(cout)} + {_n(n)} * {_n(cout)}"
    return Cost(
        layer="dense", input_shape=(cin,), output_shape=(cout,), kernel_shape=(cin, cout),
        bias_shape=(cout,) if use_bias else None, weights=weights, biases=biases,
        forward_flops=flops, batch_size=n, dtype=name, itemsize=size, patch_bytes=0,
        formula=f"in * out = {_n(cin)} * {_n(cout)} = {_n(weights)}",
        bias_formula=f"out = {_n(cout)}" if use_bias else "no bias",
        flops_formula=("2 * N * in * out" + (bias_text if use_bias else
                       f" = 2 * {_n(n)} * {_n(cin)} * {_n(cout)}") + f" = {_n(flops)}"),
    )


def windowed_cost(fn: str, layer: str, layout, input_shape, features, kernel_size, *, strides=1,
                  padding="VALID", dilation=1, groups=1, use_bias=True, batch_size=1,
                  dtype="float32", regions=None) -> Cost:
    """Cost of a layer whose units each read one window of the input (conv, local, regional...).

    FLOPs are the same for every such layer (``2 * N * taps * C/groups * F`` plus the bias);
    the parameters are the kind's: ``layout(fn, geom, C, F, groups, regions)`` returns its
    :class:`Params` (:func:`conv_params`, :func:`local_params`, :func:`regional_params`, or a
    new kind's own). ``input_shape``, ``features``, ``kernel_size``, ``strides``, ``padding``,
    ``dilation``, ``groups``, ``use_bias``, ``batch_size`` and ``dtype`` are
    :func:`conv_cost`'s.

    Args:
        fn: the public function's name, for error messages.
        layer: the kind's name, the ``Cost.layer`` of the result.
        layout: the kind's parameter layout, as :func:`conv_params`.
        regions: regions per dim, for a layout that takes them.
    """
    spatial, channels = spatial_input(fn, input_shape)
    features = check_int(fn, "features", features)
    groups = shapes.check_groups(fn, groups, channels, features)
    use_bias = check_bool(fn, "use_bias", use_bias)
    n = check_int(fn, "batch_size", batch_size)
    name, size = itemsize(fn, dtype)
    geom = shapes.geometry(fn, spatial, kernel_size, strides=strides, padding=padding,
                           dilation=dilation, padding_modes=shapes.CONV_PADDING_MODES,
                           negative_padding=True)  # crops, as in the ops
    params = layout(fn, geom, channels, features, groups, regions)
    positions, window = geom.num_positions, geom.window_size
    taps = real_taps(geom)
    flops = (2 * n * taps * (channels // groups) * features
             + (n * positions * features if use_bias else 0))
    flops_text = (f"2 * N * taps * {params.channels_text} * F"
                  + (" + N * positions * F (bias)" if use_bias else "")
                  + f" = {_n(flops)}; {_taps_text(geom, taps)}")
    return Cost(
        layer=layer, input_shape=(*spatial, channels), output_shape=(*geom.out_spatial, features),
        kernel_shape=params.kernel, bias_shape=params.bias if use_bias else None,
        weights=math.prod(params.kernel), biases=math.prod(params.bias) if use_bias else 0,
        forward_flops=flops, batch_size=n, dtype=name, itemsize=size,
        patch_bytes=n * positions * window * channels * size, formula=params.formula,
        bias_formula=params.bias_formula if use_bias else "no bias", flops_formula=flops_text,
    )


def conv_cost(input_shape, features, kernel_size, *, strides=1, padding=names.CONV_PADDING, dilation=1,
              groups=1, use_bias=True, batch_size=1, dtype="float32") -> Cost:
    """Cost of a convolution with one shared kernel ``(*window, C // groups, F)``.

    Args:
        input_shape: one example, ``(*spatial, C)`` with 1-3 spatial dims (no batch).
        features: output channels ``F``.
        kernel_size: window, an int or one int per spatial dim.
        strides: int or one per spatial dim.
        padding: default ``names.CONV_PADDING`` ("SAME"); "VALID", "CIRCULAR", "REFLECT",
            "CAUSAL" (1-D), an int, or (low, high) pairs.
        dilation: int or one per spatial dim.
        groups: channel groups (``C`` for depthwise).
        use_bias: whether the layer has a bias of shape ``(F,)``.
        batch_size: examples per batch ``N``.
        dtype: dtype of parameters and activations.

    Returns:
        The layer's :class:`Cost`, output shape ``(*out_spatial, F)``.

    Example:
        >>> conv_cost((1000, 1000, 1), 1, 10).weights
        100
    """
    return windowed_cost("conv_cost", "conv", conv_params, input_shape, features, kernel_size,
                         strides=strides, padding=padding, dilation=dilation, groups=groups,
                         use_bias=use_bias, batch_size=batch_size, dtype=dtype)


def local_cost(input_shape, features, kernel_size, *, strides=1, padding=names.LOCAL_PADDING, dilation=1,
               use_bias=True, batch_size=1, dtype="float32") -> Cost:
    """Cost of a locally-connected layer, kernel ``(*out_spatial, *window, C, F)``.

    Arguments as :func:`conv_cost` (no groups); the bias is ``(*out_spatial, F)``, one per position
    and feature, as in Flax and Keras. The default padding is ``names.LOCAL_PADDING`` ("VALID"), as the layer's.

    Example:
        >>> local_cost((1000, 1000, 1), 1, 10, padding="SAME").weights
        100000000
    """
    return windowed_cost("local_cost", "local", local_params, input_shape, features, kernel_size,
                         strides=strides, padding=padding, dilation=dilation, use_bias=use_bias,
                         batch_size=batch_size, dtype=dtype)


def regional_cost(input_shape, features, kernel_size, *, regions, strides=1,
                  padding=names.LOCAL_PADDING, dilation=1, use_bias=True, batch_size=1, dtype="float32") -> Cost:
    """Cost of a regional convolution, kernel ``(*regions, *window, C, F)``.

    Arguments as :func:`local_cost`, plus ``regions`` (an int or one per spatial dim, at most the
    output size): the positions of one region share a kernel, so the weights are the
    convolution's times ``prod(regions)`` and the FLOPs are the locally-connected layer's. The
    bias is ``(*regions, F)``.

    Example:
        >>> regional_cost((1000, 1000, 1), 1, 10, regions=10, padding="SAME").weights
        10000
    """
    return windowed_cost("regional_cost", "regional", regional_params, input_shape, features,
                         kernel_size, strides=strides, padding=padding, dilation=dilation,
                         use_bias=use_bias, batch_size=batch_size, dtype=dtype, regions=regions)


def pool_cost(input_shape, window, *, kind="max", strides=None, padding="VALID", batch_size=1,
              dtype="float32") -> Cost:
    """Cost of max or average pooling: no parameters, ``window - 1`` (max) or ``window`` FLOPs.

    Args:
        input_shape: one example, ``(*spatial, C)`` with 1-3 spatial dims (no batch).
        window: int or one int per spatial dim.
        kind: ``"max"`` or ``"avg"``.
        strides: int or one per spatial dim; defaults to ``window``.
        padding: "VALID", "SAME", "CIRCULAR", an int, or (low, high) pairs.
        batch_size: examples per batch ``N``.
        dtype: dtype of the activations.

    Example:
        >>> pool_cost((4, 4, 3), 2).output_shape
        (2, 2, 3)
    """
    fn = "pool_cost"
    kind = check_choice(fn, "kind", kind, ("max", "avg"))
    spatial, channels = spatial_input(fn, input_shape)
    n = check_int(fn, "batch_size", batch_size)
    name, size = itemsize(fn, dtype)
    geom = shapes.geometry(fn, spatial, window, strides=window if strides is None else strides,
                           padding=padding, window_name="window")
    outputs = n * geom.num_positions * channels
    per = geom.window_size - 1 if kind == "max" else geom.window_size
    what = "(window - 1) comparisons" if kind == "max" else "window (adds and a divide)"
    return Cost(
        layer=f"{kind}_pool", input_shape=(*spatial, channels),
        output_shape=(*geom.out_spatial, channels), kernel_shape=None, bias_shape=None, weights=0,
        biases=0, forward_flops=outputs * per, batch_size=n, dtype=name, itemsize=size,
        patch_bytes=0, formula="no parameters", bias_formula="no bias",
        flops_formula=(f"N * positions * C * {what} = {_n(n)} * {_n(geom.num_positions)} * "
                       f"{_n(channels)} * {_n(per)} = {_n(outputs * per)}"),
    )
