"""Locally-connected layer implementations, and the rule that picks one from static shapes.

Every implementation takes an input ``x`` of shape (N, *spatial, C) and a kernel of shape
(*out_spatial, *window, C, F), both already checked and cast by
:func:`jaxconv.ops.locally_connected`, and returns (N, *out_spatial, F) without the bias. They
compute the same sums in different orders:

- ``"patches"``: copies the input's windows into a patch matrix laid out batch-minor,
  (positions, window * C, N), then runs one matrix product per position. The copy is one gather
  with constant indices when the layer is not differentiated and a stack of strided slices when
  it is (see :func:`extract_patches`). Batch-minor makes each window tap a contiguous block
  copy; the (positions, N)-major layout made XLA's concatenation four times slower. Under
  differentiation (a ``custom_jvp``) each term of the derivative is written so that its
  transpose, the gradient, is a plain matrix product per position that jaxlib 0.10's YNNPACK
  runs (:func:`_derivative_terms`); autodiff's own kernel gradient contracted the batch as the
  middle axis of both operands and ran as a loop of small products on one core.
- ``"taps"``: no patch matrix at all: the output is a sum of ``window * C`` shifted input slices,
  each multiplied by its kernel slice, one fused elementwise loop. With more than
  ``TAPS_FEW_FEATURES`` features its derivative (a ``custom_jvp``) is the products per position of
  ``"patches"``' derivative (:func:`_derivative_terms`), because the derivative of the elementwise
  form reduces over the batch and feature axes, which XLA on CPU does slowly (3.5x instead of
  2.2x Flax's training step at 1->32 @28x28). With few features those products are too small to
  pay and the elementwise form is differentiated as it is. When the windows tile the input, the
  derivative is that of ``"reshape"``: the derivative of a strided slice is a padded full-size
  array per tap (100 of them in the 1000x1000 example, whose training step then ran 9x slower
  than Flax), while a reshape's is a reshape.
- ``"reshape"``: for windows that tile the input exactly (``strides == window``, no dilation), the
  patches are a reshape of the input; the output is one fused multiply-and-sum over it, with no
  copy at all. On the CPU measured, ``"taps"`` (whose slices are then strided views of the same
  values) ran the same forward sums 2-9x faster, because XLA emits the fused multi-axis reduction
  slowly, so ``"auto"`` does not pick it; ``"taps"`` uses it for its derivative instead.

:func:`choose_implementation` is the ``"auto"`` rule, a function of static shapes only.
"""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.custom_derivatives import SymbolicZero

from jaxconv import shapes
from jaxconv.names import WINDOW_SUMS_SCOPE

IMPLEMENTATIONS = ("auto", "patches", "taps", "reshape")

# "taps" does window * C multiply-adds per output value on the vector units. Measured on a 2-core
# AMD EPYC (float32): with 9 terms and F = 32 it beats "patches" 4-6x; with 288 terms and F = 64
# "patches" wins 10x; with few features a matrix product has little to reuse and "taps" wins up to
# 300 terms (100 terms, F = 1 or 8: 3x). Past TAPS_MAX_UNROLL terms the unrolled loop also costs
# compile time, so it is never picked there.
TAPS_MAX_TERMS = 16
TAPS_FEW_FEATURES = 8
TAPS_MAX_UNROLL = 300


def _barrier(x):
    """``lax.optimization_barrier`` (public from jax 0.4.33 on): keeps XLA from folding a
    transpose back into its product. Before it, the identity: the same values, at the speed of
    autodiff's own layout."""
    barrier = getattr(lax, "optimization_barrier", None)
    return x if barrier is None else barrier(x)


def tiles_exactly(geom: shapes.Geometry) -> bool:
    """Whether the windows tile the input without overlap or gaps (``strides == window``)."""
    return geom.strides == geom.window and all(d == 1 for d in geom.dilation)


def _backend() -> str:
    """The backend programs are being built for (``jax.default_backend()``)."""
    return jax.default_backend()


def patch_free(backend: str | None = None) -> bool:
    """Whether ``"auto"`` avoids patch matrices wherever a patch-free form exists: off the CPU.

    On a GPU or TPU the locally-connected layer is memory-bound below a batch of about 200, and a
    patch matrix moves ``prod(window)`` times the input's bytes (up to 70x on the lecture's
    layer); on the 2-core CPU measured the per-position products over patches ran the 32->64
    layer 10x faster than the elementwise sums, so the CPU keeps them.
    """
    return (backend or _backend()) != "cpu"


