"""Everything the desk asks of the hub, in one place: the adapter over :mod:`hub.client`.

Why one module: the desk must stay a client (no storage, no services), and the client's own
interface is changing (typed models); keeping every call here means a change there is adapted in
this file only. Each function returns plain desk values and raises :class:`HubProblem` (with a
stable ``code``) for anything the hub or the cryptography refused, so views never see a client
exception.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import aiohttp

from pgs_hub.crypto.errors import CryptoError
from pgs_hub.crypto.keys import VerifyKey
from pgs_hub.hub.client import HubClient, HubClientError, TrustError, codelists
from pgs_hub.hub.client.attachments import (
    AttachmentError,
    download_attachment,
    encrypt_file,
    part_size,
    upload_file,
)
from pgs_hub.hub.i18n import Lang, known, t
from pgs_hub.hub.keystore import LocalParticipant
from pgs_hub.protocols import api
from pgs_hub.protocols.errors import ProtocolError
from pgs_hub.protocols.messages._base import ContentModel
from pgs_hub.protocols.messages.attachments import Attachment
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.routing import RoutingHeader
from pgs_hub.protocols.unlocode import PlaceList

PAGE = 200
MAX_ITEMS = 5000


#: Who stopped the request: the hub answered with a refusal; it could not be reached; what it
#: served did not verify; this computer's own checks refused before anything was sent (a
#: recipient key of small order ...); or an attachment's transfer failed. The page says which.
Source = Literal["hub", "network", "trust", "local", "attachment"]


class HubProblem(Exception):
    """The hub refused, could not be reached, what it served did not verify, or the desk's own
    checks refused (``source``)."""

    def __init__(self, code: str, detail: str = "", source: Source = "hub") -> None:
        self.code = code
        self.detail = detail
        self.source: Source = source
        super().__init__(f"[{code}] {detail}")

    def reason(self, lang: Lang) -> str:
        """The reason in ``lang``: the catalog's sentence for the code where there is one (the
        detail is written in English, with specifics an English reader needs), else the detail."""
        key = f"cli.code.{self.code}"
        if lang != "en" and known(key):
            return t(key, lang)
        return self.detail


def _problem(exc: BaseException) -> HubProblem:
    if isinstance(exc, HubClientError):
        return HubProblem(exc.code, str(exc.problem.get("detail", "")))
    if isinstance(exc, TrustError):
        return HubProblem("trust.failed", str(exc), "trust")
    if isinstance(exc, CryptoError | ProtocolError):
        return HubProblem(str(getattr(exc, "code", "crypto.error")), str(exc), "local")
    if isinstance(exc, AttachmentError):
        return HubProblem(exc.code, str(exc), "attachment")
    return HubProblem("hub.unreachable", type(exc).__name__, "network")


_FAILURES = (
    HubClientError, TrustError, CryptoError, ProtocolError, AttachmentError,
    aiohttp.ClientError, TimeoutError, OSError,
)  # fmt: skip


@dataclass(frozen=True)
class Person:
    """A directory entry as the desk shows it."""

    id: str
    country: str
    role: str
    status: str


@dataclass(frozen=True)
class Item:
    """A mailbox item: an envelope addressed to the officer, or a receipt for one they sent."""

    cursor: int
    type: str
    mid: str
    sender: str = ""
    kind: str = ""
    tlp: str = ""
    group: str | None = None
    accepted_at: int = 0
    receipt_by: str = ""
    receipt_status: str = ""
    receipt_at: int = 0


@dataclass(frozen=True)
class Opened:
    """A message verified and decrypted on this machine."""

    header: RoutingHeader
    content: dict[str, Any]
    model: ContentModel


def _item(doc: api.EnvelopeItem | api.ReceiptItem) -> Item:
    if isinstance(doc, api.EnvelopeItem):
        return Item(
            cursor=doc.cursor, type="envelope", mid=doc.mid, sender=doc.sender, kind=doc.kind,
            tlp=doc.tlp, group=doc.group, accepted_at=doc.accepted_at,
        )  # fmt: skip
    return Item(
        cursor=doc.cursor, type="receipt", mid=doc.mid,
        receipt_by=doc.by, receipt_status=doc.status, receipt_at=doc.at,
    )  # fmt: skip


class HubApi:
    """One officer's connection to the hub, open while the desk is unlocked."""

    def __init__(
        self,
        url: str,
        me: LocalParticipant,
        *,
        authority: VerifyKey | None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.me = me
        self._client = HubClient(self.url, me, authority=authority, ssl_context=ssl_context)

    async def start(self) -> None:
        await self._client.__aenter__()

    async def close(self) -> None:
        await self._client.__aexit__(None, None, None)

    async def check(self) -> None:
        """Raise unless the hub answers a signed request for this participant."""
        try:
            await self._client.participant(self.me.id)
        except _FAILURES as exc:
            raise _problem(exc) from None

    async def people(self) -> list[Person]:
        try:
            entries = await self._client.directory()
        except _FAILURES as exc:
            raise _problem(exc) from None
        return [
            Person(e.id, e.country, e.role, e.status)
            for e in entries
        ]  # fmt: skip

    async def groups(self) -> list[str]:
        try:
            return list(await self._client.groups())
        except _FAILURES as exc:
            raise _problem(exc) from None

    async def places(self, folder: Path) -> tuple[PlaceList | None, bool]:
        """The UN/LOCODE list: the whole of it, downloaded only when the hub's changed (ETag)
        and kept in the keys folder ``folder``; searched on this computer, so the hub never
        learns which places the officer looks for or reads. None when there is no list yet (the
        copy already kept is used while the hub cannot be reached); and whether the hub
        answered."""
        return await codelists.refresh_answered(self._client, folder)

    async def items(self, after: int = 0) -> list[Item]:
        """Every mailbox item after ``after`` (paged, at most :data:`MAX_ITEMS`)."""
        found: list[Item] = []
        try:
            while len(found) < MAX_ITEMS:
                page = await self._client.inbox(after, PAGE)
                if not page.items:
                    return found
                found += [_item(i) for i in page.items]
                after = page.next
        except _FAILURES as exc:
            raise _problem(exc) from None
        return found

    async def open(self, mid: str) -> Opened:
        try:
            opened = await self._client.read(mid)
        except _FAILURES as exc:
            raise _problem(exc) from None
        content = opened.content.model_dump(mode="json", by_alias=True, exclude_none=True)
        return Opened(opened.header, content, opened.content)

    async def send(
        self,
        *,
        kind: MessageKind,
        content: ContentModel,
        to: Sequence[str],
        group: str | None,
        tlp: Tlp,
        thread: str | None,
        in_reply_to: str | None,
        uploads: Sequence[str] = (),
    ) -> RoutingHeader:
        try:
            sealed, _ = await self._client.send(
                kind=kind, content=content, to=to, group=group, tlp=tlp, thread=thread,
                in_reply_to=in_reply_to, attachments=uploads,
            )  # fmt: skip
        except _FAILURES as exc:
            raise _problem(exc) from None
        return sealed.header

    async def receipt(self, mid: str) -> None:
        """A signed read receipt (only ever sent when the officer asked for it)."""
        try:
            await self._client.ack(mid)
        except _FAILURES as exc:
            raise _problem(exc) from None

    async def stream(self, after: int) -> AsyncIterator[Item]:
        """Mailbox items as they arrive (reconnecting after a dropped connection)."""
        try:
            async for doc in self._client.stream(after):
                yield _item(doc)
        except _FAILURES as exc:
            raise _problem(exc) from None

    async def attach(self, name: str, data: bytes, folder: Path) -> tuple[dict[str, Any], str]:
        """Encrypt ``data`` under a fresh key and upload the ciphertext: the attachment entry
        for the content and the upload id for the routing header. Nothing stays on disk."""
        with tempfile.TemporaryDirectory(dir=folder) as work:
            source = Path(work) / name
            await asyncio.to_thread(source.write_bytes, data)
            encrypted = await asyncio.to_thread(encrypt_file, source, Path(work))
            try:
                # Parts within the hub's cap, growing to it on a fast link (as pgs send does):
                # the client's default part is larger than a hub may take.
                limits = await self._client.upload_limits()
                upload = await upload_file(
                    self._client, encrypted,
                    part_size=part_size(limits), max_part_size=limits.max_part_bytes,
                    parts_in_flight=limits.parts_in_flight,
                )  # fmt: skip
            except _FAILURES as exc:
                raise _problem(exc) from None
            return encrypted.description(upload), upload

    async def fetch_attachment(self, attachment: dict[str, Any], folder: Path) -> bytes:
        """Download, verify and decrypt one attachment; its plaintext, held in memory only (the
        temporary files are removed before this returns)."""
        described = Attachment.model_validate(attachment)
        with tempfile.TemporaryDirectory(dir=folder) as work:
            try:
                path = await download_attachment(self._client, described, Path(work))
            except _FAILURES as exc:
                raise _problem(exc) from None
            return await asyncio.to_thread(path.read_bytes)


def authority_from(path: Path | None) -> VerifyKey | None:
    """The pinned registry-authority key from a JWK file (``--authority``)."""
    from pgs_hub.crypto.keys import verify_key_from_jwk  # noqa: PLC0415

    if path is None:
        return None
    return verify_key_from_jwk(json.loads(path.read_text(encoding="utf-8")))
