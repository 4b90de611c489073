"""The registry of connectivity kinds: every `jaxconv.kinds.Kind` by name, and the kinds other
installed packages offer through entry points. Pure Python: listing the kinds loads no JAX."""

from __future__ import annotations

from jaxconv.kinds.record import SHARING, Kind
from jaxconv.validate import check_choice

__all__ = ["ENTRY_POINTS", "get", "names", "register", "registered", "unregister"]

_REGISTRY: dict[str, Kind] = {}

#: The entry-point group through which another installed package offers kinds: each entry names a
#: `Kind` subclass or instance (``[project.entry-points."jaxconv.kinds"]`` ``depthwise =
#: "mypkg.kinds:DepthwiseKind"``). They are registered the first time the registry is asked, in
#: every process, so ``jaxconv count``, ``compare``, ``bench`` and the viewer offer them too.
ENTRY_POINTS = "jaxconv.kinds"
_PLUGINS = {"loaded": False}


def _load_plugins() -> None:
    """Registers the kinds of the installed packages' entry points, once per process.

    A plugin that fails to load or is no `Kind` is left out with one warning naming it; the
    other kinds work. A plugin never replaces a kind of the same name registered before it.
    """
    if _PLUGINS["loaded"]:
        return
    _PLUGINS["loaded"] = True
    import warnings
    from importlib.metadata import entry_points

    for point in entry_points(group=ENTRY_POINTS):
        try:
            found = point.load()
            kind = found() if isinstance(found, type) else found
            if not isinstance(kind, Kind) or kind.name not in _REGISTRY:
                register(kind)
        except Exception as error:  # noqa: BLE001 - another package's code: say it, go on
            warnings.warn(f"jaxconv.kinds: the kind {point.name!r} offered by {point.value!r} is "
                          f"left out ({type(error).__name__}: {error}).", RuntimeWarning,
                          stacklevel=3)


def register(kind: Kind, *, replace: bool = False) -> Kind:
    """Adds ``kind`` to the registry; returns it.

    Raises:
        TypeError: ``kind`` is not a `Kind`.
        ValueError: its name is empty, not an identifier-like word, or already registered
            (unless ``replace``), or its sharing is not one of :data:`SHARING`.
    """
    if not isinstance(kind, Kind):
        raise TypeError(f"kinds.register: `kind` must be a jaxconv.kinds.Kind instance, got "
                        f"{type(kind).__name__}.")
    name = kind.name
    if not isinstance(name, str) or not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"kinds.register: a kind's `name` must be a non-empty word of letters, "
                         f"digits, '-' or '_', got name={name!r}.")
    if kind.sharing not in SHARING:
        raise ValueError(f"kinds.register: kind {name!r}: `sharing` must be one of "
                         f"{', '.join(SHARING)}, got sharing={kind.sharing!r}.")
    if name in _REGISTRY and not replace:
        raise ValueError(f"kinds.register: a kind named {name!r} is already registered "
                         f"({_REGISTRY[name]!r}); pass replace=True to replace it.")
    _REGISTRY[name] = kind
    return kind


def unregister(name: str) -> None:
    """Removes the kind ``name`` (a test's toy kind, say).

    Raises:
        ValueError: no kind of that name is registered.
    """
    get(name, fn="kinds.unregister")
    del _REGISTRY[name]


def registered() -> tuple[Kind, ...]:
    """Every registered kind, from no structure to full structure (by ``order``, then name);
    the installed packages' kinds (:data:`ENTRY_POINTS`) are registered on the first call."""
    _load_plugins()
    return tuple(sorted(_REGISTRY.values(), key=lambda k: (k.order, k.name)))


def names() -> tuple[str, ...]:
    """The registered kinds' names, in :func:`registered` order."""
    return tuple(k.name for k in registered())


def get(name, *, fn: str = "kinds.get") -> Kind:
    """The kind called ``name`` (a `Kind` passes through).

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: no kind of that name is registered; the message lists those that are.
    """
    if isinstance(name, Kind):
        return name
    return _REGISTRY[check_choice(fn, "kind", name, names())]
