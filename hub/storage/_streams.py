"""Keeping the numbered streams (mailbox cursors, audit sequence numbers) gap-free for readers.

Clients page and resume by number ("everything after cursor C"), so a row must never become
visible with a number lower than one a reader has already seen. On PostgreSQL, numbers come from
a sequence when the row is inserted, but transactions commit in any order: a transaction that took
cursor 10 could commit after one that took 11, and a reader that saw 11 would skip 10 for good.
Writers therefore take one transaction-scoped advisory lock before inserting into a stream, so
numbers are taken and committed in the same order. SQLite already lets one writer at a time hold
the database (``BEGIN IMMEDIATE``), so nothing is needed there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import BigInteger, Text, column, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.hub.storage.batch import Step

# An arbitrary, fixed 64-bit key naming this lock among the database's advisory locks.
_STREAM_LOCK_KEY: Final = 0x7067732D73747265  # "pgs-stre"


async def lock_streams(conn: AsyncConnection) -> None:
    """Hold the stream-writer lock until the current transaction ends (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(select(func.pg_advisory_xact_lock(_STREAM_LOCK_KEY)))


def lock_step(dialect: str) -> Step | None:
    """:func:`lock_streams` as a step of a plan (:mod:`hub.storage.batch`); None on SQLite."""
    if dialect != "postgresql":
        return None
    return Step(_LOCK, returns=True)


_LOCK: Final = select(func.pg_advisory_xact_lock(_STREAM_LOCK_KEY))

# The numbered streams a plan writes with numbers it assigns itself (no RETURNING round trip).
STREAMS: Final = (("envelopes", "seq"), ("mailbox", "cursor"), ("audit_records", "seq"))

# SQLite: the largest number each table has handed out: for an AUTOINCREMENT table the one in
# sqlite_sequence (never handed out again, even after its row is deleted), else its largest key
# (audit_records lost AUTOINCREMENT when migration 0003 rebuilt it); the next ones are what
# SQLite would assign. The plan holds the write lock (BEGIN IMMEDIATE), so they are its own,
# and inserting them moves sqlite_sequence on. PostgreSQL: as many values of each table's
# sequence as the plan may need (unused ones are a gap, as a rolled back insert leaves one),
# taken under the stream lock so that they commit in order.
_SQLITE_NUMBERS: Final = text(
    " UNION ALL ".join(
        f"SELECT '{table}', max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = "  # noqa: S608 - fixed names
        f"'{table}'), 0), coalesce((SELECT max({column}) FROM {table}), 0))"
        for table, column in STREAMS
    )
)
_POSTGRESQL_NUMBERS: Final = text(
    " UNION ALL ".join(
        f"SELECT '{table}' AS stream, "  # noqa: S608
        f"nextval(pg_get_serial_sequence('{table}', '{column}')) AS number "
        f"FROM generate_series(1, :{table})"
        for table, column in STREAMS
    )
).columns(column("stream", Text), column("number", BigInteger))  # a read one_statement can fold


def numbers_step(dialect: str, wanted: Mapping[str, int]) -> Step:
    """The step that reserves ``wanted[table]`` new numbers of each stream (:func:`numbers`)."""
    if dialect == "postgresql":
        return Step(_POSTGRESQL_NUMBERS, [{t: wanted.get(t, 0) for t, _ in STREAMS}], returns=True)
    return Step(_SQLITE_NUMBERS, returns=True)


def numbers(dialect: str, rows: Sequence[Any], wanted: Mapping[str, int]) -> dict[str, list[int]]:
    """The numbers reserved by :func:`numbers_step` (its result ``rows``), increasing, per table."""
    if dialect == "postgresql":
        found: dict[str, list[int]] = {t: [] for t, _ in STREAMS}
        for table, number in rows:
            found[str(table)].append(int(number))
        return {t: sorted(found[t]) for t, _ in STREAMS}
    last = {str(table): int(number) for table, number in rows}
    return {
        t: list(range(last.get(t, 0) + 1, last.get(t, 0) + 1 + wanted.get(t, 0)))
        for t, _ in STREAMS
    }
