"""The hub's two group-committed writers (:mod:`hub.storage.groupcommit`): accepted envelopes and
request-signature nonces. Each turns a burst of concurrent requests into one transaction.

Accepted envelopes
    Each item is an envelope, its ``(recipient, kid)`` pairs and its ``envelope.accepted`` audit
    record. A batch is stored with one INSERT per table (envelopes, deliveries, mailbox, audit
    records, log nodes, audit countries) in a SAVEPOINT. A message id that is already stored makes
    that INSERT fail; the batch is then rolled back to the SAVEPOINT and stored item by item, each
    in its own SAVEPOINT, so the duplicate fails alone with :class:`~hub.errors.Conflict`
    (``envelope.duplicate``), which the submission service answers like a resubmission. A message id
    twice in one batch: the first is stored, the second gets the same Conflict. Any other integrity
    error met on that slow path (the policy checks make one unexpected) fails its own item only.

Nonces
    Each item is one RFC 9421 request's ``(keyid, nonce)``; the result says whether it is fresh.
    A replay, in the same batch or of a stored nonce, is ``False`` for that request alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import Conflict, RateLimited
from pgs_hub.hub.storage import (
    _streams,
    audit,
    batch,
    counters,
    envelopes,
    log,
    nonces,
    participants,
)
from pgs_hub.hub.storage.batch import Plan, Step, Steps
from pgs_hub.hub.storage.groupcommit import GroupCommitter
from pgs_hub.hub.storage.kept_connection import KeptConnection
from pgs_hub.hub.storage.nonces import NonceClaim
from pgs_hub.hub.storage.participants import DirectoryVersion


@dataclass(frozen=True)
class AcceptedEnvelope:
    """An envelope the policy accepted, with what must be stored along with it."""

    row: envelopes.EnvelopeRow
    recipients: tuple[tuple[str, str], ...]  # (participant id, encryption kid), in header order
    record: audit.NewRecord  # its envelope.accepted audit record
    # The directory version the submission was authorized at, when that must still be the current
    # one: if the directory moved on, the item is not stored and gets StaleDirectory.
    directory: DirectoryVersion | None = None
    # At most this many submissions a minute from the sender (hub.storage.counters), counted in
    # the storing transaction so that every hub process shares the count; None: no limit.
    per_minute: int | None = None
    # The attachment uploads the routing header names (``att``): bound to the envelope in the
    # transaction that stores it, or the item fails with ``attachment.upload_taken``.
    uploads: tuple[str, ...] = ()


class StaleDirectory(Exception):
    """The directory changed since the item was authorized: authorize it again (never answered
    to a client; :func:`hub.services.submission.submit` decides again on the current directory)."""


EnvelopeWriter = GroupCommitter[AcceptedEnvelope, int]
NonceWriter = GroupCommitter[NonceClaim, bool]


async def write_accepted(
    conn: AsyncConnection, items: Sequence[AcceptedEnvelope]
) -> list[int | Exception]:
    """Store ``items`` in the caller's transaction; the new ``seq`` of each, or its error.

    The batch is one plan (:mod:`hub.storage.batch`): on SQLite it runs whole in the database
    connection's thread, one hand-off between ``BEGIN IMMEDIATE`` and ``COMMIT`` instead of one
    per statement (about fifteen), each of which waited for a turn of the busy event loop."""
    return await batch.run(conn, _accept(conn.dialect.name, items))


def _accept(dialect: str, items: Sequence[AcceptedEnvelope]) -> Plan[list[int | Exception]]:
    """The plan of :func:`write_accepted`. The numbers (envelope seqs, mailbox cursors, audit
    seqs) are reserved up front under the write lock (SQLite) or the stream lock (PostgreSQL)
    and written explicitly, so that no statement has to return them."""
    wanted = {
        "envelopes": len(items),
        "mailbox": sum(len(item.recipients) for item in items),
        "audit_records": len(items),
    }
    version_rows, state_rows, number_rows = yield from _locked_reads(dialect, wanted)
    checked = any(item.directory is not None for item in items)
    current = participants.directory_version_of(version_rows) if checked else None
    first: dict[str, int] = {}
    results: list[int | Exception] = [0] * len(items)
    for n, item in enumerate(items):
        if item.directory is not None and item.directory != current:
            results[n] = StaleDirectory()
        elif item.row.mid in first:
            results[n] = envelopes.duplicate()
        else:
            first[item.row.mid] = n
    for n in (yield from _over_limit(dialect, items, sorted(first.values()))):
        del first[items[n].row.mid]
        window_end = counters.window_of(items[n].row.accepted_at) + counters.WINDOW_SECONDS
        results[n] = RateLimited(
            f"too many submissions: at most {items[n].per_minute} a minute; try again later",
            retry_after=max(1, window_end - items[n].row.accepted_at),
            code=Code.RATE_SUBMISSIONS,
        )
    new = []
    for n in sorted(first.values()):
        if len(set(items[n].uploads)) == len(items[n].uploads):
            new.append(n)
        else:  # an upload named twice: blobs.bind refuses it too
            results[n] = _upload_taken()
    numbers = _streams.numbers(dialect, number_rows, wanted)
    seqs, cursors = numbers["envelopes"], numbers["mailbox"]
    steps = [step for n in new for step in _bind_steps(items[n])]
    steps += envelopes.insert_steps(
        [(items[n].row, items[n].recipients) for n in new], seqs[: len(new)], iter(cursors)
    )
    stored: list[tuple[int, int]] = []
    if not isinstance((yield Steps(steps, savepoint=True)), Exception):
        stored = list(zip(new, seqs, strict=False))
    else:  # a message id is stored already, or an upload taken: find which, one by one
        stored = yield from _one_by_one(items, new, seqs, cursors, results)
    # The audit records follow the envelopes' order, so the log's order is the acceptance order.
    tree, exists = log.state_of(state_rows)
    records = [items[n].record for n, _ in stored]
    audit_steps = audit.append_steps(
        tree, exists, records, numbers["audit_records"][: len(records)]
    )
    if audit_steps:
        yield Steps(audit_steps)
    for n, seq in stored:
        results[n] = seq
    return results


def _locked_reads(dialect: str, wanted: dict[str, int]) -> Plan[list[Any]]:
    """Read in the storing transaction, under the write lock (SQLite) or the stream lock: the
    directory version it commits at, the log's state and the next numbers, in one statement."""
    lock = _streams.lock_step(dialect)
    if lock is not None:  # a statement of its own: the reads must see what it waited for
        yield Steps([lock])
    reads = [
        participants.directory_version_step(),
        log.state_step(),
        _streams.numbers_step(dialect, wanted),
    ]
    return _rows((yield Steps(reads, one_statement=True)))


