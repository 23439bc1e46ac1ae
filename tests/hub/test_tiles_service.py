"""The log as tlog-tiles, from the hub's service (``hub.services.tiles``) on SQLite and
PostgreSQL: every tile of the signed tree is the tree's own hashes, every bundle the exact
entries; bundles are for global auditors only; nothing beyond the signed tree is served. Also the
cosignature rows (``hub.storage.log``) a checkpoint is published with."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.crypto.keys import SigningKey
from pgs_hub.crypto.merkle import InMemoryTree, leaf_hash
from pgs_hub.crypto.note import NoteVerifier
from pgs_hub.crypto.tiles import Tile, decode_bundle, decode_tile, tiles_of
from pgs_hub.crypto.witness import Cosigner
from pgs_hub.hub.errors import Forbidden, InvalidRequest, NotFound
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.policy.model import load_policy
from pgs_hub.hub.services import auditlog, tiles
from pgs_hub.hub.services.context import HubContext, PolicyHolder
from pgs_hub.hub.storage import audit, log
from tests.interop.golang import build_gowitness, run_gowitness, write_tlog


def member(pid: str, role: str, scope: str | None = None) -> Member:
    return Member(id=pid, country=pid[:2], role=role, scope=scope, status="active", enc_kid="")


GLOBAL = Member(id="WCO-AUDIT", country="WCO", role="auditor", scope=None, status="active",
                enc_kid="")  # fmt: skip
SCOPED = member("GH-AUDIT", "auditor", "GH")
NCP = member("NG-NCP-LAGOS", "ncp")


async def grow(engine: AsyncEngine, count: int) -> None:
    async with engine.begin() as conn:
        for i in range(count):
            await audit.append_record(
                conn, at=1_767_225_600 + i, event="access.denied", actor=None, subject=None,
                country=("NG", "GH")[i % 2], details={"reason": "r" * (i % 7)},
            )  # fmt: skip


@pytest.fixture
async def ctx(engine: AsyncEngine) -> HubContext:
    await grow(engine, 300)
    context = HubContext(
        engine=engine,
        policy=PolicyHolder(None, load_policy("", source="test policy")),
        authority=SigningKey.generate().public,
        hub_key=SigningKey.generate(),
        log_signer=SigningKey.generate(),
        log_origin="pgs-hub.test/log",
    )
    await auditlog.sign(context)
    return context


async def test_tiles_of_the_signed_tree(
    ctx: HubContext, tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    """One log per database (building it is most of the cost): what tiles hold, as our tree and
    as Go's sumdb/tlog see them, who reads them, what is not served, and the cosignature rows."""
    assert pytestconfig.cache is not None
    await tiles_are_the_signed_trees_hashes_and_entries(ctx)
    await go_reads_the_tiles(ctx, tmp_path, pytestconfig.cache.mkdir("pgs-gocache"))
    await who_reads_what(ctx)
    await nothing_beyond_the_signed_tree(ctx)
    await cosignature_rows(ctx)


async def tiles_are_the_signed_trees_hashes_and_entries(ctx: HubContext) -> None:
    async with ctx.reader.connect() as conn:
        stored = await log.entries(conn, start=0, end=300)
    entries = [e.entry for e in stored]
    tree = InMemoryTree([leaf_hash(e) for e in entries])
    assert {t.path() for t in tiles_of(300)} == {
        "tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1",
        "tile/entries/000", "tile/entries/001.p/44",
    }  # fmt: skip
    for t in tiles_of(300):
        data = await tiles.tile(ctx, GLOBAL, t.path().removeprefix("tile/"))
        if t.level is None:
            begin = t.index * 256
            assert decode_bundle(data) == entries[begin : begin + t.count]
        else:
            expected = [tree.subtree_hash(n.level, n.index) for n in t.nodes()]
            assert decode_tile(data, t) == expected
    note = await tiles.checkpoint(ctx, GLOBAL)
    assert note.startswith(b"pgs-hub.test/log\n300\n")


async def go_reads_the_tiles(ctx: HubContext, tmp_path: Path, cache: Path) -> None:
    """Go's tlog.TileHashReader checks each tile against the cosigned checkpoint, including the
    partial level-1 tile, and each bundled entry against its tile hash."""
    build = asyncio.ensure_future(build_gowitness(tmp_path, cache))
    folder = tmp_path / "tlog"
    for t in tiles_of(300):
        (folder / t.path()).parent.mkdir(parents=True, exist_ok=True)
        (folder / t.path()).write_bytes(await tiles.tile(ctx, GLOBAL, t.path()[5:]))
    note = await tiles.checkpoint(ctx, GLOBAL)
    witness = Cosigner("witness.test", SigningKey.generate())
    cosigned = note + witness.cosign(note[: note.rfind(b"\n\n") + 1], 1_767_225_600).encode()
    log_key = NoteVerifier.for_key(ctx.log_origin, ctx.log_key.public).encode()
    write_tlog(folder, cosigned, log_key, [witness.verifier.encode()])
    code, out, err = await run_gowitness(await build, folder)
    assert code == 0, err
    assert out.splitlines() == ["cosigned witness.test", "ok 300"]


async def who_reads_what(ctx: HubContext) -> None:
    hashes = await tiles.tile(ctx, GLOBAL, "0/000")
    assert await tiles.tile(ctx, SCOPED, "0/000") == hashes
    assert await tiles.tile(ctx, NCP, "0/000") == hashes
    for reader in (SCOPED, NCP):
        with pytest.raises(Forbidden) as refused:
            await tiles.tile(ctx, reader, "entries/000")
        assert refused.value.code == "tiles.entries_forbidden"


async def nothing_beyond_the_signed_tree(ctx: HubContext) -> None:
    await grow(ctx.engine, 20)  # stored, not yet signed
    for path in ("0/001.p/45", "0/001.p/64", "entries/001.p/45", "0/002"):
        with pytest.raises(NotFound):
            await tiles.tile(ctx, GLOBAL, path)
    await auditlog.sign(ctx)
    assert len(await tiles.tile(ctx, GLOBAL, "0/001.p/64")) == 64 * 32
    assert Tile(0, 1, 44).path() == "tile/0/001.p/44"
    assert len(await tiles.tile(ctx, GLOBAL, "0/001.p/44")) == 44 * 32  # still served
    with pytest.raises(InvalidRequest):
        await tiles.tile(ctx, GLOBAL, "0/1")


async def cosignature_rows(ctx: HubContext) -> None:
    async with ctx.engine.begin() as conn:
        await log.save_cosignature(conn, size=320, witness="w.b", line="— w.b B\n", at=1)
        await log.save_cosignature(conn, size=320, witness="w.a", line="— w.a A\n", at=1)
        await log.save_cosignature(conn, size=320, witness="w.b", line="— w.b C\n", at=2)
    async with ctx.reader.connect() as conn:
        assert await log.cosignatures(conn, 320) == {"w.a": "— w.a A\n", "w.b": "— w.b C\n"}
        assert await log.cosignatures(conn, 300) == {}
        row = await log.checkpoint_at(conn, 320)
    assert row is not None
    assert row.size == 320
    published = await auditlog.latest(ctx)
    assert published.size == 320
    assert published.cosigned_note == published.note + "— w.a A\n— w.b C\n"
    assert (await tiles.checkpoint(ctx, GLOBAL)).endswith("\n— w.a A\n— w.b C\n".encode())
