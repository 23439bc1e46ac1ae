"""Bad input against a real hub, on SQLite and PostgreSQL: every refusal is a specific RFC 9457
problem document (``application/problem+json`` with ``status``, a stable ``code`` and a ``detail``
that says what was wrong), and nothing is stored for it. Then ~300 random and mutated requests:
never a 5xx, every 4xx a problem document.

Requests are built by hand (tests/e2e/rawhttp.py) wherever the client SDK would refuse to produce
them. Each test starts one hub, so the cases are grouped: a case that fails is collected with its
name and the test goes on, failing at the end with the whole list.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from yarl import URL

from pgs_hub.crypto.keys import DecryptionKey, SigningKey
from pgs_hub.hub import keystore
from pgs_hub.hub.enrolment import certify
from pgs_hub.hub.errors import InvalidRequest
from pgs_hub.hub.policy.model import load_policy_file
from pgs_hub.hub.server.app import BODY_MARGIN
from pgs_hub.hub.storage import tables
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.protocols.envelope import seal_message
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.receipt import ReceiptStatus
from pgs_hub.protocols.receipts import make_receipt, sign_receipt
from tests.e2e.harness import RunningHub, start_hub, wait_healthy
from tests.e2e.messages import example
from tests.e2e.rawhttp import JOSE, Reply, call, replay, signature_headers
from tests.security import figures

NG, GH, WCO = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "WCO-PGS-BRUSSELS"
SUSPENDED, REVOKED, ROTATED = "CM-NCP-DOUALA", "FR-NCP-PARIS", "SN-NCP-DAKAR"
AUDITOR = "WCO-AUDIT"
STORED: tuple[Table, ...] = (
    tables.envelopes,
    tables.deliveries,
    tables.mailbox,
    tables.receipts,
)
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
WEBSOCKET_UPGRADE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


@dataclass
class Checks:
    """Runs named cases against one hub and collects every failure."""

    hub: RunningHub
    session: aiohttp.ClientSession
    engine: AsyncEngine  # a direct connection to the hub's database, to count what is stored
    failures: list[str] = field(default_factory=list)
    cases: int = 0

    async def counts(self) -> dict[str, int]:
        async with self.engine.connect() as conn:
            return {
                t.name: int((await conn.execute(select(func.count()).select_from(t))).scalar())
                for t in STORED
            }

    async def expect(
        self, name: str, send: Awaitable[Reply], status: int, code: str, words: str = ""
    ) -> Reply:
        """Run one case: ``send`` must get a ``status`` problem with ``code`` whose detail
        mentions ``words`` (case-insensitive), and must store nothing."""
        self.cases += 1
        before = await self.counts()
        reply = await send
        after = await self.counts()
        fail = self.failures.append
        if before != after:
            fail(f"{name}: stored something: {before} -> {after}")
        if reply.status != status:
            fail(f"{name}: status {reply.status}, expected {status}: {reply.body[:300]!r}")
            return reply
        try:
            doc = reply.problem()
        except AssertionError as exc:
            fail(f"{name}: {exc}")
            return reply
        if doc["code"] != code:
            fail(f"{name}: code {doc['code']!r}, expected {code!r} ({doc['detail']})")
        if words.lower() not in doc["detail"].lower():
            fail(f"{name}: detail {doc['detail']!r} does not mention {words!r}")
        return reply

    def check(self, ok: bool, text: str) -> None:
        self.cases += 1
        if not ok:
            self.failures.append(text)

    def person(self, pid: str) -> keystore.LocalParticipant:
        return self.hub.people[pid]

    def key(self, pid: str) -> SigningKey:
        return self.person(pid).signing

    def url(self, path: str) -> str:
        return self.hub.url + path

    def signed(
        self, who: str | SigningKey, method: str, path: str, body: bytes | None = None,
        ctype: str | None = None, *, now: int | None = None, headers: dict[str, str] | None = None,
    ) -> Awaitable[Reply]:  # fmt: skip
        key = who if isinstance(who, SigningKey) else self.key(who)
        return call(
            self.session, method, self.url(path), key=key, body=body, content_type=ctype,
            now=now, headers=headers,
        )  # fmt: skip

    def plain(
        self, method: str, path: str, body: bytes | None = None, ctype: str | None = None
    ) -> Awaitable[Reply]:
        return call(self.session, method, self.url(path), body=body, content_type=ctype)

    def submit(self, raw: bytes) -> Awaitable[Reply]:
        return self.plain("POST", "/v1/envelopes", raw, JOSE)

    def seal(
        self, who: str, to: list[tuple[str, Any]], *, kind: MessageKind = MessageKind.ALERT,
        now: int | None = None, claim: str | None = None, group: str | None = None,
    ) -> bytes:  # fmt: skip
        return seal_message(
            sender_id=claim or who, signer=self.key(who), recipients=to, kind=kind,
            content=example(kind), tlp=Tlp.GREEN if group else Tlp.AMBER,
            now=int(time.time()) if now is None else now, group=group,
        ).raw  # fmt: skip

    def to(self, *pids: str) -> list[tuple[str, Any]]:
        return [(pid, self.person(pid).decryption.public) for pid in pids]

    def receipt(self, who: str, mid: str, envelope: bytes, status: ReceiptStatus) -> bytes:
        receipt = make_receipt(
            envelope=envelope, mid=mid, status=status, by=who,
            at=datetime.fromtimestamp(int(time.time()), UTC),
        )  # fmt: skip
        return sign_receipt(receipt, self.key(who))

    def report(self) -> str:
        return f"{len(self.failures)} of {self.cases} checks failed:\n" + "\n".join(self.failures)


async def build(hub: RunningHub) -> str:
    """The participants every case needs, and one envelope NG -> GH, WCO; returns its id."""
    for pid in (NG, GH, SUSPENDED, REVOKED, ROTATED):
        await hub.enrol(pid, "ncp")
    await hub.enrol(WCO, "wco")
    await hub.enrol(AUDITOR, "auditor")
    new = keystore.create(hub.home / "people" / f"{ROTATED}-2", ROTATED, None)
    certificate = certify(
        hub.authority, ROTATED, role="ncp", verify=new.signing.public,
        encrypt=new.decryption.public, now=int(time.time()),
    )  # fmt: skip
    async with hub.client(hub.admin) as admin:
        await admin.rotate(ROTATED, certificate)
        await admin.set_status(SUSPENDED, "suspend")
        await admin.set_status(REVOKED, "revoke")
    async with hub.client(NG) as ng:
        sealed, _ = await ng.send(
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH, WCO]
        )
    return sealed.header.mid


#: A value for a path placeholder these tests do not know yet (shaped like a key id).
UNKNOWN_PLACEHOLDER = "A" * 43


def fill(template: str, value: Callable[[str], str]) -> str:
    """An OpenAPI path template with each ``{name}`` replaced by ``value(name)``."""
    return re.sub(r"\{(\w+)\}", lambda m: value(m.group(1)), template)


# --- request bodies and signatures ----------------------------------------------------------


async def body_and_envelope_cases(c: Checks, mid: str, envelope: bytes) -> None:
    receipts = f"/v1/envelopes/{mid}/receipts"
    status_of = "/v1/admin/participants/{}/status"
    good_receipt = c.receipt(GH, mid, envelope, ReceiptStatus.DELIVERED)
    admin = c.hub.admin.signing
    for name, body in [("malformed JSON", b'{"protected": "eyJ'), ("not a JSON object", b"[1, 2]")]:
        await c.expect(f"envelope: {name}", c.submit(body), 400, "crypto.malformed", "JSON")
        await c.expect(
            f"receipt: {name}", c.signed(GH, "POST", receipts, body, JOSE),
            400, "crypto.malformed", "JSON",
        )  # fmt: skip
        await c.expect(
            f"admin status: {name}",
            c.signed(admin, "POST", status_of.format(NG), body, "application/json"),
            400, "request.malformed", "JSON",
        )  # fmt: skip
    for path in ("/v1/envelopes", receipts, "/v1/admin/participants"):
        await c.expect(
            f"{path}: wrong content type",
            c.plain("POST", path, good_receipt, "text/plain"),
            415, "request.unsupported_media_type", "application/jose+json",
        )  # fmt: skip
    nested = b'{"a":' * 5000 + b"1" + b"}" * 5000
    await c.expect(
        "envelope nested 5000 deep", c.submit(nested), 400, "crypto.oversize", "JSON values"
    )  # refused by the cap on JSON values before any parsing

    # Signatures.
    await c.expect(
        "no signature", c.plain("GET", "/v1/inbox"), 401, "auth.missing_signature", "not signed"
    )
    await c.expect(
        "receipt without signature", c.plain("POST", receipts, good_receipt, JOSE),
        401, "auth.missing_signature", "not signed",
    )  # fmt: skip
    claims_gh = SigningKey(c.key(NG).private, c.key(GH).public)
    await c.expect(
        "signed by another key than the keyid", c.signed(claims_gh, "GET", "/v1/inbox"),
        401, "auth.bad_signature", "not valid",
    )  # fmt: skip
    stranger = SigningKey.generate()
    await c.expect(
        "signed by a key nobody enrolled", c.signed(stranger, "GET", "/v1/inbox"),
        401, "auth.unknown_key", "key",
    )  # fmt: skip
    url = c.url(receipts)
    headers = {"Content-Type": JOSE} | signature_headers(c.key(GH), "POST", url, good_receipt)
    other = c.receipt(GH, mid, envelope, ReceiptStatus.READ)
    await c.expect(
        "signature over another body", replay(c.session, "POST", url, headers, other),
        401, "auth.digest_mismatch", "Content-Digest",
    )  # fmt: skip
    for minutes in (-10, 10):
        await c.expect(
            f"created {minutes:+} minutes",
            c.signed(NG, "GET", "/v1/inbox", now=int(time.time()) + 60 * minutes),
            401, "auth.expired", "clock",
        )  # fmt: skip
    inbox = c.url("/v1/inbox")
    recorded = signature_headers(c.key(NG), "GET", inbox, None)
    first = await replay(c.session, "GET", inbox, recorded)
    c.check(first.status == 200, f"the original of a replayed request got {first.status}")
    await c.expect(
        "replayed request", replay(c.session, "GET", inbox, recorded),
        401, "auth.replay", "replay",
    )  # fmt: skip

    # Participants that may not act.
    await c.expect(
        "suspended participant's request", c.signed(SUSPENDED, "GET", "/v1/inbox"),
        403, "participant.suspended", "suspended",
    )  # fmt: skip
    await c.expect(
        "revoked participant's request", c.signed(REVOKED, "GET", "/v1/inbox"),
        401, "auth.key_not_current", "revoked",
    )  # fmt: skip

    # Envelopes the policy refuses.
    now = int(time.time())
    day = 24 * 3600
    await c.expect(
        "expired envelope", c.submit(c.seal(NG, c.to(GH), now=now - 40 * day)),
        422, "envelope.expired", "expired",
    )  # fmt: skip
    await c.expect(
        "envelope iat a day ahead", c.submit(c.seal(NG, c.to(GH), now=now + day)),
        422, "envelope.not_yet_valid", "clock",
    )  # fmt: skip
    nobody = [("ZZ-NCP-NOBODY", DecryptionKey.generate().public)]
    await c.expect(
        "unknown recipient", c.submit(c.seal(NG, nobody)),
        422, "recipient.unknown", "ZZ-NCP-NOBODY",
    )  # fmt: skip
    await c.expect(
        "recipient's replaced key", c.submit(c.seal(NG, c.to(ROTATED))),
        422, "recipient.stale_key", ROTATED,
    )  # fmt: skip
    await c.expect(
        "recipients that are not the group",
        c.submit(c.seal(WCO, c.to(NG), kind=MessageKind.NOTICE, group="WCA")),
        422, "group.mismatch", GH,
    )  # fmt: skip
    await c.expect(
        "sender impersonation", c.submit(c.seal(NG, c.to(WCO), claim=GH)),
        403, "sender.impersonation", "itself",
    )  # fmt: skip
    await c.expect(
        "envelope from a revoked participant", c.submit(c.seal(REVOKED, c.to(NG))),
        401, "auth.key_not_current", "revoked",
    )  # fmt: skip
    await c.expect(
        "envelope from a suspended participant", c.submit(c.seal(SUSPENDED, c.to(NG))),
        403, "participant.suspended", "suspended",
    )  # fmt: skip
    await c.expect(
        "envelope to a suspended participant", c.submit(c.seal(NG, c.to(SUSPENDED))),
        403, "recipient.inactive", SUSPENDED,
    )  # fmt: skip


def stream_of(size: int) -> AsyncIterator[bytes]:
    """``size`` bytes, sent in 64 KiB chunks (chunked transfer encoding: no Content-Length)."""

    async def chunks() -> AsyncIterator[bytes]:
        left = size
        while left > 0:
            yield b"x" * min(left, 65536)
            left -= 65536

    return chunks()


async def oversized_body(c: Checks) -> None:
    policy = load_policy_file(c.hub.home / "policy.toml")
    largest = policy.limits.max_envelope_bytes
    for name, size, words in [
        (
            "body over the read limit, streamed",
            largest + BODY_MARGIN + 1,
            str(largest + BODY_MARGIN),
        ),
        ("envelope over max_envelope_bytes", largest + 1, str(largest)),
    ]:
        url = c.url("/v1/envelopes")
        await c.expect(
            name, call(c.session, "POST", url, body=stream_of(size), content_type=JOSE),
            413, "request.too_large", words,
        )  # fmt: skip
        health = await c.plain("GET", "/v1/health")
        c.check(health.status == 200, f"the hub is not healthy after {name}: {health.status}")


# --- routes, methods, query parameters, path ids ----------------------------------------------


async def method_cases(c: Checks, mid: str) -> None:
    spec = (await c.plain("GET", "/v1/openapi.json")).json()
    samples = {"mid": mid, "participant": NG, "name": "WCA", "kid": c.key(NG).kid}
    for template, operations in spec["paths"].items():
        path = fill(template, lambda name: samples.get(name, UNKNOWN_PLACEHOLDER))
        allowed = {m.upper() for m in operations if m.upper() in HTTP_METHODS}
        if "GET" in allowed:
            allowed.add("HEAD")
        for method in HTTP_METHODS:
            if method in allowed:
                continue
            reply = await c.expect(
                f"{method} {template}", c.plain(method, path), 405, "method.not_allowed", method
            )
            given = {m.strip() for m in reply.headers.get("Allow", "").split(",") if m.strip()}
            c.check(given == allowed, f"{method} {template}: Allow {given}, expected {allowed}")


async def unknown_routes(c: Checks, mid: str) -> None:
    for method, path in [
        ("GET", "/"), ("GET", "/v1"), ("GET", "/v1/nothing"), ("POST", "/v2/envelopes"),
        ("GET", "/v1/inbox/more"), ("GET", f"/v1/envelopes/{mid}/nothing"),
        ("POST", "/v1/admin/participants/NG-NCP-LAGOS"), ("DELETE", "/v1/admin"),
    ]:  # fmt: skip
        await c.expect(
            f"{method} {path}", c.plain(method, path), 404, "route.not_found", "no such route"
        )


async def query_cases(c: Checks) -> None:
    bad_numbers = ["-1", "abc", "1e3", "1.5", "", "0x10", "+1", "²", "99999999999999999999"]
    for path, who, names in [
        ("/v1/inbox", GH, ("after", "limit")),
        ("/v1/audit/records", AUDITOR, ("after", "limit")),
        ("/v1/stream", WCO, ("after",)),
    ]:
        upgrade = WEBSOCKET_UPGRADE if path == "/v1/stream" else None
        for name in names:
            for value in bad_numbers:
                query = f"{path}?{name}={URL.build(query={'v': value}).raw_query_string[2:]}"
                await c.expect(
                    f"{query}", c.signed(who, "GET", query, headers=upgrade),
                    422, "request.invalid", name,
                )  # fmt: skip
        if upgrade is None:
            big = await c.signed(who, "GET", f"{path}?after=999999999999999999")
            c.check(big.status == 200, f"{path}?after=10^18-1: {big.status} {big.body[:200]!r}")
    await c.expect(
        "stream without a WebSocket upgrade", c.signed(WCO, "GET", "/v1/stream"),
        400, "stream.not_websocket", "WebSocket",
    )  # fmt: skip


async def path_id_cases(c: Checks, mid: str) -> None:
    missing = (await c.signed(NG, "GET", f"/v1/envelopes/{uuid.uuid4()}")).brief()
    c.check(missing[:2] == (404, "envelope.not_found"), f"a guessed id answers {missing}")
    receipt = c.receipt(GH, mid, (await c.signed(GH, "GET", f"/v1/envelopes/{mid}")).body,
                        ReceiptStatus.DELIVERED)  # fmt: skip
    for bad in ["not-a-uuid", mid.upper(), "%00", "%ff%fe", "%ed%a0%80", "x" * 300,
                "%27%3B%20DROP%20TABLE%20envelopes%3B--", mid + "%00"]:  # fmt: skip
        for method, path, who, body in [
            ("GET", f"/v1/envelopes/{bad}", NG, None),
            ("GET", f"/v1/envelopes/{bad}/status", NG, None),
            ("POST", f"/v1/envelopes/{bad}/receipts", GH, receipt),
        ]:
            reply = await c.expect(
                f"{method} {path}",
                c.signed(who, method, path, body, JOSE if body else None),
                404, "envelope.not_found", "no such envelope",
            )  # fmt: skip
            if method == "GET" and path.endswith(bad):
                c.check(reply.brief() == missing, f"{path} answers {reply.brief()}, not {missing}")
    for bad in ["%00", "%ed%a0%80", "NG-NCP-%00"]:
        await c.expect(
            f"directory {bad}", c.signed(NG, "GET", f"/v1/directory/{bad}"),
            404, "participant.not_found", "no such participant",
        )  # fmt: skip
        await c.expect(
            f"admin status {bad}",
            c.signed(c.hub.admin.signing, "POST", f"/v1/admin/participants/{bad}/status",
                     b'{"action": "suspend"}', "application/json"),
            404, "participant.not_found", "no such participant",
        )  # fmt: skip
        await c.expect(
            f"log key proof {bad}", c.signed(NG, "GET", f"/v1/audit/proof/key/{bad}"),
            404, "key.not_found", "no such key",
        )  # fmt: skip
    for bad in ["%00", f"{mid}%00", "not-a-uuid"]:
        await c.expect(
            f"log inclusion mid={bad}",
            c.signed(AUDITOR, "GET", f"/v1/audit/proof/inclusion?mid={bad}"),
            404, "log.not_found", "no log entry",
        )  # fmt: skip


async def test_bad_input_is_refused_with_a_problem_and_nothing_stored(hub: RunningHub) -> None:
    mid = await build(hub)
    engine = create_engine(hub.database_url)
    try:
        await bad_input_cases(hub, engine, mid)
    finally:
        await engine.dispose()
    assert "unexpected error" not in hub.log.read_text()


async def bad_input_cases(hub: RunningHub, engine: AsyncEngine, mid: str) -> None:
    async with aiohttp.ClientSession() as session:
        c = Checks(hub, session, engine)
        async with hub.client(GH) as gh:
            envelope = await gh.fetch(mid)
        await body_and_envelope_cases(c, mid, envelope)
        await method_cases(c, mid)
        await unknown_routes(c, mid)
        await query_cases(c)
        await path_id_cases(c, mid)
        await oversized_body(c)

        # A replay is refused after a restart too: the nonces are stored, not kept in memory.
        inbox = c.url("/v1/inbox")
        recorded = signature_headers(c.key(WCO), "GET", inbox, None)
        first = await replay(session, "GET", inbox, recorded)
        c.check(first.status == 200, f"the request to replay got {first.status}")
        assert hub.stop() == 0, hub.log.read_text()
        hub.process = await start_hub(hub.home, hub.database_url, URL(hub.url).port or 0)
        await wait_healthy(hub.url, hub.process, hub.log)
        await c.expect(
            "replay after a restart", replay(session, "GET", inbox, recorded),
            401, "auth.replay", "replay",
        )  # fmt: skip
        fresh = await c.signed(WCO, "GET", "/v1/inbox")
        c.check(fresh.status == 200, f"a fresh request after the restart got {fresh.status}")
    print(f"\n{c.cases} bad-input checks on {hub.database_url.split(':', 1)[0]}")
    figures.record("bad input over HTTP, signatures included (checks / failed)", tried=c.cases,
                   accepted=len(c.failures))  # fmt: skip
    assert not c.failures, c.report()


# --- never a 5xx --------------------------------------------------------------------------------


# Path segments as sent on the wire. Raw non-ASCII bytes are left out: they are not HTTP (RFC 9112
# request-target), and aiohttp's parser answers them with a text/plain 400 before the hub sees them.
JUNK_SEGMENTS = [
    "", "x", "..", "%2e%2e", "%00", "%ff", "%ed%a0%80", "%", "%zz", "%C3%A9", "-1",
    "0", "NG-NCP-LAGOS", "WCA", "ALL", "a" * 200, "%2F", "*", "'", "%22", "{mid}", "null",
]  # fmt: skip
# Values for integer query parameters; %EF%BC%91 is a full-width 1, which int() reads.
JUNK_NUMBERS = [
    "-1", "abc", "%C2%B2", "%EF%BC%91", "%00", "", "1e3", "0", "5", "999999999999999999",
    "99999999999999999999", "%20%31", "1%0A",
]  # fmt: skip
JUNK_QUERY = [
    "", "after=-1", "limit=abc", "after=1&after=2", "limit=0", "after=%00", "after=%C2%B2",
    "limit=99999999999999999999", "x=y", "after", "&&", "limit=5",
]  # fmt: skip
CONTENT_TYPES = [
    None, JOSE, "application/json", "text/plain", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "application/json; charset=latin-1", "*/*",
]  # fmt: skip


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Flip, cut, duplicate or splice bytes of ``data``."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not out:
            break
        i = rng.randrange(len(out))
        match rng.randrange(5):
            case 0:
                out[i] ^= 1 << rng.randrange(8)
            case 1:
                del out[i : i + rng.randint(1, 64)]
            case 2:
                out[i:i] = out[i : i + rng.randint(1, 64)]
            case 3:
                out[i:i] = rng.choice([b"\x00", b'"', b"{", b"]", b"\\u0000", b"\xff", b"1e999"])
            case _:
                out = out[:i]
    return bytes(out)


def junk_signature(rng: random.Random) -> dict[str, str]:
    created = int(time.time())
    choices = [
        {"Signature-Input": "pgs=()", "Signature": "pgs=:AAAA:"},
        {"Signature-Input": 'pgs=("@method");created=1', "Signature": "pgs=:" + "A" * 88 + ":"},
        {"Signature-Input": f'pgs=("@method" "@target-uri");created={created};keyid="x";'
                            f'nonce="{"n" * 22}";alg="ed25519"',
         "Signature": "pgs=:" + "A" * 86 + "==:"},
        {"Signature-Input": "garbage ((;", "Signature": "also é garbage"},
        {"Signature-Input": f'pgs=("@method" "@target-uri");created={10**15};keyid="k";nonce="'
                            + "n" * 22 + '";alg="rsa"', "Signature": "pgs=:" + "A" * 88 + ":"},
        {"Signature-Input": 'a=("@method"), pgs=("@method")', "Signature": "a=:AA==:, pgs=:AA==:"},
        {"Content-Digest": "md5=:AAAA:", "Signature-Input": "pgs=()", "Signature": "pgs=:AA==:"},
    ]  # fmt: skip
    return rng.choice(choices)


@dataclass(frozen=True)
class Fuzzer:
    """Random requests over the routes of the OpenAPI document, from seeds of valid input."""

    rng: random.Random
    base: str
    templates: list[tuple[str, dict[str, Any]]]
    values: dict[str, str]  # a valid value per path placeholder
    signers: list[SigningKey]
    seeds: list[bytes]

    def method(self, operations: dict[str, Any]) -> str:
        if self.rng.random() < 0.8:
            return str(self.rng.choice([m.upper() for m in operations]))
        return self.rng.choice([*HTTP_METHODS, "HEAD", "TRACE", "PROPFIND"])

    def url(self, template: str, operation: dict[str, Any]) -> str:
        rng = self.rng

        def value(name: str) -> str:
            if rng.random() < 0.1:
                return str(uuid.uuid4())
            good = self.values.get(name, UNKNOWN_PLACEHOLDER)
            return good if rng.random() < 0.4 else rng.choice(JUNK_SEGMENTS)

        path = fill(template, value)
        if rng.random() < 0.05:
            path += "/" + rng.choice(JUNK_SEGMENTS)
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        if names and rng.random() < 0.7:
            picked = rng.sample(names, rng.randint(1, len(names)))
            query = "&".join(f"{name}={rng.choice(JUNK_NUMBERS)}" for name in picked)
        else:
            query = rng.choice(JUNK_QUERY) if rng.random() < 0.2 else ""
        return self.base + path + (f"?{query}" if query else "")

    def body(self, method: str) -> bytes | None:
        if method in {"GET", "HEAD"} and self.rng.random() < 0.9:
            return None
        body = self.rng.choice(self.seeds)
        return mutate(body, self.rng) if self.rng.random() < 0.7 else body

    def headers(
        self, method: str, url: str, body: bytes | None
    ) -> tuple[dict[str, str], bytes | None]:
        rng = self.rng
        ctype = JOSE if body and rng.random() < 0.6 else rng.choice(CONTENT_TYPES)
        headers: dict[str, str] = {"Content-Type": ctype} if ctype else {}
        roll = rng.random()
        if roll < 0.6:
            with contextlib.suppress(InvalidRequest):  # a URL the signer refuses goes unsigned
                headers |= signature_headers(rng.choice(self.signers), method, url, body)
            if rng.random() < 0.2 and body:
                body = mutate(body, rng)  # signed, then changed
        elif roll < 0.85:
            headers |= junk_signature(rng)
        if rng.random() < 0.05:
            headers["Host"] = rng.choice(["", "[", "exa mple", "h:99999", "127.0.0.1:1"])
        return headers, body

    def request(self) -> tuple[str, str, dict[str, str], bytes | None]:
        # Routes that take path or query parameters have more to get wrong: three times the weight.
        weights = [
            3 if "{" in t or "parameters" in json.dumps(ops) else 1 for t, ops in self.templates
        ]
        template, operations = self.rng.choices(self.templates, weights)[0]
        method = self.method(operations)
        url = self.url(template, operations.get(method.lower(), {}))
        headers, body = self.headers(method, url, self.body(method))
        return method, url, headers, body


async def fuzz_world(hub: RunningHub) -> tuple[str, list[bytes]]:
    """NG, GH, WCO and an auditor; an alert NG -> GH, WCO with GH's receipt. Returns the alert's
    id and the seed bodies (valid envelope, receipt, admin action, JSON odds and ends)."""
    for pid in (NG, GH):
        await hub.enrol(pid, "ncp")
    await hub.enrol(WCO, "wco")
    await hub.enrol(AUDITOR, "auditor")
    async with hub.client(NG) as ng:
        alert = example(MessageKind.ALERT)
        sealed, _ = await ng.send(kind=MessageKind.ALERT, content=alert, to=[GH, WCO])
    async with hub.client(GH) as gh:
        await gh.ack(sealed.header.mid, ReceiptStatus.DELIVERED)
    async with hub.client(NG) as ng:
        receipts = [i for i in (await ng.inbox()).items if i.type == "receipt"]
    seeds = [
        sealed.raw, receipts[0].receipt.encode(), b'{"action": "suspend"}', b"{}", b"[]", b"",
        b'{"a":' * 40 + b"1" + b"}" * 40, bytes(range(256)), b"\xef\xbb\xbf{}", b'{"a":1,"a":2}',
    ]  # fmt: skip
    return sealed.header.mid, seeds


async def test_random_requests_never_get_a_5xx(hub: RunningHub) -> None:
    mid, seeds = await fuzz_world(hub)
    signers = [hub.people[p].signing for p in (NG, GH, WCO, AUDITOR)] + [hub.admin.signing]
    bad: list[str] = []
    statuses: Counter[int] = Counter()
    codes: Counter[str] = Counter()
    async with aiohttp.ClientSession() as session:
        spec = (await call(session, "GET", hub.url + "/v1/openapi.json")).json()
        fuzzer = Fuzzer(
            rng=random.Random(20240601), base=hub.url, templates=list(spec["paths"].items()),
            values={"mid": mid, "participant": GH, "name": "WCA", "kid": signers[0].kid},
            signers=signers, seeds=seeds,
        )  # fmt: skip
        deadline = time.monotonic() + 25
        for _ in range(300):
            if time.monotonic() > deadline:
                bad.append(f"ran out of time after {statuses.total()} requests")
                break
            method, url, headers, body = fuzzer.request()
            try:
                reply = await replay(session, method, url, headers, body)
            except aiohttp.ClientError as exc:
                bad.append(f"{method} {url}: the connection failed: {exc!r}")
                continue
            statuses[reply.status] += 1
            if reply.status >= 500:
                bad.append(f"{method} {url} -> {reply.status} {reply.body[:200]!r}")
            elif reply.status >= 400 and method != "HEAD":
                try:
                    codes[str(reply.problem()["code"])] += 1
                except (AssertionError, ValueError) as exc:
                    bad.append(f"{method} {url} -> {reply.status}, not a problem document: {exc}")
        health = await call(session, "GET", hub.url + "/v1/health")
    database = hub.database_url.split(":", 1)[0]
    print(f"\n{statuses.total()} random requests on {database}: {sorted(statuses.items())}")
    figures.record("random requests over HTTP (requests / 5xx or not a problem)",
                   tried=statuses.total(), accepted=len(bad))  # fmt: skip
    print(f"problem codes: {sorted(codes.items())}")
    assert health.status == 200
    assert not bad, "\n".join(bad)
    assert "unexpected error" not in hub.log.read_text()
