"""RFC 9162 §2.1 Merkle trees over SHA-256: hashing, an append-only compact state, and proofs.

The audit log is a list of entries whose tree hash (MTH, RFC 9162 §2.1.1; the same tree as RFC 6962
and c2sp.org/tlog-checkpoint) is signed in checkpoints. This module is the pure part of it:

* :func:`leaf_hash`, :func:`node_hash`, :data:`EMPTY_ROOT` and :func:`root_from_leaves` define the
  tree.
* :class:`CompactRange` is the state a log needs to append in O(log n): the hashes of the perfect
  subtrees that cover ``[0, size)``. Each :meth:`CompactRange.append` also returns the subtrees it
  completed, so that storage can persist them.
* Every hash a proof needs is the hash of a *perfect* subtree (``2**level`` leaves starting at leaf
  ``index * 2**level``), named by a :class:`NodeId`. A range that is not a perfect subtree (the
  right border of a tree whose size is not a power of two) is split into the perfect subtrees of
  its binary decomposition and folded here. Storage therefore answers each lookup with one row:
  see :class:`SubtreeHashes`, or :class:`ProofPlan` to fetch all of a proof's nodes in one query.
* Verification follows the RFC 9162 §2.1.3.2 and §2.1.4.2 algorithms step by step and raises
  :class:`~crypto.errors.ProofError`; it never returns a bool.

Tree sizes and indices are unsigned 64-bit numbers, as in RFC 9162 and the checkpoint format.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from pgs_hub.crypto.errors import MalformedError, ProofError, TreeRangeError

HASH_SIZE = 32
MAX_TREE_SIZE = 2**64 - 1
# A tree of at most 2**64 - 1 leaves is at most 64 levels deep; a consistency proof may carry one
# more hash (the subtree it starts from). Longer lists are refused before any hashing.
MAX_PROOF_HASHES = 65

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH of the empty list (RFC 9162 §2.1.1): SHA-256 of the empty string."""


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 || entry): the hash of one log entry (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): an interior node. The prefix keeps leaves and nodes apart."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _require_hash(value: bytes, what: str) -> bytes:
    """Refuse anything but a 32-byte hash given to a builder (a caller's bug, not a bad proof)."""
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise MalformedError(f"{what} must be {HASH_SIZE} bytes")
    return value


def _require_size(size: int, what: str = "tree size") -> int:
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_TREE_SIZE:
        raise TreeRangeError(f"{what} must be an integer from 0 to 2**64 - 1")
    return size


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over a list of leaf hashes (RFC 9162 §2.1.1), computed level by level without recursion.

    Pairing neighbours and carrying an odd last hash up unchanged builds exactly the RFC's tree:
    its left subtrees are perfect and its right border is what is left over.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    level = [_require_hash(h, "leaf hash") for h in leaf_hashes]
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


# --- naming perfect subtrees -------------------------------------------------------------------


@dataclass(frozen=True, order=True, slots=True)
class NodeId:
    """A perfect subtree: the ``2**level`` leaves from ``index * 2**level`` (level 0 is a leaf)."""

    level: int
    index: int

    @property
    def begin(self) -> int:
        """First leaf index covered."""
        return self.index << self.level

    @property
    def end(self) -> int:
        """One past the last leaf index covered."""
        return (self.index + 1) << self.level


@dataclass(frozen=True, slots=True)
class CompletedSubtree:
    """A perfect subtree whose hash became known by an append: what storage persists."""

    level: int
    index: int
    hash: bytes


class SubtreeHashes(Protocol):
    """Where proofs get their hashes: anything that knows the hash of a complete perfect subtree.

    Storage implements it from the :class:`CompletedSubtree` rows it saved. An implementation
    raises :class:`~crypto.errors.TreeRangeError` for a subtree that is not complete yet.
    """

    def subtree_hash(self, level: int, index: int) -> bytes:
        """The hash of leaves ``[index * 2**level, (index + 1) * 2**level)``."""
        ...


