"""Attachment blobs over HTTP: tus 1.0 uploads and Range downloads (docs/design/hub.md).

tus 1.0.0 core with the creation, checksum (sha256), expiration and termination extensions, at
``/v1/uploads``; every request is signed (RFC 9421) like the rest of the API, a PATCH body
included (its Content-Digest is covered). A PATCH is authenticated and authorized from its head
(a refusal costs no body), then read whole (at most ``max_part_bytes``, refused from its
Content-Length before it is read) and stored only if it matches the signed digest: a
connection lost mid-PATCH stores nothing of it, and the client resumes at the offset HEAD gives.
A single hub process also takes a PATCH at the offset where the part it is still receiving will
end, and records it after that part (``Pgs-Parts-In-Flight``; hub.services.upload_window).
Downloads (``GET /v1/uploads/{upload}``) answer single byte ranges (206, 416).
"""

from __future__ import annotations

import base64
import binascii
import re
from email.utils import formatdate

from aiohttp import web
from aiohttp.http_exceptions import PayloadEncodingError

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import InvalidRequest, MalformedRequest, RequestTimeout, TooLarge
from pgs_hub.hub.server.authn import SignedHead, authenticate, authenticate_head
from pgs_hub.hub.server.bodies import body_deadline, streams_body
from pgs_hub.hub.server.keys import CTX
from pgs_hub.hub.server.problems import problem
from pgs_hub.hub.services import attachments
from pgs_hub.hub.services.attachments import StoredUpload

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,checksum,expiration,termination"
OFFSET_TYPE = "application/offset+octet-stream"
_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{22}")
_DIGITS = re.compile(r"[0-9]{1,19}")
_RANGE = re.compile(r"bytes=([0-9]{0,19})-([0-9]{0,19})")


def _upload_id(request: web.Request) -> str:
    """The upload id in the path; one no upload can have is looked up as "" (not found)."""
    value = request.match_info["upload"]
    return value if _UPLOAD_ID.fullmatch(value) else ""


def _tus_headers(row: StoredUpload | None = None) -> dict[str, str]:
    headers = {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store"}
    if row is not None:
        headers["Upload-Offset"] = str(row.stored)
        headers["Upload-Length"] = str(row.length)
        if row.envelope_mid is None:
            headers["Upload-Expires"] = formatdate(row.expires_at, usegmt=True)
    return headers


def _require_tus(request: web.Request) -> web.Response | None:
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        return problem(
            412, Code.TUS_VERSION_UNSUPPORTED,
            f"send Tus-Resumable: {TUS_VERSION} (the only tus version this hub speaks)",
            headers={"Tus-Version": TUS_VERSION},
        )  # fmt: skip
    return None


def _number(request: web.Request, name: str) -> int:
    text = request.headers.get(name, "")
    if not _DIGITS.fullmatch(text):
        raise InvalidRequest(f"{name} must be a non-negative integer", code=Code.UPLOAD_BAD_HEADER)
    return int(text)


def _checksum(request: web.Request) -> bytes | None:
    value = request.headers.get("Upload-Checksum")
    if value is None:
        return None
    algorithm, _, encoded = value.partition(" ")
    if algorithm != "sha256":
        raise InvalidRequest(
            "Upload-Checksum must use sha256 (Tus-Checksum-Algorithm)",
            code=Code.UPLOAD_CHECKSUM_ALGORITHM,
        )
    try:
        digest = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 32:
        raise InvalidRequest(
            "Upload-Checksum must be sha256 and a base64 SHA-256 digest",
            code=Code.UPLOAD_BAD_HEADER,
        )
    return digest


def _part_too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"one PATCH may carry at most {limit} bytes; send the upload in parts",
        code=Code.UPLOAD_PART_TOO_LARGE,
    )


