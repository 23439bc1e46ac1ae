"""Group commit: the writes of many concurrent requests in one transaction, one commit, one fsync.

A :class:`GroupCommitter` owns one writer task. Callers ``await committer.submit(item)``; the
writer takes everything pending (at most ``max_batch`` items), runs ONE transaction
``write_batch(conn, items)``, commits, and only then answers each caller, in the order they
submitted. So an answer still means "durably stored", exactly as with one transaction per request,
but N requests cost one commit instead of N.

* **No linger.** The writer never waits to fill a batch: it starts the next transaction as soon
  as the previous one committed, with whatever arrived meanwhile. A lone request is committed at
  once; under load the batches grow by themselves (the requests that arrive during one commit
  form the next batch). It does let the event loop run one turn before it takes a batch, so that
  the callers the last commit answered, and other requests whose turn has come, submit first:
  without that turn (which taking a pooled connection used to give), batches at full speed held
  21 envelopes instead of 32, and the hub spent 7-11 % more CPU per envelope (issue 17,
  ``bench/README.md``).
* **Per-item results.** ``write_batch`` returns one result per item, in order: a value, or an
  exception for that item alone (a :class:`~hub.errors.Conflict` for a duplicate message id, say,
  after the item's SAVEPOINT was rolled back); that caller gets the exception raised, the others
  their values, once the transaction has committed.
* **All or nothing.** If ``write_batch`` raises or the commit fails, the transaction is rolled back
  and every caller of the batch gets that same exception (a database outage stays an
  ``OperationalError`` and so on, which the API edge maps to 503/507 like any other request's);
  nothing of the batch was acknowledged. The next batch is tried afresh.
* **Ordering.** Items are written and answered in submission order; a batch commits before the
  next one starts, so numbered streams (mailbox cursors, audit log indexes) follow that order.
* **Cancellation.** A caller that stops waiting (its client went away) does not cancel the batch:
  an item already taken is written, and its answer dropped; one still pending is left out.
* **Shutdown.** :meth:`close` refuses new items (:class:`~hub.errors.Unavailable`, 503), lets the
  writer finish everything already submitted, gives back what it kept (the envelope and nonce
  writers keep a connection of their own on SQLite, :mod:`hub.storage.kept_connection`), and
  returns when it has.

The writer task exists only while there is work: :meth:`submit` starts it when it is idle, and it
ends when nothing is pending. A committer needs no start-up step, and one that is never closed
leaves no task behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import Unavailable

T = TypeVar("T")
R = TypeVar("R")

# Large enough that a burst is absorbed in a few commits, small enough that one transaction stays
# short (each item is a few rows) and that a failed batch affects a bounded number of requests.
MAX_BATCH: Final = 256

log = logging.getLogger("pgs.hub")


def shutting_down() -> Unavailable:
    return Unavailable("the hub is shutting down; try again shortly", code=Code.HUB_SHUTTING_DOWN)


class GroupCommitter(Generic[T, R]):
    """Commits submitted items in batches, one transaction per batch (see the module docs)."""

    def __init__(
        self,
        engine: AsyncEngine,
        write_batch: Callable[[AsyncConnection, Sequence[T]], Awaitable[Sequence[R | Exception]]],
        *,
        name: str,
        max_batch: int = MAX_BATCH,
        transaction: Callable[[Sequence[T]], Awaitable[Sequence[R | Exception]]] | None = None,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``transaction``, when given, replaces ``engine.begin()`` + ``write_batch``: it runs a
        batch in a transaction of its own and returns once that has committed (the envelopes'
        writer: on SQLite, begin, writes and commit in one trip through the driver's thread,
        :func:`hub.storage.batch.transaction`). ``on_close`` is awaited once the writer has
        finished, by :meth:`close` (the connection ``transaction`` kept is given back)."""
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.name = name
        self.max_batch = max_batch
        self._engine = engine
        self._write_batch = write_batch
        self._transaction = transaction
        self._on_close = on_close
        self._pending: deque[tuple[T, asyncio.Future[R]]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        # Figures for tests, benchmarks and metrics.
        self.batches = 0  # committed transactions
        self.committed = 0  # items in them
        self.failed_batches = 0  # transactions that failed (their callers got the error)
        self.largest_batch = 0

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending(self) -> int:
        """Items waiting for the next transaction (not counting the one being written)."""
        return len(self._pending)

    async def submit(self, item: T) -> R:
        """Write ``item`` in the next transaction; return its result once that has committed.

        Raises the item's own exception, the exception that failed the whole transaction, or
        :class:`~hub.errors.Unavailable` once :meth:`close` was called.
        """
        if self._closed:
            raise shutting_down()
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._run(), name=f"group-commit-{self.name}")
        return await future

    async def close(self) -> None:
        """Refuse new items, write everything already submitted, and return when done."""
        self._closed = True
        writer = self._writer
        if writer is not None:
            # wait() rather than await: cancelling close() must not cancel a batch mid-way.
            await asyncio.wait({writer})
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            await on_close()

    async def _run(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while self._pending:
                # One turn of the loop before taking: the callers the last commit answered, and
                # requests already on their way to submit, join this batch rather than the next.
                await asyncio.sleep(0)
                batch = self._take()
                if batch:
                    await self._commit(batch)
                batch = []
        finally:
            # Only reached with work left if this task was cancelled (the loop is closing): nothing
            # of that was acknowledged, so say so rather than leave callers waiting for ever.
            self._writer = None
            for _, future in [*batch, *self._pending]:
                if not future.done():
                    future.set_exception(shutting_down())
            self._pending.clear()

    def _take(self) -> list[tuple[T, asyncio.Future[R]]]:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        while self._pending and len(batch) < self.max_batch:
            item, future = self._pending.popleft()
            if not future.cancelled():  # the caller went away before anything was written
                batch.append((item, future))
        return batch

    async def _commit(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        items = [item for item, _ in batch]
        try:
            if self._transaction is not None:
                results = _one_each(await self._transaction(items), items)
            else:
                async with self._engine.begin() as conn:
                    results = _one_each(await self._write_batch(conn, items), items)
        except Exception as exc:  # noqa: BLE001 - every caller of the batch gets it, unchanged
            self.failed_batches += 1
            log.warning(
                "group commit %s: a batch of %d failed (%s)", self.name, len(batch),
                type(exc).__name__,
            )  # fmt: skip
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.batches += 1
        self.committed += len(batch)
        self.largest_batch = max(self.largest_batch, len(batch))
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # the caller was cancelled while its item was being written
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)


def _one_each(results: Sequence[R | Exception], items: Sequence[object]) -> Sequence[R | Exception]:
    """``results``, checked (before the commit) to answer each item once."""
    if len(results) != len(items):
        raise RuntimeError("write_batch must return one result per item")
    return results