def range_nodes(begin: int, end: int) -> tuple[NodeId, ...]:
    """The perfect subtrees of the binary decomposition of leaves ``[begin, end)``, left to right.

    Greedy from the left: each step takes the largest subtree that is aligned at ``begin`` and
    fits. For the ranges this module uses (``[0, n)`` and the right border of an RFC subtree) the
    right fold of their hashes, :func:`fold`, is the MTH of the range.
    """
    if not 0 <= begin <= end:
        raise TreeRangeError("a leaf range must have 0 <= begin <= end")
    nodes: list[NodeId] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        if begin:
            level = min(level, (begin & -begin).bit_length() - 1)
        nodes.append(NodeId(level, begin >> level))
        begin += 1 << level
    return tuple(nodes)


def fold(hashes: Sequence[bytes]) -> bytes:
    """Right fold of subtree hashes, left to right: ``h0 . (h1 . (... . hn))``.

    This is how the RFC tree joins the perfect subtrees of a decomposition: each one is the left
    child of a node whose right child holds everything after it.
    """
    if not hashes:
        raise TreeRangeError("an empty range has no subtree hash to fold")
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


# --- proof plans -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProofPlan:
    """Which perfect subtrees make up each hash of a proof, before any hash is looked up.

    ``elements[i]`` lists the subtrees whose :func:`fold` is the i-th proof hash; most elements are
    a single subtree. Splitting planning from fetching lets async storage load :attr:`nodes` in one
    query and then call :meth:`assemble`, while a synchronous source uses :meth:`fetch`.
    """

    elements: tuple[tuple[NodeId, ...], ...]

    @property
    def nodes(self) -> tuple[NodeId, ...]:
        """Every subtree the proof needs, once each, in proof order: at most about 2 log2(n)."""
        seen: dict[NodeId, None] = {}
        for element in self.elements:
            for node in element:
                seen.setdefault(node)
        return tuple(seen)

    def assemble(self, hashes: Mapping[NodeId, bytes]) -> list[bytes]:
        """The proof, from a mapping of (at least) :attr:`nodes` to their hashes."""
        proof: list[bytes] = []
        for element in self.elements:
            try:
                parts = [_require_hash(hashes[node], f"subtree {node}") for node in element]
            except KeyError as exc:
                raise TreeRangeError(f"no hash was given for subtree {exc.args[0]}") from exc
            proof.append(fold(parts))
        return proof

    def fetch(self, source: SubtreeHashes) -> list[bytes]:
        """The proof, looking up each subtree in ``source`` once."""
        return self.assemble(
            {node: source.subtree_hash(node.level, node.index) for node in self.nodes}
        )


def _path(node: NodeId, size: int) -> list[tuple[NodeId, ...]]:
    """Audit path of a complete perfect subtree up to the root of a tree of ``size`` leaves.

    Level by level from ``node``: a left sibling is always a perfect subtree; a right sibling is
    perfect unless it holds the tree's last leaf, and then it is the decomposition of what is left
    of it; a node on the right border with nothing to its right has no sibling and passes its hash
    up unchanged (the RFC tree has no node there). This is RFC 9162 PATH read bottom-up.
    """
    level, index = node.level, node.index
    last = (size - 1) >> level  # index, at this level, of the node holding the last leaf
    elements: list[tuple[NodeId, ...]] = []
    while last > 0:
        if index & 1:
            elements.append((NodeId(level, index - 1),))
        elif index < last:
            sibling = NodeId(level, index + 1)
            elements.append(range_nodes(sibling.begin, min(sibling.end, size)))
        index >>= 1
        last >>= 1
        level += 1
    return elements


def root_plan(size: int) -> ProofPlan:
    """The subtrees whose fold is the root of a tree of ``size`` leaves (one element, or none)."""
    _require_size(size)
    return ProofPlan((range_nodes(0, size),) if size else ())


