"""Wake-ups across hub processes that share one PostgreSQL database (``LISTEN``/``NOTIFY``).

With several hub processes (``pgs serve --workers N``, or hubs on several machines), a message
accepted by one process may be addressed to a participant whose stream is connected to another.
:class:`PgFanout` is the :class:`~hub.services.notifier.Notifier` for that case: ``notify(ids)``
wakes this process's streams at once, exactly as the in-process notifier does, and also publishes
the ids with ``pg_notify`` on the channel :data:`CHANNEL`; every process listens on that channel
and wakes its own streams for the ids it hears.

Notifications are for latency only, never for correctness. A notification carries no data: a
stream that wakes re-reads the durable mailbox after its own cursor, and every stream also
re-reads it when it has heard nothing for a while (``[stream] recheck_seconds``). A notification
that is lost (a dropped connection, a restarted database, a process that stops before publishing)
therefore delays an item by at most that interval and never loses or repeats one. So:

* One dedicated asyncpg connection per process, outside the engine's pool, both listens and
  publishes. Publishing happens in the background, after the caller's commit: the sync ``notify``
  API stays, and every id asked for while a publish is in flight goes out together in the next one
  (coalescing within a loop tick, then per round trip). The ids waiting to go out are a set, at
  most one entry per participant.
* A payload is a JSON array of participant ids, split to stay under PostgreSQL's 8000-byte limit;
  the JSON string ``"*"`` means "everyone look again". A process ignores its own notifications
  (same server pid); anything it cannot read wakes all its streams, which is always safe.
* The connection is checked with ``SELECT 1`` when it has been quiet; when it drops it is opened
  again with exponential backoff. After reconnecting the process wakes all its own streams (it
  may have missed notifications), and if a publish failed it tells everyone to look again.
* SQLite has one writer and one process: the in-process notifier is all it needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, Final

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import URL

from pgs_hub.hub.services.notifier import Notifier

log = logging.getLogger("pgs.hub.fanout")

CHANNEL: Final = "pgs_mailbox"
APPLICATION_NAME: Final = "pgs-hub-listen"  # how the connection shows in pg_stat_activity
EVERYONE: Final = "*"
# PostgreSQL refuses a payload of 8000 bytes or more; stay clear of the limit.
MAX_PAYLOAD_BYTES: Final = 7900
CONNECT_TIMEOUT_SECONDS: Final = 5.0
QUERY_TIMEOUT_SECONDS: Final = 10.0
# A connection that has carried nothing for this long is checked with SELECT 1, so that a
# half-open connection (a peer that vanished without a FIN) is noticed and replaced.
KEEPALIVE_SECONDS: Final = 15.0
RECONNECT_FIRST_SECONDS: Final = 0.5
RECONNECT_MAX_SECONDS: Final = 15.0
STOP_FLUSH_SECONDS: Final = 2.0
# Options of SQLAlchemy's asyncpg dialect that asyncpg.connect itself does not take.
_DIALECT_ONLY: Final = frozenset(
    {"prepared_statement_cache_size", "prepared_statement_name_func", "async_fallback"}
)

_CONNECTION_ERRORS: Final = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class _ConnectionLost(Exception):
    """The listening connection closed under us."""


def connect_arguments(url: URL) -> dict[str, Any]:
    """``asyncpg.connect`` keyword arguments for the engine's URL (same host, user, database)."""
    kwargs: dict[str, Any] = url.translate_connect_args(username="user")
    kwargs |= {k: v for k, v in url.query.items() if isinstance(v, str) and k not in _DIALECT_ONLY}
    return kwargs


def payloads(participants: Iterable[str], *, everyone: bool = False) -> Iterator[str]:
    """The NOTIFY payloads telling ``participants`` (or everyone) to look again, each below
    :data:`MAX_PAYLOAD_BYTES`."""
    if everyone:
        yield json.dumps(EVERYONE)
        return
    chunk: list[str] = []
    size = 2  # the brackets
    for participant in sorted(set(participants)):
        cost = len(json.dumps(participant).encode()) + 1  # and a comma
        if chunk and size + cost > MAX_PAYLOAD_BYTES:
            yield json.dumps(chunk, separators=(",", ":"))
            chunk, size = [], 2
        chunk.append(participant)
        size += cost
    if chunk:
        yield json.dumps(chunk, separators=(",", ":"))


def read_payload(payload: str) -> list[str] | None:
    """The ids a payload names, or None for "everyone" (and for anything unreadable)."""
    try:
        doc = json.loads(payload)
    except ValueError:
        return None
    if isinstance(doc, list) and all(isinstance(p, str) for p in doc):
        return doc
    return None


