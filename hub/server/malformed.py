"""Requests that are not HTTP at all: a bad request line, bad headers, a head too long.

aiohttp answers those itself, before any route or middleware sees them: a ``text/plain`` body that
quotes the offending input, and an ERROR log line with a traceback that quotes it again. The hub
answers them like every other refusal instead: an RFC 9457 problem (``http.malformed``) that
repeats nothing of what was sent, one INFO log line naming only the client address and the kind of
defect, and a security event for that address.

aiohttp offers no hook for this (``RequestHandler.handle_error`` builds the answer), so
:func:`install` replaces that method for the hub's process while the hub runs, and
:func:`uninstall` puts it back. Errors it does not own (a 5xx) keep aiohttp's own handling.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web_protocol
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.server.problems import problem
from pgs_hub.hub.services.security_events import SecurityEvents

log = logging.getLogger("pgs.hub")

_ORIGINAL: Any = web_protocol.RequestHandler.handle_error
_sinks: list[SecurityEvents] = []


def install(events: SecurityEvents) -> None:
    """Answer malformed requests as problems, counted in ``events``, until :func:`uninstall`."""
    _sinks.append(events)
    setattr(web_protocol.RequestHandler, "handle_error", _handle_error)  # noqa: B010


def uninstall(events: SecurityEvents) -> None:
    if events in _sinks:
        _sinks.remove(events)
    if not _sinks:
        setattr(web_protocol.RequestHandler, "handle_error", _ORIGINAL)  # noqa: B010


def _handle_error(
    self: web_protocol.RequestHandler,
    request: BaseRequest,
    status: int = 500,
    exc: BaseException | None = None,
    message: str | None = None,
) -> StreamResponse:
    if not 400 <= status < 500:
        return _ORIGINAL(self, request, status, exc, message)  # type: ignore[no-any-return]
    log.info(
        "malformed HTTP request from %s refused (%s)",
        request.remote, type(exc).__name__ if exc is not None else "unknown",
    )  # fmt: skip
    for events in _sinks[-1:]:
        events.record(
            actor=request.remote or "unknown", actor_kind="address", country=None,
            code=Code.HTTP_MALFORMED, action="(not HTTP)",
        )  # fmt: skip
    if request.writer.output_size > 0:  # something was sent already: only closing is left
        raise ConnectionError("the answer had started when the request turned out malformed")
    response = problem(
        status, "http.malformed",
        "the request is not well-formed HTTP/1.1 (request line, header or framing)",
    )  # fmt: skip
    response.force_close()
    return response
