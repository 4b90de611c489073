"""PyTorch on CPU as a second peer: what every kind's peer shares (availability, the steps timed).

Each kind's record says what its PyTorch peer is (:meth:`jaxconv.kinds.Kind.torch_peer`: dense
``F.linear``, conv ``F.conv{1,2,3}d``, the locally-connected layer ``F.unfold`` and a product with
one kernel per position, as pytorch#499 posts; regional: none). Only the CPU backend is compared:
a CPU PyTorch timed against a JAX accelerator would say nothing. PyTorch stays optional:
:func:`available` is False when it is not installed.
"""

from __future__ import annotations

import importlib.util

from jaxconv.experiments.bench.workloads import LEARNING_RATE, Workload, peer_settings


def available() -> bool:
    """Whether ``torch`` can be imported (checked without importing it)."""
    return importlib.util.find_spec("torch") is not None


def steps(workload: Workload, kernel, bias, x):
    """``(forward, train)`` callables of no arguments for the PyTorch peer, from jaxconv arrays.

    Args:
        workload: the layer and shapes; its kind's record builds the peer.
        kernel: jaxconv kernel, in the shape the kind's cost gives.
        bias: jaxconv bias, likewise.
        x: input of shape (N, *input_shape), channels-last.

    Returns:
        Two callables, or None when PyTorch cannot run this workload (e.g. CIRCULAR padding, a
        regional layer).
    """
    import torch  # pyright: ignore[reportMissingImports]  # torch: the bench's optional peer

    peer = workload.kind.torch_peer(peer_settings(workload), kernel, bias, x)
    if peer is None:
        return None
    apply, params, inputs = peer
    for p in params:
        p.requires_grad_(True)
    inputs.requires_grad_(True)

    def forward():
        with torch.no_grad():
            return apply(inputs, params)

    def train():
        for p in params:
            p.grad = None
        inputs.grad = None
        loss = (apply(inputs, params) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.sub_(LEARNING_RATE * p.grad)
        return loss

    return forward, train