class PgFanout(Notifier):
    """A :class:`Notifier` that also reaches the streams of the other processes on the database.

    Build it, ``await start()`` it in the app's start-up context and ``await stop()`` it at exit.
    Before :meth:`start` (and after :meth:`stop`) it is a plain in-process notifier.
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        *,
        channel: str = CHANNEL,
    ) -> None:
        super().__init__()
        self._connect = connect
        self._channel = channel
        self._outbox: set[str] = set()  # ids to publish: at most one entry per participant
        self._everyone = False  # publish "everyone look again" (a publish was lost)
        self._kick = asyncio.Event()  # something to publish, the connection closed, or stop
        self._listening = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def for_url(cls, url: URL) -> PgFanout:
        arguments = connect_arguments(url)

        async def connect() -> asyncpg.Connection:
            return await asyncpg.connect(
                **arguments,
                timeout=CONNECT_TIMEOUT_SECONDS,
                server_settings={"application_name": APPLICATION_NAME},
            )

        return cls(connect)

    @property
    def listening(self) -> bool:
        """Whether the connection is up (notifications from other processes are heard)."""
        return self._listening.is_set()

    async def start(self, *, wait: float = CONNECT_TIMEOUT_SECONDS) -> None:
        """Start listening; waits up to ``wait`` seconds for the first connection, then carries
        on in the background (streams still recheck their mailboxes meanwhile)."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="pgs-fanout")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._listening.wait()

    async def stop(self) -> None:
        """Publish what is waiting (briefly), then close the connection."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._kick.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_FLUSH_SECONDS):
                await asyncio.shield(task)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def wake_everyone(self) -> None:
        super().wake_everyone()
        if self._task is not None:
            self._everyone = True  # published as "*": every process wakes all its streams
            self._kick.set()

    def notify(self, participants: Iterable[str]) -> None:
        wanted = list(participants)  # may be a generator: read it once
        super().notify(wanted)
        if self._task is not None and wanted:
            self._outbox.update(wanted)
            self._kick.set()

    # --- the connection ---------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        delay = RECONNECT_FIRST_SECONDS
        connected_before = False
        while not self._stopping:
            try:
                conn = await self._connect()
            except _CONNECTION_ERRORS as exc:
                log.warning(
                    "cannot listen for other hub processes (%s); retrying in %.1f s",
                    type(exc).__name__, delay,
                )  # fmt: skip
                conn = None
            except Exception:  # a defect or a bad setting: log it, keep trying
                log.exception("cannot listen for other hub processes; retrying in %.1f s", delay)
                conn = None
            if conn is None:
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)
                continue
            opened = loop.time()
            try:
                conn.add_termination_listener(lambda _conn: self._kick.set())
                await conn.add_listener(self._channel, self._heard)
                self._listening.set()
                if connected_before:
                    log.info("listening for other hub processes again")
                    self.wake_all()  # notifications may have been missed meanwhile
                else:
                    log.info("listening for other hub processes (channel %s)", self._channel)
                connected_before = True
                await self._publish(conn)
            except (*_CONNECTION_ERRORS, _ConnectionLost) as exc:
                log.warning(
                    "lost the connection that listens for other hub processes (%s)",
                    type(exc).__name__,
                )
            except Exception:  # a defect: log it, keep the hub's wake-ups going
                log.exception("the connection that listens for other hub processes failed")
            finally:
                self._listening.clear()
                conn.terminate()
            if self._stopping:
                return
            # A connection that served a while is replaced after a short pause; one that keeps
            # failing straight away is retried less and less often.
            if loop.time() - opened > RECONNECT_MAX_SECONDS:
                delay = RECONNECT_FIRST_SECONDS
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    async def _publish(self, conn: asyncpg.Connection) -> None:
        """Publish the outbox whenever it fills, until stopped or the connection drops."""
        while True:
            if not self._outbox and not self._everyone:
                if self._stopping:
                    return
                try:
                    async with asyncio.timeout(KEEPALIVE_SECONDS):
                        await self._kick.wait()
                except TimeoutError:
                    await conn.execute("SELECT 1", timeout=QUERY_TIMEOUT_SECONDS)
                    continue
            self._kick.clear()
            if conn.is_closed():
                raise _ConnectionLost
            batch, self._outbox = self._outbox, set()
            everyone, self._everyone = self._everyone, False
            try:
                for payload in payloads(batch, everyone=everyone):
                    await conn.execute(
                        "SELECT pg_notify($1, $2)",
                        self._channel,
                        payload,
                        timeout=QUERY_TIMEOUT_SECONDS,
                    )
            except BaseException:
                # Some of these may not have gone out: when we are back, everyone looks again.
                self._everyone = True
                raise

    def _heard(self, conn: object, pid: int, _channel: str, payload: str) -> None:
        if isinstance(conn, asyncpg.Connection) and pid == conn.get_server_pid():
            return  # our own notification: our streams were woken when it was sent
        participants = read_payload(payload)
        if participants is None:
            self.wake_all()
        else:
            super().notify(participants)  # only here: not published again
