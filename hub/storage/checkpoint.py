"""Checkpoints of the serving hub's SQLite WAL, in a thread of their own, off the commit path.

In WAL mode a commit appends its pages to ``hub.db-wal``; a *checkpoint* later copies them into
``hub.db`` and fsyncs it, after which the WAL can be reused from its start. By default SQLite
runs that checkpoint inside the commit that takes the WAL past 1,000 pages (~4 MB): a 4 MiB
attachment part crossed it on every PATCH, and the envelopes' group commit every few hundred
envelopes, so those requests waited for a second copy of the data and a second fsync before
their answer (bench/README.md, part 5b). The commit itself is what makes a write durable
(``synchronous=FULL`` syncs the WAL at each commit); the checkpoint is not needed for that.

So the serving hub's connections (``create_engine(..., wal_autocheckpoint=HARD_BOUND_PAGES)``)
leave checkpoints to a :class:`WalCheckpointer`: a thread with its own connection, woken by
every commit of the hub's engine, that runs a PASSIVE checkpoint (it never blocks readers or
writers) at most once per ``interval`` seconds, and now and then a TRUNCATE (which waits for
the writers briefly, bounded by its busy timeout) so that the WAL file shrinks back to nothing.
The bound on the WAL stays SQLite's own: if the checkpointer cannot keep up (a very long
reader, a failing disk), the commit that takes the WAL past ``HARD_BOUND_PAGES`` checkpoints
itself, as every commit used to past 1,000 pages, and ``journal_size_limit`` truncates the file
back when the WAL is reused. Every other connection to the file (CLI admin commands on a running
hub's home, migrations, backups, tests) keeps SQLite's defaults and checkpoints as before.

A failed checkpoint loses nothing (the pages stay in the WAL, which readers see and the next
checkpoint copies); it is logged by its SQLite error name only and counted in the metrics. A
process killed mid-checkpoint loses nothing either: SQLite's recovery replays the WAL at the
next open.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.hub.storage.engine import create_engine

log = logging.getLogger("pgs_hub.hub.storage.checkpoint")

#: WAL pages past which a commit of the serving hub checkpoints by itself (~64 MiB at 4 KiB a
#: page): the bound that holds when the background thread does not keep up.
HARD_BOUND_PAGES: Final = 16384
#: At most one checkpoint per this many seconds while commits keep coming: the pages of a burst
#: are copied together, and the database file is fsynced a few times a second at most.
INTERVAL_SECONDS: Final = 0.25
#: A commit whose wake-up came just before its COMMIT ran is caught by this idle pass.
IDLE_SECONDS: Final = 5.0
#: A TRUNCATE checkpoint (WAL file back to zero bytes) at most this often.
TRUNCATE_EVERY_SECONDS: Final = 60.0
#: How long a TRUNCATE checkpoint may wait for writers and readers (it holds new writers off
#: meanwhile); when it cannot finish in time it is tried again later.
TRUNCATE_BUSY_MS: Final = 100


def serving_engine(url: str) -> tuple[AsyncEngine, WalCheckpointer | None]:
    """The engine of a serving hub, and for SQLite its checkpointer, attached to the engine but
    not started (it opens the database at its first checkpoint, never creating the file); stop
    it after ``engine.dispose()``, so that its last checkpoint comes after every write."""
    engine = create_engine(url, wal_autocheckpoint=HARD_BOUND_PAGES)
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return engine, None
    checkpointer = WalCheckpointer(Path(engine.url.database))
    checkpointer.attach(engine)
    return engine, checkpointer


class WalCheckpointer:
    """Background checkpoints of one SQLite database file (see the module docs).

    ``wake()`` is thread-safe and cheap (it sets an event); :meth:`attach` makes every commit
    of an engine call it. ``checkpoints``, ``failures``, ``busy`` and ``wal_frames`` (the WAL's
    size in pages at the last checkpoint) are read by the metrics."""

    def __init__(
        self,
        database: Path,
        *,
        interval: float = INTERVAL_SECONDS,
        idle: float = IDLE_SECONDS,
        truncate_every: float = TRUNCATE_EVERY_SECONDS,
    ) -> None:
        self.database = database
        self.interval = interval
        self.idle = idle
        self.truncate_every = truncate_every
        self.checkpoints = 0
        self.failures = 0
        self.busy = 0
        self.wal_frames = 0
        self._failing = 0  # failures in a row, so far
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._last_truncate = time.monotonic()

    def start(self) -> None:
        """Start the thread (its connection is opened at its first checkpoint)."""
        self._thread = threading.Thread(target=self._run, name="pgs-wal-checkpoint", daemon=True)
        self._thread.start()

    def _connect(self) -> sqlite3.Connection:
        # mode=rw: never create the file (a hub that failed to start must not leave one).
        conn = sqlite3.connect(
            f"{self.database.resolve().as_uri()}?mode=rw",
            uri=True, isolation_level=None, check_same_thread=False,
        )  # fmt: skip
        try:
            # FULL: the checkpoint fsyncs the WAL before copying it and the database after.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(f"PRAGMA busy_timeout={TRUNCATE_BUSY_MS}")
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def wake(self) -> None:
        """Something was committed: checkpoint soon."""
        self._wake.set()

    def attach(self, engine: AsyncEngine) -> None:
        """Wake this checkpointer on every commit of ``engine``."""

        def on_commit(_connection: Any) -> None:
            self._wake.set()

        event.listen(engine.sync_engine, "commit", on_commit)

    def stop(self) -> None:
        """Stop the thread, then one last checkpoint (TRUNCATE: the WAL file is left empty when
        nothing else holds the database) and close the connection. Blocking: call it from a
        thread (``asyncio.to_thread``) once the hub's writes are done."""
        if self._thread is None:
            return  # never started (the hub did not get that far)
        self._stop.set()
        self._wake.set()
        self._thread.join()
        self._thread = None
        self._checkpoint("TRUNCATE")
        self._close()

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.idle)
            # Let the commit that woke us (its wake-up comes just before its COMMIT) and those
            # right behind it finish, so that one checkpoint copies them all.
            if self._stop.wait(self.interval):
                return
            self._wake.clear()
            complete = self._checkpoint("PASSIVE")
            now = time.monotonic()
            # TRUNCATE holds new writers off while it runs: only once PASSIVE has copied every
            # page, so that all it has left to do is wait for the readers and cut the file.
            if complete and now - self._last_truncate >= self.truncate_every:
                self._checkpoint("TRUNCATE")
                self._last_truncate = now

    def _checkpoint(self, mode: str) -> bool:
        """One checkpoint; True if it copied the whole WAL."""
        try:
            if self._conn is None:
                self._conn = self._connect()
            busy, frames, copied = self._conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        except sqlite3.Error as exc:
            self._close()  # opened again for the next one
            self.failures += 1
            self._failing += 1
            if self._failing == 1:  # the first of a run of failures; the metrics count them all
                # The error's name only: nothing of the database's content goes to the log.
                log.warning(
                    "WAL checkpoint (%s) failed: %s",
                    mode,
                    getattr(exc, "sqlite_errorname", "error"),
                )
            return False
        if self._failing:
            log.info("WAL checkpoints work again after %d failures", self._failing)
            self._failing = 0
        self.checkpoints += 1
        self.wal_frames = max(frames, 0)
        if busy:
            self.busy += 1
        return not busy and frames == copied
