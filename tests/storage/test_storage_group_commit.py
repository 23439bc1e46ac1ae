"""Group commit (hub/storage/groupcommit.py) and the batched storage functions it writes with, on
SQLite and PostgreSQL: batches are one transaction each, callers are answered only after the
commit, a failed transaction answers every caller with its error and stores nothing, per-item
errors stay with their item, close() drains, and a caller that goes away cancels nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from sqlalchemy import delete, event, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from storage_rows import NOW, envelope, to

from pgs_hub.crypto.merkle import CompactRange, leaf_hash, root_from_leaves
from pgs_hub.hub.errors import Conflict, RateLimited, Unavailable
from pgs_hub.hub.services import writers
from pgs_hub.hub.storage import audit, envelopes, log, nonces, participants
from pgs_hub.hub.storage.groupcommit import GroupCommitter
from pgs_hub.hub.storage.kept_connection import KeptConnection
from pgs_hub.hub.storage.nonces import NonceClaim
from pgs_hub.hub.storage.tables import log_nodes, mailbox, submission_counters
from pgs_hub.hub.storage.tables import nonces as nonce_table


def record(n: int, country: str | None = "FR") -> audit.NewRecord:
    return audit.NewRecord(
        at=NOW + n, event="test.event", actor=f"actor-{n}", subject=f"s-{n}", country=country,
        details={"n": n}, countries=("DE",) if n % 2 else (),
    )  # fmt: skip


async def stored_nonces(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return {str(n) for n in (await conn.execute(select(nonce_table.c.nonce))).scalars()}


@pytest.fixture
async def kept(engine: AsyncEngine) -> AsyncIterator[KeptConnection]:
    """The writers' connection (hub/storage/kept_connection.py), given back after the test."""
    conn = KeptConnection(engine)
    try:
        yield conn
    finally:
        await conn.close()


# --- batched storage functions ---------------------------------------------------------------


