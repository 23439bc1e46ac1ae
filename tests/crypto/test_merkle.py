"""RFC 9162 Merkle trees (``crypto.merkle``): known answers, public vectors, and properties.

* Known answers: the RFC 6962 reference tree of eight leaves (``tests/vectors/merkle/
  reference_roots.json``), checked through our code and through a recursive MTH written here from
  the RFC's definitions with ``hashlib`` alone.
* Public vectors: every transparency-dev/merkle probe in ``tests/vectors/merkle/testdata``; one
  file is decided differently on purpose (see ``DEVIATIONS``).
* An independent reference: PATH and SUBPROOF written recursively from RFC 9162 §2.1.3.1 and
  §2.1.4.1; our O(log n) proofs must equal them for every index and pair of sizes up to 40.
* Properties (hypothesis) on a 300-leaf tree: every proof verifies against the InMemoryTree root
  and the CompactRange root; any flipped bit, a wrong index, a wrong size, a truncated or an
  extended proof fails (a wrong size fails exactly when it changes the shape of the path, because
  the size is authenticated only by the checkpoint that carries the root).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import FrozenInstanceError
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgs_hub.crypto.errors import CryptoError, MalformedError, ProofError, TreeRangeError
from pgs_hub.crypto.merkle import (
    EMPTY_ROOT,
    MAX_TREE_SIZE,
    CompactRange,
    CompletedSubtree,
    InMemoryTree,
    NodeId,
    ProofPlan,
    consistency_plan,
    consistency_proof,
    inclusion_plan,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_nodes,
    root_at,
    root_from_inclusion_proof,
    root_from_leaves,
    root_plan,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "merkle"
TESTDATA = VECTORS / "testdata"
REFERENCE: dict[str, Any] = json.loads((VECTORS / "reference_roots.json").read_text("utf-8"))
REF_LEAVES = [leaf_hash(bytes.fromhex(x)) for x in REFERENCE["leaf_inputs_hex"]]

# Files whose wantErr our verifier does not follow, and why (see tests/vectors/merkle/README.md).
DEVIATIONS = {
    "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json": (
        "placeholder 12-byte roots: crypto.merkle refuses any hash that is not 32 bytes"
    ),
}

PROPS = settings(max_examples=150, deadline=None)
N = 300
LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(N)]
TREE = InMemoryTree(LEAVES)


def _compact_roots() -> list[bytes]:
    roots, state = [EMPTY_ROOT], CompactRange()
    for leaf in LEAVES:
        state, _ = state.append(leaf)
        roots.append(state.root())
    return roots


COMPACT_ROOTS = _compact_roots()


# --- an independent reference, from the RFC's recursive definitions, with hashlib only ---------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def ref_mth(leaves: Sequence[bytes]) -> bytes:
    """MTH (RFC 9162 §2.1.1) over leaf hashes, recursively."""
    if not leaves:
        return _h(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _h(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:]))


@cache
def _mth(begin: int, end: int) -> bytes:
    """ref_mth of LEAVES[begin:end], memoised for the exhaustive comparisons."""
    if end - begin == 1:
        return LEAVES[begin]
    k = _split(end - begin)
    return _h(b"\x01" + _mth(begin, begin + k) + _mth(begin + k, end))


def ref_path(m: int, begin: int, end: int) -> list[bytes]:
    """PATH(m, D[begin:end]) of RFC 9162 §2.1.3.1."""
    if end - begin <= 1:
        return []
    k = _split(end - begin)
    if m < k:
        return [*ref_path(m, begin, begin + k), _mth(begin + k, end)]
    return [*ref_path(m - k, begin + k, end), _mth(begin, begin + k)]


def ref_subproof(m: int, begin: int, end: int, whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[begin:end], b) of RFC 9162 §2.1.4.1."""
    n = end - begin
    if m == n:
        return [] if whole else [_mth(begin, end)]
    k = _split(n)
    if m <= k:
        return [*ref_subproof(m, begin, begin + k, whole), _mth(begin + k, end)]
    return [*ref_subproof(m - k, begin + k, end, False), _mth(begin, begin + k)]


def ref_sides(m: int, n: int) -> list[str]:
    """Which side each hash of PATH(m, D[n]) is joined on: the shape the verifier follows."""
    if n <= 1:
        return []
    k = _split(n)
    if m < k:
        return [*ref_sides(m, k), "right"]
    return [*ref_sides(m - k, n - k), "left"]