def _refuse_declared(request: web.Request, limit: int) -> None:
    """A PATCH declaring more than ``limit`` bytes is refused (413) from its head alone."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise _part_too_large(limit)


async def _read_into(request: web.Request, limit: int, receiver: attachments.PartReceiver) -> None:
    """The body, piece by piece into ``receiver``, refused (413) while reading beyond
    ``limit``, within the body deadline (408), whole (400 when the link drops). It is never
    allocated from the declared length up front: a request head alone must not make the hub
    hold ``limit`` bytes before the client has sent them."""
    try:
        async with body_deadline(request):
            # Each piece as the connection delivered it (up to the loop's read buffer): not
            # joined into pieces of a fixed size, which copied every byte once more.
            async for piece, _ in request.content.iter_chunks():
                if receiver.size + len(piece) > limit:
                    raise _part_too_large(limit)
                receiver.add(piece)
    except TimeoutError:
        raise RequestTimeout(
            f"the request body did not arrive within {request.app[CTX].body_timeout_seconds:g}"
            " seconds; ask for the offset (HEAD) and resume"
        ) from None
    except (ConnectionError, PayloadEncodingError):
        # The link dropped mid-body (what resumable uploads are for): nothing is stored.
        raise MalformedRequest(
            "the request body was cut off; ask for the offset (HEAD) and resume",
            code=Code.REQUEST_INCOMPLETE,
        ) from None


def _check_signed(signed: SignedHead | None, receiver: attachments.PartReceiver) -> None:
    """The body received is the one signed (a PATCH that declared none has none to check)."""
    if signed is not None:
        signed.check_body(receiver.digests())
    elif receiver.size:  # pragma: no cover - aiohttp reads no body after Content-Length: 0
        raise MalformedRequest("the body is longer than its Content-Length")


# --- tus ---------------------------------------------------------------------------------------


async def discover(request: web.Request) -> web.Response:
    """OPTIONS: the tus version, extensions and caps (a signed request, like every other)."""
    ctx = request.app[CTX]
    actor = await authenticate(request, None)
    await attachments.may_upload(ctx, actor)
    limits = ctx.attachments
    return web.Response(
        status=204,
        headers={
            "Tus-Resumable": TUS_VERSION,
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": TUS_EXTENSIONS,
            "Tus-Max-Size": str(limits.max_file_bytes),
            "Tus-Checksum-Algorithm": "sha256",
            "Pgs-Max-Message-Size": str(limits.max_message_bytes),
            "Pgs-Max-Part-Size": str(limits.max_part_bytes),
            # PATCHes a client may have in flight at once (hub.services.upload_window).
            "Pgs-Parts-In-Flight": str(ctx.attachments.parts_in_flight),
        },
    )


async def create(request: web.Request) -> web.StreamResponse:
    """POST (creation): an empty upload of ``Upload-Length`` bytes. ``Upload-Metadata`` is not
    stored: a file's name and type travel only inside the encrypted message."""
    refused = _require_tus(request)
    if refused is not None:
        return refused
    ctx = request.app[CTX]
    if request.content_length:
        raise InvalidRequest(
            "create the upload with an empty body, then send its bytes with PATCH "
            "(creation-with-upload is not offered)",
            code=Code.UPLOAD_BODY_ON_CREATION,
        )
    actor = await authenticate(request, None)
    if "Upload-Defer-Length" in request.headers:
        raise InvalidRequest("declare Upload-Length when creating", code=Code.UPLOAD_BAD_HEADER)
    row = await attachments.create(ctx, actor, _number(request, "Upload-Length"))
    headers = _tus_headers(row) | {"Location": f"/v1/uploads/{row.id}"}
    return web.Response(status=201, headers=headers)


async def head(request: web.Request) -> web.StreamResponse:
    """HEAD: where the upload stands (the offset to resume from)."""
    refused = _require_tus(request)
    if refused is not None:
        return refused
    actor = await authenticate(request, None)
    row = await attachments.status(request.app[CTX], actor, _upload_id(request))
    return web.Response(status=200, headers=_tus_headers(row))


