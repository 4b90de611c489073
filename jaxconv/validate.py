"""One phrasing per rule for every argument check in jaxconv (pure Python: no JAX, no Qt).

Every public entry point (ops, modules, models, data, training, checkpoints, counting, CLI,
viewer) checks its arguments here, so a rule reads the same wherever it is broken::

    ValueError: conv: `strides` must be a positive integer, got strides=0.
    ValueError: ModelConfig: `strides` must be a positive integer, got strides=0.
    TypeError: avg_pool: `count_include_pad` must be True or False, got count_include_pad='no'.

A message names the function (``fn``), the argument, the rule and the value received, in that
order. ``TypeError`` is for a value of the wrong kind, ``ValueError`` for a value of the right kind
outside the rule.

Sizes are checked before anything is allocated or compiled: XLA aborts the whole process (SIGABRT,
no Python exception) on a shape whose byte size overflows int64 ("overflow in static extent
product"), and raises a wall of ``RESOURCE_EXHAUSTED`` text for one larger than memory.
:func:`check_array_size` and :func:`check_fits_memory` turn both into one sentence with the count
and the bytes.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
import os
import sys

_INT64_MAX = 2**63 - 1
# Set while a model is traced abstractly (jaxconv.summary): shapes only, nothing is allocated.
_ABSTRACT = contextvars.ContextVar("jaxconv_abstract", default=False)


# --- byte counts, as every message and table prints them ------------------------------------

_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def human_bytes(num_bytes: int) -> str:
    """Bytes in decimal SI units: ``400 B``, ``400.0 MB``, ``4.0 TB`` (1 kB = 1000 B).

    Example:
        >>> human_bytes(4 * 10**12)
        '4.0 TB'
    """
    if num_bytes < 1000:
        return f"{num_bytes} B"
    value, unit = float(num_bytes), 0
    while value >= 1000 and unit < len(_UNITS) - 1:
        value, unit = value / 1000, unit + 1
    if round(value, 1) >= 1000 and unit < len(_UNITS) - 1:  # 999.96 MB would print as 1000.0 MB
        value, unit = value / 1000, unit + 1
    return f"{value:.1f} {_UNITS[unit]}"


# --- ints ---------------------------------------------------------------------------------------

def is_int(value) -> bool:
    """True for Python and NumPy integers; False for bools (``True`` is not a size)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and not _is_np_bool(
        value)


def _is_np_bool(value) -> bool:
    return type(value).__module__ == "numpy" and type(value).__name__ in ("bool_", "bool")


def int_rule(minimum: int | None = 1, maximum: int | None = None, *, plural: bool = False) -> str:
    """The rule's words: ``a positive integer``, ``an integer >= 0``, ``integers in [2, 8]``."""
    if maximum is not None and minimum is not None:
        return f"{'integers' if plural else 'an integer'} in [{minimum}, {maximum}]"
    if maximum is not None:
        return f"{'integers' if plural else 'an integer'} <= {maximum}"
    if minimum == 1:
        return "positive integers" if plural else "a positive integer"
    if minimum is None:
        return "integers" if plural else "an integer"
    return f"{'integers' if plural else 'an integer'} >= {minimum}"


def check_int(fn: str, name: str, value, minimum: int | None = 1, maximum: int | None = None) -> int:
    """Returns ``value`` as an int in ``[minimum, maximum]`` (None: no bound).

    Raises:
        TypeError: ``fn: `name` must be an int, got name=value.`` (bools and floats included).
        ValueError: ``fn: `name` must be a positive integer, got name=0.`` (or the range).

    Example:
        >>> check_int("fit", "steps", 10, 0)
        10
    """
    if not is_int(value):
        raise TypeError(f"{fn}: `{name}` must be an int, got {name}={value!r}.")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{fn}: `{name}` must be {int_rule(minimum, maximum)}, got {name}={value!r}.")
    return int(value)


def check_optional_int(fn: str, name: str, value, minimum: int | None = 1,
                       maximum: int | None = None) -> int | None:
    """As :func:`check_int`, but None passes through (the rule then reads ``None or ...``)."""
    if value is None:
        return None
    if not is_int(value):
        raise TypeError(f"{fn}: `{name}` must be None or an int, got {name}={value!r}.")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{fn}: `{name}` must be None or {int_rule(minimum, maximum)}, got "
                         f"{name}={value!r}.")
    return int(value)


