"""The ending every experiment command shares: its plot path, checked first, then table or JSON.

``jaxconv experiment shift``, ``data-size`` (both tasks) and ``sharing`` print their result the
same way: a table, or with ``--json`` one JSON object carrying ``"plot"`` (the path, or None with
``--no-plot``). The plot path is checked before the experiment runs (:func:`plot_path`), and a
plot that still cannot be written prints the result before the one-line error, so a finished
run's numbers are never lost.
"""

from __future__ import annotations

import atexit
import json
import os
from collections.abc import Callable

from jaxconv.cli.paths import check_plot_path

__all__ = ["emit", "plot_path"]


_HELD: dict[str, object] = {}  # plot path -> its lock, from plot_path until emit


def plot_path(args, filename: str) -> str | None:
    """Where the plot goes (``--plot``, else ``--out-dir/filename``), checked and claimed; None
    with ``--no-plot``.

    The claim (:class:`jaxconv.train.lock.DirectoryLock` of that one file) lasts until
    :func:`emit` has written the plot, or the process ends: a second experiment writing the
    same plot is refused at once, naming the first.

    Raises:
        ValueError: naming the flag and the path, when it cannot be written or another process
            writes it.
    """
    from jaxconv.train.lock import DirectoryLock

    if args.no_plot:
        return None
    path = args.plot or os.path.join(args.out_dir, filename)
    path = check_plot_path("--plot" if args.plot else "--out-dir", path)
    lock = DirectoryLock(os.path.dirname(path), fn="--plot" if args.plot else "--out-dir",
                         name=os.path.basename(path))
    try:
        lock.acquire()
    except OSError as err:
        raise ValueError(f"--plot: cannot claim {path!r}: {err.strerror or err}") from None
    atexit.register(lock.release)
    _HELD[path] = lock
    return path


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
        finally:
            lock = _HELD.pop(path, None)
            if lock is not None:
                lock.release()  # type: ignore[attr-defined]
    print(text)
    if path is not None and not args.json:
        print(f"plot: {path}")
    return 0
