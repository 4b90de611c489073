"""The jaxconv ops with the hand-derived gradients as their VJP rule.

Each function here has exactly the signature of its twin in :mod:`jaxconv.ops` and computes the
same forward, but ``jax.grad`` differentiates it with the backward passes of this package instead
of tracing through ``lax``. Swap the namespace to train a whole model on hand-derived gradients::

    from jaxconv import ops
    from jaxconv.ops.backprop import hand
    loss(ops, params, x)   # autodiff
    loss(hand, params, x)  # the derivations of docs/backprop.md

The static settings (strides, padding, ...) are canonicalised with the ops' own checks, so a bad
one raises the op's message, and then key a cached ``jax.custom_vjp`` function that closes over
them; the arrays are its only arguments. A missing bias (``None``) gets a ``None`` cotangent.
Like every ``custom_vjp`` function they are reverse-mode only: ``jax.jvp`` and ``jax.jacfwd``
raise; use the ops for forward mode.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax

from jaxconv import names, ops, shapes
from jaxconv.ops._checks import canonical_precision, float_array, spatial_rank
from jaxconv.ops.backprop.conv import conv_backward, dense_backward
from jaxconv.ops.backprop.local import locally_connected_backward
from jaxconv.ops.backprop.pool import avg_pool_backward, max_pool_backward
from jaxconv.ops.backprop.regional import regional_conv_backward
from jaxconv.validate import check_int

__all__ = ["avg_pool", "conv", "dense", "locally_connected", "max_pool", "regional_conv"]


def _underived(fn, **settings):
    """Refuses the op's settings whose backward pass is not derived here (docs/backprop.md)."""
    defaults = {"input_dilation": 1, "preferred_element_type": None, "out_sharding": None}
    for name, value in settings.items():
        if value != defaults[name]:
            raise ValueError(f"{fn}: `{name}` has no hand-derived backward pass here, got "
                             f"{name}={value!r}; use jaxconv.{fn}, which autodiff differentiates.")


def _with_rule(forward, backward):
    """A ``custom_vjp`` function of ``(x, kernel, bias)`` whose VJP calls ``backward``."""

    @jax.custom_vjp
    def layer(x, kernel, bias):
        return forward(x, kernel, bias)

    def fwd(x, kernel, bias):
        return forward(x, kernel, bias), (x, kernel, bias)

    def bwd(residuals, g):
        x, kernel, bias = residuals
        grad_x, grad_kernel, grad_bias = backward(x, kernel, g, bias)
        return grad_x, grad_kernel, None if bias is None else grad_bias.astype(bias.dtype)

    layer.defvjp(fwd, bwd)
    return layer


@functools.cache
def _dense_rule(precision):
    return _with_rule(
        lambda x, k, b: ops.dense(x, k, b, precision=precision),
        lambda x, k, g, b: dense_backward(x, k, g, precision=precision))


@functools.cache
def _conv_rule(strides, padding, dilation, groups, precision):
    settings = dict(strides=strides, padding=padding, dilation=dilation, groups=groups,
                    precision=precision)
    return _with_rule(lambda x, k, b: ops.conv(x, k, b, **settings),
                      lambda x, k, g, b: conv_backward(x, k, g, **settings))


@functools.cache
def _local_rule(strides, padding, dilation, precision, implementation):
    settings = dict(strides=strides, padding=padding, dilation=dilation, precision=precision)

    def forward(x, kernel, bias):
        return ops.locally_connected(x, kernel, bias, implementation=implementation, **settings)

    def backward(x, kernel, g, bias):
        per_position = bias is None or bias.ndim > 1  # bias (*out, F) or shared (F,)
        return locally_connected_backward(x, kernel, g, bias_per_position=per_position, **settings)

    return _with_rule(forward, backward)


@functools.cache
def _regional_rule(regions, strides, padding, dilation, precision, implementation):
    settings = dict(regions=regions, strides=strides, padding=padding, dilation=dilation,
                    precision=precision)

    def forward(x, kernel, bias):
        return ops.regional_conv(x, kernel, bias, implementation=implementation, **settings)

    def backward(x, kernel, g, bias):
        per_region = bias is None or bias.ndim > 1  # bias (*regions, F) or shared (F,)
        return regional_conv_backward(x, kernel, g, bias_per_region=per_region, **settings)

    return _with_rule(forward, backward)


@functools.cache
def _pool_rule(kind, window, strides, padding, count_include_pad):
    if kind == "max":
        forward = lambda x: ops.max_pool(x, window, strides, padding)  # noqa: E731
        backward = lambda x, g: max_pool_backward(x, g, window, strides, padding)  # noqa: E731
    else:
        forward = lambda x: ops.avg_pool(  # noqa: E731
            x, window, strides, padding, count_include_pad=count_include_pad)
        backward = lambda x, g: avg_pool_backward(  # noqa: E731
            x, g, window, strides, padding, count_include_pad=count_include_pad)

    @jax.custom_vjp
    def pool(x):
        return forward(x)

    pool.defvjp(lambda x: (forward(x), x), lambda x, g: (backward(x, g),))
    return pool


def _settings(fn, x, strides, padding, dilation):
    """Canonical, hashable strides, padding and dilation, checked with the op's messages."""
    ndim = spatial_rank(fn, float_array(fn, "x", x))
    return (shapes.canonical_ints(fn, "strides", strides, ndim),
            shapes.canonical_padding(fn, padding, ndim),
            shapes.canonical_ints(fn, "dilation", dilation, ndim))


