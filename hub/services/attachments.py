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
import hmac
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.hub.auth.digest import new_hashes
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
from pgs_hub.hub.services.upload_window import FOLLOW_WAIT_SECONDS, PartInFlight
from pgs_hub.hub.storage import blobs, envelopes
from pgs_hub.hub.storage.blobs import UploadRow
from pgs_hub.hub.storage.part_files import PartFile
from pgs_hub.protocols.routing import RoutingHeader

log = logging.getLogger("pgs.hub")
T = TypeVar("T")

#: An upload as the web layer sees it (offset, length, expiry), without importing storage.
StoredUpload = UploadRow

__all__ = [
    "Accepted",
    "ChecksumMismatch",
    "PartReceiver",
    "accepting",
    "check_references",
    "create",
    "download",
    "may_upload",
    "receive",
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


@dataclass(frozen=True)
class Accepted:
    """A PATCH :func:`accepting` said yes to: the upload as it stands, and the part in flight
    this one is to be recorded after, if it follows one (hub.services.upload_window)."""

    upload: UploadRow
    after: PartInFlight | None = None


async def accepting(
    ctx: HubContext, actor: Member, upload_id: str, *, offset: int, length: int | None
) -> Accepted:
    """Whether a part of ``length`` bytes (None: not declared) may be stored at ``offset`` of
    ``actor``'s upload, decided before the part's bytes are received (tus PATCH): at the offset
    the upload stands at, or where the part this process is still receiving for it will end (a
    window of two: :mod:`~hub.services.upload_window`)."""
    window, takes_followers = ctx.upload_window, ctx.attachments.parts_in_flight > 1
    deadline = asyncio.get_running_loop().time() + FOLLOW_WAIT_SECONDS
    while True:
        # Read before the stored offset: a part in flight then either still is when the offset
        # is read, or was stored before, and the offset has moved to its end.
        latest = window.latest(upload_id)
        row = await status(ctx, actor, upload_id)
        if row.envelope_mid is not None:
            raise Conflict(
                "this upload belongs to a sent message and cannot change", code=Code.UPLOAD_BOUND
            )
        if offset == row.stored:
            after = None
            break
        if takes_followers and window.may_follow(latest, row.stored, offset, length):
            after = latest
            break
        # Past the stored offset: perhaps the part before it, sent just before on another
        # connection, is still to arrive here. Wait for a part of this upload to arrive (unless
        # one did while the offset was read), then decide again; refuse once the wait is over.
        left = deadline - asyncio.get_running_loop().time()
        if not (takes_followers and offset > row.stored and length is not None and left > 0):
            raise Conflict(
                f"Upload-Offset is {offset} but the hub holds {row.stored} bytes: resume from "
                "there",
                code=Code.UPLOAD_OFFSET_MISMATCH,
            )
        if window.latest(upload_id) is latest:
            await window.arrival(upload_id, left)
    _within(row, offset, length or 0)
    return Accepted(row, after)


def _within(row: UploadRow, offset: int, length: int) -> None:
    if offset + length > row.length:
        raise TooLarge(
            f"the upload is {row.length} bytes long; this would write past its end",
            code=Code.UPLOAD_BEYOND_LENGTH,
        )


class PartReceiver:
    """A PATCH body fed in as it arrives (:meth:`add`), then stored (:meth:`store`) or dropped
    (:meth:`abandon`); made by :func:`receive` once :func:`accepting` said yes.

    The body is hashed as it comes, with every algorithm its signed Content-Digest names. On
    SQLite its bytes go to the part's own file as they come, a batch of :attr:`BATCH` bytes at a
    time in the default executor, one batch in flight at once (so the loop goes on receiving),
    each batch's writeback started at once; after the last byte only a short ``fsync`` is left
    (:class:`~hub.storage.part_files.PartFile`). On PostgreSQL the bytes are kept for the row.
    """

    BATCH = 1 << 20

    def __init__(
        self,
        ctx: HubContext,
        accepted: Accepted,
        offset: int,
        length: int | None,
        algorithms: Iterable[str],
    ) -> None:
        self.ctx, self.upload, self.offset = ctx, accepted.upload, offset
        # In flight until store() or abandon() settles it: a part may follow it meanwhile.
        self._in_flight = ctx.upload_window.open(accepted.upload.id, offset, length, accepted.after)
        self.size = 0
        self._hashes = new_hashes(algorithms)
        self._files = blobs.part_files(ctx.engine)  # None: PostgreSQL keeps the bytes
        self._file: PartFile | None = None  # made by the first batch's worker
        self._kept = bytearray()
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._running: asyncio.Future[None] | None = None
        self._closing = False
        self._stored = False

    def add(self, piece: bytes) -> None:
        """The next piece of the body, as received."""
        for hashed in self._hashes.values():
            hashed.update(piece)
        self.size += len(piece)
        if self._files is None:
            self._kept += piece
            return
        self._pending.append(piece)
        self._pending_bytes += len(piece)
        if self._pending_bytes >= self.BATCH and (self._running is None or self._running.done()):
            self._write_pending()

    def _write_pending(self) -> None:
        if self._running is not None and self._running.exception() is not None:
            return  # the disk refused a batch: store() says so
        batch, self._pending, self._pending_bytes = self._pending, [], 0
        self._running = asyncio.get_running_loop().run_in_executor(None, self._write, batch)
        self._running.add_done_callback(self._written)

    def _write(self, batch: list[bytes]) -> None:
        """In a worker thread: the batch appended to the part's file, which the first batch
        creates, its name made durable at once (off the path after the body's last byte)."""
        if self._file is None:
            assert self._files is not None  # noqa: S101 - only on the file path
            self._file = self._files.create(self.upload.id, self.offset)
            self._file.sync_name()
        self._file.write(batch)

    def _last(self, batch: list[bytes]) -> str:
        """In a worker thread: the last batch written and the file made durable; its name."""
        self._write(batch)
        assert self._file is not None  # noqa: S101 - made by _write
        return self._file.finish()

    def _written(self, done: asyncio.Future[None]) -> None:
        # The next batch goes as soon as this one is written (one write in flight at a time,
        # so the file's bytes stay in order), unless store() or abandon() has taken over.
        if not self._closing and not done.cancelled() and self._pending_bytes >= self.BATCH:
            self._write_pending()

    async def _settle(self) -> None:
        """No batch in flight any more, and none to start (before the file is finished or
        removed)."""
        self._closing = True
        if self._running is not None:
            await asyncio.wait([self._running])

    def digests(self) -> dict[str, bytes]:
        """The body's digests so far, by RFC 9530 algorithm key."""
        return {name: hashed.digest() for name, hashed in self._hashes.items()}

    async def store(self, checksum: bytes | None) -> UploadRow:
        """Store the part, once the body is whole and its signature checked; the upload as it
        then stands. The offset is compared and set again in the transaction that records the
        part, so a request that another moved past stores nothing. A part that follows another
        in flight is made durable meanwhile, and recorded only once that one is stored."""
        upload, offset = self.upload, self.offset
        _within(upload, offset, self.size)
        if checksum is not None and not hmac.compare_digest(
            self._hashes["sha-256"].digest(), checksum
        ):
            raise ChecksumMismatch("the body does not match its Upload-Checksum; send it again")
        name = None
        if self._files is not None:
            await self._settle()
            if self._running is not None:
                await _on_disk(self._running)  # raises the error of a batch the disk refused
            batch, self._pending, self._pending_bytes = self._pending, [], 0
            name = await _on_disk(asyncio.to_thread(self._last, batch))
        after = self._in_flight.after
        if after is not None and not await after.stored():
            await self.abandon()
            raise Conflict(
                "the part before this one was not stored: ask for the offset (HEAD) and resume",
                code=Code.UPLOAD_OFFSET_MISMATCH,
            )
        async with self.ctx.engine.begin() as conn:
            stored = await blobs.append(
                conn, upload.id, offset, self._kept, file=name, size=self.size
            )
        if not stored:  # another request moved it on (or it was bound) meanwhile
            await self.abandon()
            raise Conflict(
                "the upload changed meanwhile: ask for its offset (HEAD) and resume",
                code=Code.UPLOAD_OFFSET_MISMATCH,
            )
        self._stored = True
        self._settle_in_flight(stored=True)
        self.ctx.metrics.inc("pgs_upload_bytes_total", self.size)
        return UploadRow(**{**upload.__dict__, "stored": offset + self.size})

    def _settle_in_flight(self, *, stored: bool) -> None:
        if self._in_flight.after is not None and not self._in_flight.settled.done():
            outcome = "stored" if stored else "not_stored"
            self.ctx.metrics.inc("pgs_upload_parts_followed_total", outcome=outcome)
        self.ctx.upload_window.settle(self._in_flight, stored)

    async def abandon(self) -> None:
        """Drop what was received (refused, cut off, or not recorded): its file goes, and a
        part that follows it is not recorded either."""
        if not self._stored:
            self._settle_in_flight(stored=False)
        if self._stored or self._files is None:
            return
        await self._settle()  # the file is not closed under a write
        if self._running is not None and not self._running.cancelled():
            self._running.exception()  # seen: a disk error here is not the answer's
        if self._file is not None:
            await asyncio.to_thread(self._file.remove)


def receive(
    ctx: HubContext,
    accepted: Accepted,
    *,
    offset: int,
    length: int | None,
    algorithms: Iterable[str],
) -> PartReceiver:
    """A receiver for the body of a PATCH that :func:`accepting` said yes to (with the
    ``offset`` and declared ``length`` it was asked about). From here until the receiver is
    stored or abandoned, the part is in flight."""
    return PartReceiver(ctx, accepted, offset, length, algorithms)


async def _on_disk(work: Awaitable[T]) -> T:
    """``work`` (file I/O in a thread) awaited; a disk that refuses a part is a 503 the client
    retries from its offset, never a half-stored part."""
    try:
        return await work
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
