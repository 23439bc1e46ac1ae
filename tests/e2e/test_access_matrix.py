"""Access control, table-driven, on one real hub per database.

Every participant (role x country) tries every endpoint on every object: each message id of a
small world of traffic plus a guessed id that does not exist. The expected outcome of each attempt
is computed here from the rules in docs/design/hub.md and hub/policy/default.toml, independently of
the hub's code; every difference is collected, and the test fails at the end listing all of them.

The rules checked: the sender and the recipients read an envelope; only the sender reads its
delivery status; only recipients post receipts; auditors and admins never read content nor post;
a global auditor reads every audit record, a country auditor only the records involving its
country (an envelope's sender and recipients, a receipt's author and the envelope's sender, a
denial's actor, an admin action's subject); NCP, WCO and admin participants get 403 on the audit
log; only the admin enrols, rotates or suspends; each role sends only the kinds the policy lists;
nobody sends as someone else, or signs a request with its key while naming another's. A hidden
envelope answers exactly like a missing one (status, code and detail): no existence oracle.
"""

from __future__ import annotations

import asyncio
import json
import time
import tomllib
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from pgs_hub.crypto.b64 import b64u_decode
from pgs_hub.crypto.keys import DecryptionKey, SigningKey
from pgs_hub.hub.enrolment import certify
from pgs_hub.hub.keystore import LocalParticipant
from pgs_hub.hub.storage import tables
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.protocols.envelope import seal_message
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.receipt import ReceiptStatus
from pgs_hub.protocols.messages.reply import Reply as ReplyContent
from pgs_hub.protocols.receipts import make_receipt, sign_receipt
from pgs_hub.protocols.routing import participant_country
from tests.e2e.harness import ADMIN, RunningHub
from tests.e2e.messages import example
from tests.e2e.rawhttp import JOSE, Reply, call, read_stream
from tests.security import figures

NG, GH, CM, FR = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "CM-NCP-DOUALA", "FR-NCP-PARIS"
WCO = "WCO-PGS-BRUSSELS"
AUDIT, GH_AUDIT, FR_AUDIT = "WCO-AUDIT", "GH-AUDIT", "FR-AUDIT"
TARGET = "TG-NCP-LOME"  # the participant that admin actions are tried on

#: participant -> (role, audit scope); the admin (harness.ADMIN) is added by the harness.
PARTICIPANTS: dict[str, tuple[str, str | None]] = {
    NG: ("ncp", None),
    GH: ("ncp", None),
    CM: ("ncp", None),
    FR: ("ncp", None),
    WCO: ("wco", None),
    AUDIT: ("auditor", None),
    GH_AUDIT: ("auditor", "GH"),
    FR_AUDIT: ("auditor", "FR"),
}
CALLERS = (*PARTICIPANTS, ADMIN)
ROLE = {pid: role for pid, (role, _) in PARTICIPANTS.items()} | {ADMIN: "admin"}
SCOPE = {AUDIT: None, GH_AUDIT: "GH", FR_AUDIT: "FR"}

#: What each role may send (docs/design/hub.md, Trust); checked against default.toml below.
SENDS: dict[str, frozenset[MessageKind]] = {
    "ncp": frozenset({MessageKind.ALERT, MessageKind.SEIZURE, MessageKind.RFI, MessageKind.REPLY}),
    "wco": frozenset(
        {
            MessageKind.ALERT,
            MessageKind.SEIZURE,
            MessageKind.RFI,
            MessageKind.REPLY,
            MessageKind.NOTICE,
        }
    ),
    "auditor": frozenset(),
    "admin": frozenset(),
}
KINDS = (
    MessageKind.ALERT,
    MessageKind.SEIZURE,
    MessageKind.RFI,
    MessageKind.REPLY,
    MessageKind.NOTICE,
)
DEFAULT_POLICY = Path(__file__).parents[2] / "hub" / "policy" / "default.toml"

NOT_FOUND = (404, "envelope.not_found")
ADMIN_ONLY = (403, "admin.forbidden")
AUDITORS_ONLY = (403, "audit.forbidden")
NO_LOG_ENTRY = (404, "log.not_found")


