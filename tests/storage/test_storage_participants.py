"""Participants and keys, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from storage_rows import NOW, enrol, key, participant

from pgs_hub.hub.errors import Conflict
from pgs_hub.hub.storage import participants as store


async def test_insert_get_and_list(engine: AsyncEngine) -> None:
    auditor = replace(participant("zz-audit", "WCO", "auditor"), scope="FR")
    async with engine.begin() as conn:
        await store.insert_participant(conn, participant("fr-1"))
        await store.insert_participant(conn, auditor)
    async with engine.connect() as conn:
        assert await store.get_participant(conn, "zz-audit") == auditor
        assert await store.get_participant(conn, "nobody") is None
        assert [p.id for p in await store.list_participants(conn)] == ["fr-1", "zz-audit"]


async def test_a_duplicate_id_is_a_conflict_and_the_transaction_goes_on(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await store.insert_participant(conn, participant("fr-1"))
    async with engine.begin() as conn:
        with pytest.raises(Conflict) as caught:
            await store.insert_participant(conn, participant("fr-1", "DE"))
        assert caught.value.code == "participant.exists"
        await store.insert_participant(conn, participant("de-1", "DE"))  # still usable
    async with engine.connect() as conn:
        assert [p.id for p in await store.list_participants(conn)] == ["de-1", "fr-1"]
        stored = await store.get_participant(conn, "fr-1")
        assert stored is not None
        assert stored.country == "FR"


async def test_a_bad_row_is_not_mistaken_for_a_duplicate(engine: AsyncEngine) -> None:
    bad = replace(participant("fr-1"), status="sleeping")  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await store.insert_participant(conn, bad)


async def test_set_status(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await store.insert_participant(conn, participant("fr-1"))
        assert await store.set_status(conn, "fr-1", "suspended", NOW + 5)
        assert not await store.set_status(conn, "nobody", "suspended", NOW + 5)
    async with engine.connect() as conn:
        stored = await store.get_participant(conn, "fr-1")
    assert stored is not None
    assert (stored.status, stored.created_at, stored.updated_at) == ("suspended", NOW, NOW + 5)


async def test_keys_rotation_and_revocation(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await enrol(conn, "fr-1")
        await enrol(conn, "de-1", "DE")
        assert await store.key_by_kid(conn, "fr-1-sig-1") == key("fr-1", "sig")
        assert await store.key_by_kid(conn, "nope") is None

        # rotation: the old keys are retired, the new ones current
        assert await store.retire_current_keys(conn, "fr-1", NOW + 10) == 2
        await store.add_keys(
            conn,
            [
                key("fr-1", "sig", n=2, created_at=NOW + 10),
                key("fr-1", "enc", n=2, created_at=NOW + 10),
            ],
        )
        await store.add_keys(conn, [])
        keys = await store.keys_of(conn, "fr-1")
        assert [(k.kid, k.state, k.retired_at) for k in keys] == [
            ("fr-1-enc-1", "retired", NOW + 10),
            ("fr-1-sig-1", "retired", NOW + 10),
            ("fr-1-enc-2", "current", None),
            ("fr-1-sig-2", "current", None),
        ]
        assert [(k.participant_id, k.use, k.kid) for k in await store.current_keys(conn)] == [
            ("de-1", "enc", "de-1-enc-1"),
            ("de-1", "sig", "de-1-sig-1"),
            ("fr-1", "enc", "fr-1-enc-2"),
            ("fr-1", "sig", "fr-1-sig-2"),
        ]

        # revocation: every key revoked; an earlier retirement time is kept
        assert await store.revoke_keys(conn, "fr-1", NOW + 20) == 4
        assert await store.revoke_keys(conn, "fr-1", NOW + 30) == 0
        keys = await store.keys_of(conn, "fr-1")
        assert [(k.state, k.retired_at) for k in keys] == [
            ("revoked", NOW + 10),
            ("revoked", NOW + 10),
            ("revoked", NOW + 20),
            ("revoked", NOW + 20),
        ]
        assert [k.participant_id for k in await store.current_keys(conn)] == ["de-1", "de-1"]


async def test_a_key_needs_an_enrolled_participant(engine: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await store.add_keys(conn, [key("ghost", "sig")])