@streams_body
async def patch(request: web.Request) -> web.StreamResponse:
    """PATCH: append the body at ``Upload-Offset``.

    Everything that can be decided from the head is decided before the body is read: the size
    it declares, the signature (which covers its Content-Digest), the media type, and whether
    this upload takes a part at this offset. A refused PATCH costs the hub no body, and the
    checks overlap the body's arrival. The body is then checked against the signed digest before
    anything of it is stored."""
    refused = _require_tus(request)
    if refused is not None:
        return refused
    ctx = request.app[CTX]
    limit = ctx.attachments.max_part_bytes
    _refuse_declared(request, limit)
    signed = await authenticate_head(request) if request.content_length != 0 else None
    actor = signed.member if signed is not None else await authenticate(request, None)
    if request.content_type != OFFSET_TYPE:
        raise web.HTTPUnsupportedMediaType(reason=f"send {OFFSET_TYPE}")
    offset, checksum = _number(request, "Upload-Offset"), _checksum(request)
    length = request.content_length
    accepted = await attachments.accepting(
        ctx, actor, _upload_id(request), offset=offset, length=length
    )
    receiver = attachments.receive(
        ctx, accepted, offset=offset, length=length,
        algorithms=signed.algorithms if signed else (),
    )  # fmt: skip
    try:
        await _read_into(request, limit, receiver)
        _check_signed(signed, receiver)
        row = await receiver.store(checksum)
    except attachments.ChecksumMismatch as exc:
        await receiver.abandon()
        return problem(460, exc.code, str(exc), headers={"Tus-Resumable": TUS_VERSION})
    except BaseException:
        await receiver.abandon()
        raise
    return web.Response(status=204, headers=_tus_headers(row))


async def terminate(request: web.Request) -> web.StreamResponse:
    """DELETE (termination): drop an upload no sent message references."""
    refused = _require_tus(request)
    if refused is not None:
        return refused
    actor = await authenticate(request, None)
    await attachments.terminate(request.app[CTX], actor, _upload_id(request))
    return web.Response(status=204, headers={"Tus-Resumable": TUS_VERSION})


# --- download ----------------------------------------------------------------------------------


def byte_range(header: str | None, length: int) -> tuple[int, int] | None:
    """``[start, end)`` of a single ``bytes=`` range; None for the whole blob (no header, or one
    this parser does not take, which RFC 9110 lets a server ignore). Raises ``ValueError`` for
    a range that is not satisfiable."""
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":  # the last N bytes
        suffix = int(last)
        if suffix == 0:
            raise ValueError("empty suffix range")
        return max(0, length - suffix), length
    start = int(first)
    end = length if last == "" else min(int(last) + 1, length)
    if start >= length or end <= start:
        raise ValueError("range outside the blob")
    return start, end


async def download(request: web.Request) -> web.StreamResponse:
    """GET: the blob (ciphertext), whole or one byte range, for the parties of its envelope."""
    ctx = request.app[CTX]
    reader = await authenticate(request, None)
    row = await attachments.download(ctx, reader, _upload_id(request))
    try:
        wanted = byte_range(request.headers.get("Range"), row.length)
    except ValueError:
        return problem(
            416, Code.RANGE_NOT_SATISFIABLE, f"the blob is {row.length} bytes long",
            headers={"Content-Range": f"bytes */{row.length}"},
        )  # fmt: skip
    start, end = wanted if wanted is not None else (0, row.length)
    response = web.StreamResponse(
        status=206 if wanted is not None else 200,
        headers={
            "Content-Type": "application/octet-stream",
            "Accept-Ranges": "bytes",
            "Cache-Control": "no-store",
        },
    )
    if wanted is not None:
        response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{row.length}"
    response.content_length = end - start
    await response.prepare(request)
    try:
        async for piece in attachments.read_blob(ctx, row, start, end):
            await response.write(piece)
        await response.write_eof()
    except ConnectionError:
        pass  # the client went away; it resumes with a Range request
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_route("OPTIONS", "/v1/uploads", discover)
    app.router.add_post("/v1/uploads", create)
    app.router.add_route("HEAD", "/v1/uploads/{upload}", head)
    app.router.add_patch("/v1/uploads/{upload}", patch)
    app.router.add_delete("/v1/uploads/{upload}", terminate)
    app.router.add_get("/v1/uploads/{upload}", download, allow_head=False)
