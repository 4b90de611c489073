"""Connectivity kinds: one record per kind (:class:`Kind`), in one place.

The built-in kinds, from no structure to full structure: :class:`~jaxconv.kinds.dense.DenseKind`
(``"dense"``), :class:`~jaxconv.kinds.local.LocalKind` (``"local"``),
:class:`~jaxconv.kinds.regional.RegionalKind` (``"regional"``) and
:class:`~jaxconv.kinds.conv.ConvKind` (``"conv"``). Everything else in jaxconv asks this
registry what a kind is (see :mod:`jaxconv.kinds.record`); importing it loads no JAX.

Example:
    >>> from jaxconv import kinds
    >>> [k.label("en", short=True) for k in kinds.registered()]
    ['Dense', 'Local', 'Regional', 'Conv']
"""

from jaxconv.kinds.conv import ConvKind
from jaxconv.kinds.dense import DenseKind
from jaxconv.kinds.local import LocalKind
from jaxconv.kinds.record import SHARING, Kind
from jaxconv.kinds.regional import RegionalKind
from jaxconv.kinds.registry import (
    ENTRY_POINTS,
    get,
    names,
    register,
    registered,
    unregister,
)

__all__ = ["ENTRY_POINTS", "SHARING", "ConvKind", "DenseKind", "Kind", "LocalKind",
           "RegionalKind", "get", "names", "register", "registered", "unregister"]

for _kind in (DenseKind(), LocalKind(), RegionalKind(), ConvKind()):
    register(_kind, replace=True)
del _kind
