"""The ``dense`` kind: every unit wired to every input, each with its own weight."""

from __future__ import annotations

import math

from jaxconv import names, shapes
from jaxconv.kinds import _reading
from jaxconv.kinds._settings import torch_tensor
from jaxconv.kinds.record import Kind
from jaxconv.validate import check_int, check_shape

__all__ = ["DenseKind"]


class DenseKind(Kind):
    """Fully connected: no locality, no sharing (the lecture's 10^12 weights).

    In a model it maps the flattened input to as many units as a windowed layer of the same
    settings has outputs, reshaped to that layer's ``(H', W', F)``, so pooling and the head are
    the same in every kind; a unit's receptive field is the whole input.
    """

    name = "dense"
    labels = {"en": "Dense (fully connected)", "zh_CN": "全连接"}
    short_labels = {"en": "Dense", "zh_CN": "全连接"}
    weights_hint = {"en": "one tile per unit: its weights over the whole input",
                    "zh_CN": "每个小图是一个神经元对整幅输入的权重"}
    color = "#d62728"
    padding = names.CONV_PADDING  # of the window whose output shape it matches
    sharing = "none"
    whole_input = True
    order = 0
    backward_configs = (dict(x=(3, 4), features=5), dict(x=(2, 3, 4), features=2))
    backward_quick = (1,)  # two batch axes

    def cost(self, input_shape, features, kernel_size=None, *, strides: int | tuple[int, ...] = 1,
             padding=None, dilation=1, groups=1, regions=None, use_bias=True, batch_size=1,
             dtype="float32"):
        """A dense layer's cost. ``input_shape`` ``(in_features,)``: to ``features`` units;
        ``(*spatial, C)`` with a window: the flattened input to ``prod(out_spatial) * features``
        units, the outputs of a windowed layer of the same settings."""
        from jaxconv.costs import counting

        fn = "dense_cost"
        if kernel_size is None or (isinstance(input_shape, (tuple, list)) and len(input_shape) == 1):
            in_features, units = math.prod(check_shape(fn, "input_shape", input_shape)), features
        else:
            spatial, channels = counting.spatial_input(fn, input_shape)
            geom = shapes.geometry(fn, spatial, kernel_size, strides=strides,
                                   padding=self.padding if padding is None else padding,
                                   dilation=dilation, padding_modes=shapes.CONV_PADDING_MODES)
            in_features = math.prod(spatial) * channels
            units = geom.num_positions * check_int(fn, "features", features)
        return counting.dense_cost(in_features, units, use_bias=use_bias, batch_size=batch_size,
                                   dtype=dtype)

    def connect(self, input_shape, *, kernel_size, features=1, hidden=None,
                strides: int | tuple[int, ...] = 1, padding=None, dilation=1, regions=None,
                use_bias=True, batch_size=1, dtype="float32"):
        """Dense from the whole input to ``hidden`` units (an int), or by default to as many
        units as a windowed layer of these settings has outputs."""
        if hidden is None:
            return self.cost(input_shape, features, kernel_size, strides=strides,
                             padding=padding, dilation=dilation, use_bias=use_bias,
                             batch_size=batch_size, dtype=dtype)
        return self.cost((math.prod(input_shape),), hidden, use_bias=use_bias,
                         batch_size=batch_size, dtype=dtype)

    def module_cost(self, module, input_shape, params, dtype):
        from flax import linen as nn
        from flax import nnx

        from jaxconv.costs import counting

        kernel = tuple(params["kernel"].shape)
        if not isinstance(module, (self.linen, self.nnx, nn.Dense, nnx.Linear)) or len(kernel) != 2:
            return None
        return counting.dense_cost(input_shape[-1], kernel[1], use_bias="bias" in params,
                                   batch_size=_reading.batch(input_shape, 1), dtype=dtype)

    def spatial_layer(self, config, features, x, name):
        s = self.model_settings(config, x.shape[1:])
        geom = shapes.geometry("Model", x.shape[1:-1], s["kernel_size"], strides=s["strides"],
                               padding=s["padding"], dilation=s["dilation"])
        out_shape = (*geom.out_spatial, features)
        y = self.linen(math.prod(out_shape), name=name)(x.reshape(x.shape[0], -1))
        return y.reshape(x.shape[0], *out_shape)

    @property
    def op(self):
        from jaxconv.ops import dense

        return dense

    @property
    def linen(self):
        from jaxconv.layers.linen import Dense

        return Dense

    @property
    def nnx(self):
        from jaxconv.layers.nnx import Linear

        return Linear

    @property
    def backward(self):
        from jaxconv.ops.backprop import dense_backward

        return dense_backward

    def apply(self, settings, implementation="auto"):
        op = self.op
        return lambda params, x: op(x, params[0], params[1])

    def flax_peer(self, settings):
        from flax import linen as nn

        return nn.Dense(settings["features"])

    def torch_peer(self, settings, kernel, bias, x):
        """``torch.nn.functional.linear``, whose weight is the kernel transposed ``(F, C)``."""
        import numpy as np
        import torch.nn.functional as tf  # pyright: ignore[reportMissingImports]  # torch: the bench's optional peer

        params = [torch_tensor(np.asarray(kernel).T), torch_tensor(bias)]
        return (lambda inputs, p: tf.linear(inputs, p[0], p[1])), params, torch_tensor(x)