@dataclass(frozen=True)
class Message:
    kind: MessageKind
    sender: str
    recipients: frozenset[str]
    raw: bytes


@dataclass(frozen=True)
class Attempt:
    who: str
    action: str
    target: str
    expected: tuple[int, str | None]
    got: tuple[int, str | None]

    @property
    def unauthorized(self) -> bool:
        return self.expected[0] >= 400 and self.got[0] < 400

    @property
    def wrong(self) -> bool:
        return self.got != self.expected


@dataclass
class Matrix:
    """Every attempt and every violation found; one per database."""

    attempts: list[Attempt] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)  # unauthorized reads/writes seen in content
    problems: list[str] = field(default_factory=list)  # wrong answers that leak nothing

    def record(
        self,
        who: str,
        action: str,
        target: str,
        expected: tuple[int, str | None],
        reply: Reply | int,
    ) -> Attempt:
        """One attempt: ``reply`` is the HTTP reply, or the status of a WebSocket upgrade."""
        status, code = (reply, None) if isinstance(reply, int) else (reply.status, None)
        if isinstance(reply, Reply) and reply.status >= 400:
            try:
                code = reply.code
            except AssertionError as exc:  # a 4xx/5xx that is not a proper problem document
                self.problems.append(f"{who} {action} {target}: {exc}")
        attempt = Attempt(who, action, target, expected, (status, code))
        self.attempts.append(attempt)
        if attempt.unauthorized:
            self.leaks.append(f"{who} {action} {target}: allowed ({status}), expected {expected}")
        elif attempt.wrong:
            self.problems.append(f"{who} {action} {target}: got {attempt.got}, expected {expected}")
        return attempt

    def check(self, ok: bool, leak: bool, text: str) -> None:
        if not ok:
            (self.leaks if leak else self.problems).append(text)

    def report(self, database: str) -> str:
        allowed = sum(a.got[0] < 400 for a in self.attempts)
        lines = [
            f"access matrix on {database}: {len(self.attempts)} attempts, {allowed} allowed,"
            f" {len(self.attempts) - allowed} denied,"
            f" {len(self.leaks)} unauthorized reads/writes (existence oracles included),"
            f" {len(self.problems)} other mismatches",
            f"  {'action':<22}{'attempts':>9}{'allowed':>9}{'denied':>8}",
        ]
        per_action = Counter(a.action for a in self.attempts)
        for action in per_action:
            rows = [a for a in self.attempts if a.action == action]
            ok = sum(a.got[0] < 400 for a in rows)
            lines.append(f"  {action:<22}{len(rows):>9}{ok:>9}{len(rows) - ok:>8}")
        return "\n".join(lines)


@dataclass
class World:
    hub: RunningHub
    session: aiohttp.ClientSession
    messages: dict[str, Message] = field(default_factory=dict)
    receipts: set[tuple[str, str, str]] = field(default_factory=set)  # (mid, by, status)
    senders: dict[str, str] = field(default_factory=dict)  # every mid ever accepted -> sender

    def person(self, pid: str) -> LocalParticipant:
        return self.hub.admin if pid == ADMIN else self.hub.people[pid]

    def key(self, pid: str) -> SigningKey:
        return self.person(pid).signing

    def url(self, path: str) -> str:
        return self.hub.url + path

    async def call(
        self, who: str, method: str, path: str, body: bytes | None = None, ctype: str | None = None
    ) -> Reply:
        return await call(
            self.session, method, self.url(path), key=self.key(who), body=body, content_type=ctype
        )


# --- the rules --------------------------------------------------------------------------------


def may_read(who: str, m: Message | None) -> bool:
    return (
        m is not None and ROLE[who] in {"ncp", "wco"} and (who == m.sender or who in m.recipients)
    )


def may_see_status(who: str, m: Message | None) -> bool:
    return m is not None and who == m.sender


def may_post_receipt(who: str, m: Message | None) -> bool:
    return m is not None and who in m.recipients