def inclusion_plan(index: int, size: int) -> ProofPlan:
    """Plan of PATH(index, D[size]) (RFC 9162 §2.1.3.1): the inclusion proof of one leaf."""
    _require_size(size)
    _require_size(index, "leaf index")
    if index >= size:
        raise TreeRangeError("the leaf index is not below the tree size")
    return ProofPlan(tuple(_path(NodeId(0, index), size)))


def consistency_plan(size1: int, size2: int) -> ProofPlan:
    """Plan of PROOF(size1, D[size2]) (RFC 9162 §2.1.4.1): that tree size1 is a prefix of size2.

    The proof is the audit path, in the tree of ``size2``, of the last perfect subtree of the
    tree of ``size1``, preceded by that subtree's hash unless it is the whole older tree (size1 a
    power of two; the verifier then starts from the old root). Equal sizes need no proof, and
    neither does the empty tree, which is a prefix of every tree (c2sp.org/merkle-tree).
    """
    _require_size(size1, "first tree size")
    _require_size(size2, "second tree size")
    if size1 > size2:
        raise TreeRangeError("the first tree size is larger than the second")
    if size1 in (0, size2):
        return ProofPlan(())
    shift = (size1 & -size1).bit_length() - 1  # trailing zero bits of size1
    start = NodeId(shift, (size1 - 1) >> shift)
    seed: list[tuple[NodeId, ...]] = [] if size1 == 1 << shift else [(start,)]
    return ProofPlan(tuple(seed + _path(start, size2)))


def inclusion_proof(index: int, size: int, source: SubtreeHashes) -> list[bytes]:
    """Inclusion proof of leaf ``index`` in the tree of ``size`` leaves, from ``source``."""
    return inclusion_plan(index, size).fetch(source)


def consistency_proof(size1: int, size2: int, source: SubtreeHashes) -> list[bytes]:
    """Consistency proof from the tree of ``size1`` leaves to the tree of ``size2``."""
    return consistency_plan(size1, size2).fetch(source)


def root_at(size: int, source: SubtreeHashes) -> bytes:
    """Root of the tree of the first ``size`` leaves, from ``source`` (any past size works)."""
    if size == 0:
        return EMPTY_ROOT
    return root_plan(size).fetch(source)[0]


# --- the append-only state ---------------------------------------------------------------------