def check_shape(fn: str, name: str, value, what: str = "one example's shape, no batch") -> tuple:
    """Returns ``value`` as a non-empty tuple of positive ints (a shape), else raises.

    Raises:
        TypeError: ``fn: `name` must be a tuple of positive integers (<what>), got name='8x8'.``
        ValueError: the same words for an empty shape or a size < 1.
    """
    rule = f"`{name}` must be a tuple of positive integers ({what})"
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or not all(
            is_int(v) for v in value):
        raise TypeError(f"{fn}: {rule}, got {name}={value!r}.")
    if not len(value) or any(v < 1 for v in value):
        raise ValueError(f"{fn}: {rule}, got {name}={tuple(value)!r}.")
    return tuple(int(v) for v in value)


# --- bools, choices, floats ---------------------------------------------------------------------

def check_bool(fn: str, name: str, value) -> bool:
    """Returns ``value`` as a bool; anything but ``True``/``False`` (or a NumPy bool) is a TypeError.

    ``"no"``, ``0`` and ``None`` are refused rather than read by their truth value, because
    ``bool("no")`` is True.
    """
    if isinstance(value, bool) or _is_np_bool(value):
        return bool(value)
    raise TypeError(f"{fn}: `{name}` must be True or False, got {name}={value!r}.")


def check_choice(fn: str, name: str, value, choices, *, upper: bool = False):
    """Returns ``value`` if it is one of ``choices`` (strings upper-cased first with ``upper``).

    Raises:
        TypeError: for a non-string value when the choices are strings.
        ValueError: ``fn: `name` must be one of a, b, c, got name='d'.``
    """
    choices = tuple(choices)
    words = ", ".join(str(c) for c in choices)
    if all(isinstance(c, str) for c in choices) and not isinstance(value, str):
        raise TypeError(f"{fn}: `{name}` must be one of {words}, got {name}={value!r}.")
    key = value.upper() if upper and isinstance(value, str) else value
    if key not in choices:
        raise ValueError(f"{fn}: `{name}` must be one of {words}, got {name}={value!r}.")
    return key


def float_rule(minimum=None, maximum=None, *, low_open=False, high_open=False) -> str:
    """``a positive finite number``, ``a finite number >= 0``, ``a finite number in [0, 1)``."""
    if minimum is not None and maximum is not None:
        return (f"a finite number in {'(' if low_open else '['}{minimum:g}, "
                f"{maximum:g}{')' if high_open else ']'}")
    if minimum == 0 and low_open:
        return "a positive finite number"
    if minimum is not None:
        return f"a finite number {'>' if low_open else '>='} {minimum:g}"
    if maximum is not None:
        return f"a finite number {'<' if high_open else '<='} {maximum:g}"
    return "a finite number"


def check_float(fn: str, name: str, value, minimum=None, maximum=None, *, low_open=False,
                high_open=False) -> float:
    """Returns ``value`` as a finite float within the bounds (``low_open``: ``> minimum``).

    Example:
        >>> check_float("make_optimizer", "learning_rate", 1e-3, 0, low_open=True)
        0.001
    """
    rule = float_rule(minimum, maximum, low_open=low_open, high_open=high_open)
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or _is_np_bool(value):
        raise TypeError(f"{fn}: `{name}` must be {rule}, got {name}={value!r}.")
    number = float(value)
    if (not math.isfinite(number)
            or (minimum is not None and (number <= minimum if low_open else number < minimum))
            or (maximum is not None and (number >= maximum if high_open else number > maximum))):
        raise ValueError(f"{fn}: `{name}` must be {rule}, got {name}={value!r}.")
    return number


def check_not_none(fn: str, name: str, value, what: str):
    """Refuses None with ``fn: `name` must be <what>, got name=None.`` (a TypeError)."""
    if value is None:
        raise TypeError(f"{fn}: `{name}` must be {what}, got {name}=None.")
    return value


# --- sizes and memory ---------------------------------------------------------------------------

_SUMMARY = "jaxconv.summary(model, input_shape)"


def check_array_size(fn: str, what: str, shape, itemsize: int = 4, *, memory: bool = True,
                     hint: str = _SUMMARY) -> int:
    """Checks an array of ``shape`` can exist: its byte size fits int64 and the machine's memory.

    Args:
        fn: the public function, for the message.
        what: the array and the arguments that sized it, e.g. ``"the output (padding=1099511627776)"``.
        shape: the array's shape (Python ints).
        itemsize: bytes per element.
        memory: also check it fits :func:`available_memory_bytes` (False: only int64).
        hint: what counts it without allocating, for the memory message.

    Returns:
        The array's size in bytes.

    Raises:
        ValueError: naming the shape, the element count and the bytes.
    """
    count = math.prod(int(d) for d in shape)
    nbytes = count * int(itemsize)
    if nbytes > _INT64_MAX:
        raise ValueError(
            f"{fn}: {what} would have shape {tuple(shape)}: {count:,} elements, {nbytes:,} bytes "
            f"({human_bytes(nbytes)}), beyond the 2**63 bytes any process can address.")
    if memory:
        check_fits_memory(fn, f"{what} of shape {tuple(shape)} ({count:,} elements)", nbytes, hint)
    return nbytes