def choose_implementation(geom: shapes.Geometry, channels: int, features: int,
                          backend: str | None = None) -> str:
    """The implementation ``"auto"`` picks: a documented function of static shapes.

    ``"taps"`` if ``terms = prod(window) * channels`` is at most ``TAPS_MAX_TERMS`` (16), or if
    ``features <= TAPS_FEW_FEATURES`` (8) and ``terms <= TAPS_MAX_UNROLL`` (300); otherwise
    ``"patches"``. Strides, dilation and padding do not enter: they change how many positions
    there are, which scales both alike. ``"reshape"`` is never picked (see the module docstring).
    Off the CPU (:func:`patch_free`) ``"taps"`` is picked up to ``TAPS_MAX_UNROLL`` terms, and its
    derivative is then elementwise too: no patch matrix is built.

    Args:
        geom: the layer's geometry (:func:`jaxconv.shapes.geometry`).
        channels: input channels ``C``.
        features: output features ``F``.
        backend: ``"cpu"``, ``"gpu"``, ``"tpu"``; default ``jax.default_backend()``.

    Returns:
        ``"patches"`` or ``"taps"``.

    Example:
        >>> g = shapes.geometry("local", (1000, 1000), 10, strides=10)
        >>> choose_implementation(g, 1, 1)
        'taps'
    """
    terms = geom.window_size * channels
    if patch_free(backend):
        return "taps" if terms <= TAPS_MAX_UNROLL else "patches"
    if terms <= TAPS_MAX_TERMS or (features <= TAPS_FEW_FEATURES and terms <= TAPS_MAX_UNROLL):
        return "taps"
    return "patches"


def canonical_implementation(fn: str, implementation, geom: shapes.Geometry, channels: int,
                             features: int) -> str:
    """Checks ``implementation`` and resolves ``"auto"``; raises naming ``fn`` and the value."""
    if not isinstance(implementation, str):
        raise TypeError(f"{fn}: `implementation` must be a string, one of "
                        f"{', '.join(IMPLEMENTATIONS)}, got implementation={implementation!r}.")
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"{fn}: `implementation` must be one of {', '.join(IMPLEMENTATIONS)}, "
                         f"got implementation={implementation!r}.")
    if implementation == "auto":
        return choose_implementation(geom, channels, features)
    if implementation == "reshape" and not tiles_exactly(geom):
        raise ValueError(f"{fn}: implementation='reshape' needs windows that tile the input "
                         f"(strides == window, dilation 1), got window {geom.window}, strides "
                         f"{geom.strides}, dilation {geom.dilation}.")
    return implementation


def pad_spatial(x, geom: shapes.Geometry, first: int):
    """Applies the geometry's zero or wrap-around padding to the spatial axes starting at ``first``.

    Zero padding goes through ``lax.pad``, which crops for a negative width (as ``lax``'s
    convolution does); wrap-around and mirrored padding are never negative.
    """
    widths = [(0, 0)] * x.ndim
    widths[first:first + geom.ndim] = geom.pads
    if geom.pad_mode == "constant":
        return lax.pad(x, jnp.zeros((), x.dtype), [(lo, hi, 0) for lo, hi in widths])
    return jnp.pad(x, widths, mode=geom.pad_mode)


def window_taps(x, geom: shapes.Geometry, first: int):
    """Yields, per window tap (row-major), the padded input values it sees at every output position.

    Args:
        x: padded input whose spatial axes start at axis ``first``.
        geom: the geometry, whose padding has already been applied to ``x``.
        first: index of the first spatial axis of ``x``.

    Yields:
        Arrays shaped like ``x`` with the spatial axes replaced by ``out_spatial``.
    """
    for tap in itertools.product(*(range(k) for k in geom.window)):
        index = [slice(None)] * x.ndim
        for axis, (t, d, o, s) in enumerate(zip(tap, geom.dilation, geom.out_spatial, geom.strides)):
            index[first + axis] = slice(t * d, t * d + (o - 1) * s + 1, s)
        yield x[tuple(index)]


