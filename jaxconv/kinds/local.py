"""The ``local`` kind: every output position reads one window, with weights of its own."""

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

__all__ = ["LocalKind"]


class LocalKind(Kind):
    """Locally connected: local, not shared, a kernel per position (the lecture's 10^8 weights);
    what is learnt at one position stays there."""

    name = "local"
    labels = {"en": "Locally connected", "zh_CN": "局部连接"}
    short_labels = {"en": "Local", "zh_CN": "局部连接"}
    weights_hint = {"en": "one tile per position: each position learns its own filter",
                    "zh_CN": "每个小图是一个位置：每个位置学习自己的滤波器"}
    color = "#ff7f0e"
    padding = names.LOCAL_PADDING
    sharing = "none"
    order = 10
    regional_form = "regional"
    bias_option = "bias_per_position"
    backward_configs = (
        dict(x=(2, 6, 2), window=(3,), features=3),
        dict(x=(1, 4, 1), window=(3,), features=2, padding=((3, 1),), bias_per_position=False),
        dict(x=(2, 5, 5, 2), window=(3, 3), features=2, strides=2, padding="SAME"),
        dict(x=(1, 6, 5, 2), window=(2, 3), features=2, strides=(1, 2), dilation=(2, 1),
             padding="CIRCULAR", bias_per_position=False),
        dict(x=(1, 3, 4, 3, 2), window=(2, 2, 2), features=2, padding=1),
    )
    backward_quick = (3,)  # strided, dilated, CIRCULAR, a shared bias

    def cost(self, input_shape, features, kernel_size, *, strides=1, padding=None, dilation=1,
             groups=1, regions=None, use_bias=True, batch_size=1, dtype="float32"):
        from jaxconv.costs import counting

        # Labelled with this kind's name: a subclass (a registered kind) counts as itself.
        return counting.windowed_cost(
            f"{self.name}_cost", self.name, counting.local_params, input_shape, features,
            kernel_size, strides=strides, padding=self.padding if padding is None else padding,
            dilation=dilation, use_bias=use_bias, batch_size=batch_size, dtype=dtype)

    def module_cost(self, module, input_shape, params, dtype):
        if not isinstance(module, (self.linen, self.nnx)):
            return None
        call = _reading.windowed(module, input_shape, tuple(params["kernel"].shape),
                                 window_first=False)
        if call is None:
            return None
        example, window, batch = call
        settings = self.claims(example, kernel_size=window,
                               strides=shapes.none_as_one(module.strides), padding=module.padding,
                               dilation=shapes.none_as_one(module.kernel_dilation))
        if settings is None:
            return None
        return self.cost(example, params["kernel"].shape[-1], **settings,
                         use_bias="bias" in params, batch_size=batch, dtype=dtype)

    def spatial_layer(self, config, features, x, name):
        s = self.model_settings(config, x.shape[1:])
        return self.linen(features, s["kernel_size"], strides=s["strides"], padding=s["padding"],
                          kernel_dilation=s["dilation"], name=name)(x)

    @property
    def op(self):
        from jaxconv.ops import locally_connected

        return locally_connected

    @property
    def linen(self):
        from jaxconv.layers.linen import LocallyConnected

        return LocallyConnected

    @property
    def nnx(self):
        from jaxconv.layers.nnx import LocallyConnected

        return LocallyConnected

    @property
    def backward(self):
        from jaxconv.ops.backprop import locally_connected_backward

        return locally_connected_backward

    def apply(self, settings, implementation="auto"):
        op, kw = self.op, op_settings(settings, "strides", "padding", "dilation")
        return lambda params, x: op(x, params[0], params[1], implementation=implementation, **kw)

    def implementations(self, geom, channels, features, regions=None):
        from jaxconv.ops.local import IMPLEMENTATIONS, tiles_exactly

        return tuple(i for i in IMPLEMENTATIONS[1:] if i != "reshape" or tiles_exactly(geom))

    def chosen_implementation(self, geom, channels, features, regions=None):
        from jaxconv.ops.local import canonical_implementation

        return canonical_implementation(self.name, "auto", geom, channels, features)

    def flax_peer(self, settings):
        from flax import linen as nn

        return nn.ConvLocal(settings["features"], settings["kernel_size"],
                            **op_settings(settings, "strides", "padding"),
                            kernel_dilation=settings.get("dilation") or 1)

    def torch_peer(self, settings, kernel, bias, x):
        """PyTorch has no locally-connected layer; the workaround its users post (pytorch#499):
        ``F.unfold`` (2-D only), then a product with one kernel per position."""
        import numpy as np
        import torch  # pyright: ignore[reportMissingImports]  # torch: the bench's optional peer
        import torch.nn.functional as tf  # pyright: ignore[reportMissingImports]  # torch: the bench's optional peer

        geom = geometry(self.name, x.shape, settings)
        pads = torch_pads(geom)
        if pads is None or geom.ndim != 2:
            return None
        oh, ow, kh, kw, _, f = kernel.shape
        # unfold orders the patch axis (C, kh, kw); one (C*kh*kw, F) kernel per position.
        weight = np.transpose(np.asarray(kernel), (0, 1, 4, 2, 3, 5)).reshape(oh * ow, -1, f)
        params = [torch_tensor(weight), torch_tensor(np.reshape(bias, (-1, f)))]

        def apply(inputs, p):
            cols = tf.unfold(tf.pad(inputs, pads), (kh, kw), dilation=geom.dilation,
                             stride=geom.strides)  # (N, C*kh*kw, P)
            return torch.einsum("nkp,pkf->npf", cols, p[0]) + p[1]

        return apply, params, torch_channels_first(x)
