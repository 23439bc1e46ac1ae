"""Storage of the Merkle log over audit records: appends in O(log n), proofs from stored subtrees.

An append (inside the caller's transaction, after :func:`~hub.storage._streams.lock_streams`)
reads the one-row frontier, appends the new leaf with :class:`crypto.merkle.CompactRange`, and
writes the subtree hashes that became complete: a handful of rows, whatever the log's size. Every
proof is planned by :mod:`crypto.merkle` as a list of perfect subtrees and fetched in one query.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_core import from_json
from sqlalchemy import (
    CompoundSelect,
    LargeBinary,
    Select,
    Text,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.crypto.merkle import HASH_SIZE, CompactRange, NodeId, leaf_hash
from pgs_hub.hub.storage.batch import Step
from pgs_hub.hub.storage.tables import (
    audit_records,
    deliveries,
    envelopes,
    log_checkpoints,
    log_cosignatures,
    log_nodes,
    log_state,
)

ENTRY_VERSION = 1


def encode_entry(
    *,
    index: int,
    at: int,
    event: str,
    actor: str | None,
    subject: str | None,
    countries: Iterable[str],
    details: Mapping[str, object],
) -> bytes:
    """The pgs-log/1 entry bytes (docs/audit-log.md): compact JSON, keys sorted, UTF-8."""
    doc = {
        "v": ENTRY_VERSION,
        "index": index,
        "at": at,
        "event": event,
        "actor": actor,
        "subject": subject,
        "countries": sorted(set(countries)),
        "details": dict(details),
    }
    return json.dumps(
        doc, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


_READ_STATE = select(log_state.c.size, log_state.c.frontier)


def _state_of(row: Any) -> CompactRange:
    if row is None:
        return CompactRange(0, ())
    frontier = bytes(row[1])
    hashes = tuple(frontier[i : i + HASH_SIZE] for i in range(0, len(frontier), HASH_SIZE))
    return CompactRange(int(row[0]), hashes)


async def state(conn: AsyncConnection) -> CompactRange:
    """The current tree size and frontier."""
    return _state_of((await conn.execute(_READ_STATE)).first())


def state_step() -> Step:
    """:func:`state` as a step of a plan (:mod:`hub.storage.batch`); see :func:`state_of`."""
    return Step(_READ_STATE, returns=True)


def state_of(rows: Sequence[Any]) -> tuple[CompactRange, bool]:
    """The state read by :func:`state_step` (its result ``rows``), and whether its row exists."""
    return _state_of(rows[0] if rows else None), bool(rows)


async def size(conn: AsyncConnection) -> int:
    """The current tree size alone (what a proof needs; :func:`state` also reads the frontier)."""
    found = (await conn.execute(select(log_state.c.size))).scalar()
    return 0 if found is None else int(found)


async def append_leaves(
    conn: AsyncConnection, current: CompactRange, entries: Iterable[bytes]
) -> CompactRange:
    """Add ``entries``' leaves, in order, to the tree whose state is ``current`` (read in this
    transaction, under the stream lock): the leaves are folded in memory, then every completed
    subtree is written in one statement and the frontier once. Returns the new state."""
    grown, nodes = grow(current, entries)
    if not nodes:  # no entries
        return current
    await conn.execute(insert(log_nodes), nodes)
    frontier = b"".join(grown.hashes)
    if current.size == 0 and not await _has_state_row(conn):
        await conn.execute(insert(log_state).values(id=1, size=grown.size, frontier=frontier))
    else:
        await conn.execute(
            update(log_state).where(log_state.c.id == 1).values(size=grown.size, frontier=frontier)
        )
    return grown


def grow(
    current: CompactRange, entries: Iterable[bytes]
) -> tuple[CompactRange, list[dict[str, Any]]]:
    """``current`` with ``entries``' leaves added, and the rows of the subtrees they completed
    (what :func:`append_leaves` writes); no I/O."""
    grown, completed = current.extend(leaf_hash(entry) for entry in entries)
    return grown, [{"level": c.level, "idx": c.index, "hash": c.hash} for c in completed]


_INSERT_NODES = insert(log_nodes)
_INSERT_STATE = insert(log_state)
_UPDATE_STATE = (
    update(log_state)
    .where(log_state.c.id == 1)
    .values(size=bindparam("new_size"), frontier=bindparam("new_frontier"))
)


def append_steps(
    current: CompactRange, exists: bool, entries: Iterable[bytes]
) -> tuple[CompactRange, list[Step]]:
    """:func:`append_leaves` as steps of a plan (:mod:`hub.storage.batch`): ``current`` and
    ``exists`` as :func:`state_of` gives them. The new state, and the steps that write it."""
    grown, nodes = grow(current, entries)
    if not nodes:
        return current, []
    frontier = b"".join(grown.hashes)
    if exists:
        state = Step(_UPDATE_STATE, [{"new_size": grown.size, "new_frontier": frontier}])
    else:
        state = Step(_INSERT_STATE, [{"id": 1, "size": grown.size, "frontier": frontier}])
    return grown, [Step(_INSERT_NODES, nodes), state]


async def _has_state_row(conn: AsyncConnection) -> bool:
    return (await conn.execute(select(log_state.c.id))).first() is not None


# Subtrees looked up per statement. A proof needs at most about 2 log2(n) of them (40 at 10^6
# entries, 128 at 2^64); larger requests are split, which also bounds the statements cached below.
NODES_PER_QUERY = 128


@functools.lru_cache(maxsize=NODES_PER_QUERY)
def _nodes_query(count: int) -> Select[int, int, bytes]:
    """``SELECT`` of ``count`` subtrees by primary key, bound as ``l0, i0, l1, i1, ...``.

    One statement object per count, so SQLAlchemy finds its compiled form in its cache: building
    the expression anew for every proof cost several times what running it does. It stays an OR
    of key equalities because that is what both databases answer with index lookups (SQLite scans
    the table for a row-value ``(level, idx) IN (...)``).
    """
    c = log_nodes.c
    keys = (and_(c.level == bindparam(f"l{i}"), c.idx == bindparam(f"i{i}")) for i in range(count))
    return select(c.level, c.idx, c.hash).where(or_(*keys))


async def nodes(conn: AsyncConnection, wanted: Iterable[NodeId]) -> dict[NodeId, bytes]:
    """The stored hashes of ``wanted`` subtrees (missing ones are simply absent)."""
    ids = list(dict.fromkeys(wanted))
    found: dict[NodeId, bytes] = {}
    for first in range(0, len(ids), NODES_PER_QUERY):
        batch = ids[first : first + NODES_PER_QUERY]
        params: dict[str, int] = {}
        for i, node in enumerate(batch):
            params[f"l{i}"] = node.level
            params[f"i{i}"] = node.index
        rows = (await conn.execute(_nodes_query(len(batch)), params)).all()
        found.update((NodeId(int(level), int(idx)), bytes(h)) for level, idx, h in rows)
    return found


@dataclass(frozen=True, slots=True)
class RecordParties:
    """What the visibility check of a message's log entry needs, read with the proof: the
    record's ``subject`` column (the caller compares it with the entry's own), the sender of the
    envelope of that message id (None: no such envelope) and whether the reader is one of its
    recipients."""

    subject: str | None
    sender: str | None
    addressed: bool


@dataclass(frozen=True, slots=True)
class ProofInputs:
    """What an inclusion proof reads: the current tree size, the entry (None if absent), the
    stored subtrees of the proof's plan (missing ones absent), and, when a reader was given and
    the entry exists, its record's :class:`RecordParties`."""

    size: int
    entry: bytes | None
    nodes: dict[NodeId, bytes]
    parties: RecordParties | None = None


