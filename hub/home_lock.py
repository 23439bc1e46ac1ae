"""A home is either served or having its database restored, never both at once.

``pgs serve`` (each of its workers too) holds a shared lock on ``HOME/serve.lock`` for as long
as it runs; ``pgs admin restore`` takes the lock exclusively, without waiting. A restore under a
running hub would put another database in place under the hub's open connections: on SQLite the
hub goes on writing to the file it has open, which is no longer the database, and every message
it accepts from then on is acknowledged and lost. So a restore is refused while any hub serves
the home, and a hub does not start while a restore runs.

The lock is advisory (``flock``) and binds ``pgs`` processes on this machine: hubs on other
machines that share one PostgreSQL database with their own homes are not seen by it. The kernel
lets go of it when a process ends, however it ends, so no stale lock is left behind.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = "serve.lock"


@contextlib.contextmanager
def _held(home: Path, mode: int) -> Iterator[bool]:
    with (home / LOCK_FILE).open("a", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
        else:
            yield True


def serving(home: Path) -> contextlib.AbstractContextManager[bool]:
    """Held while a hub serves ``home``: True, or False while a restore holds the home."""
    return _held(home, fcntl.LOCK_SH)


def restoring(home: Path) -> contextlib.AbstractContextManager[bool]:
    """Held while ``home``'s database is restored: True, or False while any hub serves it."""
    return _held(home, fcntl.LOCK_EX)
