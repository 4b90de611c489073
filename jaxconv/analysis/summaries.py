"""``jaxconv.summary``: a per-layer table of a Flax model's parameters, bytes and FLOPs.

The model runs on abstract values only (``jax.eval_shape``), so a model holding a dense layer with
10^12 weights summarises in milliseconds without allocating it. Parameter counts come from the
variables the model creates, so they are right for any Flax model; FLOPs and formulas come from
:mod:`jaxconv.costs.counting` for the layers a kind knows (:meth:`jaxconv.kinds.Kind.module_cost`:
jaxconv's modules of every kind, and Flax's ``Dense``, ``Conv``, ``nnx.Linear`` and
``nnx.Conv``). Parameters are the ``params`` collection (linen) or ``nnx.Param`` variables
(NNX); a leaf named ``bias`` counts as a bias, every other leaf as a weight.
"""

from __future__ import annotations

import dataclasses
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from jaxconv import kinds
from jaxconv.analysis import _trace
from jaxconv.costs import counting
from jaxconv.costs.table import human_bytes, render, shape_text
from jaxconv.costs.tpu import TpuBytes, padded_bytes
from jaxconv.validate import check_int, is_int

__all__ = ["Row", "Summary", "summary"]


@dataclasses.dataclass(frozen=True)
class Row:
    """One layer call in a :class:`Summary`; shapes include the batch.

    Attributes:
        name: the module's path in the model, ``"/"``-joined (``"(model)"`` for the root).
        layer: the kind of a counted layer (``"dense"``, ``"conv"``, ...: a name of
            :mod:`jaxconv.kinds`), or the class name of a layer not counted.
        module: the module's class name.
        input_shape: shape of the call's first argument, or None.
        output_shape: shape of the call's output, or None.
        weights: kernel (non-bias) parameter count; 0 for a repeated call of a shared module.
        biases: bias parameter count.
        param_bytes: bytes of those parameters in their own dtypes.
        activation_bytes: bytes of the output.
        flops: forward FLOPs of the call over the batch, or None where not counted.
        formula: where ``weights`` came from.
        cost: the full :class:`~jaxconv.costs.counting.Cost` when the layer is known, else None.
        param_tpu: logical and TPU-padded parameter bytes (``tpu=True`` only).
        activation_tpu: logical and TPU-padded output bytes (``tpu=True`` only).
    """

    name: str
    layer: str
    module: str
    input_shape: tuple[int, ...] | None
    output_shape: tuple[int, ...] | None
    weights: int
    biases: int
    param_bytes: int
    activation_bytes: int
    flops: int | None
    formula: str
    cost: counting.Cost | None = None
    param_tpu: TpuBytes | None = None
    activation_tpu: TpuBytes | None = None

    @property
    def params(self) -> int:
        """Weights plus biases."""
        return self.weights + self.biases

    def to_dict(self) -> dict:
        """Plain JSON-ready dict of every field (``cost`` and TPU bytes as nested dicts)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for key in ("input_shape", "output_shape"):
            out[key] = None if out[key] is None else list(out[key])
        out["cost"] = None if self.cost is None else self.cost.to_dict()
        for key in ("param_tpu", "activation_tpu"):
            value = out[key]
            out[key] = None if value is None else {
                "logical": value.logical, "padded": value.padded, "wasteful": value.wasteful}
        out["params"] = self.params
        return out


@dataclasses.dataclass(frozen=True)
class Summary:
    """A model's layer-by-layer cost; ``str(summary)`` is an aligned table.

    Attributes:
        rows: one :class:`Row` per layer call, in call order.
        input_shape: one example's input shape (no batch).
        batch_size: examples per batch used for FLOPs and activations.
        dtype: the input's dtype.
        tpu: whether rows carry TPU-padded byte counts.

    Example:
        >>> s = jaxconv.summary(jaxconv.layers.linen.Dense(10), (5,))
        >>> s.total_weights, s.total_biases, s.rows[0].formula
        (50, 10, 'in * out = 5 * 10 = 50')
    """

    rows: tuple[Row, ...]
    input_shape: tuple[int, ...]
    batch_size: int
    dtype: str
    tpu: bool = False

    @property
    def total_weights(self) -> int:
        """Kernel (non-bias) parameters of the whole model."""
        return sum(r.weights for r in self.rows)

    @property
    def total_biases(self) -> int:
        """Bias parameters of the whole model."""
        return sum(r.biases for r in self.rows)

    @property
    def total_params(self) -> int:
        """All parameters: ``total_weights + total_biases``."""
        return sum(r.params for r in self.rows)

    @property
    def total_param_bytes(self) -> int:
        """Bytes of all parameters, each in its own dtype."""
        return sum(r.param_bytes for r in self.rows)

    @property
    def total_activation_bytes(self) -> int:
        """Bytes of all rows' outputs: about what a training step keeps for the backward pass."""
        return sum(r.activation_bytes for r in self.rows)

    @property
    def total_flops(self) -> int:
        """Forward FLOPs of the rows that have a count (see :attr:`uncounted`)."""
        return sum(r.flops for r in self.rows if r.flops is not None)

    @property
    def uncounted(self) -> tuple[str, ...]:
        """Names of rows whose FLOPs are not counted (layers jaxconv does not know)."""
        return tuple(r.name for r in self.rows if r.flops is None)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict: settings, rows and totals (ints stay exact ints)."""
        return {
            "input_shape": list(self.input_shape), "batch_size": self.batch_size,
            "dtype": self.dtype, "rows": [r.to_dict() for r in self.rows],
            "total_weights": self.total_weights, "total_biases": self.total_biases,
            "total_params": self.total_params, "total_param_bytes": self.total_param_bytes,
            "total_activation_bytes": self.total_activation_bytes,
            "total_flops": self.total_flops, "uncounted": list(self.uncounted),
        }

    def to_json(self, **kwargs) -> str:
        """JSON text of :meth:`to_dict`; keyword arguments go to ``json.dumps``."""
        return json.dumps(self.to_dict(), **kwargs)

    def __str__(self) -> str:
        headers = ["Layer", "Kind", "Output shape", "Weights", "Biases", "Params", "Param bytes",
                   "FLOPs"]
        if self.tpu:
            headers += ["TPU params", "TPU output", "Waste"]
        lines = []
        for r in self.rows:
            cells = [r.name, r.layer, shape_text(r.output_shape), f"{r.weights:,}",
                     f"{r.biases:,}", f"{r.params:,}", human_bytes(r.param_bytes),
                     "?" if r.flops is None else f"{r.flops:,}"]
            if self.tpu:
                assert r.param_tpu is not None and r.activation_tpu is not None  # tpu=True sets both
                waste = max(r.param_tpu.waste, r.activation_tpu.waste)
                flag = " !" if r.param_tpu.wasteful or r.activation_tpu.wasteful else ""
                cells += [human_bytes(r.param_tpu.padded), human_bytes(r.activation_tpu.padded),
                          f"{waste:.0%}{flag}"]
            lines.append(cells)
        table = render(headers, lines, right=set(range(3, len(headers))))
        foot = [
            f"Total params: {self.total_params:,} ({human_bytes(self.total_param_bytes)}): "
            f"{self.total_weights:,} weights + {self.total_biases:,} biases",
            f"Forward FLOPs (batch {self.batch_size}): {self.total_flops:,}"
            + (f" (not counted: {', '.join(self.uncounted)})" if self.uncounted else ""),
            f"Output activations: {human_bytes(self.total_activation_bytes)} (bytes in decimal SI "
            "units: 1 kB = 1000 B)",
        ]
        if self.tpu:
            foot.append("TPU: minor two dims padded to (8|16|32, 128) tiles; '!' marks a layer "
                        "where padding takes more than half the memory.")
        formulas = [f"  {r.name}: {r.formula}" for r in self.rows]
        return "\n".join([table, "-" * len(table.splitlines()[1]), *foot, "Weights:", *formulas])


def _own_bytes(leaves) -> tuple[int, int]:
    """``(logical, TPU-padded)`` bytes of a module's own parameter leaves."""
    logical = sum(math.prod(a.shape) * np.dtype(a.dtype).itemsize for a in leaves)
    return logical, sum(padded_bytes(tuple(a.shape), a.dtype) for a in leaves)


