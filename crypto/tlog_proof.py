"""Offline proofs of logging (c2sp.org/tlog-proof@v1). Pure: no I/O.

::

    c2sp.org/tlog-proof@v1
    extra <base64 of the logged entry>
    index <leaf index>
    <base64 inclusion proof hash, one per line>

    <the checkpoint note, verbatim, with its signature and cosignature lines>

The spec's ``extra`` line is opaque and unauthenticated; the hub puts the logged entry's exact bytes
there, so the file is self-contained: the verifier hashes them as the leaf, which is exactly what
the inclusion proof authenticates. A caller holding the entry already (an evidence bundle) passes
it and the two must agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pgs_hub.crypto.errors import ProofError, TlogProofError
from pgs_hub.crypto.merkle import HASH_SIZE, MAX_PROOF_HASHES, leaf_hash, verify_inclusion
from pgs_hub.crypto.note import MAX_NOTE_BYTES, NoteVerifier, _b64_decode, _b64_encode
from pgs_hub.crypto.witness import (
    CosignedCheckpoint,
    WitnessPolicy,
    open_cosigned,
    verify_witnessed,
)

MAGIC = "c2sp.org/tlog-proof@v1"
MAX_PROOF_BYTES = MAX_NOTE_BYTES + 256 * 1024
_INDEX = re.compile(r"index (0|[1-9][0-9]{0,19})")


@dataclass(frozen=True)
class TlogProof:
    index: int
    proof: tuple[bytes, ...]
    checkpoint: bytes  # the note, verbatim
    extra: bytes | None = None


def encode_tlog_proof(proof: TlogProof) -> bytes:
    """The proof file's bytes."""
    lines = [MAGIC]
    if proof.extra is not None:
        lines.append(f"extra {_b64_encode(proof.extra)}")
    lines.append(f"index {proof.index}")
    lines += [_b64_encode(h) for h in proof.proof]
    return ("\n".join(lines) + "\n\n").encode("ascii") + proof.checkpoint


def parse_tlog_proof(data: bytes) -> TlogProof:
    """Read a proof file strictly: magic line, optional extra, index, hashes, blank line, note."""
    if not isinstance(data, bytes) or len(data) > MAX_PROOF_BYTES:
        raise TlogProofError("a tlog proof is bytes, at most about 512 KiB")
    head, blank, note = data.partition(b"\n\n")
    if not blank or not note:
        raise TlogProofError("no blank line separates the proof from the checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError as exc:
        raise TlogProofError("the proof lines are not ASCII") from exc
    if lines[0] != MAGIC:
        raise TlogProofError(f"the first line is not {MAGIC}")
    rest = lines[1:]
    extra: bytes | None = None
    if rest and rest[0].startswith("extra "):
        extra = _b64_decode(rest[0][len("extra ") :])
        if extra is None:
            raise TlogProofError("the extra line is not canonical base64")
        rest = rest[1:]
    if not rest or not _INDEX.fullmatch(rest[0]) or int(rest[0][6:]) >= 2**64:
        raise TlogProofError("the index line is missing or not a decimal index")
    index = int(rest[0][len("index ") :])
    hashes: list[bytes] = []
    for line in rest[1:]:
        decoded = _b64_decode(line)
        if decoded is None or len(decoded) != HASH_SIZE:
            raise TlogProofError("an inclusion proof line is not base64 of a 32-byte hash")
        hashes.append(decoded)
    if len(hashes) > MAX_PROOF_HASHES:
        raise TlogProofError("the inclusion proof is longer than any tree needs")
    return TlogProof(index, tuple(hashes), note, extra)


def verify_tlog_proof(
    data: bytes,
    *,
    log: NoteVerifier,
    policy: WitnessPolicy | None = None,
    entry: bytes | None = None,
    now: int | None = None,
) -> tuple[CosignedCheckpoint, TlogProof, bytes]:
    """Check a proof offline: the checkpoint is signed by the pinned log key (and, with a
    ``policy``, cosigned by a quorum of its witnesses), and the entry (``entry``, else the proof's
    ``extra``) is at the proof's index of that tree. Returns the checkpoint, the proof and the
    entry."""
    proof = parse_tlog_proof(data)
    logged = entry if entry is not None else proof.extra
    if logged is None:
        raise TlogProofError("the proof carries no entry (extra) and none was given")
    if entry is not None and proof.extra is not None and proof.extra != entry:
        raise TlogProofError("the proof's entry is not the one given")
    if policy is not None:
        opened = verify_witnessed(proof.checkpoint, policy, log, now=now)
    else:
        opened = open_cosigned(proof.checkpoint, [log], (), now=now)
    cp = opened.checkpoint
    if proof.index >= cp.size:
        raise ProofError(f"entry {proof.index} is not in the checkpoint's tree of {cp.size}")
    verify_inclusion(leaf_hash(logged), proof.index, cp.size, list(proof.proof), cp.root)
    return opened, proof, logged


def make_tlog_proof(
    index: int, proof: Sequence[bytes], checkpoint: bytes, entry: bytes | None
) -> bytes:
    """The proof file of ``entry`` at ``index`` in the tree ``checkpoint`` signs."""
    return encode_tlog_proof(TlogProof(index, tuple(proof), checkpoint, entry))