def may_see_log(who: str, m: Message | None) -> bool:
    """The log entry of an envelope's acceptance: auditors in scope, its sender and recipients."""
    if m is None:
        return False
    if ROLE[who] == "auditor":
        countries = {participant_country(p) for p in (m.sender, *m.recipients)}
        return SCOPE[who] is None or SCOPE[who] in countries
    return may_read(who, m)


def involved(record: dict[str, Any], senders: dict[str, str]) -> set[str]:
    """The countries an audit record is about, from what it says (not from the hub's index)."""
    event, details = record["event"], json.loads(record["details"])
    if event == "envelope.accepted":
        return {participant_country(p) for p in (details["sender"], *details["recipients"])}
    if event == "receipt.recorded":
        return {participant_country(record["actor"]), participant_country(senders[details["mid"]])}
    if event == "access.denied":
        return {participant_country(record["actor"])}
    if event.startswith("participant.") or event == "keys.rotated":
        return {participant_country(record["subject"])}
    if event == "policy.reloaded":  # about the whole hub: global auditors only
        return set()
    raise AssertionError(f"the matrix does not know audit event {event!r}: extend involved()")


# --- the world --------------------------------------------------------------------------------


async def build(world: World) -> None:
    hub = world.hub
    for pid, (role, scope) in PARTICIPANTS.items():
        await hub.enrol(pid, role, scope)
    traffic = [
        (NG, MessageKind.ALERT, [GH, WCO], None),
        (GH, MessageKind.SEIZURE, [NG, WCO], None),
        (WCO, MessageKind.NOTICE, [], "WCA"),
        (FR, MessageKind.RFI, [CM], None),
    ]
    for sender, kind, to, group in traffic:
        async with hub.client(sender) as client:
            sealed, accepted = await client.send(
                kind=kind, content=example(kind), to=to, group=group, tlp=Tlp.GREEN
            )
        mid = sealed.header.mid
        world.messages[mid] = Message(kind, sender, frozenset(accepted.recipients), sealed.raw)
        world.senders[mid] = sender
    expected = {
        MessageKind.ALERT: {GH, WCO},
        MessageKind.SEIZURE: {NG, WCO},
        MessageKind.NOTICE: {NG, GH, CM},
        MessageKind.RFI: {CM},
    }
    assert {m.kind: set(m.recipients) for m in world.messages.values()} == expected
    await hub.enrol(TARGET, "ncp")  # after the notice to West and Central Africa, so not in it
    by_kind = {m.kind: mid for mid, m in world.messages.items()}
    acks = [
        (GH, MessageKind.ALERT, ReceiptStatus.READ),
        (WCO, MessageKind.ALERT, ReceiptStatus.DELIVERED),
        (NG, MessageKind.SEIZURE, ReceiptStatus.READ),
        (CM, MessageKind.NOTICE, ReceiptStatus.DELIVERED),
        (CM, MessageKind.RFI, ReceiptStatus.DELIVERED),
    ]
    for by, kind, status in acks:
        async with hub.client(by) as client:
            await client.ack(by_kind[kind], status)
        world.receipts.add((by_kind[kind], by, status.value))


def receipt_body(world: World, who: str, mid: str, envelope: bytes) -> bytes:
    receipt = make_receipt(
        envelope=envelope,
        mid=mid,
        status=ReceiptStatus.DELIVERED,
        by=who,
        at=datetime.fromtimestamp(int(time.time()), UTC),
    )
    return sign_receipt(receipt, world.key(who))


def send_to(who: str) -> list[str]:
    """Recipients every kind may go to from ``who`` (a seizure needs a WCO participant)."""
    if who == WCO:
        return [NG]
    other = GH if who == NG else NG
    return [other, WCO]


def seal_as(world: World, who: str, kind: MessageKind, *, claim: str | None = None) -> bytes:
    content = example(kind)
    irt = content.in_reply_to.mid if isinstance(content, ReplyContent) else None
    recipients = [(r, world.person(r).decryption.public) for r in send_to(who)]
    return seal_message(
        sender_id=claim or who,
        signer=world.key(who),
        recipients=recipients,
        kind=kind,
        content=content,
        tlp=Tlp.AMBER,
        now=int(time.time()),
        in_reply_to=irt,
    ).raw


