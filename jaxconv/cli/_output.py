"""The ending every experiment command shares: its plot path, checked first, then table or JSON.

``jaxconv experiment shift``, ``data-size`` (both tasks) and ``sharing`` print their result the
same way: a table, or with ``--json`` one JSON object carrying ``"plot"`` (the path, or None with
``--no-plot``). The plot path is checked before the experiment runs (:func:`plot_path`), and a
plot that still cannot be written prints the result before the one-line error, so a finished
run's numbers are never lost.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable

from jaxconv.cli.paths import check_plot_path

__all__ = ["claimed", "emit", "plot_path"]


def plot_path(args, filename: str) -> str | None:
    """Where the plot goes (``--plot``, else ``--out-dir/filename``), checked; None with
    ``--no-plot``. Hold it with :func:`claimed` while the experiment runs.

    Raises:
        ValueError: naming the flag and the path, when it cannot be written.
    """
    if args.no_plot:
        return None
    path = args.plot or os.path.join(args.out_dir, filename)
    return check_plot_path("--plot" if args.plot else "--out-dir", path)


@contextlib.contextmanager
def claimed(path: str | None):
    """Holds the plot ``path`` (:class:`jaxconv.train.lock.DirectoryLock` of that one file) for
    the block: a second experiment writing the same plot is refused at once, naming the first.

    Raises:
        ValueError: another process writes it, or its folder cannot hold the claim.
    """
    if path is None:
        yield
        return
    from jaxconv.train.lock import DirectoryLock

    lock = DirectoryLock(os.path.dirname(path), fn="--plot", name=os.path.basename(path))
    try:
        lock.acquire()
    except OSError as err:
        raise ValueError(f"--plot: cannot claim {path!r}: {err.strerror or err}") from None
    try:
        yield
    finally:
        lock.release()


def emit(args, result: dict, table: Callable[[dict], str],
         plot: Callable[[dict, str], None], path: str | None) -> int:
    """Draws ``result`` to ``path`` (if any), then prints it as ``table(result)`` or JSON.

    Returns:
        0, the command's exit status.

    Raises:
        OSError: ``cannot write the plot '...': reason`` after the result is printed.
    """
    text = json.dumps({**result, "plot": path}) if args.json else table(result)
    if path is not None:
        try:
            plot(result, path)
        except OSError as err:
            print(text)
            raise OSError(f"cannot write the plot {path!r}: {err.strerror or err}") from None
    print(text)
    if path is not None and not args.json:
        print(f"plot: {path}")
    return 0
