"""Output paths checked before any training: a run must not fail on its CSV or plot at the end.

An unwritable ``--csv``, a ``--plot`` with a format matplotlib cannot write or in a missing folder,
or a read-only ``--out-dir`` used to surface only after training, as a traceback, losing the
result line. :func:`check_writable_file` and :func:`check_plot_path` raise a one-line ValueError
naming the flag and the path instead, before anything is computed. Nothing imports JAX here.
"""

from __future__ import annotations

import argparse
import os
import tempfile

__all__ = ["check_plot_path", "check_writable_dir", "check_writable_file", "path_arg"]

# matplotlib's Agg backend writes these (``FigureCanvasAgg.get_supported_filetypes``).
PLOT_FORMATS = ("eps", "jpeg", "jpg", "pdf", "pgf", "png", "ps", "raw", "rgba", "svg", "svgz",
                "tif", "tiff", "webp")


def path_arg(text: str) -> str:
    """An argparse ``type`` for a path flag: an empty path is refused.

    ``--checkpoint-dir "$CKPT"`` with the variable unset trained without checkpoints, and
    ``--csv ''`` wrote nothing, both with exit 0.
    """
    if not text.strip():
        raise argparse.ArgumentTypeError(f"got an empty path {text!r} (an unset shell variable?)")
    return text


def check_writable_dir(flag: str, directory: str) -> str:
    """``directory`` exists and a file can be created in it (tried, then removed).

    Returns:
        Its absolute path.

    Raises:
        ValueError: naming ``flag`` and the path.
    """
    path = os.path.abspath(directory)
    if not os.path.isdir(path):
        what = "is not a directory" if os.path.exists(path) else "does not exist"
        raise ValueError(f"{flag}: {path!r} {what}.")
    try:  # os.access ignores immutable directories (chattr +i) and read-only mounts
        fd, probe = tempfile.mkstemp(prefix=".jaxconv-write-test-", dir=path)
        os.close(fd)
        os.remove(probe)
    except OSError as err:
        raise ValueError(f"{flag}: cannot write in {path!r} ({err.strerror or err}).") from None
    return path


def check_writable_file(flag: str, path: str) -> str:
    """``path`` can be written: its folder exists and is writable, and it is not a directory."""
    full = os.path.abspath(path)
    if os.path.isdir(full):
        raise ValueError(f"{flag}: {full!r} is a directory, not a file.")
    check_writable_dir(flag, os.path.dirname(full))
    if os.path.exists(full) and not os.access(full, os.W_OK):
        raise ValueError(f"{flag}: {full!r} is not writable.")
    return full


def check_plot_path(flag: str, path: str) -> str:
    """As :func:`check_writable_file`, and the suffix is a format matplotlib writes."""
    suffix = os.path.splitext(path)[1].lstrip(".").lower()
    if suffix not in PLOT_FORMATS:
        raise ValueError(f"{flag}: {path!r} has format {suffix or '(none)'!r}, which the plot "
                         f"cannot be written as; use one of {', '.join(PLOT_FORMATS)}.")
    return check_writable_file(flag, path)