@dataclass(frozen=True)
class CompactRange:
    """The hashes of the perfect subtrees covering leaves ``[0, size)``, largest first.

    There is one hash per set bit of ``size`` (at most 64), which is all a log needs to append a
    leaf and compute the new root in O(log n), without reading older leaves. Values are immutable:
    :meth:`append` returns a new state, so a failed transaction leaves the old one untouched.
    """

    size: int = 0
    hashes: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        _require_size(self.size)
        if len(self.hashes) != self.size.bit_count():
            raise MalformedError("a compact range holds one hash per set bit of its size")
        for h in self.hashes:
            _require_hash(h, "compact range hash")

    @classmethod
    def from_source(cls, size: int, source: SubtreeHashes) -> CompactRange:
        """Rebuild the state of a tree of ``size`` leaves from stored subtree hashes."""
        nodes = range_nodes(0, _require_size(size))
        return cls(size, tuple(source.subtree_hash(n.level, n.index) for n in nodes))

    @property
    def nodes(self) -> tuple[NodeId, ...]:
        """Which subtree each of :attr:`hashes` is."""
        return range_nodes(0, self.size)

    @classmethod
    def _trusted(cls, size: int, hashes: tuple[bytes, ...]) -> CompactRange:
        """A state :meth:`_grow` computed from a checked state and checked leaves: right by
        construction, so it is not checked again (that would cost more than the append itself)."""
        state = object.__new__(cls)
        object.__setattr__(state, "size", size)
        object.__setattr__(state, "hashes", hashes)
        return state

    def _grow(
        self, leaves: Iterable[bytes], completed: list[CompletedSubtree] | None
    ) -> CompactRange:
        """Append each leaf hash in order, in one pass; the subtrees each leaf closes go into
        ``completed`` unless it is None. Every leaf is checked (32 bytes) and so is the size limit;
        the states in between are never built."""
        size = self.size
        stack = list(self.hashes)
        for leaf in leaves:
            if not isinstance(leaf, bytes) or len(leaf) != HASH_SIZE:
                raise MalformedError(f"leaf hash must be {HASH_SIZE} bytes")
            if size == MAX_TREE_SIZE:
                raise TreeRangeError("the tree is full (2**64 - 1 leaves)")
            if completed is not None:
                completed.append(CompletedSubtree(0, size, leaf))
            current, level = leaf, 0
            while (size >> level) & 1:  # the subtree to the left at this level is complete
                current = node_hash(stack.pop(), current)
                level += 1
                if completed is not None:
                    completed.append(CompletedSubtree(level, size >> level, current))
            stack.append(current)
            size += 1
        return CompactRange._trusted(size, tuple(stack))

    def append(self, leaf: bytes) -> tuple[CompactRange, list[CompletedSubtree]]:
        """Add one leaf hash; return the new state and every subtree the leaf completed.

        The list starts with the leaf itself (level 0) and goes up one level for each subtree the
        leaf closes, so storage that saves every row can later answer any
        :meth:`SubtreeHashes.subtree_hash` lookup with one read.
        """
        completed: list[CompletedSubtree] = []
        return self._grow((leaf,), completed), completed

    def extend(self, leaves: Iterable[bytes]) -> tuple[CompactRange, list[CompletedSubtree]]:
        """:meth:`append` each leaf hash in order; the completed subtrees of all of them."""
        completed: list[CompletedSubtree] = []
        return self._grow(leaves, completed), completed

    def extended(self, leaves: Iterable[bytes]) -> CompactRange:
        """The state after appending each leaf hash in order, without listing the subtrees they
        complete: what an auditor recomputing the root needs, and the fastest way to it (the same
        state as :meth:`extend`'s, with the same checks on every leaf)."""
        return self._grow(leaves, None)

    def root(self) -> bytes:
        """MTH of the leaves so far (:data:`EMPTY_ROOT` when there are none)."""
        return fold(self.hashes) if self.hashes else EMPTY_ROOT


