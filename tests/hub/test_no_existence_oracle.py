""" "Not yours" and "does not exist" get the same answer after the same work, on SQLite and
PostgreSQL: the same error (type, code, words) and the very same SQL statements, in the same
order (a hidden envelope used to cost a denial write that a missing one did not: ~6 ms, enough to
tell them apart). A message id another participant's envelope holds is refused like an
impersonation, whether or not it exists (it used to be a 409 ``envelope.id_conflict``)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.crypto.keys import DecryptionKey, SigningKey
from pgs_hub.hub.enrolment import SYSTEM, certify
from pgs_hub.hub.errors import Forbidden, HubError, NotFound
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.services import admin, mailbox, receipts, submission
from pgs_hub.hub.services.context import HubContext
from pgs_hub.protocols.envelope import seal_message
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.receipt import ReceiptStatus
from pgs_hub.protocols.receipts import make_receipt, sign_receipt
from tests.e2e.messages import example
from tests.hub.test_directory_cache import Person, context, statements

NG, GH, CM = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "CM-NCP-DOUALA"
IMPERSONATION = "a participant may only send as itself: the header's from is not the signer"


class World:
    def __init__(self, ctx: HubContext, authority: SigningKey) -> None:
        self.ctx, self.authority = ctx, authority
        self.people: dict[str, Person] = {}

    async def enrol(self, pid: str) -> None:
        person = Person(pid, SigningKey.generate(), DecryptionKey.generate())
        raw = certify(
            self.authority, pid, role="ncp", verify=person.signing.public,
            encrypt=person.decryption.public, now=int(time.time()),
        )  # fmt: skip
        await admin.enrol(self.ctx, SYSTEM, raw)
        self.people[pid] = person

    def member(self, pid: str) -> Member:
        held = self.ctx.directory.held
        assert held is not None
        return held.members[pid]

    def seal(self, signer: str, *, claim: str | None = None, mid: str | None = None) -> bytes:
        return seal_message(
            sender_id=claim or signer, signer=self.people[signer].signing,
            recipients=[(GH, self.people[GH].decryption.public)], kind=MessageKind.ALERT,
            content=example(MessageKind.ALERT), tlp=Tlp.AMBER, now=int(time.time()),
            message_id=mid,
        ).raw  # fmt: skip


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    authority = SigningKey.generate()
    built = World(context(engine, authority), authority)
    for pid in (NG, GH, CM):
        await built.enrol(pid)
    return built


async def refusal_and_work(
    world: World, attempt: Callable[[], Awaitable[object]]
) -> tuple[tuple[type[HubError], str, str], list[str]]:
    """The error ``attempt`` raises and every SQL statement it sent (text, in order)."""
    with statements(world.ctx.engine) as seen, pytest.raises(HubError) as caught:
        await attempt()
    error = caught.value
    return (type(error), error.code, str(error)), seen


async def test_a_hidden_envelope_costs_exactly_what_a_missing_one_costs(world: World) -> None:
    ctx = world.ctx
    sent = world.seal(NG)
    mid = (await submission.submit(ctx, sent)).mid
    missing = str(uuid.uuid4())
    cm, gh = world.member(CM), world.member(GH)

    def receipt(pid: str, about: str) -> bytes:
        body = make_receipt(
            envelope=sent, mid=about, status=ReceiptStatus.DELIVERED, by=pid,
            at=datetime.fromtimestamp(int(time.time()), UTC),
        )  # fmt: skip
        return sign_receipt(body, world.people[pid].signing)

    attempts: dict[str, Callable[[str], Callable[[], Awaitable[object]]]] = {
        "fetch": lambda m: lambda: mailbox.fetch(ctx, cm, m),
        "status": lambda m: lambda: mailbox.status(ctx, gh, m),  # a recipient, not the sender
        "receipt": lambda m: lambda: receipts.record(ctx, cm, m, receipt(CM, m)),
    }
    for name, attempt in attempts.items():
        await refusal_and_work(world, attempt(missing))  # warm: the same caches for both
        hidden_error, hidden_work = await refusal_and_work(world, attempt(mid))
        missing_error, missing_work = await refusal_and_work(world, attempt(missing))
        assert hidden_error == missing_error, name
        assert hidden_error[:2] == (NotFound, "envelope.not_found"), name
        assert hidden_work == missing_work, f"{name}: other work for a hidden envelope"


async def test_another_senders_message_id_is_refused_like_an_impersonation(world: World) -> None:
    ctx = world.ctx
    taken = (await submission.submit(ctx, world.seal(NG))).mid
    fresh = str(uuid.uuid4())
    answers = {}
    for name, raw in {
        "reuses NG's id": world.seal(CM, mid=taken),
        "claims to be NG, NG's id": world.seal(CM, claim=NG, mid=taken),
        "claims to be NG, a new id": world.seal(CM, claim=NG, mid=fresh),
    }.items():
        with pytest.raises(HubError) as caught:
            await submission.submit(ctx, raw)
        answers[name] = (type(caught.value), caught.value.code, str(caught.value))
    assert set(answers.values()) == {(Forbidden, "sender.impersonation", IMPERSONATION)}
    # NG's own resubmission still gets its acceptance back.
    again = world.seal(NG, mid=str(uuid.uuid4()))
    first = await submission.submit(ctx, again)
    assert (await submission.submit(ctx, again)).mid == first.mid
