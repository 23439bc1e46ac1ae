"""Encrypted attachment blobs: tus uploads, their binding to an envelope, and downloads.

The hub never sees a file key: a blob is ciphertext (docs/protocol.md §7) that its sender uploads
(``upload.write``: only the owner creates, resumes, appends to or deletes it), and that an
accepted envelope then references by its routing header's ``att``. From then on the blob is
read-only and its access is exactly its envelope's: a download is decided as ``envelope.fetch``
on that envelope, by the one policy function. Caps (``[attachments]`` in config.toml) are checked
before any byte is stored: the file size and the participant's quota when the upload is created,
the part size on each PATCH; the message total when the envelope is accepted.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import AsyncIterator, Sequence

from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import (
    Conflict,
    HubError,
    InvalidRequest,
    Kind,
    NotFound,
    TooLarge,
    Unavailable,
)
from pgs_hub.hub.policy.authorize import Action, Envelope, Upload, upload_not_found
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.services.access import authorize
from pgs_hub.hub.services.context import HubContext
from pgs_hub.hub.storage import blobs, envelopes
from pgs_hub.hub.storage.blobs import UploadRow
from pgs_hub.hub.storage.part_files import PartFiles
from pgs_hub.protocols.routing import RoutingHeader

log = logging.getLogger("pgs.hub")

#: An upload as the web layer sees it (offset, length, expiry), without importing storage.
StoredUpload = UploadRow

__all__ = [
    "ChecksumMismatch",
    "append",
    "check_references",
    "create",
    "download",
    "may_upload",
    "status",
    "terminate",
]


class ChecksumMismatch(HubError):
    """A PATCH body does not match its ``Upload-Checksum`` (tus answers 460)."""

    code = Code.UPLOAD_CHECKSUM_MISMATCH
    kind = Kind.INVALID


def new_upload_id() -> str:
    """128 random bits, base64url (22 characters): an upload id nobody can guess."""
    return b64u_encode(secrets.token_bytes(16))


async def may_upload(ctx: HubContext, actor: Member) -> None:
    """Whether ``actor`` may upload at all (tus OPTIONS, which shows the caps)."""
    await authorize(ctx, actor, Action.UPLOAD, Upload(actor.id))


async def create(ctx: HubContext, actor: Member, length: int) -> UploadRow:
    """A new, empty upload of ``length`` bytes for ``actor``; refused over the file cap or the
    actor's quota, before anything is stored."""
    await authorize(ctx, actor, Action.UPLOAD, Upload(actor.id))
    limits = ctx.attachments
    if length > limits.max_file_bytes:
        raise TooLarge(
            f"an attachment may be at most {limits.max_file_bytes} bytes encrypted; this one is "
            f"{length}",
            code=Code.UPLOAD_TOO_LARGE,
        )
    now = ctx.now()
    row = UploadRow(
        id=new_upload_id(), owner_id=actor.id, length=length, stored=0, created_at=now,
        expires_at=now + limits.pending_seconds, envelope_mid=None,
    )  # fmt: skip
    async with ctx.engine.begin() as conn:
        held = await blobs.bytes_held(conn, actor.id)
        if held + length > limits.quota_bytes:
            raise TooLarge(
                f"this would exceed your attachment quota of {limits.quota_bytes} bytes "
                f"({held} held); delete unsent uploads or wait until old messages expire",
                code=Code.UPLOAD_QUOTA_EXCEEDED,
            )
        await blobs.create_upload(conn, row)
    ctx.metrics.inc("pgs_uploads_created_total")
    return row


async def status(ctx: HubContext, actor: Member, upload_id: str) -> UploadRow:
    """The upload, if it is ``actor``'s and still kept; otherwise ``upload.not_found``."""
    async with ctx.reader.connect() as conn:
        row = await blobs.upload(conn, upload_id)
    # A missing upload is decided like someone else's: the answers are the same.
    await authorize(ctx, actor, Action.UPLOAD, Upload(row.owner_id if row else ""), subject=None)
    if row is None or (row.envelope_mid is None and row.expires_at <= ctx.now()):
        raise upload_not_found()
    return row


async def accepting(
    ctx: HubContext, actor: Member, upload_id: str, *, offset: int, length: int | None
) -> UploadRow:
    """Whether a part of ``length`` bytes (None: not declared) may be stored at ``offset`` of
    ``actor``'s upload: the upload as it stands, or the refusal, decided before the part's bytes
    are received (tus PATCH)."""
    row = await status(ctx, actor, upload_id)
    if row.envelope_mid is not None:
        raise Conflict(
            "this upload belongs to a sent message and cannot change", code=Code.UPLOAD_BOUND
        )
    if offset != row.stored:
        raise Conflict(
            f"Upload-Offset is {offset} but the hub holds {row.stored} bytes: resume from there",
            code=Code.UPLOAD_OFFSET_MISMATCH,
        )
    _within(row, offset, length or 0)
    return row


def _within(row: UploadRow, offset: int, length: int) -> None:
    if offset + length > row.length:
        raise TooLarge(
            f"the upload is {row.length} bytes long; this would write past its end",
            code=Code.UPLOAD_BEYOND_LENGTH,
        )


