"""Migration 0003 turns existing audit records into a complete Merkle log, on both databases."""

from __future__ import annotations

import json

from sqlalchemy import text

from pgs_hub.crypto.merkle import InMemoryTree, leaf_hash
from pgs_hub.hub.storage import log
from pgs_hub.hub.storage.audit import append_record
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.hub.storage.migrate import downgrade, upgrade


async def test_records_made_before_the_log_become_its_first_entries(database_url: str) -> None:
    await upgrade(database_url, "0002")
    engine = create_engine(database_url)
    try:
        rows = [
            ("participant.enrolled", "WCO"),
            ("envelope.accepted", "NG"),
            ("access.denied", None),
        ]
        async with engine.begin() as conn:
            for n, (event, country) in enumerate(rows, start=1):
                seq = (
                    await conn.execute(
                        text(
                            "INSERT INTO audit_records"
                            " (at, event, actor, subject, country, details)"
                            " VALUES (:at, :event, 'X', 'Y', :country, :details) RETURNING seq"
                        ),
                        {
                            "at": 1000 + n,
                            "event": event,
                            "country": country,
                            "details": json.dumps({"n": n}),
                        },
                    )
                ).scalar_one()
                if country:
                    await conn.execute(
                        text("INSERT INTO audit_record_countries (seq, country) VALUES (:s, :c)"),
                        {"s": seq, "c": country},
                    )
        await engine.dispose()
        await upgrade(database_url)
        engine = create_engine(database_url)
        async with engine.begin() as conn:
            stored = await log.entries(conn, start=0, end=10)
            tree = await log.state(conn)
            # and appending after the backfill continues the same tree
            await append_record(
                conn, at=2000, event="policy.reloaded", actor=None, subject="policy.toml",
                country=None, details={"sha256": "00"},
            )  # fmt: skip
            grown = await log.state(conn)
            everything = await log.entries(conn, start=0, end=10)
        assert [e.index for e in stored] == [0, 1, 2]
        assert [json.loads(e.entry)["event"] for e in stored] == [
            "participant.enrolled", "envelope.accepted", "access.denied",
        ]  # fmt: skip
        assert json.loads(stored[1].entry)["countries"] == ["NG"]
        reference = InMemoryTree()
        for e in everything:
            reference.append(leaf_hash(e.entry))
        assert tree.size == 3
        assert grown.size == 4
        assert reference.root() == grown.root()
        assert reference.root(3) == tree.root()
    finally:
        await engine.dispose()
    await downgrade(database_url, "0002")  # and back: the log tables go, the records stay
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            count = (await conn.execute(text("SELECT count(*) FROM audit_records"))).scalar_one()
        assert count == 4
    finally:
        await engine.dispose()