def _stacked_patches(x, geom: shapes.Geometry):
    """:func:`extract_patches` as a stack of one strided slice per window tap."""
    batch_minor = jnp.moveaxis(pad_spatial(x, geom, 1), 0, -1)  # (*padded, C, N)
    patches = jnp.stack(list(window_taps(batch_minor, geom, 0)), axis=geom.ndim)
    return patches.reshape(geom.num_positions, -1, x.shape[0])


def _window_indices(geom: shapes.Geometry):
    """Constant indices into the padded spatial axes; they broadcast to (*out_spatial, *window)."""
    nd, indices = geom.ndim, []
    for axis in range(nd):
        starts = np.arange(geom.out_spatial[axis]) * geom.strides[axis]
        offsets = np.arange(geom.window[axis]) * geom.dilation[axis]
        start_shape, offset_shape = [1] * (2 * nd), [1] * (2 * nd)
        start_shape[axis], offset_shape[nd + axis] = starts.size, offsets.size
        indices.append(starts.reshape(start_shape) + offsets.reshape(offset_shape))
    return tuple(indices)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def extract_patches(x, geom: shapes.Geometry):
    """Patches of ``x`` (N, *spatial, C), batch-minor: shape (positions, prod(window) * C, N).

    Undifferentiated, one gather with constant indices copies every (C, N) block straight into
    place: 1.7-2x faster for the whole 32->64 @14x14 forward pass than stacking strided slices,
    which XLA on CPU copies twice. Under differentiation the stack is used instead
    (:func:`_stacked_patches`): reverse mode transposes a gather into a scatter-add, which made
    the training step slower, while the stack's transpose is a fused sum of padded slices.
    """
    batch_minor = jnp.moveaxis(pad_spatial(x, geom, 1), 0, -1)  # (*padded, C, N)
    patches = batch_minor[_window_indices(geom)]  # (*out_spatial, *window, C, N)
    return patches.reshape(geom.num_positions, -1, x.shape[0])


@extract_patches.defjvp
def _extract_patches_jvp(geom, primals, tangents):
    (x,), (dx,) = primals, tangents
    return _stacked_patches(x, geom), _stacked_patches(dx, geom)


def _positions_first_patches(x, geom: shapes.Geometry):
    """Patches of ``x`` (N, *spatial, C) as (positions, N, prod(window) * C)."""
    padded = jnp.moveaxis(pad_spatial(x, geom, 1), 0, geom.ndim)  # (*padded, N, C)
    patches = jnp.stack(list(window_taps(padded, geom, 0)), axis=geom.ndim + 1)
    return patches.reshape(geom.num_positions, x.shape[0], -1)


def _batched_dot(a, b, precision):
    """(P, M, K) x (P, K, N) -> (P, M, N)."""
    return lax.dot_general(a, b, (((2,), (1,)), ((0,), (0,))), precision=precision)


def _per_position(kernel, geom: shapes.Geometry):
    """The kernel (*out_spatial, *window, C, F) as one (window * C, F) matrix per position."""
    return kernel.reshape(geom.num_positions, -1, kernel.shape[-1])


def _over_patches(patches, kernel, geom: shapes.Geometry, precision):
    """The layer from batch-minor patches (positions, window * C, N): one (F, window * C) x
    (window * C, N) product per position; (N, *out_spatial, F)."""
    n, features = patches.shape[-1], kernel.shape[-1]
    # Held apart from the product: folded into it, the transpose makes a product that contracts
    # the major axis of its left operand, which jaxlib 0.10's YNNPACK does not take.
    weights = _barrier(jnp.swapaxes(_per_position(kernel, geom), 1, 2))
    y = _batched_dot(weights, patches, precision)  # (P, F, N)
    return jnp.moveaxis(y, -1, 0).reshape(n, *geom.out_spatial, features)


def _over_positions_first(x, kernel, geom: shapes.Geometry, precision):
    """The layer as one (N, window * C) x (window * C, F) product per position over
    positions-first patches (positions, N, window * C); (N, *out_spatial, F)."""
    n, features = x.shape[0], kernel.shape[-1]
    y = _batched_dot(_positions_first_patches(x, geom), _per_position(kernel, geom), precision)
    # Transposed, the barrier keeps the output gradient positions-first (P, N, F) for its
    # product with the kernel; without it XLA reads it in the forward pass's (P, F, N) order
    # and contracts the features as a major axis, which YNNPACK does not take.
    y = _barrier(y)
    return jnp.moveaxis(y, 0, 1).reshape(n, *geom.out_spatial, features)