async def append(
    ctx: HubContext,
    upload: UploadRow,
    *,
    offset: int,
    data: bytes | bytearray,
    checksum: bytes | None = None,
    sha256: bytes | None = None,
) -> UploadRow:
    """Store ``data`` at ``offset`` of ``upload``, which :func:`accepting` returned for this
    request; the upload as it then stands. ``sha256``, if given, is ``data``'s SHA-256 already
    checked by the caller (the signed Content-Digest): the checksum is compared with it instead
    of hashing the part a second time. The offset is compared and set again in the transaction
    that records the part, so a request that another moved past stores nothing."""
    _within(upload, offset, len(data))
    if checksum is not None and not hmac.compare_digest(
        sha256 if sha256 is not None else hashlib.sha256(data).digest(), checksum
    ):
        raise ChecksumMismatch("the body does not match its Upload-Checksum; send it again")
    upload_id = upload.id
    files = blobs.part_files(ctx.engine)
    name = await _write_part(files, upload_id, offset, data) if files is not None else None
    async with ctx.engine.begin() as conn:
        stored = await blobs.append(conn, upload_id, offset, data, file=name)
    if not stored:  # another request moved it on (or it was bound) meanwhile
        if files is not None and name is not None:
            await asyncio.to_thread(files.discard, upload_id, name)
        raise Conflict(
            "the upload changed meanwhile: ask for its offset (HEAD) and resume",
            code=Code.UPLOAD_OFFSET_MISMATCH,
        )
    ctx.metrics.inc("pgs_upload_bytes_total", len(data))
    return UploadRow(**{**upload.__dict__, "stored": offset + len(data)})


async def _write_part(
    files: PartFiles, upload_id: str, offset: int, data: bytes | bytearray
) -> str:
    """The part written and fsynced to its own file (in a thread); a disk that refuses it is a
    503 the client retries from its offset, never a half-stored part."""
    try:
        return await asyncio.to_thread(files.write, upload_id, offset, data)
    except OSError as exc:
        log.error("could not write an upload part: %s", exc.strerror or type(exc).__name__)  # noqa: TRY400
        raise Unavailable(
            "the hub could not store the part (its disk refused it); resume from the offset "
            "HEAD gives, later",
            retry_after=30,
        ) from None


async def terminate(ctx: HubContext, actor: Member, upload_id: str) -> None:
    """Delete an upload (tus termination); one a sent message references stays."""
    row = await status(ctx, actor, upload_id)
    if row.envelope_mid is not None:
        raise Conflict("this upload belongs to a sent message and stays", code=Code.UPLOAD_BOUND)
    async with ctx.engine.begin() as conn:
        removed = await blobs.remove(conn, upload_id)
    files = blobs.part_files(ctx.engine)
    if removed and files is not None:
        await asyncio.to_thread(files.remove_uploads, [upload_id])


async def download(ctx: HubContext, reader: Member, upload_id: str) -> UploadRow:
    """The blob, if ``reader`` may fetch the envelope that references it (``envelope.fetch``,
    the very decision a fetch of that envelope gets); ``upload.not_found`` otherwise, the same
    answer for a blob that does not exist, is not referenced yet, or is not for ``reader``."""
    async with ctx.reader.connect() as conn:
        row = await blobs.upload(conn, upload_id)
        envelope = None
        if row is not None and row.envelope_mid is not None:
            envelope = await envelopes.envelope_by_mid(conn, row.envelope_mid)
        recipients: frozenset[str] = frozenset()
        if envelope is not None and envelope.seq is not None:
            recipients = frozenset(
                d.recipient_id for d in await envelopes.deliveries_of(conn, envelope.seq)
            )
    resource = Envelope(envelope.sender_id if envelope else "", recipients)
    try:
        await authorize(ctx, reader, Action.FETCH, resource, subject=None)
    except NotFound:
        raise upload_not_found() from None
    if row is None or envelope is None:  # pragma: no cover - the policy refused above
        raise upload_not_found()
    return row


def read_blob(ctx: HubContext, upload: StoredUpload, start: int, end: int) -> AsyncIterator[bytes]:
    """The bytes ``[start, end)`` of a blob :func:`download` allowed, part by part (no connection
    is held while the client takes its time)."""
    return blobs.read(ctx.reader, upload.id, start, end)


async def check_references(ctx: HubContext, sender: Member, header: RoutingHeader) -> None:
    """Before an envelope is stored: every upload its ``att`` names is the sender's, complete,
    and not another message's, and together they are within the message cap. (The binding
    itself is made again, atomically, in the transaction that stores the envelope.)"""
    ids: Sequence[str] = header.att or ()
    if not ids:
        return
    async with ctx.reader.connect() as conn:
        rows = await blobs.uploads_by_id(conn, ids)
    now = ctx.now()
    for upload_id in ids:
        row = rows.get(upload_id)
        if (
            row is None
            or row.owner_id != sender.id
            or (row.envelope_mid is None and row.expires_at <= now)
        ):
            raise InvalidRequest(
                f"the message references upload {upload_id}, which is not one of yours "
                "(or has expired): upload the attachment again",
                code=Code.ATTACHMENT_UNKNOWN_UPLOAD,
            )
        if not row.complete:
            raise InvalidRequest(
                f"upload {upload_id} is incomplete ({row.stored} of {row.length} bytes): finish "
                "it before sending",
                code=Code.ATTACHMENT_INCOMPLETE_UPLOAD,
            )
        if row.envelope_mid not in (None, header.mid):
            raise Conflict(
                f"upload {upload_id} already belongs to another message",
                code=Code.ATTACHMENT_UPLOAD_TAKEN,
            )
    total = sum(r.length for r in rows.values())
    if total > ctx.attachments.max_message_bytes:
        raise TooLarge(
            f"the message's attachments are {total} bytes encrypted; at most "
            f"{ctx.attachments.max_message_bytes} may go with one message",
            code=Code.ATTACHMENT_MESSAGE_TOO_LARGE,
        )
