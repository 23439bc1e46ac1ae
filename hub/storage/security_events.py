"""Security events: refusals counted per actor, reason code, action and time window.

Rows are only ever added to: :func:`add_counts` merges a batch of in-memory tallies into the table
with one upsert per row (``count`` summed, ``first_at`` and ``last_at`` widened), so any number of
hub processes can flush the same window without losing a count. Nothing here touches the
transparency log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.hub.storage.tables import ActorKind, security_events

MAX_PAGE = 1000


@dataclass(frozen=True)
class EventCount:
    """One row: ``count`` refusals of ``actor`` for ``code`` on ``action`` in the window."""

    window_start: int
    actor: str
    code: str
    action: str
    actor_kind: ActorKind
    country: str | None
    count: int
    first_at: int
    last_at: int

    def to_json(self) -> dict[str, Any]:
        return {
            "window_start": self.window_start,
            "actor": self.actor,
            "actor_kind": self.actor_kind,
            "country": self.country,
            "code": self.code,
            "action": self.action,
            "count": self.count,
            "first_at": self.first_at,
            "last_at": self.last_at,
        }


def upsert(conn: AsyncConnection) -> Any:
    """The dialect's INSERT with ON CONFLICT support (SQLite and PostgreSQL share the syntax)."""
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert


async def add_counts(conn: AsyncConnection, counts: Sequence[EventCount]) -> None:
    """Merge ``counts`` into the table (summing rows that are already there); one statement,
    executed for all rows at once."""
    if not counts:
        return
    table = security_events
    statement = upsert(conn)(table)
    least, greatest = (
        (func.min, func.max) if conn.dialect.name == "sqlite" else (func.least, func.greatest)
    )
    statement = statement.on_conflict_do_update(
        index_elements=["window_start", "actor", "code", "action"],
        set_={
            "count": table.c.count + statement.excluded.count,
            "first_at": least(table.c.first_at, statement.excluded.first_at),
            "last_at": greatest(table.c.last_at, statement.excluded.last_at),
        },
    )
    await conn.execute(statement, [asdict(row) for row in counts])


async def list_counts(
    conn: AsyncConnection, *, country: str | None, since: int, limit: int = MAX_PAGE
) -> list[EventCount]:
    """Rows of windows starting at or after ``since``, newest first; only ``country``'s rows when
    it is given (a country-scoped auditor), every row otherwise."""
    query = select(security_events).where(security_events.c.window_start >= since)
    if country is not None:
        query = query.where(security_events.c.country == country)
    query = query.order_by(
        security_events.c.window_start.desc(),
        security_events.c.count.desc(),
        security_events.c.actor,
        security_events.c.code,
        security_events.c.action,
    ).limit(max(1, min(limit, MAX_PAGE)))
    return [EventCount(**row._mapping) for row in await conn.execute(query)]


async def purge_before(conn: AsyncConnection, before: int) -> None:
    """Forget windows that started before ``before`` (retention)."""
    await conn.execute(delete(security_events).where(security_events.c.window_start < before))
