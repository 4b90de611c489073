"""`Kind`: what one connectivity kind is (the registry of kinds is :mod:`jaxconv.kinds.registry`).

A kind is how a layer connects its input to its output units: every unit to every input
(``dense``), each output position to one window with its own weights (``local``), the positions of
a region sharing one kernel (``regional``), or every position sharing one kernel (``conv``). Each
kind is one `Kind` object, registered once; every other part of jaxconv (models, counting,
summaries, receptive fields, the benchmark, the backprop check, the command line and the viewer)
asks the registry, and none compares a kind's name.

A record holds data (names, labels in English and Simplified Chinese, colour, default padding,
how it shares weights, how a unit's receptive field is wired) and methods for what the kind
computes. The methods import JAX and Flax inside their bodies, so importing this module, and
listing or describing the kinds, loads no JAX: ``jaxconv --help`` and the viewer's window build
their menus before JAX has loaded.

A kind from outside the package subclasses `Kind` (or a built-in's class, overriding
`Kind.layer_settings` alone for a variant) and calls `jaxconv.kinds.register`; it then appears in
`jaxconv.config.ModelConfig`, `jaxconv.models.build`, `jaxconv.summary`, ``jaxconv count``,
``jaxconv compare``, ``jaxconv bench`` and the viewer's column choices.

Example:
    >>> from jaxconv import kinds
    >>> kinds.names()
    ('dense', 'local', 'regional', 'conv')
    >>> kinds.get("conv").sharing
    'all'
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from jaxconv.costs.counting import Cost

__all__ = ["SHARING", "Kind"]

#: How a kind shares weights between the units of one output channel: ``"none"`` (every unit
#: or position has its own), ``"regions"`` (the positions of a region share one kernel) or
#: ``"all"`` (every position shares one kernel).
SHARING = ("none", "regions", "all")


class Kind(abc.ABC):
    """One connectivity kind. Subclass it, set the class attributes, implement the methods.

    Attributes:
        name: the kind's name, as ``ModelConfig(kind=...)`` and the command line take it.
        labels: language code -> long label (``"en"`` and ``"zh_CN"`` at least).
        short_labels: language code -> short label, for legends and axes.
        weights_hint: language code -> one line on what a tile of its weight mosaic shows.
        color: the kind's colour in every plot, ``"#rrggbb"``.
        padding: the default padding of its op, modules and cost (``jaxconv.names``).
        sharing: one of :data:`SHARING`.
        whole_input: True when a unit is wired to its layer's whole input (a receptive field of
            every pixel), False when to a window.
        order: where the kind sorts among the others, from no structure (dense, 0) to full
            structure (conv, 30); a new kind picks a number between.
        regional_form: the kind this one becomes when its weights are shared by regions (the
            viewer's sharing dial), or None.
        bench_companion: another kind ``jaxconv bench`` also times beside this one, on the same
            input (regional: the locally-connected layer whose weights it shares), or None.
    """

    name: ClassVar[str] = ""
    labels: ClassVar[Mapping[str, str]] = {}
    short_labels: ClassVar[Mapping[str, str]] = {}
    weights_hint: ClassVar[Mapping[str, str]] = {}
    color: ClassVar[str] = "#7f7f7f"
    padding: ClassVar[str] = "VALID"
    sharing: ClassVar[str] = "none"
    whole_input: ClassVar[bool] = False
    order: ClassVar[int] = 50
    regional_form: ClassVar[str | None] = None
    bench_companion: ClassVar[str | None] = None

    def __repr__(self) -> str:
        return f"<kind {self.name!r}>"

    def label(self, language: str = "en", *, short: bool = False) -> str:
        """The label in ``language`` (English when there is none in it)."""
        table = self.short_labels if short else self.labels
        return table.get(language) or table.get("en") or self.name

    #: Whether a layer of this kind needs ``regions`` (its kernels are shared by regions).
    needs_regions: ClassVar[bool] = False

    # --- counting: what a layer of this kind is and costs, from its settings alone ----------
    @abc.abstractmethod
    def cost(self, input_shape, features, kernel_size, *, strides=1, padding=None, dilation=1,
             groups=1, regions=None, use_bias=True, batch_size=1, dtype="float32") -> Cost:
        """The :class:`jaxconv.costs.counting.Cost` of one layer of this kind.

        Args:
            input_shape: one example, ``(*spatial, C)`` (no batch).
            features: output channels ``F`` per position.
            kernel_size: the window, an int or one per spatial dim.
            strides, padding, dilation, groups, regions: the layer's settings (padding None:
                the kind's own default, :attr:`padding`); a kind ignores what it does not take.
            use_bias, batch_size, dtype: as :func:`jaxconv.costs.counting.conv_cost`.
        """

    def connect(self, input_shape, *, kernel_size, features=1, hidden=None,
                strides: int | tuple[int, ...] = 1, padding=None, dilation=1, regions=None,
                use_bias=True, batch_size=1, dtype="float32"):
        """This kind's row of the lecture's table (:func:`jaxconv.compare_connectivity`).

        Returns the layer's cost connecting ``input_shape`` to the output the window settings
        give (``hidden``: another number of units, for kinds without a window), or None when the
        kind needs a setting that was not given (``regions``).
        """
        if self.needs_regions and regions is None:
            return None
        settings = self.layer_settings(tuple(input_shape), kernel_size=kernel_size,
                                       strides=strides, padding=padding, dilation=dilation,
                                       regions=regions)
        return self.cost(input_shape, features, **settings, use_bias=use_bias,
                         batch_size=batch_size, dtype=dtype)

    def module_cost(self, module, input_shape, params, dtype) -> Cost | None:
        """The cost of one call of ``module`` if it is one of this kind's layers, else None.

        `jaxconv.summary` asks every kind about every module it traces. Args: the module
        instance, its input's shape (batch included), ``{name: array-like}`` of the parameters
        it owns, and the dtype name for byte counts.
        """
        return None

    def layer_settings(self, input_shape, **given) -> dict[str, Any]:
        """The settings a layer of this kind uses on one example ``input_shape``, from ``given``.

        ``given``: any of ``kernel_size``, ``strides``, ``padding``, ``dilation``, ``groups`` and
        ``regions`` (None: the default). Returns all of them: the kind's own :attr:`padding` where
        none was given, and whatever the kind fixes itself, which is what a subclass overrides (a
        depthwise convolution: ``groups`` = the input's channels). ``jaxconv bench`` builds its
        workloads with it; :meth:`cost`, :meth:`apply`, :meth:`flax_peer` and
        :meth:`torch_peer` take what it returns.
        """
        out = {"kernel_size": None, "strides": 1, "padding": self.padding, "dilation": 1,
               "groups": 1, "regions": None}
        out.update((k, v) for k, v in given.items() if v is not None)
        return out

    def claims(self, example, **given) -> dict[str, Any] | None:
        """The settings of a traced module of this kind's classes, if they are this kind's.

        ``given`` are the module's settings; they are this kind's when :meth:`layer_settings`
        keeps them (a depthwise kind fixes ``groups``, so a conv of other groups is not one of
        its layers). Returns the settings, or None.
        """
        settings = self.layer_settings(tuple(example), **given)
        if any(value is not None and settings[key] != value for key, value in given.items()):
            return None
        return settings

    # --- the model: a layer of jaxconv.models.Model ------------------------------------------
    def model_settings(self, config, input_shape, *, fn: str = "Model") -> dict[str, Any]:
        """:meth:`layer_settings` of a model layer of ``config`` on one example ``input_shape``
        ``(H, W, C)``: its square window, strides and padding (what
        :func:`jaxconv.models.layer_shapes` and :meth:`spatial_layer` both use); ``fn`` names
        the caller in errors."""
        window = (config.kernel_size,) * (len(input_shape) - 1)
        return self.layer_settings(tuple(input_shape), kernel_size=window,
                                   strides=config.strides, padding=config.padding)

    @abc.abstractmethod
    def spatial_layer(self, config, features: int, x, name: str) -> Any:
        """The ``jaxconv.models.Model`` layer of this kind, applied to ``x`` (N, H, W, C).

        Called inside the model's compact ``__call__`` (the layer's parameters are the model's
        ``name`` entry); returns the activation (N, H', W', ``features``) before the ReLU, the
        shape ``jaxconv.shapes.geometry`` gives for ``config``'s window.
        """

    # --- the op, the modules and the hand-derived backward pass ------------------------------
    @property
    def op(self) -> Callable[..., Any] | None:
        """The pure function (:mod:`jaxconv.ops`), or None."""
        return None

    @property
    def linen(self) -> type | None:
        """The Flax linen module class (:mod:`jaxconv.linen`), or None."""
        return None

    @property
    def nnx(self) -> type | None:
        """The Flax NNX module class (:mod:`jaxconv.nnx`), or None."""
        return None

    @property
    def backward(self) -> Callable[..., Any] | None:
        """The hand-derived backward pass (:mod:`jaxconv.ops.backprop`), or None.

        Called as ``backward(x, kernel, grad_out, **settings)`` with the op's settings (and
        :attr:`bias_option`), it returns ``(grad_x, grad_kernel, grad_bias)``.
        """
        return None

    # --- `jaxconv backprop check` (jaxconv.experiments.backprop_check) -----------------------
    #: Configurations the check runs :attr:`backward` on, against autodiff of :attr:`op`: each
    #: has ``x`` (the input's shape, batch included), ``features``, ``window`` (a windowed kind)
    #: and the op's settings; ``{bias_option: False}`` checks a bias shared by every position.
    backward_configs: ClassVar[tuple[Mapping[str, Any], ...]] = ()
    #: Which of :attr:`backward_configs` ``--quick`` runs (indices): the hardest features.
    backward_quick: ClassVar[tuple[int, ...]] = ()
    #: The keyword of :attr:`backward` saying whether the bias is one per position or region
    #: (True, the op's usual bias) or one shared ``(F,)`` (False); None when it is always ``(F,)``.
    bias_option: ClassVar[str | None] = None

    def apply(self, settings: Mapping[str, Any],
              implementation: str = "auto") -> Callable[..., Any]:
        """``f(params, x) -> y`` computing this kind's op with ``settings`` (strides, padding,
        regions...); ``params`` is ``(kernel, bias)`` in the shapes :meth:`cost` gives."""
        op = self.op
        if op is None:
            raise ValueError(f"kind {self.name!r} has no op to apply.")
        return lambda params, x: op(x, params[0], params[1], **settings)

    def implementations(self, geom, channels: int, features: int, regions=None) -> tuple[str, ...]:
        """The named implementations that can compute a layer on ``geom`` (``()``: one way)."""
        return ()

    def chosen_implementation(self, geom, channels: int, features: int,
                              regions=None) -> str | None:
        """The implementation ``"auto"`` picks on ``geom``, or None for a kind with one way."""
        return None

    def flax_peer(self, settings: Mapping[str, Any]) -> Any:
        """The nearest Flax linen layer computing the same shapes (``settings`` as
        :meth:`apply`'s plus ``features`` and ``kernel_size``), or None."""
        return None

    def torch_peer(self, settings: Mapping[str, Any], kernel, bias, x) -> tuple | None:
        """The PyTorch (CPU) layer ``jaxconv bench`` times beside this kind, or None (no peer).

        Args:
            settings: as :meth:`flax_peer`'s.
            kernel: jaxconv's kernel, in the shape :meth:`cost` gives.
            bias: jaxconv's bias, likewise.
            x: the input batch ``(N, *input_shape)``, channels-last.

        Returns:
            ``(apply, params, inputs)``: the same parameters and input as ``torch`` tensors in
            PyTorch's layouts (``params`` a list, the tensors a training step updates) and
            ``apply(inputs, params) -> output``; or None where PyTorch has no such layer or
            cannot take these settings (the benchmark then leaves the column empty).
        """
        return None

    def extra(self, regions=None) -> dict[str, Any]:
        """Settings the kind adds to the shared ones, for names and reports (e.g. regions)."""
        return {"regions": regions} if self.needs_regions else {}