def available_memory_bytes() -> int:
    """The most memory this process could hold: the least of RAM, the cgroup and rlimit caps.

    When JAX is already imported and its default device is an accelerator that reports a memory
    limit, that limit counts too (parameters live on the device).
    """
    limits = []
    try:
        limits.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            limits.append(int(text))
    try:
        import resource

        for which in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
            soft = resource.getrlimit(which)[0]
            if soft != resource.RLIM_INFINITY and soft > 0:
                limits.append(soft)
    except (ImportError, ValueError, OSError):
        pass
    device = _device_limit()
    if device:
        limits.append(device)
    return min(limits) if limits else _INT64_MAX


def _device_limit() -> int | None:
    jax = sys.modules.get("jax")
    if jax is None:
        return None
    try:
        dev = jax.devices()[0]
        if dev.platform == "cpu":
            return None
        stats = dev.memory_stats() or {}
        return int(stats.get("bytes_limit") or 0) or None
    except Exception:  # noqa: BLE001 - a backend without stats simply has no device limit
        return None


def check_fits_memory(fn: str, what: str, nbytes: int, hint: str = _SUMMARY) -> int:
    """Refuses ``nbytes`` larger than :func:`available_memory_bytes`, before anything is allocated.

    Skipped inside :func:`abstract` (``jaxconv.summary`` traces shapes without allocating).

    Raises:
        ValueError: ``fn: <what> needs N bytes (4.4 TB) but this machine can hold at most M bytes
            (...); count it without allocating with jaxconv.summary(model, input_shape).``
    """
    if _ABSTRACT.get():
        return nbytes
    limit = available_memory_bytes()
    if nbytes > limit:
        raise ValueError(
            f"{fn}: {what} needs {nbytes:,} bytes ({human_bytes(nbytes)}) but this machine can "
            f"hold at most {limit:,} bytes ({human_bytes(limit)}); count it without allocating "
            f"with {hint}.")
    return nbytes


#: Peak bytes of initialising parameters, per byte of parameters. Measured with XLA's
#: memory_analysis of ``jax.jit(jaxconv.layers.linen.Dense(n).init)`` on CPU (n = 2**20 and 2**24): the
#: random initialiser's temporaries are 3.0x the kernel's bytes (12,884,902,724 for 4,294,967,296),
#: on top of the kernel itself.
INIT_PEAK_FACTOR = 4


def check_params_fit(fn: str, param_shapes: dict, dtype, sizes: str = "") -> int:
    """Checks the parameters a module is about to create can be initialised; returns their bytes.

    Initialising takes :data:`INIT_PEAK_FACTOR` times the parameters' bytes at its peak, so that is
    what must fit in :func:`available_memory_bytes`.

    Args:
        fn: the module, e.g. ``"Dense"``.
        param_shapes: ``{"kernel": shape, "bias": shape or None}``.
        dtype: the parameters' dtype (``param_dtype``).
        sizes: the arguments that sized them, e.g. ``"in_features=64, features=1099511627776"``.
    """
    import numpy as np

    itemsize = np.dtype(dtype).itemsize
    total = 0
    for name, shape in param_shapes.items():
        if shape is None:
            continue
        what = f"the {name}" + (f" ({sizes})" if sizes else "")
        count = math.prod(int(d) for d in shape)
        if count * itemsize > _INT64_MAX:
            check_array_size(fn, what, shape, itemsize)  # raises the int64 message
        total += count * itemsize
    shown = ", ".join(f"{n} {tuple(s)}" for n, s in param_shapes.items() if s is not None)
    check_fits_memory(
        fn, f"its parameters ({shown}{'; ' + sizes if sizes else ''}) take {total:,} bytes "
            f"({human_bytes(total)}), and initialising them", total * INIT_PEAK_FACTOR)
    return total


@contextlib.contextmanager
def abstract():
    """Within this block shapes are traced, not allocated: :func:`check_fits_memory` is skipped."""
    token = _ABSTRACT.set(True)
    try:
        yield
    finally:
        _ABSTRACT.reset(token)
