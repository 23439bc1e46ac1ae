"""The audit trail: append-only records of what happened (metadata only, never content).

Plain rows for now; the audit-log issue turns this into a Merkle log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.storage import log
from hub.storage._streams import lock_streams
from hub.storage.tables import audit_record_countries, audit_records

MAX_PAGE = 1000


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: int
    event: str
    actor: str | None
    subject: str | None
    country: str | None
    details: str  # compact JSON with sorted keys, exactly as stored
    log_index: int  # position in the Merkle log
    entry: bytes  # the exact pgs-log/1 bytes hashed into the log

    def details_object(self) -> dict[str, object]:
        """``details`` decoded."""
        decoded: dict[str, object] = json.loads(self.details)
        return decoded


def encode_details(details: Mapping[str, object]) -> str:
    """The stored form of ``details``: compact JSON, keys sorted, no NaN or infinities."""
    return json.dumps(
        dict(details), separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False
    )


async def append_record(
    conn: AsyncConnection,
    *,
    at: int,
    event: str,
    actor: str | None,
    subject: str | None,
    country: str | None,
    details: Mapping[str, object],
    countries: Iterable[str] = (),
) -> int:
    """Append a record, and its entry to the Merkle log; returns its sequence number.

    ``country`` is the actor's; ``countries`` adds every other country the record involves (an
    envelope's recipients' countries, say). Both decide what a country-scoped auditor sees.
    """
    encoded = encode_details(details)
    involved = sorted({*countries, *([country] if country else [])})
    await lock_streams(conn)
    tree = await log.state(conn)
    entry = log.encode_entry(
        index=tree.size,
        at=at,
        event=event,
        actor=actor,
        subject=subject,
        countries=involved,
        details=json.loads(encoded),
    )
    result = await conn.execute(
        insert(audit_records)
        .values(
            at=at,
            event=event,
            actor=actor,
            subject=subject,
            country=country,
            details=encoded,
            log_index=tree.size,
            entry=entry,
        )
        .returning(audit_records.c.seq)
    )
    seq = int(result.scalar_one())
    await log.append_leaf(conn, tree, entry)
    if involved:
        await conn.execute(
            insert(audit_record_countries), [{"seq": seq, "country": c} for c in involved]
        )
    return seq


async def records(
    conn: AsyncConnection, *, after: int, limit: int, country: str | None
) -> list[AuditRecord]:
    """Up to ``limit`` records after sequence number ``after``, oldest first; with ``country``,
    only the records involving that country.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    statement = select(audit_records).where(audit_records.c.seq > after)
    if country is not None:
        involving = select(audit_record_countries.c.seq).where(
            audit_record_countries.c.country == country,
            audit_record_countries.c.seq > after,
        )
        statement = statement.where(audit_records.c.seq.in_(involving))
    result = await conn.execute(statement.order_by(audit_records.c.seq).limit(limit))
    return [AuditRecord(**found._mapping) for found in result]
