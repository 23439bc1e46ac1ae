"""The transparency log's services: signed checkpoints, entries for auditors, and proofs.

Checkpoints are signed only over the tree the database holds, and only after checking that it
extends the last signed one (a consistency proof from the stored subtrees): a rewritten database
makes the hub refuse to sign rather than publish a fork.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, replace

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.crypto.errors import CryptoError, ProofError
from pgs_hub.crypto.keys import check_key_id
from pgs_hub.crypto.merkle import consistency_plan, inclusion_plan, leaf_hash, verify_consistency
from pgs_hub.crypto.note import Checkpoint, sign_checkpoint
from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import HubError, InvalidRequest, Kind, MalformedRequest, NotFound
from pgs_hub.hub.policy.authorize import Action, LogEntry
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.services import rollback
from pgs_hub.hub.services.access import authorize
from pgs_hub.hub.services.context import HubContext
from pgs_hub.hub.settings import DEFAULTS
from pgs_hub.hub.storage import envelopes, log
from pgs_hub.hub.storage import participants as store
from pgs_hub.hub.storage._streams import lock_streams
from pgs_hub.protocols import api
from pgs_hub.protocols.messages.identifiers import MessageId

log_ = logging.getLogger("pgs.hub.log")

MAX_ENTRIES = DEFAULTS.log_entries_page_max  # entries per answer of GET /v1/audit/entries
# ... and at most this many bytes of them (before base64): entries are small metadata (about 400
# bytes), so this only cuts a page of unusually large ones short; the answer's ``end`` says where.
MAX_ENTRIES_BYTES = DEFAULTS.log_entries_page_bytes
KEY_EVENTS = ("participant.enrolled", "keys.rotated")
MESSAGE_EVENTS = ("envelope.accepted", "receipt.recorded")
_MESSAGE_ID: TypeAdapter[str] = TypeAdapter(MessageId)


class LogIntegrityError(HubError):
    """The stored tree does not extend the last signed checkpoint: refuse to sign."""

    code = Code.LOG_INTEGRITY
    kind = Kind.UNAVAILABLE  # the hub's own data is at fault, not the request


@dataclass(frozen=True)
class SignedCheckpoint:
    size: int
    root: bytes
    note: str
    cosignatures: str = ""  # witness signature lines collected for this size, appended to note

    @property
    def cosigned_note(self) -> str:
        """The note as published: the hub's signature line, then the witnesses' (c2sp.org/
        tlog-cosignature); readers that do not know a witness ignore its line."""
        return self.note + self.cosignatures

    def to_api(self) -> api.Checkpoint:
        return api.Checkpoint(
            checkpoint=self.cosigned_note, size=self.size, root=b64u_encode(self.root)
        )


def _is_message_id(text: str) -> bool:
    try:
        _MESSAGE_ID.validate_python(text)
    except ValidationError:
        return False
    return True


def _b64(items: list[bytes]) -> list[str]:
    return [b64u_encode(h) for h in items]


async def latest(ctx: HubContext, *, fresh: bool = False) -> SignedCheckpoint:
    """The latest signed checkpoint, signing a new one first when the tree has grown since.

    Clients check that a key they encrypt to is in the log against this checkpoint, so it must
    cover the newest enrolments; signing is one Ed25519 signature and a consistency check.
    """
    async with ctx.reader.connect() as conn:
        stored = await log.latest_checkpoint(conn)
        size = (await log.state(conn)).size
    if stored is None or fresh or stored.size < size:
        return await with_cosignatures(ctx, await sign(ctx))
    return await with_cosignatures(ctx, SignedCheckpoint(stored.size, stored.root, stored.note))


async def _cosignatures(ctx: HubContext, size: int) -> dict[str, str]:
    async with ctx.reader.connect() as conn:
        return await log.cosignatures(conn, size)


async def with_cosignatures(ctx: HubContext, checkpoint: SignedCheckpoint) -> SignedCheckpoint:
    """``checkpoint`` with the witnesses' cosignatures stored for it (also those of witnesses no
    longer configured: they stay valid); when some are missing and a round on it is running,
    after waiting for it (``[witnessing] wait_seconds`` at most). Submissions never
    come here: only readers of the checkpoint wait."""
    witnessing = ctx.witnessing
    lines = await _cosignatures(ctx, checkpoint.size)
    if witnessing is not None and len(lines) < len(witnessing.endpoints):
        await witnessing.wait_for(ctx, checkpoint.size)
        lines = await _cosignatures(ctx, checkpoint.size)
    return replace(checkpoint, cosignatures="".join(lines[name] for name in sorted(lines)))


async def checkpoint(ctx: HubContext, reader: Member, *, fresh: bool = False) -> SignedCheckpoint:
    """:func:`latest` for a participant: anyone reads it; auditors and admins may ask for a fresh
    one (``fresh``)."""
    await authorize(ctx, reader, Action.LOG_SIGN if fresh else Action.LOG_READ)
    return await latest(ctx, fresh=fresh)


async def sign(ctx: HubContext) -> SignedCheckpoint:
    """Sign a checkpoint of the current tree (or return the last one if the tree has not grown)."""
    async with ctx.engine.begin() as conn:
        await lock_streams(conn)
        tree = await log.state(conn)
        previous = await log.latest_checkpoint(conn)
        if previous is not None and previous.size == tree.size:
            if previous.root != tree.root():
                raise LogIntegrityError("the stored tree differs from the last signed checkpoint")
            return SignedCheckpoint(previous.size, previous.root, previous.note)
        if previous is not None:
            if previous.size > tree.size:
                raise LogIntegrityError("the stored tree is smaller than the last signed one")
            plan = consistency_plan(previous.size, tree.size)
            proof = plan.assemble(await log.nodes(conn, plan.nodes))
            try:
                verify_consistency(previous.size, tree.size, proof, previous.root, tree.root())
            except ProofError as exc:
                log_.critical(
                    "refusing to sign: the stored log does not extend checkpoint %d", previous.size
                )
                raise LogIntegrityError(
                    "the stored tree does not extend the last signed checkpoint"
                ) from exc
        checkpoint = Checkpoint(ctx.log_origin, tree.size, tree.root())
        note = sign_checkpoint(checkpoint, ctx.log_origin, ctx.log_key).decode("utf-8")
        await log.insert_checkpoint(
            conn, log.CheckpointRow(tree.size, tree.root(), note, ctx.now())
        )
    if ctx.high_water is not None:  # committed: now the mark outside the database follows
        verifier = rollback.log_verifier(ctx.log_origin, ctx.log_key)
        await asyncio.to_thread(
            rollback.raise_high_water, ctx.high_water, note, tree.size, verifier
        )
    if ctx.witnessing is not None:
        ctx.witnessing.kick(ctx, tree.size)  # in the background: cosignatures arrive later
    return SignedCheckpoint(tree.size, checkpoint.root, note)


async def entries(ctx: HubContext, reader: Member, start: int, end: int) -> api.LogEntriesPage:
    """The entries ``[start, end)`` the reader may see, at most :data:`MAX_ENTRIES` indexes and
    :data:`MAX_ENTRIES_BYTES` bytes (always at least one entry). The answer's ``end`` is where the
    page stops: every visible entry below it is in the page, and the next page starts there."""
    scope = (await authorize(ctx, reader, Action.AUDIT)).country
    if start < 0 or end < start:
        raise InvalidRequest("need 0 <= start <= end")
    end = min(end, start + MAX_ENTRIES)
    async with ctx.reader.connect() as conn:
        found = await log.entries(conn, start=start, end=end, country=scope)
    items: list[tuple[int, bytes]] = []
    budget = MAX_ENTRIES_BYTES
    for e in found:
        budget -= len(e.entry)
        if budget < 0 and items:
            end = e.index
            break
        items.append((e.index, e.entry))
    return api.LogEntriesPage(start=start, end=end, entries=items)


async def _tree_size(conn: AsyncConnection, size: int | None) -> int:
    current = await log.size(conn)
    if size is None:
        return current
    _check_size(size, current)
    return size


def _check_size(size: int, current: int) -> None:
    if not 0 < size <= current:
        raise InvalidRequest(f"size must be between 1 and the log's size ({current})")


async def _may_see(
    ctx: HubContext,
    conn: AsyncConnection,
    reader: Member,
    entry: bytes,
    known: log.RecordParties | None = None,
) -> None:
    """Ask the policy (``log.entry``): auditors in scope; any participant for key events; a
    message's sender and recipients. Raises ``log.not_found`` (as for a missing entry).
    ``known``: the envelope's sender and addressing read with the proof (``proof_inputs``), used
    only if the record's subject is the entry's own; otherwise they are read here."""
    doc = json.loads(entry)
    event = doc.get("event")
    parties: frozenset[str] | None = None
    if event in MESSAGE_EVENTS and isinstance(doc.get("subject"), str):
        found: tuple[str, bool] | None
        if known is not None and known.subject == doc["subject"]:
            found = None if known.sender is None else (known.sender, known.addressed)
        else:
            found = await envelopes.sender_and_addressed(conn, doc["subject"], reader.id)
        if found is not None:
            sender, addressed = found
            parties = frozenset({sender} | ({reader.id} if addressed else set()))
    countries = doc.get("countries", [])
    resource = LogEntry(
        event=str(event),
        countries=frozenset(c for c in countries if isinstance(c, str)),
        parties=parties,
    )
    await authorize(ctx, reader, Action.LOG_ENTRY, resource, subject=str(doc.get("subject")))


async def inclusion(
    ctx: HubContext, reader: Member, *, index: int | None, mid: str | None, size: int | None
) -> api.InclusionProof:
    """The inclusion proof of entry ``index`` (or of message ``mid``'s acceptance) in the tree of
    ``size``. One connection, one read transaction: the size, the entry and the proof's subtrees
    are read together (a proof costs one round of queries, not three connections)."""
    await authorize(ctx, reader, Action.LOG_READ)  # the log's size is read before the entry
    # A hidden entry is answered exactly like a missing one: no existence oracle for message ids.
    missing = NotFound(
        "no log entry for this message" if mid is not None else "no log entry at this index",
        code=Code.LOG_NOT_FOUND,
    )
    async with ctx.reader.connect() as conn:
        if mid is None and index is not None and size is not None and index < size:
            # A proof against a known size (an auditor's checkpoint): the plan is known before
            # anything is read, so the size, the entry and the subtrees come in one statement.
            plan = inclusion_plan(index, size)
            got = await log.proof_inputs(conn, index, plan.nodes, reader=reader.id)
            _check_size(size, got.size)
            if got.entry is None:
                raise missing
            try:
                await _may_see(ctx, conn, reader, got.entry, got.parties)
            except NotFound:
                raise missing from None
            return _proof_doc(index, size, got.entry, plan.assemble(got.nodes))
        tree_size = await _tree_size(conn, size)
        if mid is not None:
            if not _is_message_id(mid):  # never reaches the database (a NUL byte breaks PostgreSQL)
                raise missing
            found = await log.find_entries(conn, events=("envelope.accepted",), subject=mid)
            if not found:
                raise missing
            index, entry = found[0].index, found[0].entry
        else:
            if index is None:
                raise InvalidRequest("give index or mid")
            if index >= tree_size:  # the size is public: saying so reveals nothing
                raise MalformedRequest(
                    f"index {index} is out of range: the tree has {tree_size} entries",
                    code=Code.LOG_INDEX_OUT_OF_RANGE,
                )
            stored = await log.entry_at(conn, index)
            if stored is None:
                raise missing
            entry = stored
        try:
            await _may_see(ctx, conn, reader, entry)
        except NotFound:
            raise missing from None
        if index >= tree_size:
            raise InvalidRequest(f"entry {index} is not in a tree of size {tree_size}")
        return await _proof_for(conn, index, tree_size, entry)


async def _proof_for(
    conn: AsyncConnection, index: int, size: int, entry: bytes
) -> api.InclusionProof:
    plan = inclusion_plan(index, size)
    return _proof_doc(index, size, entry, plan.assemble(await log.nodes(conn, plan.nodes)))


def _proof_doc(index: int, size: int, entry: bytes, proof: list[bytes]) -> api.InclusionProof:
    return api.InclusionProof(
        index=index,
        size=size,
        leaf_hash=b64u_encode(leaf_hash(entry)),
        entry=b64u_encode(entry),
        proof=_b64(proof),
    )


async def key_proof_for(
    ctx: HubContext, reader: Member, kid: str, size: int | None
) -> api.InclusionProof:
    """:func:`key_proof` for a participant (public metadata: any participant the policy lets in)."""
    await authorize(ctx, reader, Action.LOG_READ)
    return await key_proof(ctx, kid, size)


async def consistency_for(
    ctx: HubContext, reader: Member, first: int, second: int
) -> api.ConsistencyProof:
    """:func:`consistency` for a participant (public metadata)."""
    await authorize(ctx, reader, Action.LOG_READ)
    return await consistency(ctx, first, second)


async def key_proof(ctx: HubContext, kid: str, size: int | None) -> api.InclusionProof:
    """The entry that enrolled or rotated in key ``kid``, with its inclusion proof."""
    async with ctx.reader.connect() as conn:
        tree_size = await _tree_size(conn, size)
        try:
            check_key_id(kid)  # a kid that cannot exist never reaches the database
        except CryptoError:
            raise NotFound("no such key", code=Code.KEY_NOT_FOUND) from None
        key = await store.key_by_kid(conn, kid)
        if key is None:
            raise NotFound("no such key", code=Code.KEY_NOT_FOUND)
        candidates = await log.find_entries(conn, events=KEY_EVENTS, subject=key.participant_id)
        for candidate in candidates:
            details = json.loads(candidate.entry).get("details", {})
            if kid in (details.get("sig_kid"), details.get("enc_kid")) and (
                candidate.index < tree_size
            ):
                return await _proof_for(conn, candidate.index, tree_size, candidate.entry)
    raise NotFound("this key is not in the log (at this size)", code=Code.KEY_NOT_LOGGED)


async def consistency(ctx: HubContext, first: int, second: int) -> api.ConsistencyProof:
    async with ctx.reader.connect() as conn:  # one read transaction: the size and the subtrees
        current = await _tree_size(conn, None)
        if not 0 <= first <= second <= current:
            raise InvalidRequest(f"need 0 <= first <= second <= {current}")
        plan = consistency_plan(first, second)
        proof = plan.assemble(await log.nodes(conn, plan.nodes))
    return api.ConsistencyProof(first=first, second=second, proof=_b64(proof))
