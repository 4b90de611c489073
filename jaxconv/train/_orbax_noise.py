"""Keeps orbax's background-thread noise to one line per event, and counts what it dropped.

Orbax saves and restores in background threads and event loops. When a restore fails on a damaged
step, TensorStore's callbacks later reach the closed event loop and each prints
``RuntimeError: Event loop is closed`` through :data:`sys.unraisablehook`: 17-25 tracebacks for one
damaged step, although the step was reported and skipped. When a save fails (a directory made
read-only), the background thread logs its traceback through absl at ERROR level, and a process
exiting early logged ``cannot schedule new futures after interpreter shutdown``. None of those
tracebacks says more than the one-line :class:`~jaxconv.train.CheckpointError` that jaxconv
raises, so :func:`install` drops the loop-closed tracebacks and those of orbax's reading
coroutines that fail after a restore was given up (a step of another model), and cuts orbax's ERROR records to their
first line (``verbose=True`` keeps them whole). :data:`dropped` counts what was dropped.
"""

from __future__ import annotations

import logging
import os
import re
import sys

__all__ = ["dropped", "install", "one_line", "save_failure"]

dropped = {"event_loop_closed": 0, "orbax_tracebacks": 0, "missing_metadata": 0,
           "orbax_read_errors": 0}
_state = {"installed": False, "verbose": False}


def _unraisable(previous):
    def hook(unraisable):
        err = unraisable.exc_value
        if isinstance(err, RuntimeError) and str(err) == "Event loop is closed":
            dropped["event_loop_closed"] += 1
            if not _state["verbose"]:
                return
        if _orbax_coroutine(unraisable.object):
            # A restore whose arrays do not match (a step of another model) left one reading
            # coroutine per array to fail later, each printing a 60-line TensorStore spec: 12 of
            # them for the digits conv, after the step was already reported and skipped.
            dropped["orbax_read_errors"] += 1
            if not _state["verbose"]:
                return
        previous(unraisable)

    return hook


def _orbax_coroutine(obj) -> bool:
    code = getattr(obj, "cr_code", None)
    path = getattr(code, "co_filename", "") or ""
    return f"{os.sep}orbax{os.sep}" in path


class _FirstLine(logging.Filter):
    """Orbax's ERROR records lose their traceback and all but their first line; its warning
    about a step folder without orbax's metadata is dropped (a stray folder such as an empty
    ``ck/20`` printed ``WARNING:absl:Metadata file does not exist: ...`` before jaxconv's own
    one-line report of it)."""

    def filter(self, record):
        if _state["verbose"]:
            return True
        if record.levelno < logging.ERROR:
            if str(record.msg).startswith("Metadata file does not exist"):
                dropped["missing_metadata"] += 1
                return False
            return True
        if f"{os.sep}orbax{os.sep}" in (record.pathname or ""):
            # A failed save (a full disk) logged 4-5 ERROR lines from its threads before
            # jaxconv's own one-line CheckpointError, which names the step and the reason.
            dropped["orbax_tracebacks"] += 1
            return False
        if record.exc_info or "\n" in record.getMessage():
            dropped["orbax_tracebacks"] += 1
        first = record.getMessage().splitlines()[0] if record.getMessage() else ""
        record.msg, record.args, record.exc_info, record.exc_text = first, (), None, None
        return True


class _NeverRetrieved(logging.Filter):
    """asyncio's ``_GatheringFuture exception was never retrieved`` (13 lines) about orbax's own
    reading futures, after a restore that jaxconv already reported and skipped (a step of
    another model), dropped; any other asyncio record is kept."""

    def filter(self, record):
        if _state["verbose"] or "never retrieved" not in str(record.msg):
            return True
        tb = record.exc_info[2] if record.exc_info else None
        while tb is not None:
            if f"{os.sep}orbax{os.sep}" in tb.tb_frame.f_code.co_filename:
                dropped["orbax_read_errors"] += 1
                return False
            tb = tb.tb_next
        return True


def install(verbose: bool = False) -> None:
    """Installs the filters once per process; ``verbose`` switches them off (full tracebacks)."""
    _state["verbose"] = bool(verbose)
    if _state["installed"]:
        return
    _state["installed"] = True
    sys.unraisablehook = _unraisable(sys.unraisablehook)
    logging.getLogger("absl").addFilter(_FirstLine())
    logging.getLogger("asyncio").addFilter(_NeverRetrieved())


def one_line(err: BaseException, limit: int = 200) -> str:
    """``"Type: first line of the message"``, cut to ``limit`` characters (TensorStore's run to 60
    lines of JSON specs)."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    text = text.split(" [tensorstore_spec=")[0]
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    return f"{type(err).__name__}: {text}"


_REASONS = (("No space left on device", "no space left on device"),
            ("Disk quota exceeded", "disk quota exceeded"),
            ("Permission denied", "permission denied"),
            ("Read-only file system", "read-only file system"),
            ("File too large", "file too large"))


def save_failure(err: BaseException) -> tuple[int | None, str]:
    """``(step, reason)`` of a failed orbax save: the step whose temporary folder the error
    names (an earlier background save's, reported at a later call), and the operating system's
    reason when the text holds one (``"no space left on device"``), else :func:`one_line`."""
    text = str(err)
    step = None
    found = re.search(r"[/\\](\d+)\.orbax-checkpoint-tmp", text)
    if found:
        step = int(found.group(1))
    for marker, reason in _REASONS:
        if marker in text:
            return step, reason
    return step, one_line(err)
