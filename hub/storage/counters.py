"""Per-participant submission counters, one row per participant and one-minute window.

:func:`count_submissions` adds to a window's count and returns the new total in one statement
(an upsert), inside the transaction that stores the submissions: every hub process on the
database increments the same row, and the row lock (PostgreSQL) or the write lock (SQLite) makes
the totals exact across processes.
"""

from __future__ import annotations

import functools
from typing import Any, Final

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.hub.storage.batch import Step
from pgs_hub.hub.storage.tables import submission_counters

WINDOW_SECONDS: Final = 60


def window_of(at: int) -> int:
    return at - at % WINDOW_SECONDS


@functools.cache
def _count_statement(dialect: str) -> Any:
    table = submission_counters
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    statement = statement.values(
        participant_id=bindparam("participant"), window_start=bindparam("window"),
        count=bindparam("n"),
    )  # fmt: skip
    return statement.on_conflict_do_update(
        index_elements=["participant_id", "window_start"],
        set_={"count": table.c.count + statement.excluded.count},
    ).returning(table.c.count)


async def count_submissions(conn: AsyncConnection, participant: str, window: int, n: int) -> int:
    """Add ``n`` to ``participant``'s count for ``window``; the total, ``n`` included."""
    row = {"participant": participant, "window": window, "n": n}
    return int((await conn.execute(_count_statement(conn.dialect.name), row)).scalar_one())


def count_step(dialect: str, counts: list[tuple[str, int, int]]) -> Step:
    """:func:`count_submissions` of each ``(participant, window, n)`` as one step of a plan
    (:mod:`hub.storage.batch`): its result is the new totals, in order."""
    rows = [{"participant": p, "window": w, "n": n} for p, w, n in counts]
    return Step(_count_statement(dialect), rows, returns=True)


async def purge_before(conn: AsyncConnection, before: int) -> None:
    """Forget windows that started before ``before``."""
    await conn.execute(
        delete(submission_counters).where(submission_counters.c.window_start < before)
    )
