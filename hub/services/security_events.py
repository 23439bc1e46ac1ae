"""Security events: every refusal on the record, without letting a flood of them grow anything.

A refusal (authentication failure, authorization denial, rate limit, replay, malformed request) is
tallied in memory under (one-minute window, actor, reason code, action); the tallies are merged
into the ``security_events`` table (:mod:`hub.storage.security_events`) at most every
:data:`FLUSH_SECONDS`, when an auditor reads them, and at shutdown. A refusal therefore costs a
dictionary update on the request's path, never a database write, and a flood of any size adds at
most one row per actor, code, action and minute. None of it goes into the transparency log, which
an attacker could otherwise grow at will.

Memory is bounded: past :data:`MAX_PENDING` distinct tallies in one flush period, further ones are
folded into one tally per code and action whose actor is :data:`OVERFLOW_ACTOR` (the count stays
exact, the attribution is lost). A flush that fails (database away) puts its tallies back under
the same bound and is tried again later.

The actor is the authenticated participant when there is one, else the remote address of the
request. A request's refusal is recorded once: the services record theirs with
:func:`record_denial` (hub.services.audit), which marks the request (:func:`request_scope`), and
the HTTP edge records only what nobody recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.hub.storage import security_events as store
from pgs_hub.hub.storage.tables import ActorKind

log = logging.getLogger("pgs.hub")

WINDOW_SECONDS: Final = 60
FLUSH_SECONDS: Final = 5.0
MAX_PENDING: Final = 10_000
OVERFLOW_ACTOR: Final = "(others)"
RETENTION_SECONDS: Final = 90 * 86400
MAX_TEXT: Final = 128  # codes and actions are ours, addresses short: anything longer is cut


@dataclass
class _Tally:
    actor_kind: ActorKind
    country: str | None
    count: int
    first_at: int
    last_at: int


_Key = tuple[int, str, str, str]  # window start, actor, code, action


@dataclass
class RequestScope:
    """Whether the current request's refusal has been recorded already."""

    recorded: bool = False


_SCOPE: contextvars.ContextVar[RequestScope | None] = contextvars.ContextVar(
    "pgs_security_scope", default=None
)


@contextlib.contextmanager
def request_scope() -> Iterator[RequestScope]:
    """Mark the refusals recorded while handling one request (the HTTP edge opens it)."""
    scope = RequestScope()
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


class SecurityEvents:
    """In-memory tallies of refusals, flushed to the database in the background."""

    def __init__(self, engine: AsyncEngine, clock: Callable[[], float]) -> None:
        self.engine = engine
        self.clock = clock
        self.recorded = 0  # refusals recorded (metrics)
        self.flushed_rows = 0  # rows merged into the table (metrics)
        self._pending: dict[_Key, _Tally] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    def __len__(self) -> int:
        """Tallies waiting to be flushed."""
        return len(self._pending)

    def record(
        self, *, actor: str, actor_kind: ActorKind, country: str | None, code: str, action: str
    ) -> None:
        """Count one refusal now; marks the current request as recorded."""
        scope = _SCOPE.get()
        if scope is not None:
            scope.recorded = True
        now = int(self.clock())
        key = (now - now % WINDOW_SECONDS, actor[:MAX_TEXT], code[:MAX_TEXT], action[:MAX_TEXT])
        self.recorded += 1
        self._add(key, _Tally(actor_kind, country, 1, now, now))
        if self._flusher is None and not self._closed:
            with contextlib.suppress(RuntimeError):  # no running loop: flushed at close
                self._flusher = asyncio.get_running_loop().create_task(
                    self._flush_later(), name="security-events"
                )

    def _add(self, key: _Key, tally: _Tally) -> None:
        found = self._pending.get(key)
        if found is None and len(self._pending) >= MAX_PENDING:
            key = (key[0], OVERFLOW_ACTOR, key[2], key[3])
            tally = _Tally("address", None, tally.count, tally.first_at, tally.last_at)
            found = self._pending.get(key)
        if found is None:
            self._pending[key] = tally
            return
        found.count += tally.count
        found.first_at = min(found.first_at, tally.first_at)
        found.last_at = max(found.last_at, tally.last_at)

    async def _flush_later(self) -> None:
        try:
            await asyncio.sleep(FLUSH_SECONDS)
            await self.flush()
        finally:
            self._flusher = None

    async def flush(self) -> bool:
        """Merge the pending tallies into the table; on a database error keep them for later.
        Whether nothing is left pending."""
        async with self._lock:
            if not self._pending:
                return True
            batch, self._pending = self._pending, {}
            rows = [
                store.EventCount(
                    window_start=key[0],
                    actor=key[1],
                    code=key[2],
                    action=key[3],
                    actor_kind=t.actor_kind,
                    country=t.country,
                    count=t.count,
                    first_at=t.first_at,
                    last_at=t.last_at,
                )
                for key, t in sorted(batch.items())  # one order for every process: no deadlock
            ]
            try:
                async with self.engine.begin() as conn:
                    await store.add_counts(conn, rows)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("security events not stored yet (%s); kept", type(exc).__name__)
                self._put_back(batch)
                return False
            except BaseException:  # cancelled mid-write: keep them for the next flush
                self._put_back(batch)
                raise
            self.flushed_rows += len(rows)
            return True

    def _put_back(self, batch: dict[_Key, _Tally]) -> None:
        for key, tally in batch.items():
            self._add(key, tally)

    async def close(self) -> None:
        """Stop the background flush and store what is pending (shutdown)."""
        self._closed = True
        flusher = self._flusher
        if flusher is not None:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
        for delay in (0.5, 1.0, 2.0, None):
            if await self.flush():
                return
            if delay is not None:
                await asyncio.sleep(delay)
        log.error("%d security event tallies could not be stored at shutdown", len(self._pending))

    async def purge(self, now: int) -> None:
        """Forget windows older than the retention period (housekeeping)."""
        async with self.engine.begin() as conn:
            await store.purge_before(conn, now - RETENTION_SECONDS)
