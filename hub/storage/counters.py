"""Per-participant submission counters, one row per participant and one-minute window.

:func:`count_submissions` adds to a window's count and returns the new total in one statement
(an upsert), inside the transaction that stores the submissions: every hub process on the
database increments the same row, and the row lock (PostgreSQL) or the write lock (SQLite) makes
the totals exact across processes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import bindparam, delete, text
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
    ).returning(table.c.participant_id, table.c.window_start, table.c.count)


# PostgreSQL: every window of a batch in one statement (one round trip, one prepared statement
# whatever the number of windows), in the order of the arrays: the order the rows are locked in.
_POSTGRESQL_COUNT: Final = text(
    "INSERT INTO submission_counters AS c (participant_id, window_start, count) "
    "SELECT * FROM unnest(CAST(:participants AS TEXT[]), CAST(:windows AS BIGINT[]), "
    "CAST(:ns AS BIGINT[])) "
    "ON CONFLICT (participant_id, window_start) DO UPDATE SET count = c.count + excluded.count "
    "RETURNING participant_id, window_start, count"
)


async def count_submissions(conn: AsyncConnection, participant: str, window: int, n: int) -> int:
    """Add ``n`` to ``participant``'s count for ``window``; the total, ``n`` included."""
    counts = [(participant, window, n)]
    step = count_step(conn.dialect.name, counts)
    rows = (await conn.execute(step.statement, dict(step.rows[0]))).all()
    return totals(counts, rows)[0]


def count_step(dialect: str, counts: Sequence[tuple[str, int, int]]) -> Step:
    """:func:`count_submissions` of each ``(participant, window, n)`` (each window once) as one
    step of a plan (:mod:`hub.storage.batch`); :func:`totals` reads its result."""
    if dialect == "postgresql":
        arrays = {"participants": [p for p, _, _ in counts], "windows": [w for _, w, _ in counts]}
        return Step(_POSTGRESQL_COUNT, [{**arrays, "ns": [n for _, _, n in counts]}], returns=True)
    rows = [{"participant": p, "window": w, "n": n} for p, w, n in counts]
    return Step(_count_statement(dialect), rows, returns=True)


def totals(counts: Sequence[tuple[str, int, int]], rows: Sequence[Any]) -> list[int]:
    """The new totals of ``counts``' windows, in order, from :func:`count_step`'s ``rows``."""
    found = {(str(p), int(w)): int(total) for p, w, total in rows}
    return [found[(p, w)] for p, w, _ in counts]


async def purge_before(conn: AsyncConnection, before: int) -> None:
    """Forget windows that started before ``before``."""
    await conn.execute(
        delete(submission_counters).where(submission_counters.c.window_start < before)
    )
