"""Ctrl-C and SIGTERM end a command in one line that says where it stopped and what is kept.

While :func:`handled` is active, the first SIGINT or SIGTERM raises :class:`Stopped` in the main
thread. Inside :func:`critical` (a checkpoint save being started, a CSV being written) it waits
for the section to end, so a save is never cut in half by the signal itself. The command cleans
up as for any error (pending saves finish, the CSV is written to the last step), calls
:func:`caught`, says what it kept in one line, and exits with ``128 + signal``: 130 for SIGINT,
143 for SIGTERM, as a shell reports a process killed by them.

An exception raised by a signal handler lands wherever the main thread happens to be, and some
places swallow it: a garbage-collector callback (JAX has one), a ``__del__``, an asyncio
callback. :class:`Stopped` is a ``KeyboardInterrupt``, which asyncio and most libraries let
through; one that is still swallowed reaches :data:`sys.unraisablehook` or simply vanishes, so
until the command has :func:`caught` it, the stop is delivered again (at once after the hook,
else every few seconds) rather than leaving the run going.

A second signal exits at once (``os._exit``), even while the main thread waits inside XLA or
orbax: a watcher thread reads each signal from Python's wakeup file descriptor, which the
C-level handler writes as the signal arrives. It prints one line naming the newest complete
checkpoint (the callable given to :func:`keep`) and leaves every complete step as it is: steps
are written in temporary folders and renamed when complete.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator

__all__ = ["SIGNALS", "Stopped", "caught", "critical", "deliver_to", "handled", "keep", "name",
           "named", "position"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_NAMES: dict[int, str] = {signal.SIGINT: "SIGINT (Ctrl-C)", signal.SIGTERM: "SIGTERM"}
# Seconds between deliveries of a stop the main thread has not caught yet.
_AGAIN_AFTER = 3.0


def name(signum: int) -> str:
    """``"SIGINT (Ctrl-C)"``, ``"SIGTERM"``."""
    return _NAMES.get(signum, signal.Signals(signum).name)


class Stopped(KeyboardInterrupt):
    """A command stopped by a signal; ``message`` is the line to print (set by the command)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = int(signum)
        self.message: str | None = None

    @property
    def name(self) -> str:
        """``"SIGINT (Ctrl-C)"`` or ``"SIGTERM"``."""
        return name(self.signum)

    @property
    def code(self) -> int:
        """The exit status a shell gives a process ended by this signal: 128 + its number."""
        return 128 + self.signum


class _State:
    """What the handlers share: one command runs at a time per process."""

    def __init__(self):
        self.active = False
        self.depth = 0  # nesting of critical sections
        self.pending: int | None = None  # a signal that arrived inside one
        self.signum: int | None = None  # the first signal
        self.sent_at = 0.0  # when it was last delivered
        self.caught = False  # the command has it: deliver no more
        self.resent = 0  # deliveries this module made itself, not signals from outside
        self.prefix = "jaxconv"
        self.kept: Callable[[], str] | None = None
        self.on_signal: Callable[[int], None] | None = None


_STATE = _State()
_LOCK = threading.Lock()


def _on_signal(signum: int, frame):
    del frame
    if _STATE.caught or not _STATE.active:
        return  # a second signal is the watcher's
    if _STATE.signum is None:
        _STATE.signum = signum
    _STATE.sent_at = time.monotonic()
    if _STATE.depth:
        _STATE.pending = _STATE.signum
        return
    if _STATE.on_signal is not None:  # an event loop: an exception in a Qt slot aborts
        _STATE.caught = True
        _STATE.on_signal(_STATE.signum)
        return
    raise Stopped(_STATE.signum)


def caught() -> None:
    """Says the command has the :class:`Stopped`: it is not delivered again."""
    _STATE.caught = True


def _deliver_again() -> None:
    """Runs the handler in the main thread again (the last stop was swallowed)."""
    with _LOCK:
        _STATE.resent += 1
    _STATE.sent_at = time.monotonic()
    assert _STATE.signum is not None  # the watcher delivers again only a signal that came
    _thread.interrupt_main(signal.Signals(_STATE.signum))


def _unraisable(previous):
    def hook(unraisable):
        if isinstance(unraisable.exc_value, Stopped):
            # A gc callback or __del__ swallowed it: the watcher delivers it again at once,
            # from its thread (delivered here, the handler would raise inside this hook).
            _STATE.sent_at = 0.0
            return
        previous(unraisable)

    return hook


@contextlib.contextmanager
def critical() -> Iterator[None]:
    """Holds a signal until the block ends (a save being started, a file being written).

    Outside :func:`handled`, or in another thread, it does nothing.
    """
    if not _STATE.active or threading.current_thread() is not threading.main_thread():
        yield
        return
    _STATE.depth += 1
    try:
        yield
    finally:
        _STATE.depth -= 1
        if (not _STATE.depth and _STATE.pending is not None and not _STATE.caught
                and sys.exc_info()[0] is None):
            _STATE.pending = None
            assert _STATE.signum is not None  # a pending signal is the first one
            raise Stopped(_STATE.signum)