def dense(x, kernel, bias=None, *, precision=None, preferred_element_type=None,
          out_sharding=None):
    """:func:`jaxconv.ops.dense` with the hand-derived VJP (:func:`.dense_backward`).

    ``preferred_element_type`` and ``out_sharding`` other than None raise, as in :func:`conv`.

    Example:
        >>> jax.grad(lambda k: dense(jnp.ones((2, 3)), k).sum())(jnp.ones((3, 4))).shape
        (3, 4)
    """
    _underived("dense", preferred_element_type=preferred_element_type, out_sharding=out_sharding)
    return _dense_rule(canonical_precision("dense", precision))(x, kernel, bias)


def conv(x, kernel, bias=None, *, strides=1, padding=names.CONV_PADDING, dilation=1, groups=1,
         input_dilation=1, precision=None, preferred_element_type=None, out_sharding=None):
    """:func:`jaxconv.ops.conv` with the hand-derived VJP (:func:`.conv_backward`).

    ``input_dilation``, ``preferred_element_type`` and ``out_sharding`` are taken so that the
    signature is the op's; values other than their defaults raise (no derivation for them here).

    Example:
        >>> jax.grad(lambda k: conv(jnp.ones((1, 5, 2)), k).sum())(jnp.ones((3, 2, 4))).shape
        (3, 2, 4)
    """
    _underived("conv", input_dilation=input_dilation,
               preferred_element_type=preferred_element_type, out_sharding=out_sharding)
    strides, padding, dilation = _settings("conv", x, strides, padding, dilation)
    groups = check_int("conv", "groups", groups)
    precision = canonical_precision("conv", precision)
    rule = _conv_rule(strides, padding, dilation, int(groups), precision)
    return rule(x, kernel, bias)


def locally_connected(x, kernel, bias=None, *, strides=1, padding=names.LOCAL_PADDING, dilation=1,
                      input_dilation=1, precision=None, preferred_element_type=None,
                      implementation="auto"):
    """:func:`jaxconv.ops.locally_connected` with the hand-derived VJP.

    A bias of shape (*out_spatial, F) gets a per-position gradient, one of shape (F,) a shared one.
    ``implementation`` picks how the forward is computed (as the op); the backward is always
    :func:`.locally_connected_backward`. ``input_dilation`` and ``preferred_element_type`` other
    than their defaults raise, as in :func:`conv`.

    Example:
        >>> x, k = jnp.ones((1, 5, 2)), jnp.ones((3, 3, 2, 4))
        >>> jax.grad(lambda k: locally_connected(x, k).sum())(k).shape
        (3, 3, 2, 4)
    """
    fn = "locally_connected"
    _underived(fn, input_dilation=input_dilation, preferred_element_type=preferred_element_type)
    strides, padding, dilation = _settings(fn, x, strides, padding, dilation)
    if not isinstance(implementation, str):  # the op checks the name; the cache needs a hashable
        raise TypeError(f"{fn}: `implementation` must be a string, got "
                        f"implementation={implementation!r}.")
    rule = _local_rule(strides, padding, dilation, canonical_precision(fn, precision),
                       implementation)
    return rule(x, kernel, bias)


def regional_conv(x, kernel, bias=None, *, regions, strides: int | Sequence[int] = 1,
                  padding=names.LOCAL_PADDING, dilation: int | Sequence[int] = 1,
                  precision=None, implementation="auto"):
    """:func:`jaxconv.regional_conv` with the hand-derived VJP (:func:`.regional_conv_backward`).

    Example:
        >>> x, k = jnp.ones((1, 6, 2)), jnp.ones((2, 3, 2, 4))
        >>> jax.grad(lambda k: regional_conv(x, k, regions=2).sum())(k).shape
        (2, 3, 2, 4)
    """
    fn = "regional_conv"
    strides, padding, dilation = _settings(fn, x, strides, padding, dilation)
    ndim = len(strides)
    regions = shapes.canonical_ints(fn, "regions", regions, ndim)  # the op checks the sizes
    if not isinstance(implementation, str):
        raise TypeError(f"{fn}: `implementation` must be a string, got "
                        f"implementation={implementation!r}.")
    rule = _regional_rule(regions, strides, padding, dilation, canonical_precision(fn, precision),
                          implementation)
    return rule(x, kernel, bias)


def _pool_settings(fn, x, window, strides, padding):
    ndim = spatial_rank(fn, float_array(fn, "x", x))
    window = shapes.canonical_ints(fn, "window", window, ndim)
    strides = None if strides is None else shapes.canonical_ints(fn, "strides", strides, ndim)
    return window, strides, shapes.canonical_padding(fn, padding, ndim)


def max_pool(x, window, strides=None, padding="VALID"):
    """:func:`jaxconv.ops.max_pool` with the hand-derived VJP (first tied maximum wins).

    Example:
        >>> jax.grad(lambda x: max_pool(x, 2).sum())(jnp.ones((1, 4, 1)))[0, :, 0]
        Array([1., 0., 1., 0.], dtype=float32)
    """
    return _pool_rule("max", *_pool_settings("max_pool", x, window, strides, padding), None)(x)


def avg_pool(x, window, strides=None, padding="VALID", *, count_include_pad=True):
    """:func:`jaxconv.ops.avg_pool` with the hand-derived VJP.

    Example:
        >>> jax.grad(lambda x: avg_pool(x, 2).sum())(jnp.ones((1, 4, 1)))[0, :, 0]
        Array([0.5, 0.5, 0.5, 0.5], dtype=float32)
    """
    settings = _pool_settings("avg_pool", x, window, strides, padding)
    return _pool_rule("avg", *settings, bool(count_include_pad))(x)
