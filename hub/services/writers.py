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

from hub.errors import Conflict
from hub.storage import audit, envelopes, nonces
from hub.storage.groupcommit import GroupCommitter
from hub.storage.nonces import NonceClaim


@dataclass(frozen=True)
class AcceptedEnvelope:
    """An envelope the policy accepted, with what must be stored along with it."""

    row: envelopes.EnvelopeRow
    recipients: tuple[tuple[str, str], ...]  # (participant id, encryption kid), in header order
    record: audit.NewRecord  # its envelope.accepted audit record


EnvelopeWriter = GroupCommitter[AcceptedEnvelope, int]
NonceWriter = GroupCommitter[NonceClaim, bool]


async def write_accepted(
    conn: AsyncConnection, items: Sequence[AcceptedEnvelope]
) -> list[int | Exception]:
    """Store ``items`` in the caller's transaction; the new ``seq`` of each, or its error."""
    first: dict[str, int] = {}
    for n, item in enumerate(items):
        first.setdefault(item.row.mid, n)
    results: list[int | Exception] = [
        envelopes.duplicate() if first[item.row.mid] != n else 0 for n, item in enumerate(items)
    ]
    new = sorted(first.values())
    try:
        async with conn.begin_nested():
            seqs = await envelopes.insert_envelopes(
                conn, [(items[n].row, items[n].recipients) for n in new]
            )
        stored = list(zip(new, seqs, strict=True))
    except IntegrityError:  # a message id is stored already: find which, one by one
        stored = []
        for n in new:
            try:
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


def envelope_writer(engine: AsyncEngine) -> EnvelopeWriter:
    return GroupCommitter(engine, write_accepted, name="envelopes")


def nonce_writer(engine: AsyncEngine) -> NonceWriter:
    return GroupCommitter(engine, nonces.remember_nonces, name="nonces")
