"""Answering many concurrent reads with one: the read side of what group commit does for writes.

A broadcast to 186 members wakes 186 WebSocket streams in the same turn of the event loop, and
each then reads its mailbox: 186 connections, 186 directory-version reads and 186 queries, one
after the other through the database driver's thread, where one of each would do. A
:class:`Coalescer` collects the requests made while it is about to run (the streams woken
together all ask within a turn or two of the loop), hands them to ONE ``load`` call, and answers
each caller with its own result, or its own exception.

* **No waiting for company.** A lone request is loaded at the next turn of the loop; requests
  made while a load runs form the next batch, as group commit batches writes.
* **Per-request results.** ``load`` returns one result per request, in order: a value, or an
  exception for that request alone. If ``load`` itself raises, every request of the batch gets
  that exception.
* **Cancellation.** A caller that stops waiting leaves the batch unharmed; its answer is dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

Load = Callable[[Sequence[K]], Awaitable[Sequence[V | Exception]]]


class Coalescer(Generic[K, V]):
    """Batches concurrent requests into one ``load`` call (see the module docs)."""

    def __init__(self) -> None:
        self._pending: list[tuple[K, asyncio.Future[V]]] = []
        self._runner: asyncio.Task[None] | None = None
        self.batches = 0  # load calls, for tests and benchmarks
        self.requests = 0

    async def get(self, request: K, load: Load[K, V]) -> V:
        """``request``'s result from a ``load`` call shared with the requests made meanwhile.

        ``load`` must give the same answers whichever concurrent caller's ``load`` is used:
        the batch is loaded by the one that the first of its callers passed.
        """
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._pending.append((request, future))
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(load), name="coalesce")
        return await future

    async def _run(self, load: Load[K, V]) -> None:
        batch: list[tuple[K, asyncio.Future[V]]] = []
        try:
            while self._pending:
                # One more turn of the loop: streams woken together reach here a turn apart.
                await asyncio.sleep(0)
                batch, self._pending = self._pending, []
                live = [(request, future) for request, future in batch if not future.done()]
                if live:
                    await self._load(load, live)
                batch = []
        finally:
            self._runner = None
            for _, future in [*batch, *self._pending]:
                if not future.done():
                    future.cancel()
            self._pending = []

    async def _load(self, load: Load[K, V], batch: list[tuple[K, asyncio.Future[V]]]) -> None:
        self.batches += 1
        self.requests += len(batch)
        try:
            results = await load([request for request, _ in batch])
        except Exception as exc:  # noqa: BLE001 - every caller of the batch gets it, unchanged
            results = [exc] * len(batch)
        if len(results) != len(batch):
            results = [RuntimeError("load must return one result per request")] * len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
