"""The ``conv`` kind: every position reads one window, all positions share one kernel."""

from __future__ import annotations

from jaxconv import names, shapes
from jaxconv.kinds import _reading
from jaxconv.kinds._settings import (
    geometry,
    op_settings,
    torch_channels_first,
    torch_pads,
    torch_tensor,
)
from jaxconv.kinds.record import Kind

__all__ = ["ConvKind"]


class ConvKind(Kind):
    """Convolution: local and shared, ``prod(window) * C * F`` weights whatever the input size
    (the lecture's 100 weights); what is learnt at one position works at every other."""

    name = "conv"
    labels = {"en": "Convolution", "zh_CN": "卷积"}
    short_labels = {"en": "Conv", "zh_CN": "卷积"}
    weights_hint = {"en": "rows: output channels, columns: input channels; one filter, shared "
                          "everywhere",
                    "zh_CN": "行：输出通道，列：输入通道；一个滤波器，处处共享"}
    color = "#1f77b4"
    padding = names.CONV_PADDING
    sharing = "all"
    order = 30
    # 1-3 spatial dims, strides, dilation, groups (incl. depthwise), SAME/VALID/CIRCULAR and
    # explicit padding (also wider than the window), a wrapped window as wide as the input.
    backward_configs = (
        dict(x=(2, 7, 3), window=(3,), features=4, padding="SAME"),
        dict(x=(1, 8, 2), window=(3,), features=2, strides=2, padding="VALID", dilation=2),
        dict(x=(1, 5, 2), window=(3,), features=2, strides=2, padding=((4, 1),)),
        dict(x=(1, 3, 1), window=(3,), features=1, padding="CIRCULAR"),
        dict(x=(2, 6, 6, 3), window=(3, 3), features=4, strides=2, padding="SAME"),
        dict(x=(1, 7, 6, 2), window=(3, 2), features=4, strides=(2, 1), dilation=(1, 2),
             padding=((1, 2), (0, 1))),
        dict(x=(1, 6, 6, 4), window=(3, 3), features=6, strides=2, padding="CIRCULAR", groups=2),
        dict(x=(1, 5, 5, 3), window=(3, 3), features=3, padding="CIRCULAR", dilation=2, groups=3),
        dict(x=(1, 4, 4, 4, 2), window=(2, 2, 2), features=3, strides=2, padding="SAME"),
        dict(x=(1, 4, 5, 3, 2), window=(3, 2, 2), features=2, padding="CIRCULAR",
             dilation=(1, 2, 1)),
    )
    backward_quick = (2, 6)  # padding wider than the window; strided grouped CIRCULAR

    def cost(self, input_shape, features, kernel_size, *, strides=1, padding=None, dilation=1,
             groups=1, regions=None, use_bias=True, batch_size=1, dtype="float32"):
        from jaxconv.costs import counting

        # Labelled with this kind's name: a subclass (a registered kind) counts as itself.
        return counting.windowed_cost(
            f"{self.name}_cost", self.name, counting.conv_params, input_shape, features,
            kernel_size, strides=strides, padding=self.padding if padding is None else padding,
            dilation=dilation, groups=groups, use_bias=use_bias, batch_size=batch_size, dtype=dtype)

    def module_cost(self, module, input_shape, params, dtype):
        from flax import linen as nn
        from flax import nnx

        if not isinstance(module, (self.linen, self.nnx, nn.Conv, nnx.Conv)):
            return None
        call = _reading.windowed(module, input_shape, tuple(params["kernel"].shape),
                                 window_first=True)
        if call is None:
            return None
        example, window, batch = call
        settings = self.claims(example, kernel_size=window,
                               strides=shapes.none_as_one(module.strides), padding=module.padding,
                               dilation=shapes.none_as_one(module.kernel_dilation),
                               groups=module.feature_group_count)
        if settings is None:
            return None
        return self.cost(example, params["kernel"].shape[-1], **settings,
                         use_bias="bias" in params, batch_size=batch, dtype=dtype)

    def spatial_layer(self, config, features, x, name):
        s = self.model_settings(config, x.shape[1:])
        return self.linen(features, s["kernel_size"], strides=s["strides"], padding=s["padding"],
                          kernel_dilation=s["dilation"], feature_group_count=s["groups"],
                          name=name)(x)

    @property
    def op(self):
        from jaxconv.ops import conv

        return conv

    @property
    def linen(self):
        from jaxconv.layers.linen import Conv

        return Conv

    @property
    def nnx(self):
        from jaxconv.layers.nnx import Conv

        return Conv

    @property
    def backward(self):
        from jaxconv.ops.backprop import conv_backward

        return conv_backward

    def apply(self, settings, implementation="auto"):
        op, kw = self.op, op_settings(settings, "strides", "padding", "dilation", "groups")
        return lambda params, x: op(x, params[0], params[1], **kw)

    def flax_peer(self, settings):
        from flax import linen as nn

        return nn.Conv(settings["features"], settings["kernel_size"],
                       **op_settings(settings, "strides", "padding"),
                       kernel_dilation=settings.get("dilation") or 1,
                       feature_group_count=settings.get("groups") or 1)

    def torch_peer(self, settings, kernel, bias, x):
        """``torch.nn.functional.conv{1,2,3}d`` on the input zero-padded as jaxconv pads it."""
        import numpy as np
        import torch.nn.functional as tf  # pyright: ignore[reportMissingImports]  # torch: the bench's optional peer

        geom = geometry(self.name, x.shape, settings)
        pads = torch_pads(geom)
        if pads is None or geom.ndim > 3:
            return None
        conv = getattr(tf, f"conv{geom.ndim}d")
        groups = x.shape[-1] // kernel.shape[-2]  # the kernel reads C / groups channels
        weight = np.moveaxis(np.asarray(kernel), (-1, -2), (0, 1))  # (F, C // groups, *window)
        params = [torch_tensor(weight), torch_tensor(bias)]

        def apply(inputs, p):
            return conv(tf.pad(inputs, pads), p[0], p[1], stride=geom.strides,
                        dilation=geom.dilation, groups=groups)

        return apply, params, torch_channels_first(x)
