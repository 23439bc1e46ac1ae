"""The async Python client of the hub, used by the ``pgs`` command and the tests.

Every request is signed (RFC 9421) with the participant's key. Before encrypting to anyone the
client verifies their certificate against the *pinned* registry-authority key, so a hub that
substituted a key would be caught here, not trusted.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode

import aiohttp
from pydantic import ValidationError

from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.errors import CryptoError
from pgs_hub.crypto.keys import RecipientKey, VerifyKey
from pgs_hub.crypto.merkle import leaf_hash, verify_inclusion
from pgs_hub.crypto.note import Checkpoint, NoteVerifier, verify_checkpoint
from pgs_hub.crypto.witness import WitnessPolicy, verify_witnessed
from pgs_hub.hub.auth.digest import checked_sha256
from pgs_hub.hub.auth.httpsig import sign_request
from pgs_hub.hub.client.errors import HubClientError, TrustError
from pgs_hub.hub.keystore import LocalParticipant
from pgs_hub.hub.settings import DEFAULTS
from pgs_hub.protocols import api, unlocode
from pgs_hub.protocols.certificates import VerifiedCertificate, verify_certificate
from pgs_hub.protocols.envelope import (
    OpenedMessage,
    SealedMessage,
    open_message,
    read_header,
    seal_message,
    verify_message,
)
from pgs_hub.protocols.messages._base import ContentModel
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.receipt import ReceiptStatus
from pgs_hub.protocols.receipts import make_receipt, sign_receipt

JOSE = "application/jose+json"
RETRIES = 4
RETRY_STATUSES = frozenset({502, 503, 504})
#: Bodies above this go to aiohttp in slices of this size (its warning threshold: 1 MiB).
LARGE_BODY = 1 << 20
M = TypeVar("M", bound=api.ApiModel)


def _unexpected(exc: ValidationError) -> HubClientError:
    """An answer that is not what the API says: reported like a problem, never trusted."""
    where = ".".join(str(p) for p in exc.errors()[0]["loc"]) if exc.errors() else ""
    return HubClientError(
        502, {"code": "client.unexpected_answer", "detail": f"unexpected answer ({where})"}
    )


def _parts_in_flight(value: str | None) -> int:
    """``Pgs-Parts-In-Flight``: 1 (tus, one PATCH at a time) unless the hub offers more; this
    client never keeps more than two in flight."""
    return 2 if value is not None and value.strip().isdigit() and int(value) >= 2 else 1


def _error(status: int, data: bytes) -> HubClientError:
    """The error for a 4xx/5xx answer: its problem document, or the start of a body that is not
    one (a proxy's page, say)."""
    try:
        doc = json.loads(data)
    except ValueError:
        doc = {"detail": data[:200].decode("utf-8", "replace")}
    return HubClientError(status, doc if isinstance(doc, dict) else {})


def request_body(
    body: bytes | None, headers: dict[str, str]
) -> tuple[bytes | AsyncIterator[memoryview] | None, dict[str, str]]:
    """What aiohttp is given to send ``body``, and the headers to send it with.

    A body over :data:`LARGE_BODY` (an upload part of several MiB) goes in slices of that size,
    the socket drained between them: not one write of it all, nor aiohttp's file-like payload,
    which copies it in 64 KiB pieces with a turn of the loop for each (the benchmark's 20 MB
    upload gains 4-20 % this way, bench/README.md). Its length is declared, so it is not sent
    chunked: the hub refuses a part that is too large from its head, and lets the next part
    follow it (tus ``Upload-Offset``)."""
    if body is None or len(body) <= LARGE_BODY:
        return body, headers
    return _slices(body, LARGE_BODY), {**headers, "Content-Length": str(len(body))}


async def _slices(body: bytes, size: int) -> AsyncIterator[memoryview]:
    """``body`` as consecutive views of ``size`` bytes (no copy)."""
    view = memoryview(body)
    for start in range(0, len(view), size):
        yield view[start : start + size]


def _parse(model: type[M], data: bytes) -> M:
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        raise _unexpected(exc) from None


class HubClient:
    """One participant's connection to one hub. Use as ``async with HubClient(...) as hub:``."""

    def __init__(
        self,
        base_url: str,
        me: LocalParticipant | None,
        *,
        authority: VerifyKey | None = None,
        log_key: NoteVerifier | None = None,
        witness_policy: WitnessPolicy | None = None,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.me = me
        self.authority = authority
        self.log_key = log_key
        self.witness_policy = witness_policy
        self._ssl = ssl_context
        self._clock = clock
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        # The part size the last upload over this client had reached (its parts grow while they
        # arrive fast and halve when one is dropped): the next upload starts there, not at its
        # first size again (hub.client.attachments.upload_file).
        self.part_size_reached = 0
        # Whether the last upload's parts answered quickly enough that two were in flight at
        # once (hub.client.attachments.upload_file): the next upload starts so.
        self.quick_link = False

    async def __aenter__(self) -> HubClient:
        connector = aiohttp.TCPConnector(ssl=self._ssl if self._ssl is not None else True)
        self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("use the client as `async with HubClient(...)`")
        return self._session

    # --- transport ---------------------------------------------------------------------------

    def _headers(
        self,
        method: str,
        url: str,
        body: bytes | None,
        content_type: str | None,
        digest: str | None = None,
    ) -> dict[str, str]:
        """The Content-Type and signature fields of a request (``digest``: its body's
        Content-Digest, computed beforehand, instead of ``body``)."""
        headers: dict[str, str] = {}
        if content_type:
            headers["Content-Type"] = content_type
        if self.me is not None:
            headers |= sign_request(
                method=method,
                url=url,
                headers=headers,
                body=body,
                key=self.me.signing,
                now=int(self._clock()),
                content_digest=digest,
            )
        return headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        query: dict[str, int | str] | None = None,
        sign: bool = True,
    ) -> tuple[int, bytes]:
        """Send one request; raise :class:`HubClientError` with the problem document on 4xx/5xx."""
        url = self.base_url + path + (f"?{urlencode(query)}" if query else "")
        headers = (
            self._headers(method, url, body, content_type)
            if sign
            else ({"Content-Type": content_type} if content_type else {})
        )
        async with self.session.request(method, url, data=body, headers=headers) as resp:
            data = await resp.read()
            if resp.status >= 400:
                raise _error(resp.status, data)
            return resp.status, data

    def signed_headers(
        self, method: str, url: str, body: bytes | None, content_type: str | None = None
    ) -> dict[str, str]:
        """The RFC 9421 signature headers (and Content-Type) for a request built by the caller."""
        return self._headers(method, url, body, content_type)

    async def get(self, path: str, model: type[M], **query: int | str) -> M:
        """GET ``path`` and read the answer as ``model`` (an answer that does not fit is a
        :class:`HubClientError`: the hub is not trusted to answer well)."""
        _, data = await self.request("GET", path, query=query or None)
        return _parse(model, data)

    # --- public and directory ----------------------------------------------------------------

    async def health(self) -> api.Health:
        _, data = await self.request("GET", "/v1/health", sign=False)
        return _parse(api.Health, data)

    async def directory(self) -> list[api.Participant]:
        return (await self.get("/v1/directory", api.Directory)).participants

    async def participant(self, participant: str) -> api.Participant:
        return await self.get(f"/v1/directory/{participant}", api.Participant)

    async def groups(self) -> list[str]:
        return (await self.get("/v1/groups", api.Groups)).groups

    async def group(self, name: str) -> list[api.GroupMember]:
        return (await self.get(f"/v1/groups/{name}", api.Group)).members

    async def unlocode(self, etag: str | None = None) -> unlocode.PlaceList | None:
        """The hub's whole UN/LOCODE list, or None when ``etag`` (the SHA-256 of the list the
        caller holds) is still current (304). Always the whole list: codes are looked up on this
        machine, never asked of the hub. A list that does not read back, or whose SHA-256 is not
        its ETag, is an unexpected answer; 404 ``codelist.not_imported`` when the hub has none."""
        url = self.base_url + "/v1/codelists/unlocode"
        headers = self._headers("GET", url, None, None)
        if etag:
            headers["If-None-Match"] = f'"{etag}"'
        async with self.session.get(url, headers=headers) as resp:
            data = await resp.read()
            if resp.status == 304:
                return None
            if resp.status >= 400:
                raise _error(resp.status, data)
            served = resp.headers.get("ETag", "").removeprefix("W/").strip('"')
        try:
            places = await asyncio.to_thread(unlocode.loads, data)
        except unlocode.UnlocodeError as exc:
            raise HubClientError(
                502, {"code": "client.unexpected_answer", "detail": f"unexpected answer ({exc})"}
            ) from None
        if unlocode.sha256(places) != served:
            raise HubClientError(
                502, {"code": "client.unexpected_answer", "detail": "list and ETag differ"}
            )
        return places

    def _verify(self, certificate: str | None, participant: str) -> VerifiedCertificate:
        if self.authority is None:
            raise TrustError("no pinned registry authority key: cannot trust directory keys")
        if not certificate:
            raise TrustError(f"{participant} has no certificate")
        verified = verify_certificate(certificate.encode("utf-8"), self.authority)
        if verified.certificate.sub != participant:
            raise TrustError(f"the certificate served for {participant} names someone else")
        return verified

    async def recipient_key(self, participant: str) -> RecipientKey:
        """The participant's current encryption key, verified against the pinned authority and,
        when a log key is pinned, proven to be in the hub's tamper-evident log."""
        entry = await self.participant(participant)
        if entry.status != "active":
            raise TrustError(f"{participant} is {entry.status}")
        verified = self._verify(entry.certificate, participant)
        if self.log_key is not None and entry.certificate is not None:
            await self._require_logged(verified.recipient_key.kid, entry.certificate)
        return verified.recipient_key

    def verified_checkpoint(self, note: bytes) -> Checkpoint:
        """A checkpoint note verified under the pinned log key and, when a witness policy is
        pinned, cosigned by a quorum of its witnesses (raises a CryptoError otherwise)."""
        assert self.log_key is not None  # noqa: S101 - checked by the callers
        if self.witness_policy is None:
            return verify_checkpoint(note, self.log_key)
        now = int(self._clock())
        return verify_witnessed(note, self.witness_policy, self.log_key, now=now).checkpoint

    async def _require_logged(self, kid: str, certificate: str) -> None:
        """Refuse a key whose certificate is not in a log entry covered by a signed checkpoint."""
        assert self.log_key is not None  # noqa: S101 - checked by the caller
        note = (await self.get("/v1/audit/checkpoint", api.Checkpoint)).checkpoint
        try:
            checkpoint = self.verified_checkpoint(note.encode("utf-8"))
            path = f"/v1/audit/proof/key/{kid}"
            proof = await self.get(path, api.InclusionProof, size=checkpoint.size)
            entry = b64u_decode(proof.entry, field="entry")
            verify_inclusion(
                leaf_hash(entry),
                proof.index,
                checkpoint.size,
                [b64u_decode(p, field="proof") for p in proof.proof],
                checkpoint.root,
            )
        except (CryptoError, HubClientError, ValueError) as exc:
            raise TrustError(f"key {kid} is not proven to be in the hub's log: {exc}") from exc
        details = json.loads(entry).get("details", {})
        digest = b64u_encode(hashlib.sha256(certificate.encode("utf-8")).digest())
        if (
            kid not in (details.get("enc_kid"), details.get("sig_kid"))
            or details.get("certificate_sha256") != digest
        ):
            raise TrustError(f"the log entry for key {kid} does not match its certificate")

    async def signing_key(self, participant: str, kid: str) -> VerifyKey:
        """A participant's signing key with id ``kid`` (current or retired), verified."""
        entry = await self.participant(participant)
        for key in entry.keys:
            if key.kid == kid and key.use == "sig":
                if key.state == "revoked":
                    raise TrustError(f"{participant}'s key {kid} is revoked")
                verified = self._verify(key.certificate, participant)
                if verified.verify_key.kid != kid:
                    raise TrustError("the certificate does not certify this key")
                return verified.verify_key
        raise TrustError(f"{participant} has no signing key {kid}")

    # --- sending -----------------------------------------------------------------------------

    async def submit(self, raw: bytes) -> api.Acceptance:
        """Submit an envelope, retrying on connection failures and on a gateway's or the hub's
        "try again" (502, 503, 504: a hub node behind a proxy died or the database is away):
        safe, since submission is idempotent by message id."""
        for attempt in range(RETRIES):
            try:
                _, data = await self.request(
                    "POST", "/v1/envelopes", body=raw, content_type=JOSE, sign=False
                )
            except (TimeoutError, aiohttp.ClientConnectionError, HubClientError) as exc:
                retryable = not isinstance(exc, HubClientError) or exc.status in RETRY_STATUSES
                if not retryable or attempt == RETRIES - 1:
                    raise
                await asyncio.sleep(0.2 * 2**attempt)
            else:
                return _parse(api.Acceptance, data)
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(
        self,
        *,
        kind: MessageKind,
        content: ContentModel,
        to: Sequence[str] = (),
        group: str | None = None,
        tlp: Tlp = Tlp.AMBER,
        ttl_seconds: int = 30 * 24 * 3600,
        thread: str | None = None,
        in_reply_to: str | None = None,
        attachments: Sequence[str] = (),
    ) -> tuple[SealedMessage, api.Acceptance]:
        """Seal ``content`` to participants and/or a group, with verified keys, and submit it.

        ``attachments``: the upload ids of the encrypted files the content's ``attachments``
        point to (:mod:`hub.client.attachments`), named in the routing header."""
        me = self._require_me()
        recipients = list(dict.fromkeys(to))
        if group is not None:
            recipients += [m.id for m in await self.group(group) if m.id not in recipients]
        keys = [(pid, await self.recipient_key(pid)) for pid in recipients]
        sealed = seal_message(
            sender_id=me.id,
            signer=me.signing,
            recipients=keys,
            kind=kind,
            content=content,
            tlp=tlp,
            now=int(self._clock()),
            ttl_seconds=ttl_seconds,
            thread=thread,
            in_reply_to=in_reply_to,
            group=group,
            attachments=attachments,
        )
        return sealed, await self.submit(sealed.raw)

    def _require_me(self) -> LocalParticipant:
        if self.me is None:
            raise RuntimeError("this client has no participant keys")
        return self.me

    # --- receiving ---------------------------------------------------------------------------

    async def inbox(self, after: int = 0, limit: int = DEFAULTS.page_size) -> api.InboxPage:
        return await self.get("/v1/inbox", api.InboxPage, after=after, limit=limit)

    async def fetch(self, mid: str) -> bytes:
        _, data = await self.request("GET", f"/v1/envelopes/{mid}")
        return data

    async def read(self, mid: str) -> OpenedMessage:
        """Fetch, verify (sender key checked against the authority) and decrypt a message."""
        me = self._require_me()
        raw = await self.fetch(mid)
        unverified, header = read_header(raw)
        key = await self.signing_key(header.sender.id, unverified.signer_kid)
        entry = header.recipient(me.id)
        # After a rotation, older messages are still encrypted to a retired key.
        mine = (me.decryption_key(entry.kid) if entry else None) or me.decryption
        return open_message(verify_message(raw, key), me.id, mine)

    async def ack(
        self, mid: str, status: ReceiptStatus = ReceiptStatus.READ, *, envelope: bytes | None = None
    ) -> api.ReceiptRecorded:
        """Send a signed receipt for the exact envelope bytes: ``envelope`` when the caller holds
        them (after retention the hub no longer does), else fetched."""
        me = self._require_me()
        raw = envelope if envelope is not None else await self.fetch(mid)
        receipt = make_receipt(
            envelope=raw,
            mid=mid,
            status=status,
            by=me.id,
            at=datetime.fromtimestamp(int(self._clock()), UTC),
        )
        _, data = await self.request(
            "POST",
            f"/v1/envelopes/{mid}/receipts",
            body=sign_receipt(receipt, me.signing),
            content_type=JOSE,
        )
        return _parse(api.ReceiptRecorded, data)

    async def status(self, mid: str) -> api.DeliveryState:
        return await self.get(f"/v1/envelopes/{mid}/status", api.DeliveryState)

    async def stream(
        self, after: int = 0, *, reconnect: bool = True
    ) -> AsyncGenerator[api.EnvelopeItem | api.ReceiptItem, None]:
        """Yield mailbox items as they arrive; after a dropped connection, resume after the last."""
        cursor = after
        delay = 0.2
        while True:
            url = f"{self.base_url}/v1/stream?after={cursor}"
            try:
                async with self.session.ws_connect(
                    url, headers=self._headers("GET", url, None, None), heartbeat=30
                ) as ws:
                    delay = 0.2
                    async for msg in ws:
                        if msg.type != aiohttp.WSMsgType.TEXT:
                            break
                        try:
                            item = api.MAILBOX_ITEM.validate_json(msg.data)
                        except ValidationError as exc:
                            raise _unexpected(exc) from None
                        cursor = item.cursor
                        yield item
            except aiohttp.WSServerHandshakeError as exc:
                raise HubClientError(exc.status, {"detail": exc.message}) from None
            except (TimeoutError, aiohttp.ClientConnectionError):
                if not reconnect:
                    raise
            if not reconnect:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    # --- attachment blobs (tus 1.0 uploads, Range downloads; hub.client.attachments) ----------

    async def _tus(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None,
        content_type: str | None = None,
    ) -> aiohttp.ClientResponse:  # fmt: skip
        url = self.base_url + path
        signed = self._headers(method, url, body, content_type)
        return await self._tus_send(
            method, url, {"Tus-Resumable": "1.0.0", **headers, **signed}, body
        )

    async def _tus_send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> aiohttp.ClientResponse:
        data, headers = request_body(body, headers)
        resp = await self.session.request(method, url, data=data, headers=headers)
        if resp.status >= 400:
            answer = await resp.read()
            resp.release()
            try:
                doc = json.loads(answer)
            except ValueError:
                doc = {"detail": answer[:200].decode("utf-8", "replace")}
            raise HubClientError(resp.status, doc if isinstance(doc, dict) else {})
        await resp.read()
        resp.release()
        return resp

    async def upload_limits(self) -> api.UploadLimits:
        """The hub's caps (tus OPTIONS): per file, per message, per PATCH body."""
        resp = await self._tus("OPTIONS", "/v1/uploads", {})
        return api.UploadLimits(
            max_file_bytes=int(resp.headers["Tus-Max-Size"]),
            max_message_bytes=int(resp.headers["Pgs-Max-Message-Size"]),
            max_part_bytes=int(resp.headers["Pgs-Max-Part-Size"]),
            parts_in_flight=_parts_in_flight(resp.headers.get("Pgs-Parts-In-Flight")),
        )

    async def create_upload(self, length: int) -> str:
        """A new upload of ``length`` bytes (tus creation); its id."""
        resp = await self._tus("POST", "/v1/uploads", {"Upload-Length": str(length)})
        return resp.headers["Location"].rsplit("/", 1)[-1]

    async def upload_offset(self, upload_id: str) -> int:
        """How many bytes of the upload the hub holds (tus HEAD): where to resume."""
        resp = await self._tus("HEAD", f"/v1/uploads/{upload_id}", {})
        return int(resp.headers["Upload-Offset"])

    def part_headers(
        self, upload_id: str, offset: int, data: bytes, *, digest: str | None = None
    ) -> dict[str, str]:
        """The signed headers of a PATCH of ``data`` at ``offset``: its checksum, Content-Digest
        and signature. The checksum and the Content-Digest share one SHA-256 of ``data``;
        ``digest`` is that Content-Digest if it was computed already
        (:func:`~hub.auth.digest.content_digest`: an upload hashes its next part in a thread
        while the previous one is on the wire, ``hub.client.attachments.upload_file``), and
        then only the signature is made here, fresh, with a nonce of its own. Without it this
        is CPU-bound (hashlib releases the GIL on large buffers) and safe to call from a thread.
        On a 2-core machine a second hash of 8 MiB cost ~4 ms of CPU."""
        url = f"{self.base_url}/v1/uploads/{upload_id}"
        signed = self._headers(
            "PATCH", url, None if digest else data, "application/offset+octet-stream", digest
        )
        sha256 = checked_sha256(signed.get("Content-Digest") or digest)
        if sha256 is None:  # unsigned (no key) and not hashed beforehand
            sha256 = hashlib.sha256(data).digest()
        return {
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": str(offset),
            "Upload-Checksum": "sha256 " + base64.b64encode(sha256).decode("ascii"),
        } | signed

    async def upload_part(
        self, upload_id: str, offset: int, data: bytes, headers: dict[str, str] | None = None
    ) -> int:
        """Append ``data`` at ``offset`` (tus PATCH, with its sha256 checksum); the new offset.
        ``headers``: those :meth:`part_headers` made for this very part, if already made."""
        if headers is None:
            headers = await asyncio.to_thread(self.part_headers, upload_id, offset, data)
        resp = await self._tus_send(
            "PATCH", f"{self.base_url}/v1/uploads/{upload_id}", headers, data
        )
        return int(resp.headers["Upload-Offset"])

    async def delete_upload(self, upload_id: str) -> None:
        """Drop an upload no sent message references (tus termination)."""
        await self._tus("DELETE", f"/v1/uploads/{upload_id}", {})

    async def download_blob(
        self,
        upload_id: str,
        target: Path,
        *,
        start: int = 0,
        total: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Append the blob's bytes from ``start`` to ``target`` (a Range request when resuming);
        the size ``target`` then has. A dropped connection raises; call again to resume."""
        url = f"{self.base_url}/v1/uploads/{upload_id}"
        headers = self._headers("GET", url, None, None)
        if start:
            headers["Range"] = f"bytes={start}-"
        async with self.session.get(url, headers=headers) as resp:
            if resp.status >= 400:
                raise _error(resp.status, await resp.read())
            if start and resp.status != 206:
                raise HubClientError(resp.status, {"detail": "the hub ignored the range"})
            done = start
            with target.open("r+b" if start else "wb") as sink:
                sink.seek(start)
                sink.truncate()
                async for piece in resp.content.iter_chunked(64 * 1024):
                    sink.write(piece)
                    done += len(piece)
                    if progress is not None and total is not None:
                        progress(done, total)
            return done

    # --- admin and audit ---------------------------------------------------------------------

    async def enrol(self, certificate: bytes) -> api.Enrolment:
        _, data = await self.request(
            "POST", "/v1/admin/participants", body=certificate, content_type=JOSE
        )
        return _parse(api.Enrolment, data)

    async def rotate(self, participant: str, certificate: bytes) -> api.Enrolment:
        _, data = await self.request(
            "POST",
            f"/v1/admin/participants/{participant}/certificate",
            body=certificate,
            content_type=JOSE,
        )
        return _parse(api.Enrolment, data)

    async def set_status(self, participant: str, action: api.StatusAction) -> api.ParticipantStatus:
        body = api.StatusChange(action=action).model_dump_json().encode()
        _, data = await self.request(
            "POST",
            f"/v1/admin/participants/{participant}/status",
            body=body,
            content_type="application/json",
        )
        return _parse(api.ParticipantStatus, data)

    async def audit_records(
        self, after: int = 0, limit: int = DEFAULTS.page_size
    ) -> api.AuditRecords:
        return await self.get("/v1/audit/records", api.AuditRecords, after=after, limit=limit)

    async def security_events(self, since: int | None = None) -> api.SecurityEvents:
        """Refusals counted per actor, reason and minute (auditors); default: the last day."""
        query: dict[str, int | str] = {} if since is None else {"since": since}
        return await self.get("/v1/audit/security-events", api.SecurityEvents, **query)

    # --- notifications -------------------------------------------------------------------------

    async def notification_settings(self) -> api.NotificationSettings:
        """My notification settings (and the hub's webhook verification key, ``whpk_...``)."""
        return await self.get("/v1/me/notifications", api.NotificationSettings)

    async def set_notification_settings(
        self, changes: api.NotificationSettingsChange
    ) -> api.NotificationSettings:
        """Change my notification settings; members left out keep their value."""
        _, data = await self.request(
            "PUT",
            "/v1/me/notifications",
            body=json.dumps(changes.changes()).encode(),
            content_type="application/json",
        )
        return _parse(api.NotificationSettings, data)

    async def notification_deliveries(
        self, after: int = 0, limit: int = 100, participant: str | None = None
    ) -> api.NotificationAttempts:
        """Notification delivery records (auditors): metadata only."""
        query: dict[str, int | str] = {"after": after, "limit": limit}
        if participant:
            query["participant"] = participant
        return await self.get("/v1/audit/notifications", api.NotificationAttempts, **query)
