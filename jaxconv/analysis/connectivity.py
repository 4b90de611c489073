"""The lecture's table: one input, three ways to connect it to a hidden layer.

Fully connected (every input to every hidden unit), locally connected (each output position sees
one window, with its own weights) and convolutional (each position sees one window, all positions
share one kernel). With a 1000x1000 image, 10x10 windows, stride 1 and "SAME" padding:
10^12, 10^8 and 100 weights.
"""

from __future__ import annotations

import dataclasses
import json
import math

from jaxconv import kinds, shapes
from jaxconv.costs import counting
from jaxconv.costs.table import human_bytes, render, shape_text
from jaxconv.costs.tpu import layer_bytes
from jaxconv.validate import check_int, is_int

__all__ = ["Comparison", "compare_connectivity"]


def _ratio(weights: int, dense: int) -> str:
    if weights == dense:
        return "1"
    if weights and dense % weights == 0:
        return f"1/{dense // weights:,}"
    return f"{weights / dense:.3g}"


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Dense, locally-connected and conv costs for one input; ``str()`` is the table.

    Attributes:
        rows: the :class:`~jaxconv.costs.counting.Cost` objects, one per registered kind
            (:mod:`jaxconv.kinds`) from no structure to full structure: dense, local, conv, and
            regional between local and conv when regions were asked for.
        tpu: whether the table and dict add TPU-padded bytes (see :mod:`jaxconv.costs.tpu`).

    Example:
        >>> table = compare_connectivity((1000, 1000, 1), kernel_size=10)
        >>> table.local.weights, table.ratio_to_dense(table.local)
        (100000000, 0.0001)
    """

    rows: tuple[counting.Cost, ...]
    tpu: bool = False

    def row(self, kind: str) -> counting.Cost | None:
        """The row of kind ``kind`` (a name of :mod:`jaxconv.kinds`), or None if it has none."""
        return next((cost for cost in self.rows if cost.layer == kind), None)

    dense = property(lambda self: self.row("dense"))
    local = property(lambda self: self.row("local"))
    regional = property(lambda self: self.row("regional"))
    conv = property(lambda self: self.row("conv"))

    @property
    def baseline(self) -> counting.Cost:
        """The least structured row (dense, every unit wired to the whole input): the one the
        ratios divide by."""
        return self.rows[0]

    def ratio_to_dense(self, cost: counting.Cost) -> float:
        """``cost.weights / dense.weights``: 1e-4 for the lecture's locally-connected layer."""
        return cost.weights / self.baseline.weights

    def to_dict(self) -> dict:
        """``{"rows": [...]}``: per row every :class:`Cost` field and count, ``bytes`` (the weights'
        bytes, biases left out as in the lecture; ``param_bytes`` has them), ``flops`` (forward),
        ``ratio_to_dense`` (weights) and, with ``tpu``, padded bytes.
        """
        rows = []
        for cost in self.rows:
            row = cost.to_dict()
            row.update(bytes=cost.weight_bytes, flops=cost.forward_flops,
                       ratio_to_dense=self.ratio_to_dense(cost))
            if self.tpu:
                params, acts = layer_bytes(cost)
                row.update(tpu_param_bytes=params.padded, tpu_activation_bytes=acts.padded,
                           tpu_wasteful=params.wasteful or acts.wasteful)
            rows.append(row)
        return {"rows": rows}

    def to_json(self, **kwargs) -> str:
        """JSON text of :meth:`to_dict`; keyword arguments go to ``json.dumps``."""
        return json.dumps(self.to_dict(), **kwargs)

    def __str__(self) -> str:
        headers = ["Connectivity", "Weights", "Weight bytes", "Biases", "Params", "Param bytes",
                   "FLOPs",
                   "Weights vs dense"]
        if self.tpu:
            headers += ["TPU params", "TPU output", "Waste"]
        lines = []
        for cost in self.rows:
            cells = [cost.layer, f"{cost.weights:,}", human_bytes(cost.weight_bytes),
                     f"{cost.biases:,}", f"{cost.params:,}",
                     human_bytes(cost.param_bytes), f"{cost.forward_flops:,}",
                     _ratio(cost.weights, self.baseline.weights)]
            if self.tpu:
                params, acts = layer_bytes(cost)
                flag = " !" if params.wasteful or acts.wasteful else ""
                cells += [human_bytes(params.padded), human_bytes(acts.padded),
                          f"{max(params.waste, acts.waste):.0%}{flag}"]
            lines.append(cells)
        d, c = self.baseline, self.rows[-1]  # no structure, and the most (conv: one window kernel)
        assert c.kernel_shape is not None  # the rows are layers, never a pool
        head = (f"Input {shape_text(c.input_shape)} ({c.dtype}, batch {c.batch_size}) -> output "
                f"{shape_text(c.output_shape)}; kernel {shape_text(c.kernel_shape[:-2])}; dense to "
                f"{d.output_shape[0]:,} hidden units")
        notes = ["Where the numbers come from (bytes in decimal SI units, 1 kB = 1000 B):"]
        for cost in self.rows:
            notes += [f"  {cost.layer} weights: {cost.formula}",
                      f"  {cost.layer} biases:  {cost.bias_formula}",
                      f"  {cost.layer} bytes:   weights * {cost.itemsize} = {cost.weight_bytes:,}; "
                      f"params * {cost.itemsize} = {cost.param_bytes:,}",
                      f"  {cost.layer} FLOPs:   {cost.flops_formula}"]
        if self.tpu:
            notes.append("TPU: minor two dims padded to (8|16|32, 128) tiles; '!' marks more "
                         "than half padding.")
        right = set(range(1, len(headers)))
        return "\n".join([head, render(headers, lines, right=right), *notes])


