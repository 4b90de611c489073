"""PyTorch on CPU as a second peer: ``nn.Linear``, ``nn.Conv2d`` and the unfold locally-connected layer.

PyTorch has no locally-connected layer; the workaround its users post (pytorch#499) is
``F.unfold`` followed by a product with one kernel per position, used here. Only 2-D spatial
workloads and only the CPU backend are compared: a CPU PyTorch timed against a JAX accelerator
would say nothing. PyTorch stays optional: :func:`available` is False when it is not installed.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from jaxconv.experiments.bench.workloads import LEARNING_RATE, Workload


def available() -> bool:
    """Whether ``torch`` can be imported (checked without importing it)."""
    return importlib.util.find_spec("torch") is not None


def supports(workload: Workload) -> bool:
    """PyTorch peers exist for dense layers and 2-D conv and locally-connected layers."""
    if workload.layer == "regional":
        return False
    return workload.layer == "dense" or len(workload.input_shape) == 3


def _padding(workload: Workload):
    geom = workload.geometry()
    if geom.circular:
        return None
    return tuple(p for pair in geom.pads for p in pair)


def steps(workload: Workload, kernel, bias, x):
    """``(forward, train)`` callables of no arguments for the PyTorch peer, from jaxconv arrays.

    Args:
        workload: the layer and shapes.
        kernel: jaxconv kernel (dense (C, F), conv (kh, kw, C, F), local (oh, ow, kh, kw, C, F)).
        bias: jaxconv bias ((F,) or (oh, ow, F)).
        x: input of shape (N, *input_shape), channels-last.

    Returns:
        Two callables, or None when PyTorch cannot run this workload (e.g. CIRCULAR padding).
    """
    import torch
    import torch.nn.functional as tf

    if not supports(workload) or (workload.layer != "dense" and _padding(workload) is None):
        return None
    x_np = np.asarray(x)
    if workload.layer == "dense":
        xt = torch.from_numpy(x_np.copy())
        weight = torch.from_numpy(np.asarray(kernel).T.copy())
        params = [weight, torch.from_numpy(np.asarray(bias).copy())]

        def apply(inp):
            return tf.linear(inp, params[0], params[1])
    else:
        xt = torch.from_numpy(np.moveaxis(x_np, -1, 1).copy())  # NCHW
        pads = _padding(workload)
        (top, bottom, left, right) = pads
        geom = workload.geometry()
        if workload.layer == "conv":
            weight = torch.from_numpy(np.transpose(np.asarray(kernel), (3, 2, 0, 1)).copy())
            params = [weight, torch.from_numpy(np.asarray(bias).copy())]

            def apply(inp):
                inp = tf.pad(inp, (left, right, top, bottom))
                return tf.conv2d(inp, params[0], params[1], stride=geom.strides)
        else:
            oh, ow, kh, kw, _, f = np.asarray(kernel).shape
            # unfold orders the patch axis (C, kh, kw); one (C*kh*kw, F) kernel per position.
            weight = np.transpose(np.asarray(kernel), (0, 1, 4, 2, 3, 5)).reshape(oh * ow, -1, f)
            params = [torch.from_numpy(weight.copy()),
                      torch.from_numpy(np.asarray(bias).reshape(oh * ow, f).copy())]

            def apply(inp):
                inp = tf.pad(inp, (left, right, top, bottom))
                cols = tf.unfold(inp, (kh, kw), stride=geom.strides)  # (N, C*kh*kw, P)
                return torch.einsum("nkp,pkf->npf", cols, params[0]) + params[1]

    for p in params:
        p.requires_grad_(True)
    xt.requires_grad_(True)

    def forward():
        with torch.no_grad():
            return apply(xt)

    def train():
        for p in params:
            p.grad = None
        xt.grad = None
        loss = (apply(xt) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.sub_(LEARNING_RATE * p.grad)
        return loss

    return forward, train