def flip(data: bytes, bit: int) -> bytes:
    return data[: bit // 8] + bytes([data[bit // 8] ^ (1 << (bit % 8))]) + data[bit // 8 + 1 :]


# --- primitives and the reference tree ---------------------------------------------------------


def test_hash_primitives_are_the_rfc_ones() -> None:
    assert _h(b"") == EMPTY_ROOT
    assert EMPTY_ROOT.hex() == REFERENCE["roots_hex_by_size"][0]
    assert leaf_hash(b"abc") == _h(b"\x00abc")
    assert node_hash(b"L" * 32, b"R" * 32) == _h(b"\x01" + b"L" * 32 + b"R" * 32)
    # Go's tlog.RecordHash("hello world"), the root of its FormatTree golden (sumdb/tlog).
    assert (
        base64.b64encode(leaf_hash(b"hello world"))
        == b"TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0="
    )


@pytest.mark.parametrize("size", range(9))
def test_reference_roots(size: int) -> None:
    want = bytes.fromhex(REFERENCE["roots_hex_by_size"][size])
    leaves = REF_LEAVES[:size]
    assert ref_mth(leaves) == want  # the independent recursion agrees with the published value
    assert root_from_leaves(leaves) == want
    state, _ = CompactRange().extend(leaves)
    assert state.root() == want
    assert InMemoryTree(REF_LEAVES).root(size) == want
    assert root_at(size, InMemoryTree(REF_LEAVES)) == want


def test_reference_subtree_hashes() -> None:
    tree = InMemoryTree(REF_LEAVES)
    for level, hashes in enumerate(REFERENCE["node_hashes_hex_by_level"]):
        for index, hex_hash in enumerate(hashes):
            assert tree.subtree_hash(level, index) == bytes.fromhex(hex_hash)
    completed = CompactRange().extend(REF_LEAVES)[1]
    assert {(c.level, c.index): c.hash.hex() for c in completed} == {
        (level, index): h
        for level, hashes in enumerate(REFERENCE["node_hashes_hex_by_level"])
        for index, h in enumerate(hashes)
    }


# --- transparency-dev/merkle vectors -----------------------------------------------------------


def _vector_files(*, happy_only: bool = False) -> list[Any]:
    files = sorted(TESTDATA.rglob("*.json"))
    assert len(files) == 196
    if happy_only:
        files = [f for f in files if f.stem == "happy-path"]
    return [pytest.param(f, id=str(f.relative_to(TESTDATA))) for f in files]


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _run_vector(data: dict[str, Any]) -> None:
    proof = [_b64(p) for p in data["proof"] or []]
    if "leafIdx" in data:
        verify_inclusion(
            _b64(data["leafHash"]), data["leafIdx"], data["treeSize"], proof, _b64(data["root"])
        )
    else:
        verify_consistency(
            data["size1"], data["size2"], proof, _b64(data["root1"]), _b64(data["root2"])
        )


@pytest.mark.parametrize("path", _vector_files())
def test_transparency_dev_vector(path: Path) -> None:
    name = str(path.relative_to(TESTDATA))
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    if path.stem == "happy-path":
        assert data["wantErr"] is False
    if data["wantErr"] or name in DEVIATIONS:
        with pytest.raises(ProofError):
            _run_vector(data)
    else:
        _run_vector(data)


def test_deviation_is_only_about_hash_length() -> None:
    """The one vector we refuse passes once its placeholder roots are real 32-byte hashes."""
    (name,) = DEVIATIONS
    data = json.loads((TESTDATA / name).read_text("utf-8"))
    assert data["wantErr"] is False
    with pytest.raises(ProofError, match="32-byte"):
        _run_vector(data)
    root = REF_LEAVES[0]
    verify_consistency(data["size1"], data["size2"], [], root, root)


@pytest.mark.parametrize("path", _vector_files(happy_only=True))
def test_happy_path_proofs_are_what_we_generate(path: Path) -> None:
    """The valid vectors are proofs in the reference tree: we must produce the same hashes."""
    data = json.loads(path.read_text("utf-8"))
    proof = [_b64(p) for p in data["proof"] or []]
    tree = InMemoryTree(REF_LEAVES)
    if "leafIdx" in data:
        assert _b64(data["leafHash"]) == REF_LEAVES[data["leafIdx"]]
        assert tree.inclusion_proof(data["leafIdx"], data["treeSize"]) == proof
    else:
        assert tree.consistency_proof(data["size1"], data["size2"]) == proof


# --- against the recursive RFC definitions, exhaustively on small trees ------------------------


@pytest.mark.parametrize("size", range(1, 41))
def test_inclusion_proofs_equal_rfc_path(size: int) -> None:
    root = TREE.root(size)
    assert root == _mth(0, size) == COMPACT_ROOTS[size]
    for index in range(size):
        proof = TREE.inclusion_proof(index, size)
        assert proof == ref_path(index, 0, size)
        verify_inclusion(LEAVES[index], index, size, proof, root)


@pytest.mark.parametrize("size2", range(1, 41))
def test_consistency_proofs_equal_rfc_subproof(size2: int) -> None:
    for size1 in range(1, size2 + 1):
        proof = TREE.consistency_proof(size1, size2)
        assert proof == ref_subproof(size1, 0, size2, True)
        verify_consistency(size1, size2, proof, TREE.root(size1), TREE.root(size2))


def test_seven_leaf_example_of_c2sp_merkle_tree() -> None:
    """The worked example of c2sp.org/merkle-tree, by the labels it uses."""
    a, b, c, d, e, f, g = LEAVES[:7]
    h, i, j = node_hash(a, b), node_hash(c, d), node_hash(e, f)
    k, l_ = node_hash(h, i), node_hash(j, g)
    assert TREE.root(7) == node_hash(k, l_)
    assert TREE.inclusion_proof(0, 7) == [b, i, l_]
    assert TREE.inclusion_proof(3, 7) == [c, h, l_]
    assert TREE.inclusion_proof(4, 7) == [f, g, k]
    assert TREE.inclusion_proof(6, 7) == [j, k]
    assert TREE.consistency_proof(3, 7) == [c, d, h, l_]
    assert TREE.consistency_proof(4, 7) == [l_]
    assert TREE.consistency_proof(6, 7) == [j, g, k]


# --- what storage has to answer ----------------------------------------------------------------


class CountingSource:
    """A SubtreeHashes over TREE that records every lookup."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def subtree_hash(self, level: int, index: int) -> bytes:
        self.calls.append((level, index))
        return TREE.subtree_hash(level, index)


def _plans(size: int) -> list[tuple[int, ProofPlan]]:
    picks = sorted({0, 1, size // 3, size // 2, size - 2, size - 1} & set(range(size)))
    plans = [(size, inclusion_plan(i, size)) for i in picks]
    plans += [(size, consistency_plan(s, size)) for s in sorted({1, size // 2, size - 1} - {0})]
    plans.append((size, root_plan(size)))
    return plans


@pytest.mark.parametrize("size", [*range(1, 70), 127, 128, 129, 255, 256, 257, 299, 300])
def test_plans_need_few_perfect_complete_subtrees(size: int) -> None:
    bound = 2 * size.bit_length() + 1
    for tree_size, plan in _plans(size):
        assert len(plan.nodes) <= bound
        for node in plan.nodes:
            assert node.end <= tree_size, "every subtree must be complete in the tree asked for"
            assert node.begin == node.index << node.level


def test_each_subtree_is_looked_up_once() -> None:
    source = CountingSource()
    proof = inclusion_proof(100, 299, source)
    assert proof == TREE.inclusion_proof(100, 299)
    assert len(source.calls) == len(set(source.calls)) <= 2 * (299).bit_length()
    source.calls.clear()
    assert consistency_proof(37, 299, source) == TREE.consistency_proof(37, 299)
    assert len(source.calls) == len(set(source.calls))


def test_plan_assemble_from_one_batch() -> None:
    """The async storage path: plan, load every node in one query, assemble."""
    plan = consistency_plan(37, 299)
    rows = {node: TREE.subtree_hash(node.level, node.index) for node in plan.nodes}
    assert plan.assemble(rows) == TREE.consistency_proof(37, 299)
    missing = dict(rows)
    missing.pop(plan.nodes[0])
    with pytest.raises(TreeRangeError):
        plan.assemble(missing)


def test_range_nodes_decompose_into_aligned_perfect_subtrees() -> None:
    assert range_nodes(0, 0) == ()
    assert range_nodes(0, 7) == (NodeId(2, 0), NodeId(1, 2), NodeId(0, 6))
    assert range_nodes(4, 7) == (NodeId(1, 2), NodeId(0, 6))
    for begin in range(40):
        for end in range(begin, 70):
            nodes = range_nodes(begin, end)
            assert [n.begin for n in nodes[1:]] == [n.end for n in nodes[:-1]]
            if nodes:
                assert (nodes[0].begin, nodes[-1].end) == (begin, end)
    with pytest.raises(TreeRangeError):
        range_nodes(5, 4)


# --- the compact range -------------------------------------------------------------------------


def test_compact_range_root_is_mth_for_every_size() -> None:
    for size in range(N + 1):
        assert COMPACT_ROOTS[size] == root_from_leaves(LEAVES[:size])
    assert COMPACT_ROOTS[N] == TREE.root() == _mth(0, N)


def test_completed_subtrees_are_those_the_leaf_closes() -> None:
    state = CompactRange()
    stored: dict[tuple[int, int], bytes] = {}
    for size, leaf in enumerate(LEAVES, start=1):
        state, completed = state.append(leaf)
        assert completed[0] == CompletedSubtree(0, size - 1, leaf)
        assert [c.level for c in completed] == list(range(len(completed)))
        for c in completed:
            assert (c.index + 1) << c.level == size  # the subtree ends at the new size
            assert c.hash == TREE.subtree_hash(c.level, c.index)
            stored[(c.level, c.index)] = c.hash
        assert len(completed) == (size & -size).bit_length()
    assert len(stored) == 2 * N - N.bit_count()  # every complete subtree, once


def test_compact_range_is_rebuilt_from_storage() -> None:
    for size in (0, 1, 5, 64, 255, N):
        state = CompactRange.from_source(size, TREE)
        assert state.root() == COMPACT_ROOTS[size]
        assert state.nodes == range_nodes(0, size)
        assert len(state.hashes) == size.bit_count()
        grown, _ = state.extend(LEAVES[size:])
        assert grown == TREE.state


def test_compact_range_is_a_checked_value() -> None:
    state, _ = CompactRange().append(LEAVES[0])
    with pytest.raises(FrozenInstanceError):
        state.size = 2  # type: ignore[misc]
    with pytest.raises(MalformedError):
        CompactRange(3, (LEAVES[0],))  # one hash per set bit of the size
    with pytest.raises(MalformedError):
        CompactRange(1, (b"short",))
    with pytest.raises(TreeRangeError):
        CompactRange(-1, ())
    with pytest.raises(MalformedError):
        state.append(b"\x00" * 31)
    with pytest.raises(MalformedError):
        root_from_leaves([b"\x00" * 33])


@PROPS
@given(
    st.integers(min_value=0, max_value=N),
    st.integers(min_value=0, max_value=N),
    st.integers(min_value=0, max_value=N),
)
def test_batch_appends_give_the_states_of_one_leaf_at_a_time(start: int, a: int, b: int) -> None:
    """``extend`` and ``extended`` (one pass, no state checked in between) reach the state that
    appending one checked leaf at a time reaches, and the RFC's recursive MTH agrees."""
    middle, end = sorted((a, b))
    middle, end = max(start, middle), max(start, end)
    base = CompactRange.from_source(start, TREE)
    one_by_one, completed_one_by_one = base, []
    for leaf in LEAVES[start:end]:
        one_by_one, more = one_by_one.append(leaf)
        completed_one_by_one += more
    batched, completed = base.extend(LEAVES[start:end])
    fast = base.extended(LEAVES[start:middle]).extended(iter(LEAVES[middle:end]))
    assert fast == batched == one_by_one
    assert completed == completed_one_by_one
    assert fast.root() == (_mth(0, end) if end else EMPTY_ROOT)
    assert fast.hashes == tuple(_mth(n.begin, n.end) for n in range_nodes(0, end))
    assert all(c.hash == _mth(c.index << c.level, (c.index + 1) << c.level) for c in completed)
    assert CompactRange(fast.size, fast.hashes) == fast  # a state the checks accept


def test_batch_appends_check_every_leaf() -> None:
    state, _ = CompactRange().extend(LEAVES[:3])
    for bad in (b"\x00" * 31, b"\x00" * 33, bytearray(32), "x" * 32):
        with pytest.raises(MalformedError):
            state.extended([LEAVES[3], bad, LEAVES[4]])  # type: ignore[list-item]
        with pytest.raises(MalformedError):
            state.extend([bad])  # type: ignore[list-item]
    full = CompactRange(MAX_TREE_SIZE, tuple(LEAVES[:64]))
    with pytest.raises(TreeRangeError):
        full.extended([LEAVES[0]])
    assert state.extended([]) == state


def test_in_memory_tree_refuses_what_it_does_not_have() -> None:
    tree = InMemoryTree(LEAVES[:5])
    with pytest.raises(TreeRangeError):
        tree.subtree_hash(1, 2)  # leaves 4-5: leaf 5 is not there yet
    with pytest.raises(TreeRangeError):
        tree.subtree_hash(3, 0)
    with pytest.raises(TreeRangeError):
        tree.root(6)
    with pytest.raises(TreeRangeError):
        tree.inclusion_proof(5, 5)
    with pytest.raises(TreeRangeError):
        tree.consistency_proof(4, 3)
    with pytest.raises(TreeRangeError):
        inclusion_plan(0, 2**64)
    assert tree.consistency_proof(0, 5) == []
    assert tree.consistency_proof(5, 5) == []
    assert tree.root(0) == EMPTY_ROOT


# --- verification edge cases -------------------------------------------------------------------


def test_verification_refuses_malformed_input() -> None:
    root = TREE.root(8)
    proof = TREE.inclusion_proof(3, 8)
    good = (LEAVES[3], 3, 8, proof, root)
    verify_inclusion(*good)
    bad_inputs = [
        (LEAVES[3][:31], 3, 8, proof, root),
        (LEAVES[3], 3, 8, proof, root + b"\x00"),
        (LEAVES[3], 3, 8, [*proof[:-1], proof[-1][:31]], root),
        (LEAVES[3], -1, 8, proof, root),
        (LEAVES[3], 3, 2**64, proof, root),
        (LEAVES[3], True, 8, proof, root),
        (LEAVES[3], 3, 8, [root] * 66, root),
    ]
    for args in bad_inputs:
        with pytest.raises(ProofError):
            verify_inclusion(*args)


def test_consistency_edge_cases() -> None:
    r5 = TREE.root(5)
    verify_consistency(5, 5, [], r5, r5)
    verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    verify_consistency(0, 5, [], EMPTY_ROOT, r5)  # the empty tree is a prefix of every tree
    failures = [
        (5, 5, [], r5, TREE.root(6)),
        (5, 5, [r5], r5, r5),
        (0, 5, [], r5, r5),  # the empty tree's root is SHA-256("")
        (0, 5, [EMPTY_ROOT], EMPTY_ROOT, r5),
        (6, 5, [], TREE.root(6), r5),
        (4, 5, [], TREE.root(4), r5),
    ]
    for args in failures:
        with pytest.raises(ProofError):
            verify_consistency(*args)


def test_errors_have_stable_codes() -> None:
    assert ProofError.code == "merkle.bad_proof"
    assert TreeRangeError.code == "merkle.out_of_range"
    assert issubclass(ProofError, CryptoError)
    assert issubclass(TreeRangeError, CryptoError)


# --- properties --------------------------------------------------------------------------------


@st.composite
def leaf_in_tree(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(min_value=1, max_value=N))
    return draw(st.integers(min_value=0, max_value=size - 1)), size


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    size2 = draw(st.integers(min_value=2, max_value=N))
    return draw(st.integers(min_value=1, max_value=size2 - 1)), size2


@PROPS
@given(leaf_in_tree())
def test_every_inclusion_proof_verifies(case: tuple[int, int]) -> None:
    index, size = case
    proof = inclusion_proof(index, size, TREE)
    assert root_from_inclusion_proof(LEAVES[index], index, size, proof) == COMPACT_ROOTS[size]
    verify_inclusion(LEAVES[index], index, size, proof, TREE.root(size))
    verify_inclusion(LEAVES[index], index, size, proof, COMPACT_ROOTS[size])


@PROPS
@given(leaf_in_tree(), st.data())
def test_a_flipped_bit_breaks_an_inclusion_proof(
    case: tuple[int, int], data: st.DataObject
) -> None:
    index, size = case
    proof = TREE.inclusion_proof(index, size)
    root = COMPACT_ROOTS[size]
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        with pytest.raises(ProofError):
            verify_inclusion(
                LEAVES[index], index, size, [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]], root
            )
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(ProofError):
        verify_inclusion(flip(LEAVES[index], bit), index, size, proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[index], index, size, proof, flip(root, bit))


