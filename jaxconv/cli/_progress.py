"""An elapsed-time line on stderr while the first training step compiles.

A compile can take minutes (a 100x100 locally-connected window on 8x8 digits took more than 5) and
gives no sign of life; :class:`Heartbeat` prints ``still compiling ... (20 s)`` every ``every``
seconds from a daemon thread until :meth:`Heartbeat.stop`, so no run sits silent.
"""

from __future__ import annotations

import sys
import threading
import time

__all__ = ["Heartbeat"]


class Heartbeat:
    """Prints ``<prefix>: <what> (<n> s)...`` to ``stream`` every ``every`` s until stopped.

    Args:
        prefix: e.g. ``"jaxconv train"``.
        what: e.g. ``"still compiling the training step"``.
        every: seconds between lines.
        stream: where to print; default stderr.
    """

    def __init__(self, prefix: str, what: str, every: float = 10.0, stream=None):
        self._prefix, self._what, self._every = prefix, what, every
        self._stream = stream or sys.stderr
        self._stop = threading.Event()
        self._began = time.perf_counter()
        self._thread = threading.Thread(target=self._beat, daemon=True)
        self._thread.start()

    def _beat(self):
        while not self._stop.wait(self._every):
            seconds = time.perf_counter() - self._began
            print(f"{self._prefix}: {self._what} ({seconds:.0f} s)...", file=self._stream,
                  flush=True)

    def stop(self) -> None:
        """Stops the lines (idempotent) and waits for the thread."""
        self._stop.set()
        self._thread.join()
