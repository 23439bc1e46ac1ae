"""HTTP handlers: authenticate, parse, call one service function, serialize. No rules here."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import InvalidRequest, NotFound
from pgs_hub.hub.policy.authorize import envelope_not_found
from pgs_hub.hub.server.authn import authenticate
from pgs_hub.hub.server.bodies import read_body
from pgs_hub.hub.server.keys import CTX
from pgs_hub.hub.server.observe import check_metrics_access
from pgs_hub.hub.server.openapi import document
from pgs_hub.hub.services import admin, codelists, directory, mailbox, receipts, submission
from pgs_hub.hub.services.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from pgs_hub.protocols import api
from pgs_hub.protocols.messages.identifiers import MessageId, ParticipantId

JOSE = "application/jose+json"
JSON_TYPES = {"application/json", JOSE}
_MESSAGE_ID: TypeAdapter[str] = TypeAdapter(MessageId)
_PARTICIPANT_ID: TypeAdapter[str] = TypeAdapter(ParticipantId)
# json.dumps(doc, ensure_ascii=False) builds this encoder anew on every call; made once, the
# answer's bytes are the same.
JSON_ENCODER = json.JSONEncoder(ensure_ascii=False)


def reply(
    doc: api.ApiModel | api.LogEntriesPage | dict[str, Any], status: int = 200
) -> web.Response:
    """A JSON answer: an API model (or a page of the log) as its wire document (the OpenAPI
    document, a plain dict)."""
    body = JSON_ENCODER.encode(doc).encode() if isinstance(doc, dict) else doc.wire_json()
    return web.Response(status=status, body=body, content_type="application/json")


async def body_of(request: web.Request) -> bytes:
    if request.content_type not in JSON_TYPES:
        raise web.HTTPUnsupportedMediaType(reason=f"send {JOSE} or application/json")
    return await read_body(request)


def int_param(request: web.Request, name: str, default: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    # isdigit() alone also takes digits int() refuses, such as "²".
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise InvalidRequest(f"query parameter {name} must be a non-negative integer")
    return int(text)


def mid_param(request: web.Request) -> str:
    """The message id in the path. One that no message can have (not a lower-case UUID, a NUL
    byte...) is answered exactly like a missing message, and never reaches the database."""
    try:
        return _MESSAGE_ID.validate_python(request.match_info["mid"])
    except ValidationError:
        raise envelope_not_found() from None


def participant_param(request: web.Request) -> str:
    """The participant id in the path; one no participant can have is not found."""
    try:
        return _PARTICIPANT_ID.validate_python(request.match_info["participant"])
    except ValidationError:
        raise NotFound("no such participant", code=Code.PARTICIPANT_NOT_FOUND) from None


# --- public ----------------------------------------------------------------------------------


async def metrics(request: web.Request) -> web.Response:
    check_metrics_access(request)
    body = request.app[CTX].metrics.render()
    return web.Response(body=body, headers={"Content-Type": METRICS_CONTENT_TYPE})


async def openapi(request: web.Request) -> web.Response:
    return reply(document())


# --- envelopes -------------------------------------------------------------------------------


async def submit_envelope(request: web.Request) -> web.Response:
    raw = await body_of(request)
    ctx = request.app[CTX]
    try:
        accepted = await submission.submit(ctx, raw)
    except Exception as exc:
        code = getattr(exc, "code", "internal")
        ctx.metrics.inc("pgs_envelopes_rejected_total", code=str(code))
        raise
    return reply(accepted.to_api(), status=200 if accepted.duplicate else 201)


async def get_envelope(request: web.Request) -> web.Response:
    reader = await authenticate(request, None)
    raw = await mailbox.fetch(request.app[CTX], reader, mid_param(request))
    return web.Response(body=raw, content_type=JOSE)


async def envelope_status(request: web.Request) -> web.Response:
    reader = await authenticate(request, None)
    return reply(await mailbox.status(request.app[CTX], reader, mid_param(request)))


async def post_receipt(request: web.Request) -> web.Response:
    raw = await body_of(request)
    caller = await authenticate(request, raw)
    result = await receipts.record(request.app[CTX], caller, mid_param(request), raw)
    return reply(result, status=201)


async def inbox(request: web.Request) -> web.Response:
    reader = await authenticate(request, None)
    ctx = request.app[CTX]
    limit = int_param(request, "limit", ctx.settings.page_size)
    page = await mailbox.inbox(ctx, reader, int_param(request, "after", 0), limit)
    return reply(page.to_api())


# --- directory -------------------------------------------------------------------------------


async def directory_list(request: web.Request) -> web.Response:
    reader = await authenticate(request, None)
    return reply(await directory.listing(request.app[CTX], reader))


async def directory_entry(request: web.Request) -> web.Response:
    reader = await authenticate(request, None)
    return reply(await directory.entry(request.app[CTX], reader, participant_param(request)))


async def groups_list(request: web.Request) -> web.Response:
    reader = await authenticate(request, None)
    return reply(await directory.groups(request.app[CTX], reader))


async def group_members(request: web.Request) -> web.Response:
    reader = await authenticate(request, None)
    return reply(await directory.group(request.app[CTX], reader, request.match_info["name"]))


async def codelist_unlocode(request: web.Request) -> web.Response:
    """The whole UN/LOCODE list (gzip of its canonical JSON); 304 when If-None-Match names it."""
    reader = await authenticate(request, None)
    stored = await codelists.unlocode_list(request.app[CTX], reader)
    etag = f'"{stored.etag}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    asked = {
        tag.strip().removeprefix("W/")
        for tag in request.headers.get("If-None-Match", "").split(",")
    }
    if etag in asked or "*" in asked:
        return web.Response(status=304, headers=headers)
    return web.Response(body=stored.body, content_type="application/gzip", headers=headers)


# --- admin and audit -------------------------------------------------------------------------


async def enrol(request: web.Request) -> web.Response:
    raw = await body_of(request)
    actor = await authenticate(request, raw)
    return reply(await admin.enrol(request.app[CTX], actor, raw), status=201)


async def rotate(request: web.Request) -> web.Response:
    raw = await body_of(request)
    actor = await authenticate(request, raw)
    ctx = request.app[CTX]
    return reply(await admin.rotate(ctx, actor, participant_param(request), raw))


async def change_status(request: web.Request) -> web.Response:
    raw = await body_of(request)
    actor = await authenticate(request, raw)
    ctx = request.app[CTX]
    return reply(await admin.change_status(ctx, actor, participant_param(request), raw))


async def audit_records(request: web.Request) -> web.Response:
    reader = await authenticate(request, None)
    ctx = request.app[CTX]
    limit = int_param(request, "limit", ctx.settings.page_size)
    result = await admin.records(ctx, reader, int_param(request, "after", 0), limit)
    return reply(result)
