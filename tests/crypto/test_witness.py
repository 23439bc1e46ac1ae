"""Witnessed log, pure parts: tlog-tiles paths and encodings (``crypto.tiles``), tlog-cosignature/v1
cosignatures and tlog-policy quorums (``crypto.witness``), and tlog-proof files
(``crypto.tlog_proof``). Each refusal is checked for its own error; the independent check of
cosignatures and tiles by Go is tests/interop/test_go_witness.py."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from pgs_hub.crypto.errors import (
    CosignatureError,
    CryptoError,
    ProofError,
    QuorumError,
    TlogProofError,
    WitnessPolicyError,
)
from pgs_hub.crypto.keys import SigningKey
from pgs_hub.crypto.merkle import InMemoryTree, leaf_hash, root_from_leaves
from pgs_hub.crypto.note import Checkpoint, NoteVerifier, sign_checkpoint
from pgs_hub.crypto.tiles import (
    Tile,
    TilePathError,
    decode_bundle,
    encode_bundle,
    encode_index,
    parse_tile_path,
    tile_for,
    tiles_of,
)
from pgs_hub.crypto.tlog_proof import make_tlog_proof, parse_tlog_proof, verify_tlog_proof
from pgs_hub.crypto.witness import (
    AddCheckpointError,
    Cosigner,
    CosignerVerifier,
    cosigner_key_id,
    encode_add_checkpoint,
    open_cosigned,
    parse_add_checkpoint,
    parse_cosigner_key,
    parse_policy,
    verify_witnessed,
)

ORIGIN = "pgs-hub.test/log"
LOG_KEY = SigningKey.generate()
LOG = NoteVerifier.for_key(ORIGIN, LOG_KEY.public)
WITNESSES = [Cosigner(f"witness.{c}.test", SigningKey.generate()) for c in ("ng", "gh", "cm")]


def checkpoint_note(tree: InMemoryTree) -> bytes:
    return sign_checkpoint(Checkpoint(ORIGIN, tree.size, tree.root()), ORIGIN, LOG_KEY)


def tree_of(n: int) -> InMemoryTree:
    tree = InMemoryTree()
    for i in range(n):
        tree.append(leaf_hash(f"entry {i}".encode()))
    return tree


def cosigned(note: bytes, *by: Cosigner, at: int = 1_767_225_600) -> bytes:
    text = note[: note.rfind(b"\n\n") + 1]
    return note + "".join(w.cosign(text, at) for w in by).encode()


def policy_text(quorum: str = "2") -> bytes:
    lines = [f"log {LOG.encode()}"]
    lines += [f"witness {w.name.split('.')[1]} {w.verifier.encode()}" for w in WITNESSES]
    lines += [f"group members {quorum} ng gh cm", "quorum members"]
    return ("# PGS test policy\n" + "\n".join(lines) + "\n").encode()


# --- tiles -------------------------------------------------------------------------------------


def test_tile_paths_follow_the_spec_examples() -> None:
    assert encode_index(1234067) == "x001/x234/067"
    assert encode_index(0) == "000"
    assert Tile(0, 1234067).path() == "tile/0/x001/x234/067"
    assert Tile(None, 5, 17).path() == "tile/entries/005.p/17"
    assert parse_tile_path("0/x001/x234/067") == Tile(0, 1234067)
    assert parse_tile_path("2/000.p/1") == Tile(2, 0, 1)
    assert parse_tile_path("entries/x001/000.p/255") == Tile(None, 1000, 255)


@pytest.mark.parametrize(
    "path",
    ["", "0", "0/1", "0/0001", "0/x000/001", "0/001/x002", "64/000", "01/000", "0/000.p/0",
     "0/000.p/256", "0/000.p/01", "entries", "x/000", "0/000.p", "0/-01", "0/00a"],
)  # fmt: skip
def test_tile_paths_have_one_spelling(path: str) -> None:
    with pytest.raises(TilePathError):
        parse_tile_path(path)


@given(st.integers(0, 2**64 - 1), st.one_of(st.none(), st.integers(0, 63)), st.integers(0, 255))
@settings(max_examples=200)
def test_tile_paths_round_trip(index: int, level: int | None, width: int) -> None:
    tile = Tile(level, index, width or None)
    assert parse_tile_path(tile.path().removeprefix("tile/")) == tile


def test_partial_tiles_of_the_spec_example() -> None:
    """c2sp.org/tlog-tiles: a tree of 70,000 has 273 full level-0 tiles, a partial one of 112,
    a full level-1 tile, a partial one of 17 and a partial level-2 tile of 1."""
    hashes = [t for t in tiles_of(70_000) if t.level is not None]
    assert [t for t in hashes if t.level == 0 and t.width is None] == [
        Tile(0, i) for i in range(273)
    ]
    assert Tile(0, 273, 112) in hashes
    assert [t for t in hashes if t.level == 1] == [Tile(1, 0), Tile(1, 1, 17)]
    assert [t for t in hashes if t.level == 2] == [Tile(2, 0, 1)]
    assert tile_for(0, 0, 256) == Tile(0, 0)
    assert tile_for(1, 0, 256) == Tile(1, 0, 1)
    assert tile_for(0, 1, 256) is None
    assert not Tile(0, 0).available_in(255)
    assert Tile(0, 0, 255).available_in(255)


def test_tile_hashes_are_the_trees_subtrees() -> None:
    """Hash i of tile (L, N) is the MTH of leaves [(N*256+i)*256**L, +256**L)."""
    leaves = [leaf_hash(f"entry {i}".encode()) for i in range(600)]
    tree = InMemoryTree(leaves)
    for tile in (Tile(0, 2, 88), Tile(1, 0, 2)):
        span = 256 ** (tile.level or 0)
        for i, node in enumerate(tile.nodes()):
            begin = (tile.index * 256 + i) * span
            assert node.begin == begin
            expected = root_from_leaves(leaves[begin : begin + span])
            assert tree.subtree_hash(node.level, node.index) == expected


def test_entry_bundles_round_trip_and_refuse_truncation() -> None:
    entries = [b"", b"a", b"x" * 65535]
    data = encode_bundle(entries)
    assert data[:2] == b"\x00\x00"
    assert data[2:4] == b"\x00\x01"
    assert decode_bundle(data) == entries
    for bad in (data[:-1], data + b"\x00"):
        with pytest.raises(CryptoError):
            decode_bundle(bad)
    with pytest.raises(CryptoError):
        encode_bundle([b"x" * 65536])


# --- cosignatures --------------------------------------------------------------------------------


def test_cosignature_key_ids_and_message_follow_the_spec() -> None:
    witness = WITNESSES[0]
    raw = witness.key.public.raw()
    expected = hashlib.sha256(witness.name.encode() + b"\n\x04" + raw).digest()[:4]
    assert cosigner_key_id(witness.name, raw) == int.from_bytes(expected, "big")
    assert parse_cosigner_key(witness.verifier.encode()) == witness.verifier
    note = checkpoint_note(tree_of(3))
    text = note[: note.rfind(b"\n\n") + 1]
    line = witness.cosign(text, 1_679_315_147)
    blob = base64.b64decode(line.split(" ")[2])
    assert blob[:4] == expected
    assert int.from_bytes(blob[4:12], "big") == 1_679_315_147
    message = b"cosignature/v1\ntime 1679315147\n" + text  # checked with cryptography directly
    ed25519.Ed25519PublicKey.from_public_bytes(raw).verify(blob[12:], message)


def test_a_cosigned_checkpoint_opens_with_its_witnesses() -> None:
    note = cosigned(checkpoint_note(tree_of(5)), *WITNESSES[:2])
    opened = open_cosigned(note, [LOG], [w.verifier for w in WITNESSES])
    assert opened.checkpoint.size == 5
    assert set(opened.cosigned) == {WITNESSES[0].name, WITNESSES[1].name}
    # unknown witnesses are ignored, as a reader without them would
    assert open_cosigned(note, [LOG], []).cosigned == {}


def test_a_bad_cosignature_of_a_trusted_witness_rejects_the_note() -> None:
    base = checkpoint_note(tree_of(5))
    other = checkpoint_note(tree_of(6))
    # a cosignature of another checkpoint, moved onto this one
    moved = base + cosigned(other, WITNESSES[0]).rsplit(b"\n", 2)[-2] + b"\n"
    with pytest.raises(CosignatureError, match="does not verify"):
        open_cosigned(moved, [LOG], [WITNESSES[0].verifier])
    future = cosigned(base, WITNESSES[0], at=2_000_000_000)
    with pytest.raises(CosignatureError, match="future"):
        open_cosigned(future, [LOG], [WITNESSES[0].verifier], now=1_767_225_600)
    # same name, type 0x01 key ID (a log-style signature line) is not a cosignature of the key
    assert (
        parse_cosigner_key(WITNESSES[0].verifier.encode()).key_id
        != NoteVerifier.for_key(WITNESSES[0].name, WITNESSES[0].key.public).key_id
    )


@pytest.mark.parametrize(
    "key",
    [
        NoteVerifier.for_key("witness.ng.test", WITNESSES[0].key.public).encode(),  # type 0x01
        "witness.ng.test+00000000+" + base64.b64encode(b"\x04" + b"\x00" * 32).decode(),
        "no-plus-signs",
    ],
    ids=["ed25519-note-key", "zero-key-wrong-id", "no-plus-signs"],  # the same in every worker
)
def test_witness_keys_are_type_4_with_their_own_key_id(key: str) -> None:
    with pytest.raises(CryptoError):
        parse_cosigner_key(key)


# --- policies ----------------------------------------------------------------------------------


def test_policy_quorum_two_of_three() -> None:
    policy = parse_policy(policy_text())
    one = cosigned(checkpoint_note(tree_of(4)), WITNESSES[0])
    two = cosigned(checkpoint_note(tree_of(4)), WITNESSES[0], WITNESSES[2])
    assert set(verify_witnessed(two, policy, LOG).cosigned) == {
        WITNESSES[0].name,
        WITNESSES[2].name,
    }
    with pytest.raises(QuorumError, match=r"cosigned by 1 of the policy's witnesses \(ng\).*2 of"):
        verify_witnessed(one, policy, LOG)
    with pytest.raises(QuorumError):
        verify_witnessed(checkpoint_note(tree_of(4)), policy, LOG)
    keys = [w.verifier.encode() for w in WITNESSES]
    assert parse_policy(policy_text("any")).require_quorum([keys[1]]) is None
    with pytest.raises(QuorumError):
        parse_policy(policy_text("all")).require_quorum(keys[:2])


def test_policy_refuses_another_log() -> None:
    policy = parse_policy(policy_text())
    stranger = NoteVerifier.for_key(ORIGIN, SigningKey.generate().public)
    with pytest.raises(WitnessPolicyError, match="does not list the pinned log key"):
        verify_witnessed(cosigned(checkpoint_note(tree_of(2)), *WITNESSES), policy, stranger)


def test_nested_groups_and_none() -> None:
    w = [f"witness {c} {x.verifier.encode()}" for c, x in zip("abc", WITNESSES, strict=True)]
    text = "\n".join([*w, "group ab all a b", "group top any ab c", "quorum top"]) + "\n"
    policy = parse_policy(text.encode())
    keys = [x.verifier.encode() for x in WITNESSES]
    policy.require_quorum([keys[2]])
    policy.require_quorum(keys[:2])
    with pytest.raises(QuorumError):
        policy.require_quorum([keys[0]])
    with pytest.raises(QuorumError):  # names count for nothing
        policy.require_quorum([x.name for x in WITNESSES])
    parse_policy(b"quorum none\n").require_quorum([])


def test_one_cosignature_never_counts_for_two_witnesses_of_the_same_name() -> None:
    """Two witnesses may share a key name (their key IDs differ): a cosignature by one of them
    must not satisfy a quorum of both."""
    twins = [Cosigner("witness.twin.test", SigningKey.generate()) for _ in range(2)]
    text = "".join(f"witness t{i} {t.verifier.encode()}\n" for i, t in enumerate(twins))
    policy = parse_policy((text + "group both all t0 t1\nquorum both\n").encode())
    one = cosigned(checkpoint_note(tree_of(3)), twins[0])
    with pytest.raises(QuorumError, match=r"cosigned by 1 of the policy's witnesses \(t0\)"):
        verify_witnessed(one, policy, LOG)
    both = cosigned(checkpoint_note(tree_of(3)), *twins)
    assert len(verify_witnessed(both, policy, LOG).keys) == 2


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "no quorum line"),
        ("quorum none\nquorum none\n", "exactly one quorum"),
        ("quorum x\n", "not defined above"),
        ("witness a {k0}\nwitness a {k1}\nquorum a\n", "already defined"),
        ("witness a {k0}\nwitness b {k0}\nquorum a\n", "listed twice"),
        ("witness none {k0}\nquorum none\n", "already defined"),
        ("witness a {k0}\ngroup g 2 a\nquorum g\n", "threshold"),
        ("witness a {k0}\ngroup g 0 a\nquorum g\n", "threshold"),
        ("witness a {k0}\ngroup g any a a\nquorum g\n", "member twice"),
        ("group g any a\nwitness a {k0}\nquorum g\n", "not defined above"),
        ("witness a {log}\nquorum a\n", "type 0x04"),
        ("log {k0}\nquorum none\n", "0x01"),
        ("witness a\nquorum none\n", "not a log, witness"),
        ("frobnicate\nquorum none\n", "not a log, witness"),
        ("quorum none\x0b\n", "control character"),
    ],
)
def test_invalid_policies(text: str, words: str) -> None:
    filled = text.format(
        k0=WITNESSES[0].verifier.encode(), k1=WITNESSES[1].verifier.encode(), log=LOG.encode()
    )
    with pytest.raises(WitnessPolicyError, match=words):
        parse_policy(filled.encode())


# --- add-checkpoint bodies and tlog-proof files ---------------------------------------------


def test_add_checkpoint_bodies() -> None:
    tree = tree_of(9)
    note = checkpoint_note(tree)
    proof = tree.consistency_proof(4, 9)
    parsed = parse_add_checkpoint(encode_add_checkpoint(4, proof, note))
    assert (parsed.old_size, list(parsed.proof), parsed.note) == (4, proof, note)
    for bad in (b"old 4\n" + note, b"old 04\n\n" + note, b"old 1\nxx\n\n" + note, b"new 1\n\n"):
        with pytest.raises(AddCheckpointError):
            parse_add_checkpoint(bad)
    with pytest.raises(AddCheckpointError, match="63"):
        parse_add_checkpoint(encode_add_checkpoint(1, [b"\x00" * 32] * 64, note))


def test_tlog_proof_round_trip_and_attacks() -> None:
    tree = tree_of(13)
    note = cosigned(checkpoint_note(tree), *WITNESSES[:2])
    entry = b"entry 7"
    data = make_tlog_proof(7, tree.inclusion_proof(7, 13), note, entry)
    assert data.startswith(b"c2sp.org/tlog-proof@v1\nextra ZW50cnkgNw==\nindex 7\n")
    policy = parse_policy(policy_text())
    opened, proof, logged = verify_tlog_proof(data, log=LOG, policy=policy)
    assert (opened.checkpoint.size, proof.index, logged) == (13, 7, entry)
    assert parse_tlog_proof(data).checkpoint == note
    with pytest.raises(TlogProofError, match="not the one given"):
        verify_tlog_proof(data, log=LOG, entry=b"entry 8")
    forged = make_tlog_proof(7, tree.inclusion_proof(7, 13), note, b"entry 8")
    with pytest.raises(ProofError):
        verify_tlog_proof(forged, log=LOG)
    moved = make_tlog_proof(6, tree.inclusion_proof(7, 13), note, entry)
    with pytest.raises(ProofError):
        verify_tlog_proof(moved, log=LOG)
    one_witness = make_tlog_proof(7, tree.inclusion_proof(7, 13), checkpoint_note(tree), entry)
    with pytest.raises(QuorumError):
        verify_tlog_proof(one_witness, log=LOG, policy=policy)
    for bad in (data.replace(b"@v1", b"@v2"), data.replace(b"index 7", b"index 07")):
        with pytest.raises(TlogProofError):
            parse_tlog_proof(bad)


def test_cosigner_repr_hides_the_key() -> None:
    assert "key" not in repr(WITNESSES[0]).replace("Cosigner", "")
    assert isinstance(WITNESSES[0].verifier, CosignerVerifier)


def test_leaf_hash_is_what_bundles_hash_to() -> None:
    entries = [b"a", b"bb"]
    assert [leaf_hash(e) for e in decode_bundle(encode_bundle(entries))] == [
        leaf_hash(b"a"),
        leaf_hash(b"bb"),
    ]