def compare_connectivity(input_shape, *, kernel_size, strides: int | tuple[int, ...] = 1,
                         padding="SAME", features=1, hidden=None, use_bias=True, batch_size=1,
                         dtype="float32", tpu=False, regions=None) -> Comparison:
    """Costs of connecting ``input_shape`` densely, locally and convolutionally.

    Args:
        input_shape: one example, ``(*spatial, C)`` with 1-3 spatial dims (no batch).
        kernel_size: window of the local and conv layers; int or one per spatial dim.
        strides: int or one per spatial dim.
        padding: "SAME" (default: at stride 1 one output position per input pixel, as in the
            lecture), "VALID", "CIRCULAR", an int, or (low, high) pairs.
        features: output channels of the local and conv layers.
        hidden: hidden units of the dense layer, an int or a shape; defaults to the conv output
            size ``prod(out_spatial) * features``.
        use_bias: whether the layers have biases (counted apart from the weights).
        batch_size: examples per batch, for FLOPs and activation bytes.
        dtype: dtype of parameters and activations.
        tpu: add TPU-padded bytes to the table and dict.
        regions: if given (an int or one per spatial dim), add a regional row between local and
            conv: positions split into that many blocks per dim, one kernel per block
            (:func:`jaxconv.costs.counting.regional_cost`).

    Returns:
        A :class:`Comparison` with a row per registered kind (:mod:`jaxconv.kinds`) that can
        connect this input: dense, local, conv, and regional with ``regions``.

    Example:
        >>> table = compare_connectivity((1000, 1000, 1), kernel_size=10)
        >>> [row.weights for row in table.rows]
        [1000000000000, 100000000, 100]
    """
    fn = "compare_connectivity"
    if not isinstance(tpu, bool):
        raise TypeError(f"{fn}: `tpu` must be True or False, got tpu={tpu!r}.")
    if hidden is None or is_int(hidden):
        units = None if hidden is None else check_int(fn, "hidden", hidden)
    elif isinstance(hidden, (tuple, list)):
        units = math.prod(shapes.canonical_ints(fn, "hidden", hidden, len(hidden)))
    else:
        raise TypeError(f"{fn}: `hidden` must be None, an int or a tuple of ints, got "
                        f"hidden={hidden!r}.")
    spatial, _ = counting.spatial_input(fn, input_shape)  # checked once, for every kind
    shapes.geometry(fn, spatial, kernel_size, strides=strides, padding=padding,
                    padding_modes=shapes.CONV_PADDING_MODES)
    rows = []
    try:
        for kind in kinds.registered():
            row = kind.connect(input_shape, kernel_size=kernel_size, features=features,
                               hidden=units, strides=strides, padding=padding, regions=regions,
                               use_bias=use_bias, batch_size=batch_size, dtype=dtype)
            if row is not None:
                rows.append(row)
    except (ValueError, TypeError) as err:
        raise type(err)(f"{fn}: {err}") from None
    return Comparison(tuple(rows), tpu)
