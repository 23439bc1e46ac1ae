"""What the hub records about each request: a structured access log line, latency metrics, and a
request id; and who may read ``/metrics``.

The access log (logger ``pgs.access``) writes one JSON object per answered request::

    {"ts": "2026-12-03T06:40:01.123Z", "request_id": "3f1c…", "method": "POST",
     "route": "/v1/envelopes/{mid}/receipts", "status": 201, "duration_ms": 4.2,
     "participant": "GH-NCP-ACCRA", "remote": "203.0.113.9", "pid": 4242}

``route`` is the route's template, never the path as sent (no message ids, no query strings);
``participant`` is who authenticated (absent when nobody did); ``remote`` is the client address
(through a trusted proxy: the forwarded one). Never a header value, a body, content or a secret.
The request id is the client's ``X-Request-ID`` when it is a short token (letters, digits, ``.``,
``_``, ``-``; at most 64), else a new random one; it is sent back in ``X-Request-ID``.

``/metrics`` answers a client on the loopback interface that is not a trusted proxy (so a proxy
on the same machine does not open it to the world), or a request with ``Authorization: Bearer
TOKEN`` where SHA-256(TOKEN) is ``[metrics] bearer_token_sha256`` in config.toml; anyone else gets
``403 metrics.forbidden``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import Forbidden, HubError
from pgs_hub.hub.server.keys import CTX
from pgs_hub.hub.server.observed import OBSERVED, Observed
from pgs_hub.hub.server.problems import STATUS
from pgs_hub.hub.server.proxy import FORWARDING

access_log = logging.getLogger("pgs.access")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class MetricsAccess:
    """``[metrics]`` in config.toml: the SHA-256 of the bearer token, if any."""

    token_sha256: bytes | None = None


METRICS_ACCESS = web.AppKey("metrics_access", MetricsAccess)


def observed(request: web.Request) -> Observed | None:
    return request.get(OBSERVED)


def note_participant(request: web.Request, participant: str) -> None:
    """Record who authenticated, for the access log."""
    found = observed(request)
    if found is not None:
        found.participant = participant


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def observe_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: time the request, log it, count it, and give it an id."""
    given = request.headers.get("X-Request-ID", "")
    request_id = given if _REQUEST_ID.fullmatch(given) else secrets.token_hex(16)
    record = Observed(request_id, remote=request.remote)
    request[OBSERVED] = record
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        status = exc.status
        raise
    except HubError as exc:  # pragma: no cover - the problem middleware inside maps these
        status = STATUS.get(exc.kind, 500)
        raise
    else:
        status = response.status
        if not response.prepared:
            response.headers["X-Request-ID"] = request_id
        return response
    finally:
        seconds = time.perf_counter() - started
        route = _route(request)
        ctx = request.app.get(CTX)
        if ctx is not None:
            ctx.metrics.observe_request(route, request.method, status, seconds)
        if access_log.isEnabledFor(logging.INFO):
            line = {
                "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "request_id": request_id,
                "method": request.method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "participant": record.participant,
                "remote": record.remote,
                "pid": os.getpid(),  # which worker, under `pgs serve --workers N`
            }
            access_log.info(json.dumps({k: v for k, v in line.items() if v is not None}))


def _peer(request: web.Request) -> str | None:
    transport = request.transport
    peer = transport.get_extra_info("peername") if transport is not None else None
    return str(peer[0]) if isinstance(peer, tuple) and peer else None


def check_metrics_access(request: web.Request) -> None:
    """Raise :class:`Forbidden` unless this request may read the metrics (module docs)."""
    access = request.app.get(METRICS_ACCESS) or MetricsAccess()
    header = request.headers.get("Authorization", "")
    if access.token_sha256 is not None and header.startswith("Bearer "):
        offered = hashlib.sha256(header[len("Bearer ") :].strip().encode()).digest()
        if hmac.compare_digest(offered, access.token_sha256):
            return
    peer = _peer(request)
    forwarding = request.app.get(FORWARDING)
    try:
        loopback = peer is not None and ipaddress.ip_address(peer.split("%")[0]).is_loopback
    except ValueError:
        loopback = False
    if loopback and not (forwarding is not None and forwarding.trusts(peer)):
        return
    raise Forbidden(
        "metrics are served to the local machine, or with the bearer token configured in "
        "[metrics] bearer_token_sha256",
        code=Code.METRICS_FORBIDDEN,
    )
