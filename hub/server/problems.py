"""RFC 9457 problem details: the only place where hub errors become HTTP status codes.

Every rejection has ``type``, ``title``, ``status``, ``detail`` (plain words for the person who
sent the request) and a stable ``code``. Unexpected exceptions become a bare 500 whose body says
nothing about internals; the traceback goes to the log without any exception's text (driver errors
quote SQL parameters) and with the route's pattern, never the path (paths hold message ids). A
database that is away, read-only or full is a 503/507 with Retry-After, and a client that hung up
is logged as such (INFO), not as a fault. Every 4xx answer is counted once as a security event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiohttp import web

from pgs_hub.crypto.errors import CryptoError
from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import HubError, Kind, RateLimited, Unavailable
from pgs_hub.hub.i18n import Lang, known, negotiate, t
from pgs_hub.hub.server.bodies import ClientGone
from pgs_hub.hub.server.keys import AUTHENTICATED, CTX
from pgs_hub.hub.services.audit import record_refusal
from pgs_hub.hub.services.database import fault_of
from pgs_hub.hub.services.security_events import request_scope
from pgs_hub.hub.settings import DEFAULTS
from pgs_hub.protocols.errors import InvalidDataError, ProtocolError

log = logging.getLogger("pgs.hub")
_JSON = json.JSONEncoder(ensure_ascii=False)  # made once: json.dumps would make it per call

PROBLEM_TYPE_BASE = "https://pgs.wcoomd.org/problems/"
STATUS: dict[Kind, int] = {
    Kind.MALFORMED: 400,
    Kind.INVALID: 422,
    Kind.UNAUTHENTICATED: 401,
    Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404,
    Kind.CONFLICT: 409,
    Kind.TOO_LARGE: 413,
    Kind.RATE_LIMITED: 429,
    Kind.UNAVAILABLE: 503,
    Kind.TIMEOUT: 408,
    Kind.GONE: 410,
}


def title(status: int, lang: Lang = "en") -> str:
    """The problem's ``title``: the catalogs' short name of the status (``problem.title.<n>``)."""
    key = f"problem.title.{status}"
    return t(key if known(key) else "problem.title.other", lang)


_CATALOGUED: Final = frozenset(c.value for c in Code)
# How long a client should wait before retrying when the database is away or full.
DATABASE_RETRY_AFTER: Final = DEFAULTS.database_retry_after
# The stable code of a problem answer (security events are counted by it).
PROBLEM_CODE: Final = web.ResponseKey("pgs_problem_code", str)


def title_of(code: str, status: int, lang: Lang = "en") -> str:
    """The problem's title: the catalogue's for a hub code (one title per problem type, RFC 9457
    section 3.1.3), the status's for a code of the cores (``crypto.*``, ``protocol.*``)."""
    if code in _CATALOGUED:
        return t(Code(code).title_key, lang)
    return title(status, lang)