def layer_cost(module, input_shape, params, dtype) -> counting.Cost | None:
    """The cost of one call of ``module`` by the kind whose layer it is, or None.

    Every registered kind is asked (:meth:`jaxconv.kinds.Kind.module_cost`). When several claim
    the module (a registered depthwise kind and conv, whose class it extends, both read a
    ``Conv``), the most specific one counts it: a claimant whose class is a subclass of every
    other claimant's. A setting the counters do not take (Flax's ``"CAUSAL"`` padding, say)
    leaves the parameters counted and the FLOPs unknown.
    """
    if params.get("kernel") is None or input_shape is None:
        return None
    claims = []
    for kind in kinds.registered():
        try:
            cost = kind.module_cost(module, input_shape, params, dtype)
        except (ValueError, TypeError):
            return None
        if cost is not None:
            claims.append((kind, cost))
    for kind, cost in claims:
        if all(isinstance(kind, type(other)) for other, _ in claims):
            return cost
    return claims[0][1] if claims else None


def agrees(cost: counting.Cost, output_shape, params) -> bool:
    """Whether ``cost`` matches the output and parameter shapes the model actually produced."""
    if output_shape is None or tuple(output_shape[-len(cost.output_shape):]) != cost.output_shape:
        return False
    bias = params.get("bias")
    return (tuple(params["kernel"].shape) == cost.kernel_shape
            and (None if bias is None else tuple(bias.shape)) == cost.bias_shape)