# Tags in the level column: real levels are >= 0.
_SIZE_ROW, _ENTRY_ROW, _PARTIES_ROW = -1, -2, -3


@functools.lru_cache(maxsize=2 * NODES_PER_QUERY)
def _proof_query(count: int, parties: bool = False) -> CompoundSelect[Any]:
    """One statement for :func:`proof_inputs`: the size row, the entry row, ``count`` subtrees
    (bound as in :func:`_nodes_query`) and with ``parties`` the record's subject, its envelope's
    sender and whether ``reader`` is a recipient (one indexed look-up each), told apart by a tag
    in the level column. Columns: tag or level, number, bytes, text, text."""
    c = log_nodes.c
    no_text = cast(null(), Text)
    parts: list[Select[Any]] = [
        select(literal(_SIZE_ROW), log_state.c.size, cast(null(), LargeBinary), no_text, no_text),
        select(
            literal(_ENTRY_ROW), audit_records.c.log_index, audit_records.c.entry, no_text, no_text
        ).where(audit_records.c.log_index == bindparam("index")),
    ]
    if parties:
        addressed = exists().where(
            deliveries.c.envelope_seq == envelopes.c.seq,
            deliveries.c.recipient_id == bindparam("reader"),
        )
        parts.append(
            select(
                literal(_PARTIES_ROW),
                case((addressed, 1), else_=0),
                cast(null(), LargeBinary),
                envelopes.c.sender_id,
                audit_records.c.subject,
            )
            .select_from(
                audit_records.outerjoin(envelopes, envelopes.c.mid == audit_records.c.subject)
            )
            .where(audit_records.c.log_index == bindparam("index"))
        )
    if count:
        keys = (
            and_(c.level == bindparam(f"l{i}"), c.idx == bindparam(f"i{i}")) for i in range(count)
        )
        parts.append(select(c.level, c.idx, c.hash, no_text, no_text).where(or_(*keys)))
    return union_all(*parts)


