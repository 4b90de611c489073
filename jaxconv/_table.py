"""Plain-text tables and human-readable numbers for the counting reports (no Qt, no rich)."""

from __future__ import annotations

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


def shape_text(shape) -> str:
    """``(1000, 1000, 1)`` -> ``1000x1000x1``; None -> ``-``."""
    return "-" if shape is None else "x".join(str(v) for v in shape)


def render(headers, rows, *, right=()) -> str:
    """Aligns ``rows`` (lists of strings) under ``headers``; columns in ``right`` align right."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows)]

    def line(cells):
        parts = [str(c).rjust(w) if i in right else str(c).ljust(w)
                 for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts).rstrip()

    rule = "-" * len(line(headers))
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])