def _one_by_one(
    items: Sequence[AcceptedEnvelope],
    new: list[int],
    seqs: list[int],
    cursors: list[int],
    results: list[int | Exception],
) -> Plan[list[tuple[int, int]]]:
    """The items ``new`` stored each in its own SAVEPOINT; those stored, with their seqs. The
    others get their own error in ``results``: ``envelope.duplicate`` for a stored message id,
    ``attachment.upload_taken``, or the integrity error itself."""
    stored: list[tuple[int, int]] = []
    used = 0  # mailbox cursors used by the items stored so far
    for n in new:
        item, seq = items[n], seqs[len(stored)]
        one = envelopes.insert_steps([(item.row, item.recipients)], [seq], iter(cursors[used:]))
        refused = yield Steps([*_bind_steps(item), *one], savepoint=True)
        if isinstance(refused, batch.RowsMismatch):
            results[n] = _upload_taken()
        elif isinstance(refused, Exception):
            (found,) = _rows((yield Steps([envelopes.seq_of_mid_step(item.row.mid)])))
            results[n] = envelopes.duplicate() if found else refused
        else:
            stored.append((n, seq))
            used += len(item.recipients)
    return stored


def _rows(result: list[Any] | Exception) -> list[Any]:
    """The results of steps run outside a SAVEPOINT (an error there is raised, never sent)."""
    if isinstance(result, Exception):  # pragma: no cover - batch.run raises those
        raise result
    return result


def _over_limit(
    dialect: str, items: Sequence[AcceptedEnvelope], candidates: list[int]
) -> Plan[list[int]]:
    """Count ``candidates`` against their senders' limits; those past the limit (the later ones
    of a batch first). Refused submissions are counted too: a client that keeps sending while
    refused stays refused until the window ends."""
    groups: dict[tuple[str, int], list[int]] = {}
    for n in candidates:
        item = items[n]
        if item.per_minute is not None:
            key = (item.row.sender_id, counters.window_of(item.row.accepted_at))
            groups.setdefault(key, []).append(n)
    if not groups:
        return []
    ordered = sorted(groups.items())  # one lock order everywhere
    counts = [(sender, window, len(members)) for (sender, window), members in ordered]
    (rows,) = _rows((yield Steps([counters.count_step(dialect, counts)])))
    refused: list[int] = []
    for (_, members), total in zip(ordered, counters.totals(counts, rows), strict=True):
        limit = items[members[0]].per_minute or 0
        allowed = max(0, limit - (int(total) - len(members)))
        refused.extend(members[allowed:])
    return refused


def _bind_steps(item: AcceptedEnvelope) -> list[Step]:
    return envelopes.bind_upload_steps(item.row.sender_id, item.row.mid, item.uploads)


def _upload_taken() -> Conflict:
    return Conflict(
        "an attachment upload of this message is not the sender's, incomplete, or another "
        "message's",
        code=Code.ATTACHMENT_UPLOAD_TAKEN,
    )


async def store_accepted(
    conn: KeptConnection, items: Sequence[AcceptedEnvelope]
) -> list[int | Exception]:
    """:func:`write_accepted` in a transaction of its own, committed on return: on SQLite the
    plan runs on the event loop and the commit in the driver's thread (:func:`batch.transaction`),
    on the writer's own connection."""
    return await conn.transaction(lambda dialect: _accept(dialect, items))


def envelope_writer(engine: AsyncEngine) -> EnvelopeWriter:
    kept = KeptConnection(engine)
    return GroupCommitter(
        engine, write_accepted, name="envelopes",
        transaction=lambda items: store_accepted(kept, items), on_close=kept.close,
    )  # fmt: skip


async def store_nonces(conn: KeptConnection, claims: Sequence[NonceClaim]) -> list[bool]:
    """:func:`nonces.remember_plan` in a transaction of its own (:func:`batch.transaction`),
    on the writer's own connection."""
    return await conn.transaction(lambda _dialect: nonces.remember_plan(claims))


def nonce_writer(engine: AsyncEngine) -> NonceWriter:
    kept = KeptConnection(engine)
    return GroupCommitter(
        engine, nonces.remember_nonces, name="nonces",
        transaction=lambda claims: store_nonces(kept, claims), on_close=kept.close,
    )  # fmt: skip
