"""Process-level tuning of a serving hub: the garbage collector once it has started.

**Why the collector.** A started hub holds a few hundred thousand long-lived container objects
(SQLAlchemy's compiled tables and statements, pydantic's validators, aiohttp's router, the
directory snapshot). CPython's collector walks all of them in every full (generation 2)
collection, which a busy hub triggers every few seconds: each such walk stopped the event loop
for tens of milliseconds, and every request in flight at that moment waited for it, which is
where a large part of the p99 submission latency came from (bench/README.md, "where the tail
comes from"). Once start-up is done, :func:`settle_heap` collects once and *freezes* what is
left (:func:`gc.freeze`: the objects move to a permanent generation that collections never
walk), and raises the first generation's threshold so that the short-lived objects of a request
(parsed JSON, rows, pydantic models) are collected in fewer, equally short passes. Reference
cycles are still collected; only how often the collector runs and what it walks change.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web

# (generation 0, 1, 2) thresholds. CPython's default is (700, 10, 10); the first generation is
# raised so that a burst of requests is not interrupted every 700 allocations, and the older
# generations kept, so that garbage in cycles is still reclaimed within seconds.
GC_THRESHOLDS: Final = (20_000, 20, 20)


def settle_heap() -> None:
    """Collect once, freeze the survivors out of every later collection, and raise the
    first generation's threshold (see the module docs)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def settled_heap(_app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx`` step, appended after the hub's resources: the heap is settled once they
    are built, and left as it is at exit."""
    settle_heap()
    yield
