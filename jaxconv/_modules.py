"""Shape checks shared by the linen and NNX wrappers (the math itself lives in :mod:`jaxconv.ops`)."""

from __future__ import annotations

from jaxconv import shapes


def conv_param_shapes(fn, in_features, features, kernel_size, ndim, groups):
    """Returns ``(kernel_shape, bias_shape)`` of a conv layer, checking every setting."""
    in_features = shapes.check_features(fn, "in_features", in_features)
    features = shapes.check_features(fn, "features", features)
    window = shapes.canonical_ints(fn, "kernel_size", kernel_size, ndim)
    groups = shapes.check_groups(fn, groups, in_features, features)
    return shapes.conv_kernel_shape(window, in_features, features, groups), (features,)


def local_param_shapes(fn, in_features, features, kernel_size, input_size, strides, padding,
                       dilation):
    """Returns ``(kernel_shape, bias_shape)`` of a locally-connected layer for ``input_size``."""
    in_features = shapes.check_features(fn, "in_features", in_features)
    features = shapes.check_features(fn, "features", features)
    geom = shapes.geometry(fn, input_size, kernel_size, strides=strides, padding=padding,
                           dilation=dilation)
    kernel = shapes.local_kernel_shape(geom.out_spatial, geom.window, in_features, features)
    return kernel, (*geom.out_spatial, features)


def spatial_dims(fn, kernel_size, x_ndim):
    """Spatial dims implied by ``kernel_size`` (a tuple) or, for an int, by the input rank."""
    if isinstance(kernel_size, int) and not isinstance(kernel_size, bool):
        if x_ndim not in (3, 4, 5):
            raise ValueError(f"{fn}: input must have shape (N, *spatial, C) with 1-3 spatial dims, "
                             f"got rank {x_ndim}.")
        return x_ndim - 2
    try:
        return len(kernel_size)
    except TypeError:
        raise TypeError(f"{fn}: `kernel_size` must be an int or a sequence of ints, got "
                        f"kernel_size={kernel_size!r}.") from None
