"""The ``regional`` kind: the output split into regions, the positions of a region share a kernel."""

from __future__ import annotations

from jaxconv import names, shapes
from jaxconv.kinds import _reading
from jaxconv.kinds._settings import op_settings
from jaxconv.kinds.record import Kind

__all__ = ["RegionalKind"]


class RegionalKind(Kind):
    """Weight sharing as a dial: ``regions`` kernels per dim, from one (a convolution) to one per
    position (the locally-connected layer); ``ModelConfig.regions`` sets it in a model."""

    name = "regional"
    labels = {"en": "Regional", "zh_CN": "区域共享"}
    short_labels = {"en": "Regional", "zh_CN": "区域共享"}
    weights_hint = {"en": "one tile per region: the positions of a region share its filter",
                    "zh_CN": "每个小图是一个区域：区域内的位置共享同一个滤波器"}
    color = "#2ca02c"
    padding = names.LOCAL_PADDING
    sharing = "regions"
    order = 20
    needs_regions = True
    bias_option = "bias_per_region"
    backward_configs = (
        dict(x=(2, 7, 2), window=(3,), features=3, regions=2),
        dict(x=(1, 6, 5, 2), window=(2, 3), features=2, regions=(3, 2), strides=(1, 2),
             dilation=(2, 1), padding="CIRCULAR", bias_per_region=False),
        dict(x=(2, 5, 5, 2), window=(3, 3), features=2, regions=(2, 3), strides=2, padding="SAME"),
        dict(x=(1, 4, 4, 3, 2), window=(2, 2, 2), features=2, regions=(2, 1, 3), padding=1),
    )
    backward_quick = (1,)  # CIRCULAR, dilated, strided, uneven regions, a shared bias
    bench_companion = "local"  # the layer whose weights it shares by region

    def cost(self, input_shape, features, kernel_size, *, strides=1, padding=None, dilation=1,
             groups=1, regions=None, use_bias=True, batch_size=1, dtype="float32"):
        from jaxconv.costs import counting

        # Labelled with this kind's name: a subclass (a registered kind) counts as itself.
        return counting.windowed_cost(
            f"{self.name}_cost", self.name, counting.regional_params, input_shape, features,
            kernel_size, strides=strides, padding=self.padding if padding is None else padding,
            dilation=dilation, regions=regions, use_bias=use_bias, batch_size=batch_size, dtype=dtype)

    def module_cost(self, module, input_shape, params, dtype):
        if not isinstance(module, (self.linen, self.nnx)):
            return None
        kernel = tuple(params["kernel"].shape)
        call = _reading.windowed(module, input_shape, kernel, window_first=False)
        if call is None:
            return None
        example, window, batch = call
        settings = self.claims(example, kernel_size=window, regions=kernel[:len(window)],
                               strides=shapes.none_as_one(module.strides), padding=module.padding,
                               dilation=shapes.none_as_one(module.kernel_dilation))
        if settings is None:
            return None
        return self.cost(example, kernel[-1], **settings, use_bias="bias" in params,
                         batch_size=batch, dtype=dtype)

    def model_settings(self, config, input_shape, *, fn="Model"):
        """A model layer's settings, with ``config.regions`` per dim capped at the layer's output
        size (None: one region per position)."""
        s = super().model_settings(config, input_shape, fn=fn)
        out = shapes.geometry(fn, tuple(input_shape[:-1]), s["kernel_size"],
                              strides=s["strides"], padding=s["padding"],
                              dilation=s["dilation"]).out_spatial
        regions = tuple(o if config.regions is None else min(config.regions, o) for o in out)
        return {**s, "regions": regions}

    def spatial_layer(self, config, features, x, name):
        s = self.model_settings(config, x.shape[1:])
        return self.linen(features, s["kernel_size"], s["regions"], strides=s["strides"],
                          padding=s["padding"], kernel_dilation=s["dilation"], name=name)(x)

    @property
    def op(self):
        from jaxconv.ops import regional_conv

        return regional_conv

    @property
    def linen(self):
        from jaxconv.layers.linen import RegionalConv

        return RegionalConv

    @property
    def nnx(self):
        from jaxconv.layers.nnx import RegionalConv

        return RegionalConv

    @property
    def backward(self):
        from jaxconv.ops.backprop import regional_conv_backward

        return regional_conv_backward

    def apply(self, settings, implementation="auto"):
        op = self.op
        kw = op_settings(settings, "regions", "strides", "padding", "dilation")
        return lambda params, x: op(x, params[0], params[1], implementation=implementation, **kw)

    def implementations(self, geom, channels, features, regions=None):
        from jaxconv.ops.regional import IMPLEMENTATIONS

        return IMPLEMENTATIONS[1:]

    def chosen_implementation(self, geom, channels, features, regions=None):
        from jaxconv.ops.regional import choose_implementation

        if regions is None:  # a regional layer always has its regions (needs_regions)
            raise ValueError("regional: `regions` must be given to choose an implementation, "
                             "got regions=None.")
        return choose_implementation(geom, tuple(regions))

    def flax_peer(self, settings):
        """Flax has no regional layer: its ``ConvLocal`` of the same shape (no PyTorch peer)."""
        from flax import linen as nn

        return nn.ConvLocal(settings["features"], settings["kernel_size"],
                            **op_settings(settings, "strides", "padding"),
                            kernel_dilation=settings.get("dilation") or 1)