def _watch(reader: socket.socket) -> None:
    """Counts the signals from outside as they arrive (the second ends the process at once),
    and delivers again a stop the main thread has not caught."""
    seen = 0
    while True:
        try:
            data = reader.recv(64)
        except TimeoutError:
            data = b""
            if (_STATE.active and _STATE.signum is not None and not _STATE.caught
                    and not _STATE.depth and _STATE.on_signal is None
                    and time.monotonic() - _STATE.sent_at > _AGAIN_AFTER):
                _deliver_again()
            continue
        except OSError:
            return
        if not data:
            return
        for signum in data:
            if signum not in SIGNALS:
                continue
            with _LOCK:
                mine = _STATE.resent > 0
                _STATE.resent -= mine
            if mine:
                continue
            seen += 1
            if seen >= 2 and _STATE.active:
                _exit_at_once(signum)


def _exit_at_once(signum: int) -> None:
    kept = ""
    if _STATE.kept is not None:
        try:
            kept = f"; {_STATE.kept()}"
        except Exception:  # noqa: BLE001 - the line goes out whatever the directory holds
            kept = ""
    try:
        os.write(2, f"\n{_STATE.prefix}: stopped at once by a second {name(signum)}{kept}.\n"
                 .encode())
    finally:
        os._exit(128 + signum)


@contextlib.contextmanager
def handled(prefix: str, kept: Callable[[], str] | None = None,
            on_signal: Callable[[int], None] | None = None) -> Iterator[None]:
    """Turns SIGINT and SIGTERM into :class:`Stopped` for the block (main thread only).

    A signal ignored when the block starts (``nohup``, a shell's background job) stays ignored.

    Args:
        prefix: the command, for the second signal's line (``"jaxconv train"``).
        kept: returns what is kept on disk (``"step 100 is saved in ck/100"``), for that line;
            it must only read files. Settable later with :func:`keep`.
        on_signal: called with the first signal's number instead of raising :class:`Stopped`
            (a Qt window closes itself; its event loop must let Python run now and then, e.g.
            with a timer, for the handler to be called). Settable later with :func:`deliver_to`.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    reader.settimeout(0.2)  # the watcher wakes up to deliver again a stop not yet caught
    old = {s: signal.getsignal(s) for s in SIGNALS}
    _STATE.__init__()
    _STATE.active, _STATE.prefix, _STATE.kept = True, prefix, kept
    _STATE.on_signal = on_signal
    try:
        old_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    except ValueError:  # not the main interpreter
        old_fd = None
    old_hook = sys.unraisablehook
    mine = sys.unraisablehook = _unraisable(old_hook)
    watcher = threading.Thread(target=_watch, args=(reader,), daemon=True,
                               name="jaxconv-signal-watch")
    watcher.start()
    for s in SIGNALS:
        if old[s] is not signal.SIG_IGN:
            signal.signal(s, _on_signal)
    try:
        yield
    finally:
        _STATE.active = False
        for s, handler in old.items():
            signal.signal(s, handler)
        if old_fd is not None:
            signal.set_wakeup_fd(old_fd)
        if sys.unraisablehook is mine:  # not if a hook set later (orbax's filter) wraps it
            sys.unraisablehook = old_hook
        with contextlib.suppress(OSError):
            reader.shutdown(socket.SHUT_RDWR)  # the watcher's recv returns: it ends
        watcher.join(timeout=1.0)
        writer.close()
        reader.close()


def named(prefix: str) -> None:
    """Sets the command's name in the second signal's line (``"jaxconv train"``)."""
    _STATE.prefix = prefix


def keep(kept: Callable[[], str] | None) -> None:
    """Sets what the second signal's line says is kept (see :func:`handled`)."""
    _STATE.kept = kept


def deliver_to(on_signal: Callable[[int], None] | None) -> None:
    """From now on, the first signal calls ``on_signal`` instead of raising (see :func:`handled`;
    None raises again): a window that opens after start-up closes itself instead."""
    _STATE.on_signal = on_signal


def position(err: BaseException) -> str:
    """Where a stopped command was: ``" while training local, after step 137"``, read from the
    frames the exception passed through (a training loop's model and its last step), or ``""``.
    """
    kind = step = None
    tb = err.__traceback__
    while tb is not None:  # outermost first: the innermost model and step win
        steps = []
        for value in list(tb.tb_frame.f_locals.values()):
            try:
                config = getattr(getattr(value, "config", None), "kind", None)
            except Exception:  # noqa: BLE001 - a local whose attributes cannot be read
                config = None
            if isinstance(config, str) and config != kind:
                kind, step = config, None
            if type(value).__name__ == "StepResult":
                steps.append(value.step)
        step = max(steps) if steps else step
        tb = tb.tb_next
    if kind is None:
        return ""
    return f" while training {kind}" + (f", after step {step}" if step is not None else
                                        ", before its first step")
