"""RFC 9457 problem details: the only place where hub errors become HTTP status codes.

Every rejection has ``type``, ``title``, ``status``, ``detail`` (plain words for the person who
sent the request) and a stable ``code``. Unexpected exceptions become a bare 500 whose body says
nothing about internals; the traceback goes to the log, which never holds request bodies.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any, Final

import asyncpg  # type: ignore[import-untyped]
from aiohttp import web
from sqlalchemy import exc as sa_exc

from crypto.errors import CryptoError
from hub.errors import HubError, Kind, RateLimited, Unavailable
from protocols.errors import InvalidDataError, ProtocolError

log = logging.getLogger("pgs.hub")

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
    Kind.GONE: 410,
}
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
    507: "Insufficient storage",
    410: "Gone",
}
# How long a client should wait before retrying when the database is away or full.
DATABASE_RETRY_AFTER: Final = 5
# Driver and pool errors that mean "the database cannot be reached or cannot write now", not "the
# hub has a bug": SQLAlchemy wraps most driver errors, but a connection refused while the pool
# connects, or a dropped asyncpg connection, may surface unwrapped.
_DATABASE_OUTAGE: Final = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # the pool could not hand out a connection in time
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, crash shutdown, cannot connect
    ConnectionError,
    TimeoutError,
)


def problem(
    status: int, code: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> web.Response:
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return web.Response(
        status=status,
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        content_type="application/problem+json",
        headers=headers,
    )


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


def _database_outage(exc: Exception) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, _DATABASE_OUTAGE)


def _storage_full(exc: Exception) -> bool:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


def database_problem(exc: Exception) -> web.Response | None:
    """The problem document for a database that is away (503) or full (507), else ``None``.

    Both carry ``Retry-After``: nothing was acknowledged, and the same request may be sent again
    (submission is idempotent by message id).
    """
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER)}
    if _storage_full(exc):
        return problem(
            507, "storage.full", "the hub cannot store anything now; try again later",
            headers=headers,
        )  # fmt: skip
    if _database_outage(exc):
        return problem(
            503, "database.unavailable", "the database is not reachable; try again later",
            headers=headers,
        )  # fmt: skip
    return None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every error into a problem document; never leak internals."""
    try:
        return await handler(request)
    except (HubError, ProtocolError, CryptoError) as exc:
        return from_error(exc)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app._client_max_size
        return problem(413, "request.too_large", f"the request body is larger than {limit} bytes")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = {
            404: "route.not_found",
            405: "method.not_allowed",
            415: "request.unsupported_media_type",
        }.get(exc.status, "http.error")
        detail = {
            404: "there is no such route: the API is described at /v1/openapi.json",
            405: f"{request.method} is not allowed here",
        }.get(exc.status, exc.reason)
        headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        return problem(exc.status, code, detail, headers=headers or None)
    except Exception as exc:
        answer = database_problem(exc)
        if answer is not None:
            # One line, no traceback and no driver text (it may quote SQL parameters).
            log.warning(
                "database unavailable on %s %s (%s)", request.method, request.path,
                type(exc).__name__,
            )  # fmt: skip
            return answer
        log.exception("unexpected error on %s %s", request.method, request.path)
        return problem(500, "internal", "the hub could not complete the request")
