"""The audit trail: append-only records of what happened (metadata only, never content).

Plain rows for now; the audit-log issue turns this into a Merkle log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.crypto.merkle import CompactRange
from pgs_hub.hub.storage import log
from pgs_hub.hub.storage._streams import lock_streams
from pgs_hub.hub.storage.batch import Step
from pgs_hub.hub.storage.tables import audit_record_countries, audit_records

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


@dataclass(frozen=True)
class NewRecord:
    """A record to append (:func:`append_records`); ``seq`` and ``log_index`` come with it."""

    at: int
    event: str
    actor: str | None
    subject: str | None
    country: str | None  # the actor's
    details: Mapping[str, object]
    countries: Iterable[str] = ()  # every other country the record involves


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
    record = NewRecord(at, event, actor, subject, country, details, countries)
    (seq,) = await append_records(conn, [record])
    return seq


async def append_records(conn: AsyncConnection, records: Sequence[NewRecord]) -> list[int]:
    """Append ``records`` in order, with consecutive log indexes; returns their sequence numbers.

    One statement per table whatever the count: the log state is read once, the leaves are
    folded in memory and the completed subtrees written together (:func:`log.append_leaves`).
    """
    if not records:
        return []
    await lock_streams(conn)
    tree = await log.state(conn)
    rows, entries, involved = _record_rows(tree.size, records)
    indexes = [tree.size + offset for offset in range(len(records))]
    # RETURNING the log index too: a multi-row INSERT does not promise to return rows in order.
    result = await conn.execute(
        insert(audit_records).returning(audit_records.c.seq, audit_records.c.log_index), rows
    )
    by_index = {int(index): int(seq) for seq, index in result}
    seqs = [by_index[index] for index in indexes]
    await log.append_leaves(conn, tree, entries)
    pairs = [{"seq": s, "country": c} for s, cs in zip(seqs, involved, strict=True) for c in cs]
    if pairs:
        await conn.execute(insert(audit_record_countries), pairs)
    return seqs


def _record_rows(
    size: int, records: Sequence[NewRecord]
) -> tuple[list[dict[str, object]], list[bytes], list[list[str]]]:
    """The rows of ``records`` appended to a log of ``size`` entries (log indexes from
    ``size`` on), their entries' bytes, and the countries each involves."""
    rows: list[dict[str, object]] = []
    entries: list[bytes] = []
    involved: list[list[str]] = []
    for offset, record in enumerate(records):
        encoded = encode_details(record.details)
        countries = sorted({*record.countries, *([record.country] if record.country else [])})
        index = size + offset
        entry = log.encode_entry(
            index=index,
            at=record.at,
            event=record.event,
            actor=record.actor,
            subject=record.subject,
            countries=countries,
            details=json.loads(encoded),
        )
        rows.append(
            {
                "at": record.at,
                "event": record.event,
                "actor": record.actor,
                "subject": record.subject,
                "country": record.country,
                "details": encoded,
                "log_index": index,
                "entry": entry,
            }
        )
        entries.append(entry)
        involved.append(countries)
    return rows, entries, involved


_INSERT_RECORDS = insert(audit_records)
_INSERT_COUNTRIES = insert(audit_record_countries)


def append_steps(
    tree: CompactRange, exists: bool, records: Sequence[NewRecord], seqs: Sequence[int]
) -> list[Step]:
    """:func:`append_records` as steps of a plan (:mod:`hub.storage.batch`), with the records'
    sequence numbers ``seqs`` given (reserved by :func:`hub.storage._streams.numbers_step`):
    the same rows, the same log entries, nodes and state. ``tree`` and ``exists`` are the log's
    state as :func:`hub.storage.log.state_of` read it in this transaction."""
    if not records:
        return []
    rows, entries, involved = _record_rows(tree.size, records)
    for row, seq in zip(rows, seqs, strict=True):
        row["seq"] = seq
    _, log_steps = log.append_steps(tree, exists, entries)
    pairs = [{"seq": s, "country": c} for s, cs in zip(seqs, involved, strict=True) for c in cs]
    steps = [Step(_INSERT_RECORDS, rows), *log_steps]
    if pairs:
        steps.append(Step(_INSERT_COUNTRIES, pairs))
    return steps


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