async def proof_inputs(
    conn: AsyncConnection, index: int, wanted: Iterable[NodeId], *, reader: str | None = None
) -> ProofInputs:
    """The tree size, entry ``index``, the ``wanted`` subtrees and, given a ``reader``, the
    entry's :class:`RecordParties`, in one statement and (on SQLite) one trip through the
    driver's thread: a proof at a known size used to take four statements, each several trips."""
    ids = list(dict.fromkeys(wanted))
    head, rest = ids[:NODES_PER_QUERY], ids[NODES_PER_QUERY:]
    params: dict[str, int | str] = {"index": index}
    if reader is not None:
        params["reader"] = reader
    for i, node in enumerate(head):
        params[f"l{i}"] = node.level
        params[f"i{i}"] = node.index
    size, entry, found, parties = 0, None, {}, None
    statement = _proof_query(len(head), reader is not None)
    for level, number, data, sender, subject in (await conn.execute(statement, params)).all():
        if level == _SIZE_ROW:
            size = int(number)
        elif level == _ENTRY_ROW:
            entry = bytes(data) if data is not None else None
        elif level == _PARTIES_ROW:
            parties = RecordParties(subject, sender, bool(number) and sender is not None)
        elif data is not None:
            found[NodeId(int(level), int(number))] = bytes(data)
    if rest:  # beyond a tree of 2^64 entries' needs: never in practice
        found.update(await nodes(conn, rest))
    return ProofInputs(size, entry, found, parties)


@dataclass(frozen=True, slots=True)
class StoredEntry:
    index: int
    entry: bytes


async def entries(
    conn: AsyncConnection, *, start: int, end: int, country: str | None = None
) -> list[StoredEntry]:
    """Entries with ``start <= index < end`` in order; with ``country``, only those involving it."""
    statement = select(audit_records.c.log_index, audit_records.c.entry).where(
        audit_records.c.log_index >= start, audit_records.c.log_index < end
    )
    # ``all()`` takes the rows in one call; iterating the result fetches them one at a time
    # through the async adapter's cursor (4 against 6 ms of CPU for a page of 10,000 rows).
    rows = (await conn.execute(statement.order_by(audit_records.c.log_index))).all()
    found = [StoredEntry(int(index), bytes(entry)) for index, entry in rows]
    if country is None:
        return found
    # pydantic-core's JSON parser: 2.4 against 7.6 us for a 358-byte entry (the standard
    # library's), every entry of the range read to find those of the country.
    return [e for e in found if country in from_json(e.entry).get("countries", [])]


async def entry_at(conn: AsyncConnection, index: int) -> bytes | None:
    row = (
        await conn.execute(select(audit_records.c.entry).where(audit_records.c.log_index == index))
    ).first()
    return bytes(row.entry) if row else None


async def find_entries(
    conn: AsyncConnection, *, events: Iterable[str], subject: str
) -> list[StoredEntry]:
    """Entries of these events about ``subject`` (a message id, a participant id), in order."""
    rows = await conn.execute(
        select(audit_records.c.log_index, audit_records.c.entry)
        .where(audit_records.c.event.in_(list(events)), audit_records.c.subject == subject)
        .order_by(audit_records.c.log_index)
    )
    return [StoredEntry(int(r.log_index), bytes(r.entry)) for r in rows]


@dataclass(frozen=True)
class CheckpointRow:
    size: int
    root: bytes
    note: str
    signed_at: int


async def latest_checkpoint(conn: AsyncConnection) -> CheckpointRow | None:
    row = (
        await conn.execute(select(log_checkpoints).order_by(log_checkpoints.c.size.desc()).limit(1))
    ).first()
    if row is None:
        return None
    return CheckpointRow(int(row.size), bytes(row.root), str(row.note), int(row.signed_at))


async def insert_checkpoint(conn: AsyncConnection, row: CheckpointRow) -> None:
    await conn.execute(
        insert(log_checkpoints).values(
            size=row.size, root=row.root, note=row.note, signed_at=row.signed_at
        )
    )


async def checkpoint_at(conn: AsyncConnection, size: int) -> CheckpointRow | None:
    row = (
        await conn.execute(select(log_checkpoints).where(log_checkpoints.c.size == size))
    ).first()
    if row is None:
        return None
    return CheckpointRow(int(row.size), bytes(row.root), str(row.note), int(row.signed_at))


async def cosignatures(conn: AsyncConnection, size: int) -> dict[str, str]:
    """The witness signature lines collected for the checkpoint of ``size``, by witness name."""
    rows = await conn.execute(
        select(log_cosignatures.c.witness, log_cosignatures.c.line)
        .where(log_cosignatures.c.size == size)
        .order_by(log_cosignatures.c.witness)
    )
    return {str(witness): str(line) for witness, line in rows}


async def save_cosignature(
    conn: AsyncConnection, *, size: int, witness: str, line: str, at: int
) -> None:
    """Keep a witness's (verified) cosignature of the checkpoint of ``size``; a newer one of the
    same witness for the same size replaces it (same statement, later time)."""
    await conn.execute(
        delete(log_cosignatures).where(
            log_cosignatures.c.size == size, log_cosignatures.c.witness == witness
        )
    )
    await conn.execute(
        insert(log_cosignatures).values(size=size, witness=witness, line=line, received_at=at)
    )
