"""Envelopes, deliveries, receipts and mailboxes, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from storage_rows import NOW, envelope, to

from pgs_hub.hub.errors import Conflict
from pgs_hub.hub.storage import envelopes, mailbox, receipts
from pgs_hub.hub.storage.tables import deliveries as deliveries_table
from pgs_hub.hub.storage.tables import envelopes as envelopes_table
from pgs_hub.hub.storage.tables import mailbox as mailbox_table

pytestmark = pytest.mark.usefixtures("population")


async def _count(conn: AsyncConnection, table: object) -> int:
    return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


def _receipt(seq: int, by: str, status: str, at: int) -> receipts.ReceiptRow:
    raw = f'{{"receipt":"{seq}/{by}/{status}"}}'
    return receipts.ReceiptRow(
        id=None,
        envelope_seq=seq,
        by_id=by,
        status="read" if status == "read" else "delivered",
        at=at,
        raw=raw,
        sha256=hashlib.sha256(raw.encode()).digest(),
        received_at=at + 1,
    )


async def test_insert_and_read_back(engine: AsyncEngine) -> None:
    row = replace(envelope("m-1"), grp="GS-ALL", thread="t-1", irt="m-0")
    async with engine.begin() as conn:
        seq = await envelopes.insert_envelope(conn, row, to("nl-1", "de-1"))
    async with engine.connect() as conn:
        assert await envelopes.envelope_by_mid(conn, "m-1") == replace(row, seq=seq)
        assert await envelopes.envelope_by_mid(conn, "m-2") is None
        assert await envelopes.deliveries_of(conn, seq) == [
            envelopes.DeliveryRow(seq, "de-1", "de-1-enc-1", "queued", None, None),
            envelopes.DeliveryRow(seq, "nl-1", "nl-1-enc-1", "queued", None, None),
        ]
        assert await envelopes.delivery(conn, seq, "nl-1") == envelopes.DeliveryRow(
            seq, "nl-1", "nl-1-enc-1", "queued", None, None
        )
        assert await envelopes.delivery(conn, seq, "fr-1") is None
        assert [i.mid for i in await mailbox.items_after(conn, "de-1", 0, 10)] == ["m-1"]
        assert [i.mid for i in await mailbox.items_after(conn, "nl-1", 0, 10)] == ["m-1"]
        assert await mailbox.items_after(conn, "fr-1", 0, 10) == []


async def test_seq_increases(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        first = await envelopes.insert_envelope(conn, envelope("m-1"), to("de-1"))
        second = await envelopes.insert_envelope(conn, envelope("m-2"), to("de-1"))
    assert second > first


async def test_a_duplicate_mid_is_a_conflict_and_nothing_is_half_written(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await envelopes.insert_envelope(conn, envelope("m-1"), to("de-1"))
    async with engine.begin() as conn:
        with pytest.raises(Conflict) as caught:
            await envelopes.insert_envelope(
                conn, envelope("m-1", sender="nl-1"), to("fr-1", "de-1")
            )
        assert caught.value.code == "envelope.duplicate"
        # the transaction is still usable, and holds nothing of the refused envelope
        assert await _count(conn, envelopes_table) == 1
        assert await _count(conn, deliveries_table) == 1
        assert await _count(conn, mailbox_table) == 1
        await envelopes.insert_envelope(conn, envelope("m-2"), to("nl-1"))
    async with engine.connect() as conn:
        assert await _count(conn, envelopes_table) == 2
        assert await _count(conn, deliveries_table) == 2
        assert await mailbox.items_after(conn, "fr-1", 0, 10) == []
        stored = await envelopes.envelope_by_mid(conn, "m-1")
        assert stored is not None
        assert stored.sender_id == "fr-1"


async def test_recipients_must_be_distinct(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        with pytest.raises(ValueError, match="only once"):
            await envelopes.insert_envelope(conn, envelope("m-1"), [*to("de-1"), *to("de-1")])


async def test_deliveries_only_move_forward(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        seq = await envelopes.insert_envelope(conn, envelope("m-1"), to("de-1", "nl-1"))
        assert await envelopes.advance_delivery(conn, seq, "de-1", "delivered", NOW + 5)
        assert not await envelopes.advance_delivery(conn, seq, "de-1", "delivered", NOW + 6)
        assert await envelopes.advance_delivery(conn, seq, "de-1", "read", NOW + 7)
        assert not await envelopes.advance_delivery(conn, seq, "de-1", "read", NOW + 8)
        assert not await envelopes.advance_delivery(conn, seq, "de-1", "delivered", NOW + 9)
        # queued straight to read: delivery is implied and recorded
        assert await envelopes.advance_delivery(conn, seq, "nl-1", "read", NOW + 10)
        assert not await envelopes.advance_delivery(conn, seq, "fr-1", "read", NOW + 10)
        with pytest.raises(ValueError, match="cannot be advanced"):
            await envelopes.advance_delivery(conn, seq, "nl-1", "queued", NOW)  # type: ignore[arg-type]
        assert [
            (d.recipient_id, d.state, d.delivered_at, d.read_at)
            for d in await envelopes.deliveries_of(conn, seq)
        ] == [
            ("de-1", "read", NOW + 5, NOW + 7),
            ("nl-1", "read", NOW + 10, NOW + 10),
        ]


async def test_expiry(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        short = await envelopes.insert_envelope(
            conn, envelope("m-short", exp=NOW + 100), to("de-1", "nl-1", "fr-1")
        )
        long = await envelopes.insert_envelope(conn, envelope("m-long", exp=NOW + 999), to("de-1"))
        await envelopes.advance_delivery(conn, short, "nl-1", "delivered", NOW + 2)
        await envelopes.advance_delivery(conn, short, "fr-1", "read", NOW + 3)
        assert await envelopes.expire_deliveries(conn, NOW + 99) == 0
        assert await envelopes.expire_deliveries(conn, NOW + 100) == 2
        assert await envelopes.expire_deliveries(conn, NOW + 100) == 0
        assert {d.recipient_id: d.state for d in await envelopes.deliveries_of(conn, short)} == {
            "de-1": "expired",
            "fr-1": "read",
            "nl-1": "expired",
        }
        assert [d.state for d in await envelopes.deliveries_of(conn, long)] == ["queued"]
        # expired is final
        assert not await envelopes.advance_delivery(conn, short, "de-1", "delivered", NOW + 101)


async def test_receipts_reach_the_senders_mailbox(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        seq = await envelopes.insert_envelope(conn, envelope("m-1"), to("de-1", "nl-1"))
        first = await receipts.insert_receipt(
            conn, _receipt(seq, "de-1", "delivered", NOW + 5), "fr-1"
        )
        second = await receipts.insert_receipt(conn, _receipt(seq, "de-1", "read", NOW + 6), "fr-1")
    assert second > first
    async with engine.connect() as conn:
        stored = await receipts.receipts_of(conn, seq)
        assert [(r.id, r.by_id, r.status) for r in stored] == [
            (first, "de-1", "delivered"),
            (second, "de-1", "read"),
        ]
        items = await mailbox.items_after(conn, "fr-1", 0, 10)
        assert [(i.item, i.mid, i.receipt_id, i.receipt_status) for i in items] == [
            ("receipt", "m-1", first, "delivered"),
            ("receipt", "m-1", second, "read"),
        ]
        assert items[1].receipt_by == "de-1"
        assert items[1].receipt_at == NOW + 6
        assert items[1].receipt_raw == stored[1].raw
        # the recipients' own mailboxes are unchanged
        assert [i.item for i in await mailbox.items_after(conn, "de-1", 0, 10)] == ["envelope"]


async def test_mailbox_order_pagination_and_latest_cursor(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        assert await mailbox.latest_cursor(conn, "de-1") == 0
        for n in range(5):
            recipients = to("de-1", "nl-1") if n % 2 == 0 else to("nl-1")
            await envelopes.insert_envelope(conn, envelope(f"m-{n}"), recipients)
        seq = await envelopes.insert_envelope(conn, envelope("m-back", sender="de-1"), to("fr-1"))
        await receipts.insert_receipt(conn, _receipt(seq, "fr-1", "read", NOW + 9), "de-1")

    async with engine.connect() as conn:
        everything = await mailbox.items_after(conn, "de-1", 0, 100)
        assert [(i.item, i.mid) for i in everything] == [
            ("envelope", "m-0"),
            ("envelope", "m-2"),
            ("envelope", "m-4"),
            ("receipt", "m-back"),
        ]
        cursors = [i.cursor for i in everything]
        assert cursors == sorted(cursors)
        assert await mailbox.latest_cursor(conn, "de-1") == cursors[-1]

        first = everything[0]
        row = envelope("m-0")
        assert (first.sender_id, first.kind, first.tlp, first.grp, first.size) == (
            "fr-1",
            "alert",
            "AMBER",
            None,
            row.size,
        )
        assert (first.sha256, first.iat, first.exp, first.accepted_at) == (
            row.sha256,
            row.iat,
            row.exp,
            row.accepted_at,
        )
        assert (first.receipt_id, first.receipt_by, first.receipt_raw) == (None, None, None)

        pages, after = [], 0
        while page := await mailbox.items_after(conn, "de-1", after, 3):
            pages.append([i.mid for i in page])
            after = page[-1].cursor
        assert pages == [["m-0", "m-2", "m-4"], ["m-back"]]
        assert await mailbox.items_after(conn, "de-1", cursors[1], 1) == [everything[2]]
        assert len(await mailbox.items_after(conn, "nl-1", 0, 100)) == 5

        for limit in (0, mailbox.MAX_PAGE + 1):
            with pytest.raises(ValueError, match="limit"):
                await mailbox.items_after(conn, "de-1", 0, limit)


async def test_items_after_each_is_items_after_for_every_mailbox_at_once(
    engine: AsyncEngine,
) -> None:
    """The one-statement read that answers streams woken together (a broadcast) gives each
    participant exactly what its own :func:`items_after` gives: its own cursor, its own page
    limit, receipts included, and nothing for a participant with an empty mailbox."""
    pattern = [("de-1",), ("de-1", "nl-1"), ("nl-1",), ("de-1", "nl-1"), ("de-1",), ("nl-1",)]
    async with engine.begin() as conn:
        for n, recipients in enumerate(pattern):
            seq = await envelopes.insert_envelope(conn, envelope(f"m-{n}"), to(*recipients))
            if n % 2:  # a receipt reaches fr-1, the sender
                row = _receipt(seq, recipients[0], "read", NOW + n)
                await receipts.insert_receipt(conn, row, "fr-1")
    async with engine.connect() as conn:
        everything = {
            p: await mailbox.items_after(conn, p, 0, 100) for p in ("de-1", "nl-1", "fr-1")
        }
        assert all(everything.values())
        for limit in (1, 2, 3, 100):
            for k in range(4):
                after = {
                    p: ([0] + [i.cursor for i in items])[min(k, len(items))]
                    for p, items in everything.items()
                } | {"no-one": 0}
                each = await mailbox.items_after_each(conn, after, limit)
                alone = {p: await mailbox.items_after(conn, p, a, limit) for p, a in after.items()}
                assert each == {p: items for p, items in alone.items() if items}, (limit, k)
        # The statement is made once per number of mailboxes: each size, then one of them again
        # with other cursors, answers for its own mailboxes only.
        for size, cursor in ((1, 0), (2, 0), (3, 0), (1, 1), (2, 2)):
            after = dict.fromkeys(["de-1", "fr-1", "nl-1"][:size], cursor)
            each = await mailbox.items_after_each(conn, after, 100)
            alone = {p: await mailbox.items_after(conn, p, cursor, 100) for p in after}
            assert each == {p: items for p, items in alone.items() if items}, (size, cursor)
        assert await mailbox.items_after_each(conn, {}, 10) == {}
        with pytest.raises(ValueError, match="limit"):
            await mailbox.items_after_each(conn, {"de-1": 0}, 0)
