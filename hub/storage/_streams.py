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

from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

# An arbitrary, fixed 64-bit key naming this lock among the database's advisory locks.
_STREAM_LOCK_KEY: Final = 0x7067732D73747265  # "pgs-stre"


async def lock_streams(conn: AsyncConnection) -> None:
    """Hold the stream-writer lock until the current transaction ends (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(select(func.pg_advisory_xact_lock(_STREAM_LOCK_KEY)))
