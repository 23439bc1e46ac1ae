"""The record the access log keeps of a request while it is handled (hub.server.observe), in the
request's storage under a typed key: the proxy view (hub.server.proxy) and authentication fill it
in. A clone of the request (the proxy view) shares the same record."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web


@dataclass
class Observed:
    request_id: str
    participant: str | None = None
    remote: str | None = None


OBSERVED = web.RequestKey("pgs_observed", Observed)
