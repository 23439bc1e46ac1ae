"""The directory cache (hub/services/directory_cache.py) on SQLite and PostgreSQL: hits read only
the version row, and every committed change (by this hub, another worker's engine or a tool
writing to the database) is seen by the very next lookup, with the same errors as before."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.crypto.keys import DecryptionKey, SigningKey
from pgs_hub.hub.enrolment import SYSTEM, certify
from pgs_hub.hub.errors import AuthenticationError, Forbidden, HubError
from pgs_hub.hub.policy.model import load_policy
from pgs_hub.hub.services import admin, submission
from pgs_hub.hub.services.context import HubContext, PolicyHolder
from pgs_hub.hub.storage import participants as store
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.protocols.envelope import seal_message
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.messages import example

NG, GH, FR = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "FR-NCP-PARIS"


@dataclass
class Person:
    id: str
    signing: SigningKey
    decryption: DecryptionKey


class World:
    """A hub context on the test database, the authority that certifies, and who is enrolled."""

    def __init__(self, ctx: HubContext, authority: SigningKey) -> None:
        self.ctx = ctx
        self.authority = authority
        self.people: dict[str, Person] = {}

    def certificate(self, person: Person) -> bytes:
        return certify(
            self.authority, person.id, role="ncp", verify=person.signing.public,
            encrypt=person.decryption.public, now=int(time.time()),
        )  # fmt: skip

    async def enrol(self, pid: str, ctx: HubContext | None = None) -> Person:
        person = Person(pid, SigningKey.generate(), DecryptionKey.generate())
        await admin.enrol(ctx or self.ctx, SYSTEM, self.certificate(person))
        self.people[pid] = person
        return person

    async def rotate(self, pid: str) -> Person:
        person = Person(pid, SigningKey.generate(), DecryptionKey.generate())
        await admin.rotate(self.ctx, SYSTEM, pid, self.certificate(person))
        self.people[pid] = person
        return person

    async def signer(self, key: SigningKey | str, ctx: HubContext | None = None) -> str:
        """Who the cache says signs with ``key`` (each call on a fresh connection)."""
        ctx = ctx or self.ctx
        kid = key if isinstance(key, str) else key.kid
        async with ctx.engine.connect() as conn:
            found, verify = await ctx.directory.signer(conn, kid)
        assert verify.kid == kid
        return found.id

    async def refusal(self, key: SigningKey | str, ctx: HubContext | None = None) -> HubError:
        with pytest.raises(HubError) as caught:
            await self.signer(key, ctx)
        return caught.value


def context(engine: AsyncEngine, authority: SigningKey) -> HubContext:
    policy = load_policy("", source="test policy")
    return HubContext(
        engine=engine,
        policy=PolicyHolder(None, policy),
        authority=authority.public,
        hub_key=SigningKey.generate(),
    )


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    authority = SigningKey.generate()
    built = World(context(engine, authority), authority)
    for pid in (NG, GH):
        await built.enrol(pid)
    return built


@pytest.fixture
async def other_worker(world: World, database_url: str) -> AsyncIterator[HubContext]:
    """Another hub process on the same database: its own engine, context and cache."""
    engine = create_engine(database_url)
    try:
        yield context(engine, world.authority)
    finally:
        await engine.dispose()


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while the block runs (instrumentation, not a mock)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def touching(seen: list[str], *tables: str) -> list[str]:
    return [s for s in seen if any(f" {t}" in s or f'"{t}"' in s for t in tables)]


async def test_hits_read_only_the_version_row(world: World) -> None:
    ctx = world.ctx
    ng = world.people[NG]
    assert await world.signer(ng.signing) == NG  # loads
    loaded = ctx.directory.reloads
    with statements(ctx.engine) as seen:
        async with ctx.engine.connect() as conn:
            for _ in range(5):
                member, _key = await ctx.directory.signer(conn, ng.signing.kid)
                assert member.id == NG
            assert set(await ctx.directory.members(conn)) == {NG, GH}
            assert (await ctx.directory.member(conn, GH)) is not None
    assert touching(seen, "participants", "participant_keys") == []
    assert len(touching(seen, "directory_version")) == 7
    assert ctx.directory.reloads == loaded


async def test_a_miss_is_checked_against_the_current_version(world: World) -> None:
    newcomer = Person(FR, SigningKey.generate(), DecryptionKey.generate())
    refused = await world.refusal(newcomer.signing)
    assert (type(refused), refused.code) == (AuthenticationError, "auth.unknown_key")
    # An encryption key is no signing key.
    refused = await world.refusal(world.people[NG].decryption.kid)
    assert refused.code == "auth.unknown_key"
    await admin.enrol(world.ctx, SYSTEM, world.certificate(newcomer))
    assert await world.signer(newcomer.signing) == FR


async def test_admin_changes_are_seen_by_the_very_next_lookup(world: World) -> None:
    ctx = world.ctx
    old = world.people[GH]
    assert await world.signer(old.signing) == GH

    new = await world.rotate(GH)
    refused = await world.refusal(old.signing)
    assert (type(refused), refused.code) == (AuthenticationError, "auth.key_not_current")
    assert await world.signer(new.signing) == GH
    async with ctx.engine.connect() as conn:
        member = await ctx.directory.member(conn, GH)
    assert member is not None
    assert member.enc_kid == new.decryption.kid

    await admin.set_status(ctx, SYSTEM, GH, "suspend")
    refused = await world.refusal(new.signing)
    assert (type(refused), refused.code) == (Forbidden, "participant.suspended")

    await admin.set_status(ctx, SYSTEM, GH, "reinstate")
    assert await world.signer(new.signing) == GH

    await admin.set_status(ctx, SYSTEM, GH, "revoke")
    refused = await world.refusal(new.signing)
    assert (type(refused), refused.code) == (AuthenticationError, "auth.key_not_current")
    async with ctx.engine.connect() as conn:
        gone = await ctx.directory.member(conn, GH)
    assert gone is not None
    assert gone.status == "revoked"


async def test_a_revoked_participant_with_a_current_key_is_refused(world: World) -> None:
    # Only a tool writing the status alone can leave a current key behind: still refused.
    async with world.ctx.engine.begin() as conn:
        await store.set_status(conn, NG, "revoked", int(time.time()))
    refused = await world.refusal(world.people[NG].signing)
    assert (type(refused), refused.code) == (AuthenticationError, "auth.revoked")


async def test_changes_by_another_worker_are_seen(world: World, other_worker: HubContext) -> None:
    ng, gh = world.people[NG], world.people[GH]
    assert await world.signer(ng.signing) == NG
    assert await world.signer(gh.signing, other_worker) == GH  # both caches are warm

    await admin.set_status(other_worker, SYSTEM, NG, "suspend")
    assert (await world.refusal(ng.signing)).code == "participant.suspended"
    await admin.set_status(other_worker, SYSTEM, NG, "reinstate")
    assert await world.signer(ng.signing) == NG

    newcomer = await world.enrol(FR, other_worker)
    assert await world.signer(newcomer.signing) == FR
    async with world.ctx.engine.connect() as conn:
        assert FR in await world.ctx.directory.members(conn)

    await admin.set_status(world.ctx, SYSTEM, FR, "revoke")
    assert (await world.refusal(newcomer.signing, other_worker)).code == "auth.key_not_current"


async def test_direct_storage_writes_move_the_version(engine: AsyncEngine) -> None:
    # A tool that writes through hub/storage/participants.py cannot leave a cache behind.
    async def version() -> store.DirectoryVersion:
        async with engine.connect() as conn:
            return await store.read_directory_version(conn)

    now = int(time.time())
    row = store.ParticipantRow(
        id="fr-1", country="FR", role="ncp", scope=None, status="active",
        created_at=now, updated_at=now,
    )  # fmt: skip
    sig = store.KeyRow(
        kid="fr-1-sig", participant_id="fr-1", use="sig", jwk="{}", certificate="c",
        serial="1", state="current", created_at=now, retired_at=None,
    )  # fmt: skip
    keys = [sig, replace(sig, kid="fr-1-enc", use="enc")]
    writes = [
        lambda conn: store.insert_participant(conn, row),
        lambda conn: store.add_keys(conn, keys),
        lambda conn: store.set_status(conn, "fr-1", "suspended", now),
        lambda conn: store.retire_current_keys(conn, "fr-1", now),
        lambda conn: store.revoke_keys(conn, "fr-1", now),
    ]
    seen = [await version()]
    for write in writes:
        async with engine.begin() as conn:
            await write(conn)
        seen.append(await version())
    assert [v.number for v in seen] == list(range(seen[0].number, seen[0].number + 6))
    assert len({v.stamp for v in seen}) == 6


async def test_a_rolled_back_change_is_never_taken_for_a_committed_one(world: World) -> None:
    # A transaction sees its own writes: a reload inside it is filed under a version number that
    # the rollback gives back, and that the next committed change takes again. Its stamp differs.
    ctx = world.ctx
    ng, gh = world.people[NG], world.people[GH]
    async with ctx.engine.connect() as conn:
        before = await store.read_directory_version(conn)
    async with ctx.engine.connect() as conn:
        await store.set_status(conn, NG, "suspended", int(time.time()))
        with pytest.raises(Forbidden):
            await ctx.directory.signer(conn, ng.signing.kid)
        await conn.rollback()
    await admin.set_status(ctx, SYSTEM, GH, "suspend")
    async with ctx.engine.connect() as conn:
        after = await store.read_directory_version(conn)
    assert after.number == before.number + 1
    assert await world.signer(ng.signing) == NG
    assert (await world.refusal(gh.signing)).code == "participant.suspended"


async def test_a_submission_to_a_newly_enrolled_participant_is_accepted(world: World) -> None:
    ctx = world.ctx
    ng = world.people[NG]
    content = example(MessageKind.ALERT)

    def seal(to: Person) -> bytes:
        return seal_message(
            sender_id=NG, signer=ng.signing, recipients=[(to.id, to.decryption.public)],
            kind=MessageKind.ALERT, content=content, tlp=Tlp.AMBER, now=int(time.time()),
        ).raw  # fmt: skip

    await submission.submit(ctx, seal(world.people[GH]))  # the cache is warm
    newcomer = await world.enrol(FR)
    with statements(ctx.engine) as seen:
        accepted = await submission.submit(ctx, seal(newcomer))
    assert accepted.recipients == (FR,)
    assert len(touching(seen, "participants", "participant_keys")) == 1  # the reload, once
    with statements(ctx.engine) as seen:
        await submission.submit(ctx, seal(newcomer))
    assert touching(seen, "participants", "participant_keys") == []


async def test_requests_that_find_the_same_change_reload_once(world: World) -> None:
    ctx = world.ctx
    ng = world.people[NG]
    assert await world.signer(ng.signing) == NG
    await admin.set_status(ctx, SYSTEM, GH, "suspend")
    loaded = ctx.directory.reloads
    assert await asyncio.gather(*(world.signer(ng.signing) for _ in range(8))) == [NG] * 8
    assert ctx.directory.reloads == loaded + 1


async def test_a_submission_checks_the_version_once_per_batch_and_decides_again_on_a_change(
    world: World, other_worker: HubContext
) -> None:
    # A submission is authorized on the held copy; the writer stores it only if the directory is
    # still at that copy's version, in the storing transaction, and otherwise it is decided again.
    ctx = world.ctx
    ng, gh = world.people[NG], world.people[GH]

    def seal() -> bytes:
        return seal_message(
            sender_id=NG, signer=ng.signing, recipients=[(GH, gh.decryption.public)],
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), tlp=Tlp.AMBER,
            now=int(time.time()),
        ).raw  # fmt: skip

    await submission.submit(ctx, seal())  # the cache is warm
    with statements(ctx.engine) as seen:
        await submission.submit(ctx, seal())
    assert len(touching(seen, "directory_version")) == 1  # in the writer's transaction
    assert touching(seen, "participants", "participant_keys") == []

    await admin.set_status(other_worker, SYSTEM, NG, "suspend")  # this hub's copy is now stale
    raw = seal()
    with pytest.raises(Forbidden) as caught:
        await submission.submit(ctx, raw)
    assert caught.value.code == "participant.suspended"
    await admin.set_status(other_worker, SYSTEM, NG, "reinstate")
    accepted = await submission.submit(ctx, raw)  # never stored while suspended
    assert not accepted.duplicate
