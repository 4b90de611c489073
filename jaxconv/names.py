"""The library's vocabulary: every name a setting can take, in one module that imports nothing.

The library checks its arguments against these tuples and the command line and the viewer offer
them as choices, so a name is spelt once. Importing this module loads no JAX (a test pins it),
which lets ``jaxconv --help`` and the viewer's window build their menus before JAX has loaded.

Example:
    >>> from jaxconv import names
    >>> names.KINDS
    ('dense', 'local', 'regional', 'conv')
"""

from __future__ import annotations

__all__ = ["COMPUTE_DTYPES", "CONV_PADDING", "CONV_PADDING_MODES", "CPU_LIBRARIES", "DATASET_NAMES",
           "KINDS", "LECTURE_KINDS", "LOCAL_PADDING", "OPTIMIZERS", "PADDING_MODES", "SCHEDULES",
           "WINDOW_SUMS_SCOPE"]

#: The built-in connectivity kinds, from no structure to full structure: ``"regional"`` shares
#: each kernel within regions of the output (its ``regions`` setting), the dial between
#: ``"local"`` (one kernel per position) and ``"conv"`` (one kernel). Each is a record of
#: :mod:`jaxconv.kinds`; ``jaxconv.kinds.names()`` lists these and any registered since.
KINDS = ("dense", "local", "regional", "conv")

#: The lecture's three kinds: what :mod:`jaxconv.experiments` compares and the viewer's columns
#: show unless told otherwise.
LECTURE_KINDS = ("dense", "local", "conv")

#: Default padding of the convolution's op, modules and cost: each output position centred on
#: an input position, so the output keeps the input's size at stride 1 (Flax's ``Conv``).
CONV_PADDING = "SAME"

#: Default padding of the locally-connected and regional ops, modules and costs: only windows
#: that lie inside the input, each position with its own weights (Keras's ``LocallyConnected2D``).
LOCAL_PADDING = "VALID"

#: Named paddings of the ops, modules and models (an int or ``(low, high)`` pairs also work in
#: the ops and modules).
PADDING_MODES = ("SAME", "VALID", "CIRCULAR")

#: Named paddings the conv and locally-connected ops and modules also accept, as Flax's ``Conv``:
#: ``"REFLECT"`` mirrors the input at its edges (centred windows, as ``"CIRCULAR"``); ``"CAUSAL"``
#: (1-D only) pads ``(k - 1) * dilation`` on the low side, so output ``i`` sees inputs ``<= i``.
CONV_PADDING_MODES = (*PADDING_MODES, "REFLECT", "CAUSAL")

#: Optimiser names of :func:`jaxconv.train.make_optimizer` and :class:`jaxconv.train.TrainConfig`.
OPTIMIZERS = ("sgd", "momentum", "adam")

#: Learning-rate schedules of :func:`jaxconv.train.make_optimizer`.
SCHEDULES = ("constant", "cosine", "warmup_cosine")

#: Compute dtypes of :class:`jaxconv.train.TrainConfig` (None: the parameters' float32).
COMPUTE_DTYPES = ("float32", "bfloat16", "float16")

#: Datasets of :func:`jaxconv.data.load` by name, in the order a menu shows them
#: (``jaxconv.data.DATASETS`` describes them, in this order).
DATASET_NAMES = ("digits", "mnist-5k", "mnist", "fashion-mnist", "shifted", "aligned")

#: Where XLA on the CPU runs a program's products, convolutions and reductions
#: (:mod:`jaxconv.backend.xla_cpu`; a test keeps this equal to ``xla_cpu.LIBRARIES``).
CPU_LIBRARIES = ("auto", "xla", "eigen-conv", "eigen-dot", "eigen-reduce", "eigen-conv-dot",
                 "eigen-conv-reduce", "eigen-dot-reduce", "eigen")

#: The ``jax.named_scope`` around the window sums of a locally-connected layer whose windows tile
#: the input (the ``"reshape"`` implementation): a description of the computation, not a backend
#: setting. :mod:`jaxconv.backend.xla_cpu` reads it from a traced program (its ``"auto"`` choice runs such
#: sums in Eigen, measured 4-10x faster there than in YNNPACK).
WINDOW_SUMS_SCOPE = "jaxconv_window_sums"