def _row(name, call, owned, first, dtype, tpu) -> Row:
    module_name = "-" if call is None else type(call.module).__name__
    cost = None
    if call is not None:
        cost = layer_cost(call.module, call.input_shape, owned, dtype)
        if cost is not None and not agrees(cost, call.output_shape, owned):
            cost = None
    leaves = list(owned.values()) if first else []
    biases = sum(math.prod(a.shape) for k, a in owned.items() if k == "bias") if first else 0
    weights = sum(math.prod(a.shape) for a in leaves) - biases
    logical, padded = _own_bytes(leaves)
    out_shape = None if call is None else call.output_shape
    out_dtype = dtype if call is None or call.output_dtype is None else call.output_dtype
    act = 0 if out_shape is None else math.prod(out_shape) * np.dtype(out_dtype).itemsize
    if not first:
        formula = "shares the parameters of its first call"
    elif cost is not None:
        formula = cost.formula
    else:
        formula = " + ".join(f"{k} {shape_text(a.shape)}" for k, a in owned.items()) or "-"
    if call is None:  # created but never called: it holds memory and does no arithmetic
        layer, flops = "not called", 0
    else:
        layer, flops = (cost.layer, cost.forward_flops) if cost else (module_name, None)
    return Row(
        name=name, layer=layer, module=module_name,
        input_shape=None if call is None else call.input_shape, output_shape=out_shape,
        weights=weights, biases=biases, param_bytes=logical, activation_bytes=act,
        flops=flops, formula=formula, cost=cost,
        param_tpu=TpuBytes(logical, padded) if tpu else None,
        activation_tpu=(TpuBytes(act, 0 if out_shape is None else padded_bytes(out_shape,
                        out_dtype)) if tpu else None),
    )


def summary(model, input_shape, *, batch_size=1, dtype="float32", tpu=False) -> Summary:
    """Counts a Flax model layer by layer on abstract values, allocating no parameters.

    Args:
        model: a linen ``Module``; an NNX ``Module`` instance; or an NNX constructor
            ``lambda rngs: Model(..., rngs=rngs)``, which is built abstractly (``nnx.eval_shape``)
            so even a model too large for memory can be summarised.
        input_shape: one example's input shape, without the batch, e.g. ``(28, 28, 1)``.
        batch_size: examples per batch; the model is called on ``(batch_size, *input_shape)``.
        dtype: dtype of the input.
        tpu: also count bytes with the TPU's tile padding (see :mod:`jaxconv.costs.tpu`).

    Returns:
        A :class:`Summary`; ``print`` it for the table.

    Example:
        >>> class Big(flax.linen.Module):
        ...     @flax.linen.compact
        ...     def __call__(self, x):
        ...         return jaxconv.layers.linen.Dense(10**6)(x)
        >>> jaxconv.summary(Big(), (10**6,)).total_params
        1000001000000
    """
    fn = "summary"
    if isinstance(input_shape, (str, bytes)) or not hasattr(input_shape, "__len__") or not all(
            is_int(v) for v in input_shape):
        raise TypeError(f"{fn}: `input_shape` must be a tuple of ints (one example, no batch), "
                        f"got input_shape={input_shape!r}.")
    dims = tuple(int(v) for v in input_shape)
    if not dims or any(v < 1 for v in dims):
        raise ValueError(f"{fn}: `input_shape` must be non-empty and positive (one example, no "
                         f"batch), got input_shape={dims}.")
    n = check_int(fn, "batch_size", batch_size)
    name, _ = counting.itemsize(fn, dtype)
    if not isinstance(tpu, bool):
        raise TypeError(f"{fn}: `tpu` must be True or False, got tpu={tpu!r}.")
    x = jax.ShapeDtypeStruct((n, *dims), jnp.dtype(name))
    if isinstance(model, nn.Module):
        calls, params = _trace.trace_linen(model, x)
    else:
        calls, params = _trace.trace_nnx(_trace.abstract_nnx(fn, model), x)
    rows, seen = [], {}
    for call in calls:
        owned = params.get(call.path, {})
        count = seen.get(call.path, 0)
        if not owned:  # containers and parameter-free layers own nothing to count
            continue
        seen[call.path] = count + 1
        label = "/".join(call.path) or "(model)"
        rows.append(_row(label if not count else f"{label} (call {count + 1})", call, owned,
                         not count, name, tpu))
    for path, owned in params.items():  # parameters of modules that were never called
        if path not in seen:
            rows.append(_row("/".join(path) or "(model)", None, owned, True, name, tpu))
    return Summary(tuple(rows), dims, n, name, tpu)
