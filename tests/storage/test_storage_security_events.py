"""Security events in storage, on SQLite and PostgreSQL: tallies kept in memory are bounded, and
flushes from several hub processes sum into one row per actor, code, action and minute."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.hub.services.security_events import MAX_PENDING, OVERFLOW_ACTOR, SecurityEvents
from pgs_hub.hub.storage.security_events import list_counts
from pgs_hub.hub.storage.tables import security_events

NG = "NG-NCP-LAGOS"


async def test_tallies_are_bounded_in_memory_and_summed_across_processes(
    engine: AsyncEngine,
) -> None:
    clock = [1_800_000_000.0]
    first, second = (SecurityEvents(engine, lambda: clock[0]) for _ in range(2))
    for _ in range(3):  # the same actor, refused in two hub processes
        for events in (first, second):
            events.record(
                actor=NG, actor_kind="participant", country="NG", code="admin.forbidden",
                action="POST /v1/admin/participants",
            )  # fmt: skip
    flood = MAX_PENDING + 500
    for n in range(flood):  # a flood from ever new addresses
        first.record(
            actor=f"10.0.{n // 256}.{n % 256}", actor_kind="address", country=None,
            code="auth.unknown_key", action="GET /v1/inbox",
        )  # fmt: skip
    assert len(first) <= MAX_PENDING + 1  # bounded: the rest is folded into one tally
    await first.close()
    await second.close()
    async with engine.connect() as conn:
        ng_rows = await list_counts(conn, country="NG", since=0)
        rows, total, overflow = (
            await conn.execute(
                select(
                    func.count(),
                    func.sum(security_events.c.count),
                    func.sum(case((security_events.c.actor == OVERFLOW_ACTOR, 1), else_=0)),
                ).where(security_events.c.code == "auth.unknown_key")
            )
        ).one()
    assert [(r.actor, r.count) for r in ng_rows] == [(NG, 6)]  # summed across processes
    assert total == flood  # every refusal counted ...
    assert rows <= MAX_PENDING + 1  # ... in a bounded number of rows
    assert overflow == 1