def _kernel_term(patches, dkernel, geom: shapes.Geometry, precision):
    """The layer with weights ``dkernel`` over batch-minor ``patches`` (positions, window * C,
    N), as one (N, window * C) x (window * C, F) product per position; (N, *out_spatial, F).

    Written for its transpose, the kernel gradient: one (window * C, N) x (N, F) product per
    position, a plain matrix product YNNPACK runs. (Here the forward product contracts the
    patches' middle axis, which only forward-mode differentiation ever computes.)
    """
    n, features = patches.shape[-1], dkernel.shape[-1]
    y = lax.dot_general(patches, _per_position(dkernel, geom), (((1,), (1,)), ((0,), (0,))),
                        precision=precision)  # (P, N, F)
    # Transposed, the barrier materialises the output gradient positions-first (P, N, F),
    # the right operand's layout of that product.
    y = _barrier(y)
    return jnp.moveaxis(y, 0, 1).reshape(n, *geom.out_spatial, features)


def _derivative_terms(x, kernel, dx, dkernel, geom: shapes.Geometry, precision, patches=None):
    """The tangent of the layer, ``layer(dx, kernel) + layer(x, dkernel)``, each term written so
    that its transpose (the gradient reverse mode makes of it) is a product YNNPACK runs:

    - the kernel's term (:func:`_kernel_term`): the kernel gradient is one (window * C, N) x
      (N, F) product per position. Autodiff of the forward product contracted the batch as the
      middle axis of both operands, which jaxlib 0.10 runs as a loop of small products on one
      core;
    - the input's term over positions-first patches (:func:`_over_positions_first`): its
      transpose is one (N, F) x (F, window * C) product per position, then the sum of the
      patches' shifted slices.

    On the 2-core machine of docs/performance.md the 32->64 @14x14 training step took 3.5x the
    CPU time of a GEMM of its FLOPs before, 2.2x with these terms. A symbolic zero tangent adds
    nothing. ``patches``: ``x``'s batch-minor patches, if made.
    """
    terms = []
    if not isinstance(dx, SymbolicZero):
        terms.append(_over_positions_first(dx, kernel, geom, precision))
    if not isinstance(dkernel, SymbolicZero):
        patches = extract_patches(x, geom) if patches is None else patches
        terms.append(_kernel_term(patches, dkernel, geom, precision))
    return terms


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3))
def local_patches(x, kernel, geom: shapes.Geometry, precision=None):
    """``"patches"``: one (F, window * C) x (window * C, N) product per output position.

    Differentiated, each term of the derivative is a product whose transpose YNNPACK runs
    (:func:`_derivative_terms`).
    """
    n, features = x.shape[0], kernel.shape[-1]
    patches = extract_patches(x, geom)
    weights = jnp.swapaxes(kernel.reshape(geom.num_positions, -1, features), 1, 2)
    y = _batched_dot(weights, patches, precision)  # (P, F, N)
    return jnp.moveaxis(y, -1, 0).reshape(n, *geom.out_spatial, features)


@functools.partial(local_patches.defjvp, symbolic_zeros=True)
def _local_patches_jvp(geom, precision, primals, tangents):
    # Bilinear: d(x * w) = dx * w + x * dw; the patches are made once (one gather: x is not
    # differentiated here) for the output and the kernel's term.
    x, kernel = primals
    dx, dkernel = tangents
    patches = extract_patches(x, geom)
    y = _over_patches(patches, kernel, geom, precision)
    terms = _derivative_terms(x, kernel, dx, dkernel, geom, precision, patches)
    if not terms:
        return y, jnp.zeros_like(y)
    return y, functools.reduce(jnp.add, terms).astype(y.dtype)


def _accumulator(dtype):
    """Sums of low-precision floats are accumulated in float32."""
    return jnp.promote_types(dtype, jnp.float32)


def _taps_sum(x, kernel, geom: shapes.Geometry):
    channels, features = x.shape[-1], kernel.shape[-1]
    acc = _accumulator(x.dtype)
    weights = kernel.reshape(*geom.out_spatial, geom.window_size, channels, features).astype(acc)
    y = None
    for t, tap in enumerate(window_taps(pad_spatial(x, geom, 1).astype(acc), geom, 1)):
        for c in range(channels):
            term = tap[..., c:c + 1] * weights[None, ..., t, c, :]
            y = term if y is None else y + term
    assert y is not None  # a window has at least one tap and x one channel
    return y.astype(x.dtype)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3))