@PROPS
@given(leaf_in_tree(), st.data())
def test_a_wrong_index_or_size_breaks_an_inclusion_proof(
    case: tuple[int, int], data: st.DataObject
) -> None:
    index, size = case
    proof = TREE.inclusion_proof(index, size)
    root = COMPACT_ROOTS[size]
    other = data.draw(st.integers(0, N).filter(lambda i: i != index))
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[index], other, size, proof, root)
    wrong_size = data.draw(st.integers(1, 2 * N).filter(lambda s: s != size))
    if index < wrong_size and ref_sides(index, wrong_size) == ref_sides(index, size):
        # Same shape, same computation: only the signed checkpoint binds the size to the root.
        verify_inclusion(LEAVES[index], index, wrong_size, proof, root)
    else:
        with pytest.raises(ProofError):
            verify_inclusion(LEAVES[index], index, wrong_size, proof, root)
    if wrong_size <= N and proof != ref_path(index, 0, wrong_size):
        with pytest.raises(ProofError):  # nor for the true root of the other size
            verify_inclusion(LEAVES[index], index, wrong_size, proof, COMPACT_ROOTS[wrong_size])


@PROPS
@given(leaf_in_tree(), st.data())
def test_a_truncated_or_extended_inclusion_proof_fails(
    case: tuple[int, int], data: st.DataObject
) -> None:
    index, size = case
    proof = TREE.inclusion_proof(index, size)
    root = COMPACT_ROOTS[size]
    extra = data.draw(st.sampled_from([root, LEAVES[0], EMPTY_ROOT, b"\x00" * 32]))
    for changed in ([*proof, extra], [extra, *proof], proof[:-1], proof[1:]):
        if changed != proof:
            with pytest.raises(ProofError):
                verify_inclusion(LEAVES[index], index, size, changed, root)


