"""Running behind a reverse proxy: the public URL, and forwarded headers from trusted proxies only.

Two settings in ``config.toml`` (``[hub]``):

* ``public_url`` — the origin clients use (``https://hub.example.org``). When it is set, the URL a
  request's RFC 9421 signature covers (``@target-uri``) is this origin plus the path and query the
  hub received, whatever scheme and ``Host`` the proxy used towards the hub; the console's sign-in
  links and cookie ``Secure`` flag follow it too.
* ``trusted_proxies`` — addresses or networks (``["127.0.0.1", "10.0.0.0/8"]``) whose RFC 7239
  ``Forwarded`` or ``X-Forwarded-For``/``-Proto``/``-Host`` headers the hub believes. From any other
  peer those headers are ignored: a client cannot claim to have come over TLS, or from another
  address. A trusted proxy that sends them malformed gets a 400 problem (its configuration is
  wrong; guessing would be worse).

The address the forwarded chain names (the right-most hop that is not itself a trusted proxy) is
what the access log records. Without ``public_url``, the scheme and host a trusted proxy forwards
rebuild the signed URL.

We do not use aiohttp-remotes: its refusals are HTML pages, not the RFC 9457 problems every hub
refusal is, and the few lines below are all the parsing needed.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import MalformedRequest
from pgs_hub.hub.server.observed import OBSERVED

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"  # noqa: S105 - RFC 9110 token, not a secret
_PAIR = re.compile(rf'\s*({_TOKEN})\s*=\s*({_TOKEN}|"(?:[^"\\]|\\.)*")\s*')
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?")
MAX_HOPS = 16


@dataclass(frozen=True)
class Forwarding:
    """How this hub is reached: its public origin (or None) and the proxies it trusts."""

    public_url: str | None = None
    trusted: tuple[Network, ...] = field(default_factory=tuple)

    def trusts(self, address: str | None) -> bool:
        if not address or not self.trusted:
            return False
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)


FORWARDING = web.AppKey("forwarding", Forwarding)


def external_origin(request: web.Request) -> str:
    """The origin clients use: ``public_url``, else the (forwarded) scheme and Host."""
    forwarding = request.app.get(FORWARDING)
    if forwarding is not None and forwarding.public_url:
        return forwarding.public_url
    return f"{request.scheme}://{request.host}"


def _bad(what: str) -> MalformedRequest:
    return MalformedRequest(
        f"the proxy's {what} header is malformed", code=Code.REQUEST_BAD_FORWARDED_HEADER
    )


def _split_list(value: str) -> list[str]:
    """Split a comma-separated header on commas outside quoted strings."""
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            items.append("".join(current))
            current = []
            continue
        current.append(ch)
    if quoted:
        raise _bad("Forwarded")
    items.append("".join(current))
    return items


def _forwarded_elements(value: str) -> list[dict[str, str]]:
    """RFC 7239 section 4: ``forwarded-element *( "," forwarded-element )``."""
    elements = []
    for item in _split_list(value):
        pairs: dict[str, str] = {}
        for part in item.split(";") if item.strip() else []:
            match = _PAIR.fullmatch(part)
            if match is None:
                raise _bad("Forwarded")
            name, raw = match.group(1).lower(), match.group(2)
            if name in pairs:
                raise _bad("Forwarded")
            pairs[name] = re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw.startswith('"') else raw
        elements.append(pairs)
    return elements


def _node_address(node: str) -> str | None:
    """The IP of an RFC 7239 node (``192.0.2.1``, ``"[2001:db8::1]:80"``); None for obfuscated
    identifiers and ``unknown``."""
    node = node.strip()
    if node.startswith("["):
        node = node[1:].split("]", 1)[0]
    elif node.count(":") == 1:
        node = node.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(node))
    except ValueError:
        return None


def _client(hops: list[str | None], forwarding: Forwarding) -> str | None:
    """The right-most hop that is not a trusted proxy (each proxy appends the peer it saw)."""
    for hop in reversed(hops):
        if not forwarding.trusts(hop):
            return hop
    return hops[0] if hops else None


def _last(value: str) -> str:
    return value.rsplit(",", 1)[-1].strip()


def forwarded_view(headers: Any, forwarding: Forwarding) -> dict[str, str]:
    """What a trusted proxy says about the request: ``scheme``, ``host``, ``remote`` (any of them).

    ``Forwarded`` wins over the ``X-Forwarded-*`` family when both are present; the right-most
    element is the one the nearest proxy added.
    """
    view: dict[str, str] = {}
    forwarded = headers.getall("Forwarded", [])
    if forwarded:
        elements = _forwarded_elements(",".join(forwarded))
        if len(elements) > MAX_HOPS:
            raise _bad("Forwarded")
        last = elements[-1]
        proto, host = last.get("proto"), last.get("host")
        hops = [_node_address(e["for"]) if "for" in e else None for e in elements]
    else:
        xff = ",".join(headers.getall("X-Forwarded-For", []))
        hops = [_node_address(h) for h in xff.split(",")] if xff else []
        if len(hops) > MAX_HOPS or (xff and None in hops):
            raise _bad("X-Forwarded-For")
        proto = _last(headers["X-Forwarded-Proto"]) if "X-Forwarded-Proto" in headers else None
        host = _last(headers["X-Forwarded-Host"]) if "X-Forwarded-Host" in headers else None
    if proto is not None:
        if proto.lower() not in ("http", "https"):
            raise _bad("forwarded proto")
        view["scheme"] = proto.lower()
    if host is not None:
        if not _HOST.fullmatch(host):
            raise _bad("forwarded host")
        view["host"] = host
    client = _client(hops, forwarding)
    if client is not None:
        view["remote"] = client
    return view


@web.middleware
async def forwarded_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Rebuild scheme, host and remote address from a trusted proxy's headers."""
    forwarding = request.app.get(FORWARDING)
    if forwarding is None or not forwarding.trusts(request.remote):
        return await handler(request)
    view = forwarded_view(request.headers, forwarding)
    observed = request.get(OBSERVED)  # hub.server.observe: the access log's record
    if observed is not None and "remote" in view:
        observed.remote = view["remote"]
    return await handler(request.clone(**view) if view else request)  # type: ignore[arg-type]
