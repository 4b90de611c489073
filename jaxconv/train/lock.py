"""A run owns the directory it writes: one writer at a time, the holder named when refused.

A directory that a run writes into (a checkpoint directory, a saved viewer session) holds
``.jaxconv.lock``, locked with :mod:`filelock` (``flock`` on POSIX: the kernel releases it when
the holder ends, even by SIGKILL), and ``.jaxconv-owner.json``, which names the holder: pid,
command, host and start time. A second writer is refused at once, in one line naming that pid
and command, instead of failing late at a colliding step after both runs have written there. An
owner file left by a holder that no longer holds the lock (a killed run) is reported in one line
when the lock is taken over. Readers take nothing and change nothing.

Example:
    >>> with DirectoryLock("ck") as lock:   # DirectoryBusyError if another run writes ck
    ...     ...                             # write ck
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sys
import time
import warnings
from pathlib import Path

import filelock

__all__ = ["LOCK_NAME", "OWNER_NAME", "DirectoryBusyError", "DirectoryLock", "command_line"]

LOCK_NAME = ".jaxconv.lock"
OWNER_NAME = ".jaxconv-owner.json"


class DirectoryBusyError(ValueError):
    """Another live process writes the directory; the message names its pid and command."""


def command_line(limit: int = 300) -> str:
    """This process's command as a shell would show it (``jaxconv train --steps 10 ...``,
    ``python -m jaxconv.cli train ...``)."""
    first = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if first == "__main__.py" and spec is not None:  # python -m package
        first = f"python -m {spec.name.removesuffix('.__main__')}"
    elif first.endswith(".py") or first == "-c":
        first = f"python {first}"
    text = " ".join([first, *map(shlex.quote, sys.argv[1:])])
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _describe(owner: dict | None) -> str:
    """``pid 1234 (jaxconv train --steps 10) on host, since 12:00:01``, from an owner file."""
    if not owner:
        return "another process (which has not named itself yet)"
    text = f"pid {owner.get('pid', '?')} ({owner.get('command', '?')})"
    if owner.get("host") and owner["host"] != socket.gethostname():
        text += f" on {owner['host']}"
    if isinstance(owner.get("since"), (int, float)):
        text += f", since {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(owner['since']))}"
    return text


class DirectoryLock:
    """The claim of one writer on ``directory`` (which must exist).

    Args:
        directory: the directory to own.
        fn: the owner's name in messages (``"Checkpointer"``).
        name: own only this file of the directory (an experiment's plot): its lock and owner
            files are ``.<name>.jaxconv.lock`` and ``.<name>.jaxconv-owner.json``, removed on
            release so that they do not litter a folder of results.
    """

    def __init__(self, directory, *, fn: str = "DirectoryLock", name: str | None = None):
        self.directory = Path(directory).absolute()
        self.fn = fn
        self.name = name
        lock = LOCK_NAME if name is None else f".{name}.jaxconv.lock"
        self._path = self.directory / lock
        self._lock = filelock.FileLock(str(self._path), timeout=0, thread_local=False)
        self._owner = self.directory / (OWNER_NAME if name is None else
                                        f".{name}.jaxconv-owner.json")

    @property
    def _what(self) -> str:
        return str(self.directory if self.name is None else self.directory / self.name)

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._lock.is_locked

    def holder(self) -> dict | None:
        """The owner file's contents (whoever last claimed the directory), or None."""
        try:
            owner = json.loads(self._owner.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return owner if isinstance(owner, dict) else None

    def acquire(self) -> str | None:
        """Claims the directory for this process.

        Returns:
            None, or one line saying whose abandoned claim was taken over.

        Raises:
            DirectoryBusyError: another live process holds it (named by pid and command).
            OSError: the lock file cannot be created (a read-only directory).
        """
        if self.held:
            return None
        try:
            self._lock.acquire()
        except filelock.Timeout:
            owner = self.holder()
            for _ in range(10):  # the holder writes its name just after taking the lock
                if owner is not None:
                    break
                time.sleep(0.02)
                owner = self.holder()
            raise DirectoryBusyError(
                f"{self.fn}: {self._what!r} is being written by {_describe(owner)}; it has one "
                f"writer at a time: wait for it to finish, stop it, or use another "
                f"{'directory' if self.name is None else 'path'}.") from None
        previous = self.holder()
        if previous is not None and (previous.get("pid"), previous.get("host")) == (
                os.getpid(), socket.gethostname()):
            previous = None  # this process's own earlier claim, dropped without release()
        mine = {"pid": os.getpid(), "command": command_line(), "host": socket.gethostname(),
                "since": time.time()}
        tmp = self._owner.with_name(f"{OWNER_NAME}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(mine), encoding="utf-8")
            os.replace(tmp, self._owner)  # readers never see half a name
        except OSError:
            self._lock.release()
            raise
        if previous is None:
            return None
        return (f"took over {self._what!r} from {_describe(previous)}, which ended without "
                f"releasing it.")

    def release(self) -> None:
        """Gives the directory up (idempotent); the owner file goes with it."""
        if not self.held:
            return
        try:
            self._owner.unlink(missing_ok=True)
            if self.name is not None:  # filelock re-checks the inode it locked: safe to unlink
                self._path.unlink(missing_ok=True)
        except OSError:  # a directory gone read-only: the next owner reports a takeover
            pass
        self._lock.release()

    def __enter__(self):
        note = self.acquire()
        if note:
            warnings.warn(f"{self.fn}: {note}", RuntimeWarning, stacklevel=2)
        return self

    def __exit__(self, *exc):
        self.release()