@PROPS
@given(two_sizes())
def test_every_consistency_proof_verifies(sizes: tuple[int, int]) -> None:
    size1, size2 = sizes
    proof = consistency_proof(size1, size2, TREE)
    verify_consistency(size1, size2, proof, TREE.root(size1), TREE.root(size2))
    verify_consistency(size1, size2, proof, COMPACT_ROOTS[size1], COMPACT_ROOTS[size2])


@PROPS
@given(two_sizes(), st.data())
def test_a_changed_consistency_proof_fails(sizes: tuple[int, int], data: st.DataObject) -> None:
    size1, size2 = sizes
    proof = TREE.consistency_proof(size1, size2)
    r1, r2 = COMPACT_ROOTS[size1], COMPACT_ROOTS[size2]
    i = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]], r1, r2)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, flip(r1, bit), r2)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, r1, flip(r2, bit))
    extra = data.draw(st.sampled_from([r1, r2, proof[0], b"\x00" * 32]))
    for changed in ([*proof, extra], [extra, *proof], proof[:-1], proof[1:]):
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, changed, r1, r2)


@PROPS
@given(two_sizes(), st.data())
def test_wrong_sizes_break_a_consistency_proof(sizes: tuple[int, int], data: st.DataObject) -> None:
    size1, size2 = sizes
    proof = TREE.consistency_proof(size1, size2)
    r1, r2 = COMPACT_ROOTS[size1], COMPACT_ROOTS[size2]
    other1 = data.draw(st.integers(1, N).filter(lambda s: s != size1))
    other2 = data.draw(st.integers(1, N).filter(lambda s: s != size2))
    for s1, s2 in ((other1, size2), (size1, other2), (other1, other2)):
        if s1 >= s2:
            with pytest.raises(ProofError):
                verify_consistency(s1, s2, proof, r1, r2)
            continue
        if len(consistency_plan(s1, s2).elements) != len(proof):
            with pytest.raises(ProofError):  # the sizes fix the proof's length
                verify_consistency(s1, s2, proof, r1, r2)
        if proof != ref_subproof(s1, 0, s2, True):
            with pytest.raises(ProofError):  # and no other pair of this tree's heads
                verify_consistency(s1, s2, proof, COMPACT_ROOTS[s1], COMPACT_ROOTS[s2])


@PROPS
@given(two_sizes(), st.data())
def test_a_rewritten_history_cannot_be_proved_consistent(
    sizes: tuple[int, int], data: st.DataObject
) -> None:
    size1, size2 = sizes
    proof = TREE.consistency_proof(size1, size2)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, COMPACT_ROOTS[size2], COMPACT_ROOTS[size1])
    rewritten = data.draw(st.integers(0, size1 - 1))
    forked = InMemoryTree(
        [*LEAVES[:rewritten], leaf_hash(b"forged"), *LEAVES[rewritten + 1 : size2]]
    )
    for candidate in (proof, forked.consistency_proof(size1, size2)):
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, candidate, COMPACT_ROOTS[size1], forked.root())