def new_certificate(world: World, participant: str) -> bytes:
    return certify(
        world.hub.authority,
        participant,
        role="ncp",
        verify=SigningKey.generate().public,
        encrypt=DecryptionKey.generate().public,
        now=int(time.time()),
    )


# --- the phases -------------------------------------------------------------------------------


async def envelope_reads(world: World, matrix: Matrix, objects: list[str]) -> None:
    """GET envelope, GET status and the log's inclusion proof by message id, on every object;
    hidden must look exactly like missing."""
    endpoints = (
        ("GET envelope", "/v1/envelopes/{}", may_read, NOT_FOUND),
        ("GET status", "/v1/envelopes/{}/status", may_see_status, NOT_FOUND),
        ("GET log inclusion", "/v1/audit/proof/inclusion?mid={}", may_see_log, NO_LOG_ENTRY),
    )
    for who in CALLERS:
        for action, template, rule, refused in endpoints:
            replies: dict[str, Reply] = {}
            for mid in objects:
                message = world.messages.get(mid)
                allowed = rule(who, message)
                reply = await world.call(who, "GET", template.format(mid))
                matrix.record(who, action, mid, (200, None) if allowed else refused, reply)
                replies[mid] = reply
                if allowed and reply.status == 200 and message is not None:
                    check_content(matrix, who, action, message, reply)
            no_oracle(
                matrix, who, action=action, objects=objects, replies=replies, world=world, rule=rule
            )


def check_content(matrix: Matrix, who: str, action: str, message: Message, reply: Reply) -> None:
    if action == "GET envelope":
        matrix.check(reply.body == message.raw, False, f"{who} got other bytes")
    elif action == "GET status":
        ids = {r["id"] for r in reply.json()["recipients"]}
        matrix.check(ids == message.recipients, False, f"{who} status {ids}")
    else:
        entry = json.loads(b64u_decode(reply.json()["entry"]))
        matrix.check(entry.get("event") == "envelope.accepted", False, f"{who} log {entry}")


def no_oracle(
    matrix: Matrix,
    who: str,
    *,
    action: str,
    objects: list[str],
    replies: dict[str, Reply],
    world: World,
    rule: Any,
) -> None:
    guessed = objects[-1]
    missing = replies[guessed].brief()
    for mid in objects[:-1]:
        if not rule(who, world.messages[mid]):
            hidden = replies[mid].brief()
            matrix.check(
                hidden == missing,
                True,
                f"existence oracle: {who} {action} {mid} answers {hidden}, a missing id {missing}",
            )


async def mailbox_reads(world: World, matrix: Matrix) -> None:
    """Inbox and stream: exactly the envelopes addressed to the caller and the receipts for the
    envelopes it sent, nothing else."""

    def expected(who: str) -> set[tuple[str, ...]]:
        envelopes = {("envelope", mid) for mid, m in world.messages.items() if who in m.recipients}
        receipts = {
            ("receipt", mid, by, status)
            for mid, by, status in world.receipts
            if world.messages[mid].sender == who
        }
        return envelopes | receipts

    def seen(items: Iterable[dict[str, Any]]) -> set[tuple[str, ...]]:
        return {
            ("envelope", i["mid"])
            if i["type"] == "envelope"
            else ("receipt", i["mid"], i["by"], i["status"])
            for i in items
        }

    def compare(who: str, action: str, got: set[tuple[str, ...]]) -> None:
        want = expected(who)
        matrix.check(not (got - want), True, f"{who} {action} shows {sorted(got - want)}")
        matrix.check(not (want - got), False, f"{who} {action} lacks {sorted(want - got)}")

    for who in CALLERS:
        reply = await world.call(who, "GET", "/v1/inbox?limit=500")
        matrix.record(who, "GET inbox", "-", (200, None), reply)
        if reply.status == 200:
            compare(who, "inbox", seen(reply.json()["items"]))

    async def stream(who: str) -> tuple[str, int, list[dict[str, Any]]]:
        status, items = await read_stream(
            world.session, world.url("/v1/stream?after=0"), world.key(who)
        )
        return who, status, items

    for who, status, items in await asyncio.gather(*(stream(w) for w in CALLERS)):
        matrix.record(who, "GET stream", "-", (101, None), status)
        compare(who, "stream", seen(items))


