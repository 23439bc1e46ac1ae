"""``hub.storage.log.nodes`` on SQLite and PostgreSQL: exactly the stored subtrees asked for (absent
ones left out, duplicates once), whatever the set and however many, and proofs from storage equal
those of the in-memory reference tree."""

from __future__ import annotations

import random

from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.crypto.errors import TreeRangeError
from pgs_hub.crypto.merkle import InMemoryTree, NodeId, consistency_plan, inclusion_plan, leaf_hash
from pgs_hub.hub.storage import audit, log

SIZE = 300  # leaves: subtrees up to level 8, with an incomplete right border


async def _stored_log(engine: AsyncEngine) -> InMemoryTree:
    """SIZE entries appended through storage; the same tree in memory."""
    entries = [f"entry {i}".encode() for i in range(SIZE)]
    async with engine.begin() as conn:
        for entry in entries:
            await log.append_leaves(conn, await log.state(conn), [entry])
    return InMemoryTree(leaf_hash(e) for e in entries)


def _stored(tree: InMemoryTree, node: NodeId) -> bytes | None:
    try:
        return tree.subtree_hash(node.level, node.index)
    except TreeRangeError:
        return None


def _random_nodes(rng: random.Random, count: int) -> list[NodeId]:
    """Complete subtrees, incomplete or absent ones (right of the tree, above it, far away)."""
    found: list[NodeId] = []
    for _ in range(count):
        draw = rng.random()
        if draw < 0.6:
            level = rng.randrange(9)
            found.append(NodeId(level, rng.randrange((SIZE >> level) + 2)))
        elif draw < 0.8:
            found.append(NodeId(rng.randrange(9, 64), rng.randrange(4)))
        else:
            found.append(NodeId(rng.randrange(64), rng.randrange(2**40, 2**62)))
    if found and rng.random() < 0.3:
        found += rng.sample(found, k=min(len(found), 3))  # duplicates are answered once
    return found


async def test_nodes_returns_exactly_the_stored_subtrees_asked_for(engine: AsyncEngine) -> None:
    tree = await _stored_log(engine)
    rng = random.Random(20)
    sizes = [0, 1, 2, log.NODES_PER_QUERY - 1, log.NODES_PER_QUERY, log.NODES_PER_QUERY + 1, 300]
    sizes += [rng.randrange(1, 60) for _ in range(60)]
    async with engine.connect() as conn:
        for count in sizes:
            wanted = _random_nodes(rng, count)
            expected = {n: h for n in wanted if (h := _stored(tree, n)) is not None}
            assert await log.nodes(conn, wanted) == expected
            assert await log.nodes(conn, iter(wanted)) == expected  # any iterable
        every = [NodeId(level, i) for level in range(9) for i in range(SIZE >> level)]
        assert await log.nodes(conn, every) == {n: _stored(tree, n) for n in every}


async def test_proofs_from_storage_are_the_reference_proofs(engine: AsyncEngine) -> None:
    tree = await _stored_log(engine)
    rng = random.Random(21)
    async with engine.connect() as conn:
        for _ in range(40):
            size = rng.randrange(1, SIZE + 1)
            index, first = rng.randrange(size), rng.randrange(size + 1)
            plan = inclusion_plan(index, size)
            assert plan.assemble(await log.nodes(conn, plan.nodes)) == tree.inclusion_proof(
                index, size
            )
            plan = consistency_plan(first, size)
            assert plan.assemble(await log.nodes(conn, plan.nodes)) == tree.consistency_proof(
                first, size
            )
        assert await log.size(conn) == SIZE
        assert (await log.state(conn)).root() == tree.root()


async def test_proof_inputs_reads_what_the_three_separate_reads_read(engine: AsyncEngine) -> None:
    """``proof_inputs`` (one statement) answers exactly ``size``, ``entry_at`` and ``nodes``."""
    async with engine.begin() as conn:
        for i in range(37):
            await audit.append_record(
                conn, at=1_700_000_000 + i, event="access.denied", actor=f"P{i}", subject=None,
                country="NG", details={"n": i},
            )  # fmt: skip
    rng = random.Random(22)
    async with engine.connect() as conn:
        current = await log.size(conn)
        assert current == 37
        for _ in range(30):
            size = rng.randrange(1, current + 1)
            index = rng.randrange(size)
            plan = inclusion_plan(index, size)
            got = await log.proof_inputs(conn, index, plan.nodes)
            assert got.size == current
            assert got.entry is not None
            assert got.entry == await log.entry_at(conn, index)
            assert got.nodes == await log.nodes(conn, plan.nodes)
        nowhere = await log.proof_inputs(conn, 10_000, [NodeId(0, 10_000)])
        assert nowhere == log.ProofInputs(current, None, {})
        many = [NodeId(0, i) for i in range(log.NODES_PER_QUERY + 5)]  # split over two reads
        assert (await log.proof_inputs(conn, 0, many)).nodes == await log.nodes(conn, many)