class InMemoryTree:
    """A whole tree in memory, every complete subtree memoised: for tests and auditors' tools.

    It is the reference :class:`SubtreeHashes` source. It keeps each level's complete subtrees as
    they are completed, so looking up any of them is one list access, and it can answer for every
    past size too (an append-only tree never changes a complete subtree).
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        self._state = CompactRange()
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        return self._state.size

    @property
    def state(self) -> CompactRange:
        """The compact range of the current tree."""
        return self._state

    def append(self, leaf: bytes) -> list[CompletedSubtree]:
        """Add a leaf hash; return the subtrees it completed (as :meth:`CompactRange.append`)."""
        self._state, completed = self._state.append(leaf)
        for node in completed:
            if node.level == len(self._levels):
                self._levels.append([])
            self._levels[node.level].append(node.hash)
        return completed

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def subtree_hash(self, level: int, index: int) -> bytes:
        if not 0 <= level < len(self._levels) or not 0 <= index < len(self._levels[level]):
            raise TreeRangeError(f"subtree (level {level}, index {index}) is not complete")
        return self._levels[level][index]

    def root(self, size: int | None = None) -> bytes:
        """Root of the current tree, or of the first ``size`` leaves."""
        return self._state.root() if size is None else root_at(self._check(size), self)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self._check(size), self)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        return consistency_proof(size1, self._check(size2), self)

    def _check(self, size: int | None) -> int:
        if size is None:
            return self.size
        if _require_size(size) > self.size:
            raise TreeRangeError("the tree is smaller than the size asked for")
        return size


# --- verification (RFC 9162 §2.1.3.2, §2.1.4.2) ------------------------------------------------


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ProofError(f"the {what} is not a {HASH_SIZE}-byte hash")


def _check_proof(proof: Sequence[bytes]) -> None:
    if len(proof) > MAX_PROOF_HASHES:
        raise ProofError(f"the proof has more than {MAX_PROOF_HASHES} hashes")
    for i, element in enumerate(proof):
        _check_hash(element, f"proof hash {i}")


def _check_sizes(*sizes: int) -> None:
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_TREE_SIZE:
            raise ProofError("a tree size or leaf index is not an integer from 0 to 2**64 - 1")


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """The root that ``proof`` leads to from ``leaf_hash`` at ``index`` in a tree of ``size``.

    Steps 1 to 4 of RFC 9162 §2.1.3.2, and the ``sn == 0`` half of step 5: a proof of the wrong
    length raises. Comparing the result with a trusted root is :func:`verify_inclusion`.
    """
    _check_sizes(index, size)
    _check_hash(leaf_hash, "leaf hash")
    _check_proof(proof)
    if index >= size:  # step 1
        raise ProofError("the leaf index is not below the tree size")
    fn, sn, r = index, size - 1, leaf_hash  # steps 2 and 3
    for p in proof:  # step 4
        if sn == 0:  # 4a
            raise ProofError("the proof has more hashes than the path to the root")
        if fn & 1 or fn == sn:  # 4b
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1  # 4c
        sn >>= 1
    if sn != 0:  # step 5
        raise ProofError("the proof has fewer hashes than the path to the root")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    The size must come from the same signed checkpoint as the root: a proof for one size can also
    lead to the same root under a size whose path has the same shape.
    """
    _check_hash(root, "root")
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if not hmac.compare_digest(computed, root):
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size1`` leaves with ``root1`` is a prefix of ``size2``/``root2``.

    RFC 9162 §2.1.4.2 covers ``0 < size1 < size2``. Around it, as c2sp.org/merkle-tree writes:
    equal sizes need an empty proof and equal roots, and the empty tree (whose root must be
    :data:`EMPTY_ROOT`) is a prefix of every tree with an empty proof.
    """
    _check_sizes(size1, size2)
    _check_hash(root1, "first root")
    _check_hash(root2, "second root")
    _check_proof(proof)
    if size1 > size2:
        raise ProofError("the first tree is larger than the second")
    if size1 == 0 and not hmac.compare_digest(root1, EMPTY_ROOT):
        raise ProofError("the root of the empty tree is not SHA-256 of the empty string")
    if size1 in (0, size2):
        if proof:
            raise ProofError(
                "a consistency proof between equal trees or from the empty tree is empty"
            )
        if size1 == size2 and not hmac.compare_digest(root1, root2):
            raise ProofError("trees of equal size have different roots")
        return
    fr, sr = _consistency_roots(size1, size2, proof, root1)
    if not hmac.compare_digest(fr, root1):
        raise ProofError("the consistency proof does not lead to the first root")
    if not hmac.compare_digest(sr, root2):
        raise ProofError("the consistency proof does not lead to the second root")


def _consistency_roots(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes
) -> tuple[bytes, bytes]:
    """Steps 1 to 7 of RFC 9162 §2.1.4.2 for ``0 < size1 < size2``, up to comparing the roots.

    Returns ``(fr, sr)``, the two roots the proof leads to; raises when its length is wrong.
    """
    if not proof:  # step 1
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # step 2: size1 is a power of two
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:  # 6a
            raise ProofError("the proof has more hashes than the trees need")
        if fn & 1 or fn == sn:  # 6b
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1  # 6c
        sn >>= 1
    if sn != 0:  # step 7, first half
        raise ProofError("the proof has fewer hashes than the trees need")
    return fr, sr