async def receipt_posts(world: World, matrix: Matrix, objects: list[str]) -> None:
    some_envelope = next(iter(world.messages.values())).raw
    for who in CALLERS:
        replies: dict[str, Reply] = {}
        for mid in objects:
            message = world.messages.get(mid)
            allowed = may_post_receipt(who, message)
            body = receipt_body(world, who, mid, message.raw if message else some_envelope)
            reply = await world.call(who, "POST", f"/v1/envelopes/{mid}/receipts", body, JOSE)
            matrix.record(who, "POST receipt", mid, (201, None) if allowed else NOT_FOUND, reply)
            replies[mid] = reply
            if reply.status == 201:
                world.receipts.add((mid, who, "delivered"))
        no_oracle(
            matrix,
            who,
            action="POST receipt",
            objects=objects,
            replies=replies,
            world=world,
            rule=may_post_receipt,
        )


async def sends(world: World, matrix: Matrix) -> None:
    for who in CALLERS:
        for kind in KINDS:
            allowed = kind in SENDS[ROLE[who]]
            expected = (201, None) if allowed else (403, "policy.kind_not_allowed")
            reply = await call(
                world.session,
                "POST",
                world.url("/v1/envelopes"),
                body=seal_as(world, who, kind),
                content_type=JOSE,
            )
            matrix.record(who, "POST envelope", kind.value, expected, reply)
            if reply.status < 300:
                world.senders[reply.json()["mid"]] = who
        # Sending as someone else, signed with one's own key.
        victim = WCO if who != WCO else NG
        reply = await call(
            world.session,
            "POST",
            world.url("/v1/envelopes"),
            body=seal_as(world, who, MessageKind.ALERT, claim=victim),
            content_type=JOSE,
        )
        matrix.record(who, "POST envelope as", victim, (403, "sender.impersonation"), reply)
        # A request signed with one's own key that names another's key id.
        forged = SigningKey(world.key(who).private, world.key(victim).public)
        reply = await call(world.session, "GET", world.url("/v1/inbox"), key=forged)
        matrix.record(who, "GET inbox as", victim, (401, "auth.bad_signature"), reply)


async def admin_actions(world: World, matrix: Matrix) -> str:
    """Returns the id the admin enrolled."""
    enrolled = ""
    for n, who in enumerate(CALLERS):
        is_admin = who == ADMIN
        newcomer = f"BJ-NCP-M{n}"
        reply = await world.call(
            who, "POST", "/v1/admin/participants", new_certificate(world, newcomer), JOSE
        )
        matrix.record(
            who, "POST admin enrol", newcomer, (201, None) if is_admin else ADMIN_ONLY, reply
        )
        if is_admin:
            enrolled = newcomer
        reply = await world.call(
            who,
            "POST",
            f"/v1/admin/participants/{TARGET}/certificate",
            new_certificate(world, TARGET),
            JOSE,
        )
        matrix.record(
            who, "POST admin rotate", TARGET, (200, None) if is_admin else ADMIN_ONLY, reply
        )
        reply = await world.call(
            who,
            "POST",
            f"/v1/admin/participants/{TARGET}/status",
            b'{"action": "suspend"}',
            "application/json",
        )
        matrix.record(
            who, "POST admin status", TARGET, (200, None) if is_admin else ADMIN_ONLY, reply
        )
    return enrolled


