"""Every route of the running app reaches data only through a policy decision.

The routes are enumerated from the app's router (API, transparency log, console, stream), not
from a list kept here, so a route added tomorrow is tried too. Each is called over a real loopback
socket as an authenticated caller of every role (a signed request, or a fresh console session), and
the hub's own count of policy decisions (``pgs_policy_decisions_total``, kept by
hub/services/access.py around the one policy function) must have moved. The few routes that serve
no participant data (health, OpenAPI, metrics, static files, the console's 404 page) are an
explicit, reviewed allow-list; unauthenticated, every other route must refuse.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from pgs_hub.crypto.keys import DecryptionKey, SigningKey
from pgs_hub.hub.console import session as sessions
from pgs_hub.hub.enrolment import SYSTEM, certify
from pgs_hub.hub.policy.model import load_policy
from pgs_hub.hub.server.app import create_app_for
from pgs_hub.hub.services import admin
from pgs_hub.hub.services.access import DECISIONS
from pgs_hub.hub.services.context import HubContext, PolicyHolder
from pgs_hub.hub.storage import console_sessions
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.hub.storage.migrate import upgrade
from pgs_hub.protocols.envelope import seal_message
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.receipt import ReceiptStatus
from pgs_hub.protocols.receipts import make_receipt, sign_receipt
from tests.e2e.messages import example
from tests.e2e.rawhttp import call, signature_headers

#: (method, route) -> why it may answer without a policy decision. Reviewed: none of these reads
#: or writes a participant's data.
pytestmark = pytest.mark.filterwarnings("ignore:returning HTTPException:DeprecationWarning")

PUBLIC = {
    "/v1/health": "readiness: the database answers, nothing about anyone",
    "/v1/health/live": "liveness: the process answers, nothing about anyone",
    "/v1/health/ready": "readiness: the database answers and can write, nothing about anyone",
    "/v1/openapi.json": "the published API description",
    "/metrics": "counters without participant ids (loopback deployments)",
    "/console/static/{name}": "the console's CSS and script files",
}

#: Queries that make a route reach its data rather than refuse a missing parameter.
QUERIES = {
    "/v1/audit/proof/inclusion": "?mid={mid}",
    "/v1/audit/proof/consistency": "?first=1&second=2",
    "/v1/audit/entries": "?start=0&end=5",
}

NG, GH, WCO, AUDITOR, ADMIN = (
    "NG-NCP-LAGOS",
    "GH-NCP-ACCRA",
    "WCO-PGS-BRUSSELS",
    "GH-AUDIT",
    "WCO-ADMIN",
)
TARGET = "TG-NCP-LOME"
STRANGER = "NG-NCP-KANO"  # has keys, is not enrolled: what an unauthenticated caller signs with
CALLERS = {
    NG: ("ncp", None),
    WCO: ("wco", None),
    AUDITOR: ("auditor", "GH"),
    ADMIN: ("admin", None),
}


@dataclass
class Person:
    signing: SigningKey
    decryption: DecryptionKey


@dataclass
class World:
    ctx: HubContext
    url: str
    authority: SigningKey
    session: aiohttp.ClientSession
    people: dict[str, Person] = field(default_factory=dict)
    mid: str = ""
    envelope: bytes = b""
    enrolled: int = 0

    def certificate(self, pid: str, role: str, scope: str | None = None) -> tuple[bytes, Person]:
        person = Person(SigningKey.generate(), DecryptionKey.generate())
        raw = certify(
            self.authority, pid, role=role, scope=scope, verify=person.signing.public,
            encrypt=person.decryption.public, now=int(time.time()),
        )  # fmt: skip
        return raw, person

    async def enrol(self, pid: str, role: str, scope: str | None = None) -> None:
        raw, person = self.certificate(pid, role, scope)
        await admin.enrol(self.ctx, SYSTEM, raw)
        self.people[pid] = person

    def decisions(self) -> float:
        return self.ctx.metrics.total(DECISIONS)

    def seal(self, who: str) -> bytes:
        me = self.people[who]
        return seal_message(
            sender_id=who, signer=me.signing,
            recipients=[(p, self.people[p].decryption.public) for p in (GH, WCO)],
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), tlp=Tlp.AMBER,
            now=int(time.time()),
        ).raw  # fmt: skip

    async def console_cookie(self, who: str) -> str:
        """A console session of ``who``, opened in the database directly (as a sign-in would)."""
        async with self.ctx.engine.begin() as conn:
            opened = await console_sessions.open_session(conn, who, self.ctx.now())
        return opened.id


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    await upgrade(url)
    engine = create_engine(url)
    authority = SigningKey.generate()
    ctx = HubContext(
        engine=engine, policy=PolicyHolder(None, load_policy("", source="test")),
        authority=authority.public, hub_key=SigningKey.generate(), log_signer=SigningKey.generate(),
    )  # fmt: skip
    runner = web.AppRunner(create_app_for(ctx))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        built = World(ctx, f"http://127.0.0.1:{port}", authority, session)
        for pid, (role, scope) in CALLERS.items():
            await built.enrol(pid, role, scope)
        await built.enrol(GH, "ncp")
        await built.enrol(TARGET, "ncp")
        built.people[STRANGER] = built.certificate(STRANGER, "ncp")[1]
        built.envelope = built.seal(NG)
        reply = await call(session, "POST", f"{built.url}/v1/envelopes", body=built.envelope,
                           content_type="application/jose+json")  # fmt: skip
        assert reply.status == 201, reply.body
        built.mid = reply.json()["mid"]
        try:
            yield built
        finally:
            await runner.cleanup()
            await ctx.close_writers()
            await engine.dispose()


def routes(app: web.Application) -> list[tuple[str, str]]:
    """(method, path template) of every route. A HEAD that runs the very handler of its GET (what
    ``add_get`` registers) is that GET, and is tried as one."""
    handlers: dict[tuple[str, str], object] = {}
    for route in app.router.routes():
        info = route.resource.canonical if route.resource is not None else ""
        handlers[(route.method, info)] = route.handler
    return sorted(
        (method, path)
        for (method, path), handler in handlers.items()
        if not (method == "HEAD" and handlers.get(("GET", path)) is handler)
    )


def fill(  # noqa: PLR0911 - one body per kind of POST
    world: World, method: str, template: str, who: str
) -> tuple[str, bytes | None, str | None]:
    """A concrete path, body and content type for one route and caller."""
    values = {
        "mid": world.mid, "participant": TARGET, "kid": world.people[NG].signing.kid,
        "tail": "nowhere", "token": "x" * 43, "path": "0/000", "upload": "x" * 22,
        "name": "console.css" if template.startswith("/console/static") else "ALL",
    }  # fmt: skip
    path = re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: values[m.group(1)], template)
    path += QUERIES.get(template, "").format(mid=world.mid)
    if method != "POST":
        return path, None, None
    if path == "/v1/envelopes":
        return path, world.seal(who), "application/jose+json"
    if path.endswith("/receipts"):
        receipt = make_receipt(
            envelope=world.envelope, mid=world.mid, status=ReceiptStatus.DELIVERED, by=who,
            at=datetime.fromtimestamp(int(time.time()), UTC),
        )  # fmt: skip
        return path, sign_receipt(receipt, world.people[who].signing), "application/jose+json"
    if path == "/v1/admin/participants":
        world.enrolled += 1
        raw, _ = world.certificate(f"TG-NCP-X{world.enrolled}", "ncp")
        return path, raw, "application/jose+json"
    if path.endswith("/certificate"):
        raw, _ = world.certificate(TARGET, "ncp")
        return path, raw, "application/jose+json"
    if path.endswith("/status"):
        return path, json.dumps({"action": "reinstate"}).encode(), "application/json"
    return path, b"", "application/json"


async def request(world: World, method: str, template: str, who: str | None) -> int:
    """Call one route as ``who`` (None: unauthenticated); the HTTP status."""
    path, body, ctype = fill(world, method, template, who or STRANGER)
    url = world.url + path
    key = world.people[who].signing if who else None
    if template == "/v1/stream" and method == "GET":
        headers = signature_headers(key, "GET", url, None) if key else {}
        try:
            async with world.session.ws_connect(url, headers=headers) as ws:
                await ws.receive(timeout=0.2)
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status
        except TimeoutError:
            pass
        return 101
    if template.startswith("/console") and template != "/console/login/{token}":
        world.session.cookie_jar.clear()
        cookie = await world.console_cookie(who) if who else None
        headers = {"Cookie": f"pgs_console={cookie}"} if cookie else {}
        # The sign-out form carries the session's CSRF token.
        data = {"csrf": sessions.csrf_token(cookie)} if method == "POST" and cookie else None
        world.session.cookie_jar.clear()
        async with world.session.request(
            method, URL(url, encoded=True), headers=headers, data=data, allow_redirects=False
        ) as resp:
            await resp.read()
            return resp.status
    if template == "/console/login/{token}":
        world.session.cookie_jar.clear()
        link = None
        if who:
            reply = await call(world.session, "POST", f"{world.url}/v1/console/login-links",
                               key=key, body=b"", content_type="application/json")  # fmt: skip
            link = reply.json()["url"] if reply.status == 201 else None
        async with world.session.request(method, link or url, allow_redirects=False) as resp:
            await resp.read()
            return resp.status
    # tus routes refuse a request without the protocol's headers before anything else.
    tus = None
    if template.startswith("/v1/uploads"):
        tus = {"Tus-Resumable": "1.0.0", "Upload-Length": "10", "Upload-Offset": "0"}
        if method == "PATCH":
            body, ctype = b"x", "application/offset+octet-stream"
    reply = await call(
        world.session, method, url, key=key, body=body, content_type=ctype, headers=tus
    )
    return reply.status


async def decided(world: World, before: float) -> bool:
    """Whether a decision was counted since ``before`` (a stream decides once it is open, so
    give the hub's side a moment to run)."""
    for _ in range(50):
        if world.decisions() > before:
            return True
        await asyncio.sleep(0.02)
    return False


async def test_every_route_reaches_data_only_through_a_policy_decision(world: World) -> None:
    app = create_app_for(world.ctx)  # the same route table the running app was built with
    table = routes(app)
    assert len(table) > 25, table  # API, log, console and stream routes all enumerated
    undecided: list[str] = []
    open_doors: list[str] = []
    for method, template in table:
        if template in PUBLIC:
            continue
        for who in CALLERS:
            before = world.decisions()
            status = await request(world, method, template, who)
            if not await decided(world, before):
                undecided.append(f"{method} {template} as {who}: {status} without a decision")
        status = await request(world, method, template, None)
        if status < 400 and status != 303:
            open_doors.append(f"{method} {template} unauthenticated: {status}")
    assert not undecided, "\n".join(undecided)
    assert not open_doors, "\n".join(open_doors)


async def test_the_public_allow_list_is_still_routed(world: World) -> None:
    """A reviewed exception that no longer exists must leave the list (it would hide nothing, but
    the list is only trusted while it is exact)."""
    table = set(routes(create_app_for(world.ctx)))
    assert {("GET", path) for path in PUBLIC} <= table
