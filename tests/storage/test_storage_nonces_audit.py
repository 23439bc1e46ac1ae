"""Nonces (replay detection) and audit records, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from storage_rows import NOW

from pgs_hub.hub.storage import audit, nonces


async def test_a_replayed_nonce_is_refused_and_the_transaction_goes_on(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        assert await nonces.remember_nonce(conn, "fr-1-sig-1", "n-1", NOW + 600)
        assert not await nonces.remember_nonce(conn, "fr-1-sig-1", "n-1", NOW + 601)
        # the same nonce under another key is another nonce
        assert await nonces.remember_nonce(conn, "de-1-sig-1", "n-1", NOW + 600)
        # the outer transaction survived the refused insert and can still write
        await audit.append_record(
            conn, at=NOW, event="x", actor=None, subject=None, country=None, details={}
        )
    async with engine.begin() as conn:
        assert not await nonces.remember_nonce(conn, "fr-1-sig-1", "n-1", NOW + 900)
        assert not await nonces.remember_nonce(conn, "de-1-sig-1", "n-1", NOW + 900)
        assert len(await audit.records(conn, after=0, limit=10, country=None)) == 1


async def test_an_expired_nonce_may_be_recorded_again_when_now_is_given(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        assert await nonces.remember_nonce(conn, "k", "n", NOW + 600)
        assert not await nonces.remember_nonce(conn, "k", "n", NOW + 1200, now=NOW + 599)
        assert await nonces.remember_nonce(conn, "k", "n", NOW + 1200, now=NOW + 600)
        assert not await nonces.remember_nonce(conn, "k", "n", NOW + 1300, now=NOW + 601)


async def test_purge_expired(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for n, expires_at in enumerate((NOW + 10, NOW + 20, NOW + 30)):
            assert await nonces.remember_nonce(conn, "k", f"n-{n}", expires_at)
        assert await nonces.purge_expired(conn, NOW + 20) == 2
        assert await nonces.purge_expired(conn, NOW + 20) == 0
        assert await nonces.remember_nonce(conn, "k", "n-0", NOW + 40)
        assert not await nonces.remember_nonce(conn, "k", "n-2", NOW + 40)


async def test_audit_records_are_compact_ordered_and_filtered_by_country(
    engine: AsyncEngine,
) -> None:
    appended: list[tuple[str, str | None, str | None, str | None, dict[str, object]]] = [
        ("envelope.accepted", "fr-1", "m-1", "FR", {"to": ["de-1"], "kind": "alert"}),
        ("envelope.accepted", "de-1", "m-2", "DE", {"kind": "rfi"}),
        ("participant.suspended", "admin", "fr-1", "FR", {"é": 1}),
        ("hub.started", None, None, None, {}),
    ]
    async with engine.begin() as conn:
        seqs = [
            await audit.append_record(
                conn,
                at=NOW + n,
                event=event,
                actor=actor,
                subject=subject,
                country=country,
                details=details,
            )
            for n, (event, actor, subject, country, details) in enumerate(appended)
        ]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 4

    async with engine.connect() as conn:
        everything = await audit.records(conn, after=0, limit=100, country=None)
        assert [r.seq for r in everything] == seqs
        first = everything[0]
        assert (first.at, first.event, first.actor, first.subject, first.country) == (
            NOW,
            "envelope.accepted",
            "fr-1",
            "m-1",
            "FR",
        )
        assert first.details == '{"kind":"alert","to":["de-1"]}'
        assert first.details_object() == {"kind": "alert", "to": ["de-1"]}
        assert json.loads(everything[2].details) == {"é": 1}
        assert everything[3].actor is None
        assert everything[3].details == "{}"

        france = await audit.records(conn, after=0, limit=100, country="FR")
        assert [r.subject for r in france] == ["m-1", "fr-1"]
        assert await audit.records(conn, after=france[0].seq, limit=100, country="FR") == [
            france[1]
        ]
        assert await audit.records(conn, after=0, limit=100, country="NL") == []
        assert [r.seq for r in await audit.records(conn, after=seqs[0], limit=2, country=None)] == (
            seqs[1:3]
        )
        with pytest.raises(ValueError, match="limit"):
            await audit.records(conn, after=0, limit=0, country=None)


def test_details_that_are_not_json_are_refused() -> None:
    with pytest.raises(ValueError, match="JSON"):
        audit.encode_details({"x": float("nan")})