async def test_append_records_builds_the_log_one_append_at_a_time_would(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        first = await audit.append_records(conn, [record(0)])
        batch = await audit.append_records(conn, [record(n) for n in range(1, 21)])
        single = await audit.append_record(conn, **record(21).__dict__)
        last = await audit.append_records(conn, [record(n) for n in range(22, 37)])
        assert await audit.append_records(conn, []) == []
    seqs = [*first, *batch, single, *last]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 37
    async with engine.connect() as conn:
        stored = await audit.records(conn, after=0, limit=100, country=None)
        tree = await log.state(conn)
        nodes = {
            (int(r.level), int(r.idx)): bytes(r.hash) for r in await conn.execute(select(log_nodes))
        }
        germans = await audit.records(conn, after=0, limit=100, country="DE")
    assert [r.seq for r in stored] == seqs
    assert [r.log_index for r in stored] == list(range(37))
    assert [r.details_object()["n"] for r in stored] == list(range(37))
    assert [r.details_object()["n"] for r in germans] == list(range(1, 37, 2))
    leaves = [leaf_hash(r.entry) for r in stored]
    assert tree.size == 37
    assert tree.root() == root_from_leaves(leaves)
    expected, completed = CompactRange().extend(leaves)
    assert expected == tree
    assert nodes == {(c.level, c.index): c.hash for c in completed}


async def test_insert_envelopes_numbers_envelopes_and_mailbox_items_in_batch_order(
    engine: AsyncEngine, population: tuple[str, ...]
) -> None:
    batch = [(envelope(f"m-{n}"), to("de-1", "nl-1") if n % 2 else to("nl-1")) for n in range(40)]
    async with engine.begin() as conn:
        seqs = await envelopes.insert_envelopes(conn, batch)
    assert seqs == sorted(seqs)
    async with engine.connect() as conn:
        for seq, (row, recipients) in zip(seqs, batch, strict=True):
            stored = await envelopes.envelope_by_mid(conn, row.mid)
            assert stored is not None
            assert stored.seq == seq
            delivered = await envelopes.deliveries_of(conn, seq)
            assert [(d.recipient_id, d.recipient_kid) for d in delivered] == sorted(recipients)
        for reader in ("de-1", "nl-1"):
            rows = await conn.execute(
                select(mailbox.c.envelope_seq)
                .where(mailbox.c.participant_id == reader)
                .order_by(mailbox.c.cursor)
            )
            addressed = [
                s for s, (_, r) in zip(seqs, batch, strict=True) if (reader, f"{reader}-enc-1") in r
            ]
            assert list(rows.scalars()) == addressed


@pytest.mark.parametrize("repeated", ["stored", "in the batch"])
async def test_insert_envelopes_refuses_a_taken_message_id_as_a_whole(
    engine: AsyncEngine, population: tuple[str, ...], repeated: str
) -> None:
    async with engine.begin() as conn:
        await envelopes.insert_envelopes(conn, [(envelope("m-0"), to("de-1"))])
    batch = [(envelope(f"m-{n}"), to("de-1")) for n in range(1, 4)]
    batch.insert(2, (envelope("m-0" if repeated == "stored" else "m-1"), to("nl-1")))
    async with engine.begin() as conn:
        with pytest.raises(IntegrityError):
            async with conn.begin_nested():
                await envelopes.insert_envelopes(conn, batch)
        # the transaction goes on; nothing of the batch was written
        assert await envelopes.envelope_by_mid(conn, "m-1") is None
        with pytest.raises(Conflict):
            await envelopes.insert_envelope(conn, envelope("m-0"), to("nl-1"))
        assert await envelopes.insert_envelope(conn, envelope("m-9"), to("nl-1")) > 0


@pytest.mark.parametrize("own", [False, True], ids=["caller's transaction", "own transaction"])
async def test_remember_nonces_refuses_replays_in_the_batch_and_of_stored_nonces(
    engine: AsyncEngine, kept: KeptConnection, own: bool
) -> None:
    """Also through store_nonces, the nonce writer's way (on SQLite, the plan on the event loop
    and the COMMIT in the driver's thread), the one-by-one SAVEPOINTs and renewals included."""

    async def remember(claims: list[NonceClaim]) -> list[bool]:
        if own:
            return await writers.store_nonces(kept, claims)
        async with engine.begin() as conn:
            return await nonces.remember_nonces(conn, claims)

    assert await remember([]) == []
    assert await remember([NonceClaim("k", "old", NOW + 600)]) == [True]
    assert await remember([NonceClaim("k", "expired", NOW + 10)]) == [True]
    claims = [
        NonceClaim("k", "a", NOW + 600),
        NonceClaim("k", "a", NOW + 600),  # the same request twice in one batch
        NonceClaim("other", "a", NOW + 600),  # another key's nonce is another nonce
        NonceClaim("k", "b", NOW + 600),
    ]
    assert await remember(claims) == [True, False, True, True]
    replays = [
        NonceClaim("k", "c", NOW + 600),
        NonceClaim("k", "old", NOW + 900),  # stored in an earlier transaction
        NonceClaim("k", "expired", NOW + 900, now=NOW + 10),  # past its window: fresh again
        NonceClaim("k", "d", NOW + 600),
        NonceClaim("k", "b", NOW + 900, now=NOW + 10),  # stored, still in its window
    ]
    assert await remember(replays) == [True, False, True, True, False]
    assert await stored_nonces(engine) == {"old", "expired", "a", "b", "c", "d"}
    renewed = [NonceClaim("k", "expired", NOW + 1200, now=NOW + 1000)]  # past NOW + 900 now
    assert await remember(renewed) == [True]
    assert await remember([NonceClaim("k", "expired", NOW + 1300)]) == [False]


@pytest.mark.parametrize("own", [False, True], ids=["caller's transaction", "own transaction"])
async def test_write_accepted_fails_only_the_items_that_cannot_be_stored(
    engine: AsyncEngine, kept: KeptConnection, population: tuple[str, ...], own: bool
) -> None:
    """Also through store_accepted, the hub's way (on SQLite, the whole transaction in the
    driver's thread), SAVEPOINT fallback included."""

    async def write(items: list[writers.AcceptedEnvelope]) -> list[int | Exception]:
        if own:
            return await writers.store_accepted(kept, items)
        async with engine.begin() as conn:
            return await writers.write_accepted(conn, items)

    def accepted(mid: str, *recipients: tuple[str, str]) -> writers.AcceptedEnvelope:
        return writers.AcceptedEnvelope(
            envelope(mid), recipients or tuple(to("de-1")),
            audit.NewRecord(NOW, "envelope.accepted", "fr-1", mid, "FR", {"mid": mid}),
        )  # fmt: skip

    (stored,) = await write([accepted("m-0")])
    batch = [
        accepted("m-1"),
        accepted("m-0"),  # stored already
        accepted("m-2", ("nl-1", "no-such-key")),  # breaks a foreign key
        accepted("m-1"),  # twice in the batch
        accepted("m-3", *to("de-1", "nl-1")),
    ]
    first, duplicate, broken, twin, last = await write(batch)
    assert isinstance(first, int)
    assert isinstance(last, int)
    assert isinstance(stored, int)
    assert stored < first < last
    assert isinstance(duplicate, Conflict)
    assert isinstance(twin, Conflict)
    assert duplicate.code == twin.code == "envelope.duplicate"
    assert isinstance(broken, IntegrityError)
    async with engine.connect() as conn:
        assert await envelopes.envelope_by_mid(conn, "m-2") is None
        logged = await audit.records(conn, after=0, limit=100, country=None)
        assert [r.subject for r in logged] == ["m-0", "m-1", "m-3"]
        assert [r.log_index for r in logged] == [0, 1, 2]


async def test_write_accepted_numbers_rows_as_the_database_would(
    engine: AsyncEngine, population: tuple[str, ...]
) -> None:
    """write_accepted assigns envelope seqs, mailbox cursors and audit seqs itself (no RETURNING
    round trip): mixed with rows the database numbered, they keep increasing in commit order, a
    deleted newest mailbox item's cursor is never handed out again, and the log is what one
    append at a time builds."""

    def accepted(mid: str, n: int) -> writers.AcceptedEnvelope:
        return writers.AcceptedEnvelope(envelope(mid), tuple(to("de-1", "nl-1")), record(n))

    async with engine.begin() as conn:
        await envelopes.insert_envelopes(conn, [(envelope("a-0"), to("de-1", "nl-1"))])
        await audit.append_records(conn, [record(0)])
        newest = (await conn.execute(select(func.max(mailbox.c.cursor)))).scalar_one()
        await conn.execute(delete(mailbox).where(mailbox.c.cursor == newest))
    async with engine.begin() as conn:
        results = await writers.write_accepted(conn, [accepted("a-1", 1), accepted("a-2", 2)])
    async with engine.begin() as conn:
        await envelopes.insert_envelopes(conn, [(envelope("a-3"), to("nl-1"))])
        await audit.append_records(conn, [record(3)])
    assert all(isinstance(r, int) for r in results)
    async with engine.connect() as conn:
        seqs = [
            (await envelopes.envelope_by_mid(conn, f"a-{n}")).seq  # type: ignore[union-attr]
            for n in range(4)
        ]
        items = (
            await conn.execute(
                select(mailbox.c.cursor, mailbox.c.envelope_seq).order_by(mailbox.c.cursor)
            )
        ).all()
        stored = await audit.records(conn, after=0, limit=100, country=None)
        tree = await log.state(conn)
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 4
    assert seqs[1:3] == results
    assert all(cursor > newest for cursor, _ in items[1:])
    assert [seq for _, seq in items] == [seqs[0], seqs[1], seqs[1], seqs[2], seqs[2], seqs[3]]
    assert [r.details_object()["n"] for r in stored] == [0, 1, 2, 3]
    assert [r.seq for r in stored] == sorted(r.seq for r in stored)
    assert [r.log_index for r in stored] == [0, 1, 2, 3]
    assert tree.root() == root_from_leaves([leaf_hash(r.entry) for r in stored])


async def test_write_accepted_counts_submissions_against_the_senders_limit(
    engine: AsyncEngine, population: tuple[str, ...]
) -> None:
    """The per-minute submission limit, counted in the storing transaction: two batches (two
    hub processes, say) share the count; refused items are counted too and store nothing."""

    def accepted(mid: str) -> writers.AcceptedEnvelope:
        return writers.AcceptedEnvelope(
            envelope(mid), tuple(to("de-1")),
            audit.NewRecord(NOW, "envelope.accepted", "fr-1", mid, "FR", {"mid": mid}),
            per_minute=3,
        )  # fmt: skip

    async with engine.begin() as conn:
        first = await writers.write_accepted(conn, [accepted("r-0"), accepted("r-1")])
    async with engine.begin() as conn:
        second = await writers.write_accepted(conn, [accepted(f"r-{n}") for n in (2, 3, 4)])
    assert all(isinstance(seq, int) for seq in [*first, second[0]])
    for refused in second[1:]:
        assert isinstance(refused, RateLimited)
        assert refused.code == "rate.submissions"
        assert 1 <= refused.retry_after <= 60
    async with engine.connect() as conn:
        assert await envelopes.envelope_by_mid(conn, "r-3") is None
        counted = await conn.scalar(select(submission_counters.c.count))
    assert counted == 5


async def test_a_batch_on_postgresql_sends_the_same_few_statements_whatever_its_size(
    engine: AsyncEngine, kept: KeptConnection, population: tuple[str, ...]
) -> None:
    """On PostgreSQL each statement of the plan is a round trip (hub/storage/batch.py): the stream
    lock; the directory version, log state and numbers in one SELECT; every sender's counter in
    one upsert; a SAVEPOINT left open; envelopes, deliveries, mailbox; audit records, log nodes,
    log state, audit countries. Eleven, for one item or forty from three senders (it was
    sixteen for three senders: three reads and one upsert per sender, and a RELEASE). And each
    insert of many rows is one execution over arrays (unnest), not one per row."""
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite the plan runs in the driver's thread, not statement by statement")
    async with engine.connect() as conn:
        version = await participants.read_directory_version(conn)

    def accepted(mid: str, sender: str) -> writers.AcceptedEnvelope:
        record = audit.NewRecord(NOW, "envelope.accepted", sender, mid, "FR", {"mid": mid},
                                 countries=("DE",))  # fmt: skip
        recipients = [pid for pid in population if pid != sender]
        return writers.AcceptedEnvelope(
            envelope(mid, sender), tuple(to(*recipients)), record, version, per_minute=1000
        )

    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        for first, size in ((0, 1), (1, 12), (13, 40)):
            sent.clear()
            items = [accepted(f"s-{n}", population[n % 3]) for n in range(first, first + size)]
            results = await writers.store_accepted(kept, items)
            assert all(isinstance(seq, int) for seq in results)
            assert len(sent) == 11, [statement.split(None, 1)[0] for statement in sent]
        # the upsert of the counters, and the inserts of envelopes, deliveries, mailbox items,
        # audit records, log nodes and audit countries
        assert sum("unnest(" in statement for statement in sent) == 7
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


# --- the committer ---------------------------------------------------------------------------


def nonce_committer(engine: AsyncEngine, **kwargs: int) -> GroupCommitter[NonceClaim, bool]:
    return GroupCommitter(engine, nonces.remember_nonces, name="test", **kwargs)


async def test_a_lone_item_is_committed_at_once(engine: AsyncEngine) -> None:
    committer = nonce_committer(engine)
    assert await asyncio.wait_for(committer.submit(NonceClaim("k", "n-1", NOW)), 10)
    assert (committer.batches, committer.committed) == (1, 1)
    assert await stored_nonces(engine) == {"n-1"}  # read on another connection: committed
    assert await committer.submit(NonceClaim("k", "n-2", NOW))
    assert not await committer.submit(NonceClaim("k", "n-2", NOW))  # a replay across batches
    assert committer.batches == 3


async def test_concurrent_items_share_transactions_and_are_all_committed(
    engine: AsyncEngine,
) -> None:
    committer = nonce_committer(engine, max_batch=64)
    claims = [NonceClaim("k", f"n-{n}", NOW) for n in range(300)]
    claims += claims[:10]  # replays, in a later batch than their original
    answers = await asyncio.gather(*(committer.submit(c) for c in claims))
    assert answers == [True] * 300 + [False] * 10
    assert committer.committed == 310
    assert 310 / 64 <= committer.batches < 310 / 4
    assert committer.largest_batch == 64
    assert await stored_nonces(engine) == {f"n-{n}" for n in range(300)}


async def test_a_failed_transaction_fails_every_caller_and_stores_nothing(
    engine: AsyncEngine,
) -> None:
    async def then_break(conn: AsyncConnection, claims: Sequence[NonceClaim]) -> list[bool]:
        written = await nonces.remember_nonces(conn, claims)
        if any(c.nonce.startswith("bad") for c in claims):
            await conn.execute(text("INSERT INTO no_such_table VALUES (1)"))  # the database refuses
        return written

    committer: GroupCommitter[NonceClaim, bool] = GroupCommitter(engine, then_break, name="t")
    results = await asyncio.gather(
        *(committer.submit(NonceClaim("k", f"bad-{n}", NOW)) for n in range(20)),
        return_exceptions=True,
    )
    assert all(isinstance(r, DBAPIError) for r in results), results
    assert len({id(r) for r in results}) <= committer.failed_batches  # one error per batch
    assert committer.committed == 0
    assert await stored_nonces(engine) == set()
    # the next batch is tried afresh
    assert await committer.submit(NonceClaim("k", "good", NOW))
    assert await stored_nonces(engine) == {"good"}


async def test_an_item_error_fails_only_its_caller(engine: AsyncEngine) -> None:
    async def refuse_odd(
        conn: AsyncConnection, claims: Sequence[NonceClaim]
    ) -> list[bool | Exception]:
        written = await nonces.remember_nonces(conn, claims)
        return [
            Conflict("odd", code="test.odd") if int(c.nonce) % 2 else fresh
            for c, fresh in zip(claims, written, strict=True)
        ]

    committer: GroupCommitter[NonceClaim, bool] = GroupCommitter(engine, refuse_odd, name="t")
    results = await asyncio.gather(
        *(committer.submit(NonceClaim("k", str(n), NOW)) for n in range(10)),
        return_exceptions=True,
    )
    assert results[0::2] == [True] * 5
    assert all(isinstance(r, Conflict) and r.code == "test.odd" for r in results[1::2])
    assert committer.failed_batches == 0


async def test_close_finishes_what_was_submitted_then_refuses(engine: AsyncEngine) -> None:
    committer = nonce_committer(engine, max_batch=8)
    waiting = [
        asyncio.ensure_future(committer.submit(NonceClaim("k", f"n-{n}", NOW))) for n in range(50)
    ]
    await asyncio.sleep(0)  # the callers are queued
    await committer.close()
    assert committer.closed
    assert all(w.done() for w in waiting)
    assert [w.result() for w in waiting] == [True] * 50
    assert len(await stored_nonces(engine)) == 50
    with pytest.raises(Unavailable) as refused:
        await committer.submit(NonceClaim("k", "late", NOW))
    assert refused.value.code == "hub.shutting_down"
    await committer.close()  # twice is fine


async def test_a_caller_that_goes_away_does_not_cancel_the_batch(engine: AsyncEngine) -> None:
    started, go_on = asyncio.Event(), asyncio.Event()

    async def slow(conn: AsyncConnection, claims: Sequence[NonceClaim]) -> list[bool]:
        written = await nonces.remember_nonces(conn, claims)
        started.set()
        await go_on.wait()
        return written

    committer: GroupCommitter[NonceClaim, bool] = GroupCommitter(engine, slow, name="t")
    leaving = asyncio.ensure_future(committer.submit(NonceClaim("k", "leaves", NOW)))
    await started.wait()  # its batch is being written
    staying = asyncio.ensure_future(committer.submit(NonceClaim("k", "stays", NOW)))
    gone = asyncio.ensure_future(committer.submit(NonceClaim("k", "gone", NOW)))
    await asyncio.sleep(0)
    leaving.cancel()
    gone.cancel()  # still pending: left out of the next batch
    await asyncio.sleep(0)
    go_on.set()
    assert await staying
    assert leaving.cancelled()
    assert gone.cancelled()
    await committer.close()
    assert await stored_nonces(engine) == {"leaves", "stays"}
    assert committer.committed == 2


async def test_callers_answered_by_a_commit_join_the_next_batch(engine: AsyncEngine) -> None:
    """Callers in a closed loop (each submits again once answered) while another item arrives
    during every commit: the answered callers' next items share the next batch with it, rather
    than the arrival going alone and the callers waiting one more commit."""
    batches: list[list[str]] = []
    late: list[asyncio.Task[str]] = []

    async def write(_conn: AsyncConnection, items: Sequence[str]) -> list[str]:
        batches.append(list(items))
        if len(late) < 4:  # one more item arrives while this batch is being written
            late.append(asyncio.create_task(committer.submit(f"late-{len(late)}")))
            await asyncio.sleep(0)
        return list(items)

    committer: GroupCommitter[str, str] = GroupCommitter(engine, write, name="test")

    async def caller(n: int) -> None:
        for round_ in range(4):
            assert await committer.submit(f"c{n}-{round_}") == f"c{n}-{round_}"

    await asyncio.gather(*(caller(n) for n in range(3)))
    assert [await task for task in late] == [f"late-{n}" for n in range(4)]
    await committer.close()
    assert len(batches) == 5, batches
    for number, batch in enumerate(batches[1:4], start=1):
        expected = [f"late-{number - 1}", *(f"c{n}-{number}" for n in range(3))]
        assert sorted(batch) == sorted(expected)


async def test_the_writer_task_runs_only_while_there_is_work(engine: AsyncEngine) -> None:
    committer = nonce_committer(engine)
    before = {t for t in asyncio.all_tasks() if t.get_name().startswith("group-commit")}
    await committer.submit(NonceClaim("k", "n", NOW))
    await asyncio.sleep(0)
    after = {t for t in asyncio.all_tasks() if t.get_name().startswith("group-commit")}
    assert after - before == set()
    assert committer.pending == 0
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(nonce_table))).scalar() == 1
