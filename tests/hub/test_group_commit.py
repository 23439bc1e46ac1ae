"""Submissions and request nonces through the group-committed writers (hub/services/writers.py),
on SQLite and PostgreSQL, with a real hub context (and, for nonces, a real loopback server):

* a burst lands in far fewer transactions than envelopes, and everything acknowledged is stored,
  with mailbox items and audit log indexes gap-free and in acknowledgement order, and a Merkle log
  whose recomputed root is the stored one;
* a batch whose transaction fails for real (SQLite out of pages; a PostgreSQL backend terminated
  before the commit) acknowledges nothing, stores nothing, maps to 507/503, and the same
  envelopes are accepted afterwards;
* a message id twice in a batch, or already stored: only that caller is affected, and it gets
  the original acceptance (same bytes) or 409 (other bytes);
* a signed request replayed inside one nonce batch, or in a later one, is refused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pgs_hub.crypto.keys import DecryptionKey, SigningKey
from pgs_hub.crypto.merkle import leaf_hash, root_from_leaves
from pgs_hub.hub.enrolment import SYSTEM, certify
from pgs_hub.hub.errors import Conflict, Forbidden
from pgs_hub.hub.policy.model import load_policy
from pgs_hub.hub.server.app import create_app_for
from pgs_hub.hub.server.problems import database_problem
from pgs_hub.hub.services import admin, submission, writers
from pgs_hub.hub.services.context import HubContext, PolicyHolder
from pgs_hub.hub.services.submission import Acceptance
from pgs_hub.hub.storage import audit, log
from pgs_hub.hub.storage import envelopes as envelopes_store
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.hub.storage.groupcommit import GroupCommitter
from pgs_hub.hub.storage.tables import audit_records, envelopes, mailbox
from pgs_hub.protocols.envelope import read_header, seal_message
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.conftest import POSTGRES_ADMIN_DSN
from tests.e2e.messages import example
from tests.e2e.rawhttp import signature_headers

NG, GH, FR = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "FR-NCP-PARIS"
BURST = 200


@dataclass
class Person:
    id: str
    signing: SigningKey
    decryption: DecryptionKey


@dataclass
class World:
    ctx: HubContext
    people: dict[str, Person]

    def seal(self, sender: str, *to: str, mid: str | None = None) -> bytes:
        return seal_message(
            sender_id=sender, signer=self.people[sender].signing,
            recipients=[(pid, self.people[pid].decryption.public) for pid in to],
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), tlp=Tlp.AMBER,
            now=int(time.time()), message_id=mid,
        ).raw  # fmt: skip


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    authority = SigningKey.generate()
    ctx = HubContext(
        engine=engine,
        policy=PolicyHolder(None, load_policy("", source="test policy")),
        authority=authority.public,
        hub_key=SigningKey.generate(),
    )
    people = {}
    for pid in (NG, GH, FR):
        person = Person(pid, SigningKey.generate(), DecryptionKey.generate())
        certificate = certify(
            authority, pid, role="ncp", verify=person.signing.public,
            encrypt=person.decryption.public, now=int(time.time()),
        )  # fmt: skip
        await admin.enrol(ctx, SYSTEM, certificate)
        people[pid] = person
    try:
        yield World(ctx, people)
    finally:
        await ctx.close_writers()


def routing(n: int) -> tuple[str, ...]:
    """Sender, then recipients, of the n-th envelope of a burst (everyone sends, mixed fan-out)."""
    senders = (NG, GH, FR)
    sender = senders[n % 3]
    others = tuple(p for p in senders if p != sender)
    return (sender, *others) if n % 4 else (sender, others[0])


async def mailbox_mids(engine: AsyncEngine, participant: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(envelopes.c.mid)
            .join(mailbox, mailbox.c.envelope_seq == envelopes.c.seq)
            .where(mailbox.c.participant_id == participant, mailbox.c.item == "envelope")
            .order_by(mailbox.c.cursor)
        )
        return [str(m) for m in rows.scalars()]


async def stored_mids(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return {str(m) for m in (await conn.execute(select(envelopes.c.mid))).scalars()}


async def test_a_burst_is_committed_in_few_transactions_in_acknowledgement_order(
    world: World,
) -> None:
    ctx = world.ctx
    raws = [world.seal(*routing(n)) for n in range(BURST)]
    acknowledged: list[Acceptance] = []

    async def send(raw: bytes) -> None:
        acknowledged.append(await submission.submit(ctx, raw))

    writer = ctx.envelope_writer
    await asyncio.gather(*(send(raw) for raw in raws))
    assert len(acknowledged) == BURST
    assert not any(a.duplicate for a in acknowledged)
    assert writer.committed == BURST
    assert writer.batches < BURST / 4, f"{writer.batches} transactions for {BURST} envelopes"
    order = [a.mid for a in acknowledged]
    assert await stored_mids(ctx.engine) == set(order)

    # Each mailbox holds its envelopes once, in the order they were acknowledged.
    for pid in (NG, GH, FR):
        addressed = [a.mid for a in acknowledged if pid in a.recipients]
        assert await mailbox_mids(ctx.engine, pid) == addressed

    # The audit log: indexes 0..size-1 without a gap, acceptances in acknowledgement order, and
    # the stored frontier is the root recomputed from every entry.
    async with ctx.engine.connect() as conn:
        columns = (audit_records.c.log_index, audit_records.c.event, audit_records.c.subject)
        statement = select(*columns, audit_records.c.entry).order_by(audit_records.c.seq)
        rows = (await conn.execute(statement)).all()
        tree = await log.state(conn)
        # fetched the way auditors fetch them
        entries = await log.entries(conn, start=0, end=tree.size)
    assert [r.log_index for r in rows] == list(range(len(rows)))
    assert tree.size == len(rows)
    assert [r.subject for r in rows if r.event == "envelope.accepted"] == order
    assert [e.entry for e in entries] == [bytes(r.entry) for r in rows]
    assert tree.root() == root_from_leaves([leaf_hash(bytes(r.entry)) for r in rows])


async def test_the_same_message_id_twice_fails_only_its_own_caller(world: World) -> None:
    ctx = world.ctx
    stored = world.seal(NG, GH)
    first = await submission.submit(ctx, stored)
    stored_mid = first.mid
    twin = world.seal(NG, GH, FR)  # submitted twice in the same burst
    mid = read_header(twin)[1].mid
    other_bytes = world.seal(NG, FR, mid=mid)  # the twin's message id, other bytes
    stolen = world.seal(NG, FR, mid=stored_mid)
    others = [world.seal(*routing(n)) for n in range(30)]
    batch: list[bytes] = [*others[:10], twin, stored, *others[10:20], twin, other_bytes, stolen]
    batch += others[20:]
    results = await asyncio.gather(
        *(submission.submit(ctx, raw) for raw in batch), return_exceptions=True
    )
    # the bystanders are accepted as usual
    for raw, accepted in zip(batch, results, strict=True):
        if raw in others:
            assert isinstance(accepted, Acceptance)
            assert not accepted.duplicate
    # The twins and other_bytes race for one message id (whichever reaches the writer first):
    # the winner is accepted, an identical copy gets the original acceptance, the rest 409.
    contenders = [
        (raw, r) for raw, r in zip(batch, results, strict=True) if raw in (twin, other_bytes)
    ]
    async with ctx.engine.connect() as conn:
        won = await envelopes_store.envelope_by_mid(conn, mid)
    assert won is not None
    for raw, result in contenders:
        if raw == won.raw:
            assert isinstance(result, Acceptance)
            assert result.accepted_at == won.accepted_at
        else:
            assert isinstance(result, Conflict)
            assert result.code == "envelope.id_conflict"
    accepted = [r for _, r in contenders if isinstance(r, Acceptance)]
    assert sorted(a.duplicate for a in accepted) == [False, True][: len(accepted)]
    assert len(accepted) == (2 if won.raw == twin else 1)
    again = results[batch.index(stored)]
    assert isinstance(again, Acceptance)
    assert again.duplicate
    assert (again.mid, again.accepted_at, again.signed) == (
        first.mid,
        first.accepted_at,
        first.signed,
    )
    refused = results[batch.index(stolen)]
    assert isinstance(refused, Conflict)
    assert refused.code == "envelope.id_conflict"
    assert await stored_mids(ctx.engine) == {first.mid, mid} | {
        read_header(raw)[1].mid for raw in others
    }
    assert ctx.envelope_writer.batches < len(batch)


async def test_another_participants_message_id_is_refused_as_an_impersonation(
    world: World,
) -> None:
    """The writer finds the id taken; the answer must not say so (issue 12: it was a 409
    ``envelope.id_conflict``, an existence oracle): it is refused like an impersonation."""
    ctx = world.ctx
    first = await submission.submit(ctx, world.seal(NG, GH))
    with pytest.raises(Forbidden) as refused:
        await submission.submit(ctx, world.seal(GH, NG, mid=first.mid))
    assert refused.value.code == "sender.impersonation"


async def sqlite_out_of_pages(conn: AsyncConnection) -> None:
    """Let the database file grow no more (SQLITE_FULL, as on a full disk) on this connection."""
    pages = (await conn.execute(text("PRAGMA page_count"))).scalar_one()
    await conn.execute(text(f"PRAGMA max_page_count = {int(pages)}"))


async def terminate_own_backend(conn: AsyncConnection) -> None:
    """Have another session terminate this connection's PostgreSQL backend (an admin kill, a
    crashed backend): the commit that follows cannot happen."""
    pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    other = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        assert await other.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await other.close()


async def test_a_batch_whose_transaction_fails_acknowledges_and_stores_nothing(
    world: World, database_url: str
) -> None:
    ctx = world.ctx
    sqlite = ctx.engine.dialect.name == "sqlite"
    failing_engine = create_engine(database_url)
    entered = 0

    async def write_then_fail(
        conn: AsyncConnection, items: Sequence[writers.AcceptedEnvelope]
    ) -> list[int | Exception]:
        nonlocal entered
        entered += 1
        if sqlite:
            await sqlite_out_of_pages(conn)
        written = await writers.write_accepted(conn, items)
        if not sqlite:
            await terminate_own_backend(conn)
        return written

    raws = [world.seal(*routing(n)) for n in range(40)]
    ctx.envelope_writer = GroupCommitter(failing_engine, write_then_fail, name="failing")
    try:
        results = await asyncio.gather(
            *(submission.submit(ctx, raw) for raw in raws), return_exceptions=True
        )
    finally:
        await ctx.envelope_writer.close()
        await failing_engine.dispose()
    assert entered >= 1
    assert not any(isinstance(r, Acceptance) for r in results)
    for exc in results:
        assert isinstance(exc, Exception)
        answer = database_problem(exc)
        assert answer is not None, repr(exc)
        assert answer.status == (507 if sqlite else 503)
        assert answer.headers["Retry-After"]
    assert await stored_mids(ctx.engine) == set()
    async with ctx.engine.connect() as conn:
        assert (await log.state(conn)).size == 3  # the three enrolments, nothing else

    # Sent again (as a client told "retry" would), they are accepted, as new envelopes.
    ctx.envelope_writer = writers.envelope_writer(ctx.engine)
    again = await asyncio.gather(*(submission.submit(ctx, raw) for raw in raws))
    assert [a.duplicate for a in again] == [False] * len(raws)
    async with ctx.engine.connect() as conn:
        tree = await log.state(conn)
        records = await audit.records(conn, after=0, limit=100, country=None)
    assert tree.size == 3 + len(raws) == len(records)
    assert tree.root() == root_from_leaves([leaf_hash(r.entry) for r in records])


async def test_replays_are_refused_within_one_nonce_batch_and_across_batches(world: World) -> None:
    ctx = world.ctx
    server = TestServer(create_app_for(ctx), host="127.0.0.1")
    await server.start_server()
    try:
        url = f"http://127.0.0.1:{server.port}/v1/inbox"
        key = world.people[GH].signing
        recorded = signature_headers(key, "GET", url, None)
        distinct = [signature_headers(key, "GET", url, None) for _ in range(30)]
        async with aiohttp.ClientSession() as session:

            async def get(headers: dict[str, str]) -> int:
                async with session.get(url, headers=headers) as resp:
                    await resp.read()
                    return resp.status

            batch = [recorded] * 20 + distinct
            statuses = await asyncio.gather(*(get(h) for h in batch))
            assert sorted(statuses[:20]) == [200] + [401] * 19
            assert statuses[20:] == [200] * 30
            assert ctx.nonce_writer.batches < len(batch)
            # later, in another batch
            assert await get(recorded) == 401
            assert await get(distinct[0]) == 401
            assert await get(signature_headers(key, "GET", url, None)) == 200
    finally:
        await server.close()
