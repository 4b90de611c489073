"""Plain-text tables for the counting reports (no Qt, no rich); byte counts are
:func:`jaxconv.validate.human_bytes`, which the size checks' messages share."""

from __future__ import annotations

from jaxconv.validate import human_bytes

__all__ = ["human_bytes", "render", "shape_text"]


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