def problem(
    status: int, code: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> web.Response:
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title_of(code, status),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    response = web.Response(
        status=status,
        body=_JSON.encode(body).encode("utf-8"),
        content_type="application/problem+json",
        headers=headers,
    )
    response[PROBLEM_CODE] = code
    return response


def from_error(exc: Exception) -> web.Response:
    """Map a domain error to its problem document."""
    if isinstance(exc, HubError):
        status = STATUS[exc.kind]
        headers = None
        if isinstance(exc, RateLimited | Unavailable):
            headers = {"Retry-After": str(exc.retry_after)}
        return problem(status, exc.code, str(exc), headers=headers)
    if isinstance(exc, InvalidDataError):
        problems = [{"pointer": p.pointer, "detail": p.message} for p in exc.problems]
        return problem(422, exc.code, str(exc), errors=problems)
    if isinstance(exc, ProtocolError):
        return problem(422, exc.code, str(exc))
    if isinstance(exc, CryptoError):
        # A malformed or unverifiable envelope is the client's fault: 400 for structure, 401 when
        # the sender could not be authenticated by its signature.
        status = 401 if exc.code in {"crypto.bad_signature", "crypto.invalid_key"} else 400
        return problem(status, exc.code, str(exc))
    raise exc


def database_problem(exc: Exception) -> web.Response | None:
    """The problem document for a database that is away (503) or full (507), else ``None``.

    Both carry ``Retry-After``: nothing was acknowledged, and the same request may be sent again
    (submission is idempotent by message id).
    """
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER)}
    fault = fault_of(exc)
    if fault == "full":
        return problem(
            507, Code.STORAGE_FULL, "the hub cannot store anything now; try again later",
            headers=headers,
        )  # fmt: skip
    if fault == "outage":
        return problem(
            503, Code.DATABASE_UNAVAILABLE, "the database is not reachable; try again later",
            headers=headers,
        )  # fmt: skip
    return None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every error into a problem document; never leak internals. Every refusal (a 4xx
    answer) is counted as a security event, once (hub.services.security_events)."""
    with request_scope() as scope:
        response = await _answer(request, handler)
        if 400 <= response.status < 500 and not scope.recorded:
            _record_refusal(request, response)
    _translate_title(request, response)
    return response


def _translate_title(request: web.Request, response: web.StreamResponse) -> None:
    """A problem's ``title`` in the language the client asks for (``Accept-Language``, RFC 9457
    section 3.1.3); ``detail`` and ``code`` stay as they are, for programs and logs."""
    if PROBLEM_CODE not in response or not isinstance(response, web.Response):
        return
    response.headers.add("Vary", "Accept-Language")
    lang = negotiate(request.headers.get("Accept-Language", ""))
    if lang is None or lang == "en" or not isinstance(response.body, bytes):
        return
    body = json.loads(response.body)
    body["title"] = title_of(str(body.get("code", "")), response.status, lang)
    response.body = _JSON.encode(body).encode("utf-8")
    response.headers["Content-Language"] = lang


def _record_refusal(request: web.Request, response: web.StreamResponse) -> None:
    ctx = request.app.get(CTX)
    if ctx is None:  # pragma: no cover - requests are only served after start-up
        return
    route = request.match_info.route.resource
    action = f"{request.method} {route.canonical if route is not None else '(no route)'}"
    code = response.get(PROBLEM_CODE) or f"http.{response.status}"
    record_refusal(
        ctx, actor=request.get(AUTHENTICATED), address=request.remote or "unknown",
        action=action, code=code,
    )  # fmt: skip


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:  # noqa: PLR0911
    try:
        return await handler(request)
    except (HubError, ProtocolError, CryptoError) as exc:
        return from_error(exc)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app._client_max_size
        return problem(
            413, Code.REQUEST_TOO_LARGE, f"the request body is larger than {limit} bytes"
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = {
            404: Code.ROUTE_NOT_FOUND,
            405: Code.METHOD_NOT_ALLOWED,
            415: Code.REQUEST_UNSUPPORTED_MEDIA_TYPE,
        }.get(exc.status, Code.HTTP_ERROR)
        detail = {
            404: "there is no such route: the API is described at /v1/openapi.json",
            405: f"{request.method} is not allowed here",
        }.get(exc.status, exc.reason)
        headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        return problem(exc.status, code, detail, headers=headers or None)
    except ClientGone as exc:
        return _hung_up(request, exc)
    except Exception as exc:  # noqa: BLE001 - anything else: a hang-up, the database, or a bug
        if isinstance(exc, ConnectionError | asyncio.IncompleteReadError) and _client_gone(request):
            return _hung_up(request, exc)
        answer = database_problem(exc)
        if answer is not None:
            # One line, no traceback and no driver text (it may quote SQL parameters).
            log.warning(
                "database unavailable on %s %s (%s)", request.method, _route(request),
                type(exc).__name__,
            )  # fmt: skip
            ctx = request.app.get(CTX)
            if ctx is not None and answer.status == 507:
                # Readiness (GET /v1/health/ready): a full disk is only seen by writing. An outage
                # needs no memory: readiness asks the database itself.
                ctx.storage_failed_at = time.monotonic()
            return answer
        log.error(  # noqa: TRY400 - the traceback is logged without the exception's text
            "unexpected error on %s %s (%s)\n%s", request.method, _route(request),
            type(exc).__name__, _bare_traceback(exc),
        )  # fmt: skip
        return problem(500, Code.INTERNAL, "the hub could not complete the request")


def _hung_up(request: web.Request, exc: Exception) -> web.Response:
    log.info(
        "client %s closed the connection before the request was complete (%s %s, %s)",
        request.remote, request.method, _route(request), type(exc).__name__,
    )  # fmt: skip
    return problem(
        400, Code.REQUEST_INCOMPLETE, "the connection closed before the request was complete"
    )


def _route(request: web.Request) -> str:
    """The route's pattern, not the path: a path holds message ids and other caller input."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(no route)"


def _bare_traceback(exc: BaseException) -> str:
    """Where an unexpected error happened (files, lines, functions), without any exception
    message: driver errors quote SQL parameters, and those may be message ids or signatures."""
    frames = traceback.extract_tb(exc.__traceback__)
    return "".join(traceback.format_list(frames)).rstrip()
