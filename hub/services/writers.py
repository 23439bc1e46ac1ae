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

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import Conflict, RateLimited
from pgs_hub.hub.storage import audit, blobs, counters, envelopes, nonces, participants
from pgs_hub.hub.storage.groupcommit import GroupCommitter
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
    """Store ``items`` in the caller's transaction; the new ``seq`` of each, or its error."""
    # Read in the storing transaction (under the write lock on SQLite): the version it commits at.
    checked = any(item.directory is not None for item in items)
    current = await participants.read_directory_version(conn) if checked else None
    first: dict[str, int] = {}
    results: list[int | Exception] = [0] * len(items)
    for n, item in enumerate(items):
        if item.directory is not None and item.directory != current:
            results[n] = StaleDirectory()
        elif item.row.mid in first:
            results[n] = envelopes.duplicate()
        else:
            first[item.row.mid] = n
    for n in await _over_limit(conn, items, sorted(first.values())):
        del first[items[n].row.mid]
        window_end = counters.window_of(items[n].row.accepted_at) + counters.WINDOW_SECONDS
        results[n] = RateLimited(
            f"too many submissions: at most {items[n].per_minute} a minute; try again later",
            retry_after=max(1, window_end - items[n].row.accepted_at),
            code=Code.RATE_SUBMISSIONS,
        )
    new = sorted(first.values())
    try:
        async with conn.begin_nested():
            for n in new:
                await _bind_uploads(conn, items[n])
            seqs = await envelopes.insert_envelopes(
                conn, [(items[n].row, items[n].recipients) for n in new]
            )
        stored = list(zip(new, seqs, strict=True))
    except (IntegrityError, Conflict):  # a message id is stored already: find which, one by one
        stored = []
        for n in new:
            try:
                async with conn.begin_nested():  # the binding goes if the envelope is refused
                    await _bind_uploads(conn, items[n])
                    seq = await envelopes.insert_envelope(conn, items[n].row, items[n].recipients)
            except (Conflict, IntegrityError) as exc:
                results[n] = exc
            else:
                stored.append((n, seq))
    # The audit records follow the envelopes' order, so the log's order is the acceptance order.
    await audit.append_records(conn, [items[n].record for n, _ in stored])
    for n, seq in stored:
        results[n] = seq
    return results


async def _over_limit(
    conn: AsyncConnection, items: Sequence[AcceptedEnvelope], candidates: list[int]
) -> list[int]:
    """Count ``candidates`` against their senders' limits; those past the limit (the later ones
    of a batch first). Refused submissions are counted too: a client that keeps sending while
    refused stays refused until the window ends."""
    groups: dict[tuple[str, int], list[int]] = {}
    for n in candidates:
        item = items[n]
        if item.per_minute is not None:
            key = (item.row.sender_id, counters.window_of(item.row.accepted_at))
            groups.setdefault(key, []).append(n)
    refused: list[int] = []
    for (sender, window), members in sorted(groups.items()):  # one lock order everywhere
        total = await counters.count_submissions(conn, sender, window, len(members))
        limit = items[members[0]].per_minute or 0
        allowed = max(0, limit - (total - len(members)))
        refused.extend(members[allowed:])
    return refused


async def _bind_uploads(conn: AsyncConnection, item: AcceptedEnvelope) -> None:
    if item.uploads and not await blobs.bind(conn, item.row.sender_id, item.row.mid, item.uploads):
        raise Conflict(
            "an attachment upload of this message is not the sender's, incomplete, or another "
            "message's",
            code=Code.ATTACHMENT_UPLOAD_TAKEN,
        )


def envelope_writer(engine: AsyncEngine) -> EnvelopeWriter:
    return GroupCommitter(engine, write_accepted, name="envelopes")


def nonce_writer(engine: AsyncEngine) -> NonceWriter:
    return GroupCommitter(engine, nonces.remember_nonces, name="nonces")