async def audit_reads(world: World, matrix: Matrix) -> None:
    for who in CALLERS:
        if ROLE[who] != "auditor":
            reply = await world.call(who, "GET", "/v1/audit/records")
            matrix.record(who, "GET audit", "-", AUDITORS_ONLY, reply)
    engine = create_engine(world.hub.database_url)
    try:
        async with engine.connect() as conn:
            rows = [dict(r._mapping) for r in await conn.execute(select(tables.audit_records))]
    finally:
        await engine.dispose()
    for who, scope in SCOPE.items():
        seqs: list[int] = []
        after, status = 0, 200
        while True:
            reply = await world.call(who, "GET", f"/v1/audit/records?after={after}&limit=1000")
            if reply.status != 200:
                status = reply.status
                matrix.record(who, "GET audit", scope or "all", (200, None), reply)
                break
            page = reply.json()
            if not page["records"]:
                matrix.record(who, "GET audit", scope or "all", (200, None), reply)
                break
            seqs += [r["seq"] for r in page["records"]]
            after = page["next"]
        if status != 200:
            continue
        want = {r["seq"] for r in rows if scope is None or scope in involved(r, world.senders)}
        got = set(seqs)
        matrix.check(not (got - want), True, f"{who} reads audit records {sorted(got - want)}")
        matrix.check(not (want - got), False, f"{who} misses audit records {sorted(want - got)}")


async def stored_writes(world: World, matrix: Matrix, enrolled: str) -> None:
    """What is stored must be what was allowed: no receipt by a non-recipient, no envelope of a
    kind its sender may not send, no participant enrolled or changed by a non-admin."""
    engine = create_engine(world.hub.database_url)
    try:
        async with engine.connect() as conn:
            t = tables
            receipts = await conn.execute(
                select(t.envelopes.c.mid, t.receipts.c.by_id).join(
                    t.envelopes, t.envelopes.c.seq == t.receipts.c.envelope_seq
                )
            )
            deliveries = {
                (r.mid, r.recipient_id)
                for r in await conn.execute(
                    select(t.envelopes.c.mid, t.deliveries.c.recipient_id).join(
                        t.envelopes, t.envelopes.c.seq == t.deliveries.c.envelope_seq
                    )
                )
            }
            for mid, by in receipts:
                matrix.check((mid, by) in deliveries, True, f"stored receipt by {by} for {mid}")
            for sender, kind in await conn.execute(
                select(t.envelopes.c.sender_id, t.envelopes.c.kind)
            ):
                allowed = MessageKind(kind) in SENDS[ROLE.get(sender, "admin")]
                matrix.check(allowed, True, f"stored {kind} envelope from {sender}")
            people = {r.id: r.status for r in await conn.execute(select(t.participants))}
    finally:
        await engine.dispose()
    expected = {*CALLERS, TARGET, enrolled}
    matrix.check(set(people) == expected, True, f"participants {sorted(set(people) ^ expected)}")
    matrix.check(people.get(TARGET) == "suspended", False, f"{TARGET} is {people.get(TARGET)}")


async def test_access_matrix(hub: RunningHub) -> None:
    policy = tomllib.loads(DEFAULT_POLICY.read_text(encoding="utf-8"))
    for role, kinds in SENDS.items():
        assert {MessageKind(k) for k in policy["roles"][role]["send"]} == kinds, role
    async with aiohttp.ClientSession() as session:
        world = World(hub, session)
        await build(world)
        objects = [*world.messages, str(uuid.uuid4())]
        matrix = Matrix()
        await envelope_reads(world, matrix, objects)
        await mailbox_reads(world, matrix)
        await receipt_posts(world, matrix, objects)
        await sends(world, matrix)
        enrolled = await admin_actions(world, matrix)
        await audit_reads(world, matrix)
        await stored_writes(world, matrix, enrolled)
    database = hub.database_url.split(":", 1)[0]
    print("\n" + matrix.report(database))
    figures.record(
        "authorization matrix (attempts / unauthorized)", tried=len(matrix.attempts),
        accepted=len(matrix.leaks),
    )  # fmt: skip
    assert not matrix.leaks, "unauthorized reads/writes:\n" + "\n".join(matrix.leaks)
    assert not matrix.problems, "wrong answers:\n" + "\n".join(matrix.problems)
    assert not [a for a in matrix.attempts if a.unauthorized]
