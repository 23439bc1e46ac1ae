"""Raw HTTP for end-to-end tests that must send what the client SDK never produces: signatures
with a chosen time, nonce or key, bodies that do not match their digest, odd methods and paths.

Every reply is returned as received (status, headers, body); nothing is raised on a 4xx or 5xx.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterable
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from pgs_hub.crypto.keys import SigningKey
from pgs_hub.hub.auth.httpsig import sign_request

PROBLEM_JSON = "application/problem+json"
JOSE = "application/jose+json"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    @property
    def is_problem(self) -> bool:
        return self.content_type == PROBLEM_JSON

    def problem(self) -> dict[str, Any]:
        """The RFC 9457 problem document; AssertionError when the reply is not a complete one."""
        assert self.is_problem, f"{self.status} is not a problem document: {self.content_type!r}"
        doc = json.loads(self.body)
        assert isinstance(doc, dict), f"the problem document is not an object: {self.body[:200]!r}"
        for member in ("type", "title", "status", "detail", "code"):
            assert member in doc, f"the problem document has no {member!r}: {doc}"
        assert doc["status"] == self.status, f"problem status {doc['status']} != {self.status}"
        assert isinstance(doc["detail"], str), doc
        assert doc["detail"].strip(), doc
        return doc

    @property
    def code(self) -> str | None:
        """The problem ``code``, or None for a reply that is not a problem document."""
        return str(self.problem()["code"]) if self.is_problem and self.body else None

    def json(self) -> Any:
        return json.loads(self.body)

    def brief(self) -> tuple[int, str | None, str | None]:
        """(status, code, detail): what must not differ between "hidden" and "missing"."""
        if not self.is_problem:
            return (self.status, None, None)
        doc = self.problem()
        return (self.status, str(doc["code"]), str(doc["detail"]))


def signature_headers(
    key: SigningKey,
    method: str,
    url: str,
    body: bytes | None,
    *,
    now: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Signature-Input, Signature (and Content-Digest for a body) for one request."""
    return sign_request(
        method=method,
        url=url,
        headers={},
        body=body,
        key=key,
        now=int(time.time()) if now is None else now,
        nonce=nonce,
    )


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    key: SigningKey | None = None,
    body: bytes | AsyncIterable[bytes] | None = None,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
    now: int | None = None,
) -> Reply:
    """Send one request, signed by ``key`` when given; the reply as received. ``url`` is sent
    exactly as written (percent-encoding untouched), as it was signed."""
    sent: dict[str, str] = dict(headers or {})
    if content_type is not None:
        sent["Content-Type"] = content_type
    if key is not None:
        if not isinstance(body, bytes | None):
            raise TypeError("a streamed body cannot be signed")
        sent |= signature_headers(key, method, url, body, now=now)
    async with session.request(method, URL(url, encoded=True), data=body, headers=sent) as resp:
        return Reply(resp.status, resp.headers, await resp.read())


async def replay(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    sent: dict[str, str],
    body: bytes | None = None,
) -> Reply:
    """Send a request with exactly the headers given (a recorded request sent again)."""
    async with session.request(method, URL(url, encoded=True), data=body, headers=sent) as resp:
        return Reply(resp.status, resp.headers, await resp.read())


async def read_stream(
    session: aiohttp.ClientSession, url: str, key: SigningKey, *, seconds: float = 1.0
) -> tuple[int, list[dict[str, Any]]]:
    """Open the signed WebSocket stream and collect what arrives within ``seconds``.

    Returns (101, items) when the upgrade succeeded, else (status, []).
    """
    headers = signature_headers(key, "GET", url, None)
    try:
        async with session.ws_connect(url, headers=headers) as ws:
            items: list[dict[str, Any]] = []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + seconds
            while (remaining := deadline - loop.time()) > 0:
                try:
                    msg = await ws.receive(timeout=remaining)
                except TimeoutError:
                    break
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                items.append(json.loads(msg.data))
            return 101, items
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status, []