def local_taps(x, kernel, geom: shapes.Geometry, precision=None):
    """``"taps"``: a fused sum of ``window * C`` shifted slices times kernel slices."""
    return _taps_sum(x, kernel, geom)


@functools.partial(local_taps.defjvp, symbolic_zeros=True)
def _local_taps_jvp(geom, precision, primals, tangents):
    x, kernel = primals
    dx, dkernel = tangents
    # XLA fuses the elementwise sum into each of its consumers; when a gradient broadcasts it, every
    # element recomputes all the taps (a 3x slower training step in the 1000x1000 example). A
    # reduction is never duplicated that way, so under differentiation tiling windows use "reshape".
    y = local_reshape(x, kernel, geom) if tiles_exactly(geom) else _taps_sum(x, kernel, geom)
    # Bilinear: d(x * w) = dx * w + x * dw; see the module docstring for which form each term takes.
    taps = kernel.shape[-1] <= TAPS_FEW_FEATURES or patch_free()

    def term(a, k):
        return local_reshape(a, k, geom) if tiles_exactly(geom) else _taps_sum(a, k, geom)
    terms = []
    if tiles_exactly(geom) or taps:
        if not isinstance(dx, SymbolicZero):
            terms.append(term(dx, kernel))
        if not isinstance(dkernel, SymbolicZero):
            terms.append(term(x, dkernel))
    else:  # products per position, whose transposes are the fast ones (as "patches")
        terms = _derivative_terms(x, kernel, dx, dkernel, geom, precision)
    if not terms:
        return y, jnp.zeros_like(y)
    return y, functools.reduce(jnp.add, terms).astype(y.dtype)


def local_reshape(x, kernel, geom: shapes.Geometry, precision=None):
    """``"reshape"``: non-overlapping windows as a reshape of the input, one fused multiply-sum.

    ``precision`` is accepted for a uniform signature; elementwise float32 products are exact.
    """
    del precision
    ndim, n, channels, features = geom.ndim, x.shape[0], x.shape[-1], kernel.shape[-1]
    acc = _accumulator(x.dtype)
    x = pad_spatial(x, geom, 1)
    # Drop the rows a VALID window never reaches, then split each axis into (position, tap).
    x = x[(slice(None), *(slice(0, o * k) for o, k in zip(geom.out_spatial, geom.window)))]
    split = tuple(v for o, k in zip(geom.out_spatial, geom.window) for v in (o, k))
    order = (*(v for i in range(ndim) for v in (i, ndim + i)), 2 * ndim, 2 * ndim + 1)
    weights = jnp.transpose(kernel, order).astype(acc)  # (o1, k1, ..., C, F)
    # Unit channel and feature axes are indexed away: a trailing axis of size 1 made XLA's fused
    # reduction 2.5x slower on the 1000x1000 example.
    x = x.reshape(n, *split, channels).astype(acc)
    if channels == 1:
        x, weights = x[..., 0], weights[..., 0, :]
    x = x if features == 1 else x[..., None]
    weights = weights[..., 0] if features == 1 else weights
    summed = tuple(range(2, 2 * ndim + 1, 2)) + ((2 * ndim + 1,) if channels > 1 else ())
    # Named as window sums (a description, not a backend setting): XLA:CPU's YNNPACK ran these
    # and their transposes 4-10x slower than Eigen, and jaxconv.backend.xla_cpu reads the name.
    with jax.named_scope(WINDOW_SUMS_SCOPE):
        y = jnp.sum(x * weights[None], axis=summed)
    return (y[..., None] if features == 1 else y).astype(kernel.dtype)


IMPLEMENTATION_FUNCTIONS = {"patches": local_patches, "taps": local_taps, "reshape": local_reshape}


def local_apply(implementation: str, x, kernel, geom: shapes.Geometry, precision=None):
    """Runs a resolved implementation (not ``"auto"``): (N, *out_spatial, F) without bias."""
    return IMPLEMENTATION_FUNCTIONS[implementation](x, kernel, geom, precision)

