"""Encrypted attachments on the client side: encrypt a file, upload it resumably (tus 1.0), and
download, verify and decrypt it (docs/protocol.md §7).

Files are streamed in 64 KiB pieces: a file is never held in memory, the ciphertext is written to
a temporary file next to nothing else and read back part by part for the upload, so an upload
that lost its connection resumes from the offset the hub reports (HEAD), not from the start.
A download resumes with ``Range`` from the bytes already written, and the plaintext is moved to
its place only once the ciphertext's size and hash, every chunk's authentication and the
plaintext's size and hash all matched.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import os
import tempfile
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp

from pgs_hub.crypto import chunked
from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.errors import CryptoError
from pgs_hub.hub.auth.digest import content_digest
from pgs_hub.hub.client.errors import HubClientError
from pgs_hub.protocols import api
from pgs_hub.protocols.messages.attachments import Attachment

if TYPE_CHECKING:
    from pgs_hub.hub.client.client import HubClient

__all__ = [
    "AttachmentError",
    "EncryptedFile",
    "TransferStats",
    "download_attachment",
    "encrypt_file",
    "part_size",
    "upload_file",
]

T = TypeVar("T")
PIECE = 64 * 1024
DEFAULT_PART = 1024 * 1024
#: A part that took less than this grows the next one (doubled, up to the hub's cap); a part cut
#: off shrinks it (halved, down to the first part's size). On a fast link an upload soon sends
#: parts of the hub's cap (each PATCH costs a signed request, a nonce and a commit: fewer, larger
#: parts are what makes it fast), while on a slow one a part still arrives well within the hub's
#: body timeout, and a dropped link loses little.
GROW_BELOW_SECONDS = 1.0
#: A part that answered within this lets the next two parts be in flight at once, where the hub
#: offers it (hub.services.upload_window): the hub's work between one part's last byte and the
#: next part's first (~10 ms: an fsync, a commit, a signed head's checks) is then a fair share of
#: a part's time. On a slower link it is not worth two parts lost to a dropped connection.
QUICK_BELOW_SECONDS = 0.25
RATE_LIMITED_PAUSE = 2.0
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = "application/offset+octet-stream"
Progress = Callable[[int, int], None]  # (bytes done, bytes in all)
_DROPPED = (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)


class AttachmentError(Exception):
    """An attachment could not be sent or received intact (nothing partial is kept)."""

    code = "attachment.failed"


@dataclass
class TransferStats:
    """What a transfer cost: body bytes put on the wire (counting those of requests that were cut
    off), parts the hub stored, requests that failed and were resumed, and bytes that were
    already there."""

    body_bytes: int = 0
    parts: int = 0
    interruptions: int = 0
    resumed_from: list[int] | None = None

    def resumed(self, offset: int) -> None:
        self.interruptions += 1
        self.resumed_from = [*(self.resumed_from or []), offset]


@dataclass(frozen=True)
class EncryptedFile:
    """A file encrypted to a temporary ciphertext file, with what the message must say of it."""

    source: Path
    ciphertext: Path
    key: bytes
    salt: bytes
    size: int
    sha256: str
    ciphertext_size: int
    ciphertext_sha256: str
    media_type: str

    def description(self, upload_id: str) -> dict[str, Any]:
        """The ``attachments[]`` entry of the message content (validated here)."""
        doc = {
            "name": self.source.name,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
            "blob": {
                "upload": upload_id,
                "scheme": chunked.SCHEME,
                "key": b64u_encode(self.key),
                "size": self.ciphertext_size,
                "sha256": self.ciphertext_sha256,
            },
        }
        Attachment.model_validate(doc)
        return doc

    def __repr__(self) -> str:  # never show the key
        return f"EncryptedFile({self.source.name!r}, {self.size} bytes)"


def _media_type(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return guessed.lower().split(";")[0]


def encrypt_file(
    path: Path, folder: Path, *, key: bytes | None = None, salt: bytes | None = None
) -> EncryptedFile:
    """Encrypt ``path`` under a fresh key into a ciphertext file in ``folder`` (blocking I/O:
    run it in a thread from async code). Given the ``key`` and ``salt`` of an earlier run, the
    very same ciphertext comes out again, so an upload interrupted then can be resumed."""
    key = key if key is not None else chunked.new_file_key()
    salt = salt if salt is not None else os.urandom(chunked.SALT_SIZE)
    encryptor = chunked.ChunkEncryptor(key, salt=salt)
    plain_hash, cipher_hash = hashlib.sha256(), hashlib.sha256()
    size = written = 0
    fd, name = tempfile.mkstemp(prefix=".pgs-", suffix=".enc", dir=folder)
    with os.fdopen(fd, "wb") as out, path.open("rb") as source:
        while piece := source.read(PIECE):
            size += len(piece)
            plain_hash.update(piece)
            sealed = encryptor.update(piece)
            cipher_hash.update(sealed)
            written += out.write(sealed)
        sealed = encryptor.finish()
        cipher_hash.update(sealed)
        written += out.write(sealed)
    return EncryptedFile(
        source=path, ciphertext=Path(name), key=key, salt=salt, size=size,
        sha256=plain_hash.hexdigest(),
        ciphertext_size=written, ciphertext_sha256=cipher_hash.hexdigest(),
        media_type=_media_type(path),
    )  # fmt: skip


def part_size(limits: api.UploadLimits) -> int:
    """The body of the first PATCH for a hub with these caps (``HubClient.upload_limits``); the
    parts after it may grow up to ``limits.max_part_bytes`` (``upload_file``'s
    ``max_part_size``)."""
    return min(limits.max_part_bytes, DEFAULT_PART)


def _read_at(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as source:
        source.seek(offset)
        return source.read(size)


async def upload_file(
    client: HubClient,
    encrypted: EncryptedFile,
    *,
    part_size: int = DEFAULT_PART,
    max_part_size: int | None = None,
    parts_in_flight: int = 1,
    upload_id: str | None = None,
    progress: Progress | None = None,
    stats: TransferStats | None = None,
    max_interruptions: int = 100,
    on_created: Callable[[str], None] | None = None,
) -> str:
    """Upload ``encrypted``'s ciphertext (creating the upload unless ``upload_id`` continues
    one); return the upload id. A dropped connection is resumed from the hub's offset.
    Parts start at ``part_size`` bytes (or at the size the client's last upload reached, if
    larger) and grow up to ``max_part_size`` (the hub's cap; by default they stay at
    ``part_size``) while each takes under ``GROW_BELOW_SECONDS``; a dropped part halves them.
    With ``parts_in_flight`` 2 (what the hub offers: ``UploadLimits.parts_in_flight``) and parts
    answered within ``QUICK_BELOW_SECONDS``, the next part goes while the hub still stores the
    last one (hub.services.upload_window); if the hub refuses a part that followed one it
    stored, the rest goes one part at a time.
    ``on_created`` is given a new upload's id before any byte is sent (to remember it: a later
    run resumes it)."""
    stats = stats if stats is not None else TransferStats()
    total = encrypted.ciphertext_size
    largest = max(part_size, max_part_size or part_size)
    # A second attachment on the same link starts at the size the first one reached.
    size = min(largest, max(part_size, client.part_size_reached))
    window = 2 if parts_in_flight >= 2 else 1
    loop = asyncio.get_running_loop()
    parts_before = stats.parts
    parts = _Parts(encrypted.ciphertext, total, largest)
    sending: deque[_Sending] = deque()
    try:
        if upload_id is None and total:
            parts.make_ahead(0, size)  # hashed while the hub creates the upload
        upload_id, offset = await _begin(
            client, total, upload_id, stats, limit=max_interruptions, on_created=on_created
        )
        following = offset  # where the next part to send starts
        fast = True  # the last part answered within GROW_BELOW_SECONDS
        quick = client.quick_link  # ... within QUICK_BELOW_SECONDS (as on the last upload)
        while True:
            if progress is not None:
                progress(offset, total)
            if offset >= total:
                if stats.parts > parts_before:  # this call sent parts: its size is a measure
                    client.part_size_reached, client.quick_link = size, quick
                return upload_id
            room = (window if quick else 1) - len(sending)
            while room > 0 and following < total and not _failed(sending):
                part = await parts.take(following, size)
                stats.body_bytes += len(part.data)
                sending.append(_send(client, upload_id, part, follows=bool(sending)))
                room -= 1
                following += len(part.data)
                if len(part.data) == size and fast:
                    size = min(largest, size * 2)
            sent = sending.popleft()
            try:
                offset = await sent.answer
            except (*_DROPPED, HubClientError) as exc:
                # The parts sent after it are not stored either: their answers are awaited.
                await _settle(sending)
                # A part that followed one the hub stored, refused: perhaps another hub process
                # took it. One part at a time from here.
                window = 1 if sent.follows and _gone_or_moved(exc) else window
                offset = await _after_failure(client, upload_id, exc, stats, max_interruptions)
                size = max(part_size, size // 2) if isinstance(exc, _DROPPED) else size
                following = offset
            else:
                stats.parts += 1
                took = loop.time() - sent.started
                fast, quick = took < GROW_BELOW_SECONDS, took < QUICK_BELOW_SECONDS
    finally:
        parts.close()
        for unanswered in sending:
            unanswered.answer.cancel()


@dataclass(frozen=True)
class _Sending:
    """A PATCH on its way: its answer (the new offset), when it left, and whether it followed
    another part still in flight."""

    answer: asyncio.Future[int]
    started: float
    follows: bool


def _send(client: HubClient, upload_id: str, part: _Part, *, follows: bool) -> _Sending:
    # Signed now, as it leaves, with a nonce of its own (the part was hashed ahead).
    headers = client.part_headers(upload_id, part.offset, part.data, digest=part.digest)
    answer = asyncio.ensure_future(client.upload_part(upload_id, part.offset, part.data, headers))
    return _Sending(answer, asyncio.get_running_loop().time(), follows)


async def _settle(sending: deque[_Sending]) -> None:
    """Wait for the answers still due (their errors are not this upload's: it resumes)."""
    await asyncio.gather(*(s.answer for s in sending), return_exceptions=True)
    sending.clear()


def _failed(sending: deque[_Sending]) -> bool:
    """A part still to be taken from ``sending`` failed already: nothing more goes after it."""
    return any(s.answer.done() and s.answer.exception() is not None for s in sending)


def _gone_or_moved(exc: BaseException) -> bool:
    return isinstance(exc, _DROPPED) or (
        isinstance(exc, HubClientError) and exc.code == "upload.offset_mismatch"
    )


async def _after_failure(
    client: HubClient, upload_id: str, exc: BaseException, stats: TransferStats, limit: int
) -> int:
    """Where to resume after a part failed: a dropped link and a moved offset ask the hub (a
    dropped link counts as an interruption), a rate limit waits first; anything else raises."""
    if isinstance(exc, HubClientError):
        if exc.status == 429:
            await asyncio.sleep(RATE_LIMITED_PAUSE)
        elif exc.code != "upload.offset_mismatch":
            raise exc
        return await _retrying(lambda: client.upload_offset(upload_id), stats, limit)
    offset = await _retrying(lambda: client.upload_offset(upload_id), stats, limit)
    stats.resumed(offset)
    return offset


async def _begin(
    client: HubClient,
    total: int,
    upload_id: str | None,
    stats: TransferStats,
    *,
    limit: int,
    on_created: Callable[[str], None] | None,
) -> tuple[str, int]:
    """The upload to send to and the offset to start from: a new upload starts at 0 (no HEAD to
    ask: one signed round trip less, which a slow link feels), one being resumed where the hub
    says it stands."""
    if upload_id is None:
        created = await _retrying(lambda: client.create_upload(total), stats, limit, None)
        if on_created is not None:
            on_created(created)
        return created, 0
    resumed = upload_id
    offset = await _retrying(lambda: client.upload_offset(resumed), stats, limit)
    return resumed, offset


@dataclass(frozen=True)
class _Part:
    """A part read from the ciphertext file, with its Content-Digest (signed when it is sent)."""

    offset: int
    data: bytes
    digest: str


class _Parts:
    """The parts of an upload, each read and hashed in a thread: the next one while the previous
    one is on the wire (with the size it gets if that one is fast), the first one of a new upload
    while the hub creates it. A part made ahead is used only if the upload is then where it
    expected, with that size; otherwise it is made again. Hashing is what costs (a SHA-256 of up
    to 8 MiB); the signature is made as each attempt is sent, with a nonce of its own, so a part
    made ahead never goes out with a stale one."""

    def __init__(self, path: Path, total: int, largest: int) -> None:
        self.path, self.total, self.largest = path, total, largest
        self.ahead: asyncio.Future[_Part] | None = None

    def _make(self, offset: int, size: int) -> _Part:
        data = _read_at(self.path, offset, size)
        return _Part(offset, data, content_digest(data))

    def make_ahead(self, offset: int, size: int) -> None:
        """Start reading and hashing the part of ``size`` bytes at ``offset``."""
        self.close()
        self.ahead = asyncio.ensure_future(asyncio.to_thread(self._make, offset, size))

    async def take(self, offset: int, size: int) -> _Part:
        part = None
        if self.ahead is not None:
            made, self.ahead = await self.ahead, None
            if made.offset == offset and len(made.data) == min(size, self.total - offset):
                part = made
        if part is None:
            part = await asyncio.to_thread(self._make, offset, size)
        following = offset + len(part.data)
        if following < self.total:
            grown = min(self.largest, size * 2) if len(part.data) == size else size
            self.make_ahead(following, grown)
        return part

    def close(self) -> None:
        if self.ahead is not None:
            self.ahead.cancel()
            self.ahead = None


async def _retrying(
    call: Callable[[], Awaitable[T]], stats: TransferStats, limit: int, pause: float | None = 0.2
) -> T:
    delay = pause or 0.2
    for _ in range(limit):
        try:
            result = await call()
        except _DROPPED:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        else:
            return result
    raise AttachmentError("the link to the hub kept failing; run the command again to resume")


async def download_attachment(
    client: HubClient,
    attachment: Attachment,
    folder: Path,
    *,
    progress: Progress | None = None,
    stats: TransferStats | None = None,
    max_interruptions: int = 100,
) -> Path:
    """Download, verify and decrypt one attachment into ``folder``; the path written.

    Refuses (:class:`AttachmentError`, nothing left in ``folder``) a blob whose size or SHA-256
    is not the message's, a chunk that does not authenticate under the message's key, and a
    plaintext whose size or SHA-256 is not the message's."""
    blob = attachment.blob
    if blob is None:
        raise AttachmentError(f"{attachment.name}: the message only describes this file")
    stats = stats if stats is not None else TransferStats()
    folder.mkdir(parents=True, exist_ok=True)
    fd, cipher_name = tempfile.mkstemp(prefix=".pgs-", suffix=".enc", dir=folder)
    os.close(fd)
    cipher_path = Path(cipher_name)
    try:
        have = 0
        failures = 0
        while have < blob.size:
            try:
                have = await client.download_blob(
                    blob.upload, cipher_path, start=have, total=blob.size, progress=progress
                )
            except _DROPPED:
                failures += 1
                if failures > max_interruptions:
                    raise AttachmentError("the link to the hub kept failing") from None
                have = cipher_path.stat().st_size
                stats.resumed(have)
                await asyncio.sleep(0.2)
        return await asyncio.to_thread(_verify_and_decrypt, attachment, cipher_path, folder)
    finally:
        cipher_path.unlink(missing_ok=True)


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix, n = target.stem, target.suffix, 1
    while target.exists():
        target = folder / f"{stem} ({n}){suffix}"
        n += 1
    return target


def _verify_and_decrypt(attachment: Attachment, cipher_path: Path, folder: Path) -> Path:
    blob = attachment.blob
    assert blob is not None  # noqa: S101 - checked by the caller
    digest = hashlib.sha256()
    with cipher_path.open("rb") as source:
        while piece := source.read(PIECE):
            digest.update(piece)
    if cipher_path.stat().st_size != blob.size or digest.hexdigest() != blob.sha256:
        raise AttachmentError(f"{attachment.name}: the hub's blob is not the one the sender sent")
    try:
        return _decrypt(attachment, cipher_path, folder)
    except CryptoError as exc:
        raise AttachmentError(f"{attachment.name}: {exc}") from None


def _decrypt(attachment: Attachment, cipher_path: Path, folder: Path) -> Path:
    blob = attachment.blob
    assert blob is not None  # noqa: S101 - checked by the caller
    decryptor = chunked.ChunkDecryptor(b64u_decode(blob.key, field="key"))
    plain_hash = hashlib.sha256()
    fd, plain_name = tempfile.mkstemp(prefix=".pgs-", suffix=".part", dir=folder)
    plain_path = Path(plain_name)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out, cipher_path.open("rb") as source:
            while piece := source.read(PIECE):
                opened = decryptor.update(piece)
                plain_hash.update(opened)
                size += out.write(opened)
            opened = decryptor.finish()
            plain_hash.update(opened)
            size += out.write(opened)
    except BaseException:
        plain_path.unlink(missing_ok=True)
        raise
    if size != attachment.size or plain_hash.hexdigest() != attachment.sha256:
        plain_path.unlink(missing_ok=True)
        raise AttachmentError(f"{attachment.name}: the decrypted file is not the one described")
    target = _free_name(folder, attachment.name)
    plain_path.replace(target)
    return target
