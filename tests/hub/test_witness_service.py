"""The witness's rules (``hub.witness.service``) on a real SQLite state file, without HTTP: the
first checkpoint is taken on trust, each later one only with a consistency proof from the recorded
one, and two concurrent requests from the same old size never both win (the rollback race of
c2sp.org/tlog-witness). HTTP and the statuses on the wire: tests/e2e/test_witnessed_log.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pgs_hub.crypto.keys import SigningKey
from pgs_hub.crypto.merkle import InMemoryTree, leaf_hash
from pgs_hub.crypto.note import Checkpoint, NoteVerifier, sign_checkpoint
from pgs_hub.crypto.witness import Cosigner, encode_add_checkpoint, open_cosigned
from pgs_hub.hub.witness.service import Witness, WitnessRejection
from pgs_hub.hub.witness.store import WitnessStore

ORIGIN = "pgs-hub.test/log"
LOG_KEY = SigningKey.generate()
LOG = NoteVerifier.for_key(ORIGIN, LOG_KEY.public)
TREE = InMemoryTree([leaf_hash(f"entry {i}".encode()) for i in range(20)])


def note(size: int, root: bytes | None = None) -> bytes:
    checkpoint = Checkpoint(ORIGIN, size, TREE.root(size) if root is None else root)
    return sign_checkpoint(checkpoint, ORIGIN, LOG_KEY)


def request(old: int, new: int, *, root: bytes | None = None) -> bytes:
    proof = TREE.consistency_proof(old, new) if 0 < old < new else []
    return encode_add_checkpoint(old, proof, note(new, root))


@pytest.fixture
async def witness(tmp_path: Path) -> AsyncIterator[Witness]:
    store = await WitnessStore.open(tmp_path / "witness.db")
    try:
        yield Witness(Cosigner("witness.test", SigningKey.generate()), (LOG,), store, lambda: 1e9)
    finally:
        await store.close()


async def status_of(witness: Witness, body: bytes) -> int:
    try:
        await witness.add_checkpoint(body)
    except WitnessRejection as exc:
        return exc.status
    return 200


async def test_cosigns_what_extends_and_refuses_the_rest(witness: Witness) -> None:
    line = await witness.add_checkpoint(request(0, 5))
    opened = open_cosigned(note(5) + line.encode(), [LOG], [witness.cosigner.verifier])
    assert opened.cosigned == {"witness.test": 1_000_000_000}
    assert await status_of(witness, request(0, 7)) == 409  # stale old size
    with pytest.raises(WitnessRejection) as stale:
        await witness.add_checkpoint(request(3, 7))
    assert stale.value.size == 5
    assert await status_of(witness, request(5, 5)) == 200  # the same tree again
    assert await status_of(witness, request(5, 5, root=b"\x07" * 32)) == 409  # a fork
    assert await status_of(witness, request(5, 9, root=TREE.root(10))) == 422
    assert await status_of(witness, request(9, 5)) == 400
    assert await status_of(witness, request(5, 9)) == 200
    assert (await witness.store.latest(ORIGIN)).size == 9  # type: ignore[union-attr]
    # The two contradicting checkpoints the log signed are kept as evidence of its fork.
    kept = await witness.store.evidence()
    assert [(o, r) for o, r, _ in kept] == [
        (ORIGIN, "witness.fork"), (ORIGIN, "witness.inconsistent"),
    ]  # fmt: skip
    assert kept[0][2] == note(5, b"\x07" * 32)


async def test_two_concurrent_requests_never_roll_the_tree_back(witness: Witness) -> None:
    await witness.add_checkpoint(request(0, 4))
    results = await asyncio.gather(
        status_of(witness, request(4, 12)), status_of(witness, request(4, 8))
    )
    assert sorted(results) == [200, 409]
    recorded = await witness.store.latest(ORIGIN)
    assert recorded is not None
    assert recorded.size == (12 if results[0] == 200 else 8)


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    store = await WitnessStore.open(tmp_path / "w.db")
    first = Witness(Cosigner("witness.test", SigningKey.generate()), (LOG,), store)
    await first.add_checkpoint(request(0, 6))
    await store.close()
    reopened = await WitnessStore.open(tmp_path / "w.db")
    try:
        again = Witness(first.cosigner, (LOG,), reopened)
        assert await status_of(again, request(0, 8)) == 409
        assert await status_of(again, request(6, 8)) == 200
    finally:
        await reopened.close()
