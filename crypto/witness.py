"""Witness cosignatures (c2sp.org/tlog-cosignature, Ed25519 ``cosignature/v1``) and witness
policies (c2sp.org/tlog-policy). Pure: no I/O, no clock but the one passed in.

A cosignature is a signed-note signature line by a witness key on a log's checkpoint::

    — <witness name> base64(key ID || u64 timestamp || Ed25519 signature)

The key ID is SHA-256(name || 0x0A || 0x04 || public key)[:4] (signature type 0x04, so that the
same key can never be read as a log key), and the signed message is ``cosignature/v1\\n``,
``time <timestamp>\\n`` and the checkpoint's note text. A note reader that does not know the
witness (Go's ``sumdb/note`` among them) keeps the line as an unverified signature of an unknown
key: the cosigned checkpoint is still a valid checkpoint of the log.

A policy names the logs, the witnesses, groups of them with thresholds, and the quorum; a checkpoint
is accepted when the log signed it and the witnesses that cosigned it satisfy the quorum.
:func:`verify_witnessed` is the one verification entry point; it raises, never returns a bool.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from pgs_hub.crypto.errors import (
    CheckpointOriginError,
    CosignatureError,
    CryptoError,
    InvalidKeyError,
    QuorumError,
    WitnessPolicyError,
)
from pgs_hub.crypto.keys import SigningKey, VerifyKey, require_full_order
from pgs_hub.crypto.note import (
    EM_DASH_SPACE,
    MAX_KEY_STRING,
    Checkpoint,
    NoteVerifier,
    _b64_decode,
    _b64_encode,
    _is_valid_name,
    open_note,
    parse_checkpoint,
    parse_verifier_key,
)

COSIGNATURE_TYPE = 0x04
COSIGNATURE_HEADER = b"cosignature/v1\n"
TIMESTAMP_SIZE = 8
MAX_TIMESTAMP = 2**63 - 1
MAX_FUTURE_SECONDS = 3600  # a cosignature dated later than this past the reader's clock is refused
_KEY_ID = re.compile(r"[0-9a-f]{8}")


def cosigner_key_id(name: str, public_key: bytes) -> int:
    """SHA-256(name || 0x0A || 0x04 || public key)[:4] as a big-endian uint32."""
    digest = hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([COSIGNATURE_TYPE]) + public_key
    ).digest()
    return int.from_bytes(digest[:4], "big")


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    """What a witness signs: the header line, the time line and the checkpoint's note text."""
    if isinstance(timestamp, bool) or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CosignatureError("a cosignature timestamp is from 0 to 2**63 - 1")
    return COSIGNATURE_HEADER + f"time {timestamp}\n".encode("ascii") + text


def _require_name(name: str) -> str:
    if not isinstance(name, str) or not _is_valid_name(name):
        raise InvalidKeyError("a witness name must be non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True)
class CosignerVerifier:
    """A trusted witness key: name, key ID (bound to name and key) and the Ed25519 public key."""

    name: str
    key_id: int
    key: VerifyKey

    def __post_init__(self) -> None:
        _require_name(self.name)
        if self.key_id != cosigner_key_id(self.name, self.key.raw()):
            raise InvalidKeyError("the key ID does not belong to this witness name and key")

    @classmethod
    def for_key(cls, name: str, key: VerifyKey) -> CosignerVerifier:
        return cls(_require_name(name), cosigner_key_id(name, key.raw()), key)

    def encode(self) -> str:
        """The verifier key ``name+hash+base64(0x04 || key)`` (a C2SP vkey), safe to publish."""
        raw = bytes([COSIGNATURE_TYPE]) + self.key.raw()
        return f"{self.name}+{self.key_id:08x}+{_b64_encode(raw)}"

    def verify(self, text: bytes, blob: bytes, *, now: int | None = None) -> int:
        """Check a cosignature (timestamp || signature, after the key ID) over the checkpoint's
        note text; return its timestamp."""
        if len(blob) != TIMESTAMP_SIZE + 64:
            raise CosignatureError(
                f"the cosignature by {self.name} is not a timestamped Ed25519 one"
            )
        timestamp = int.from_bytes(blob[:TIMESTAMP_SIZE], "big")
        if timestamp > MAX_TIMESTAMP:
            raise CosignatureError(f"the cosignature by {self.name} has an invalid timestamp")
        if now is not None and timestamp > now + MAX_FUTURE_SECONDS:
            raise CosignatureError(f"the cosignature by {self.name} is dated in the future")
        try:
            self.key.verify(blob[TIMESTAMP_SIZE:], cosigned_message(text, timestamp))
        except InvalidSignature as exc:
            raise CosignatureError(f"the cosignature by {self.name} does not verify") from exc
        return timestamp


@dataclass(frozen=True)
class Cosigner:
    """A witness's signing key with its name. Its ``repr`` never shows key material."""

    name: str
    key: SigningKey

    def __post_init__(self) -> None:
        _require_name(self.name)

    @property
    def verifier(self) -> CosignerVerifier:
        return CosignerVerifier.for_key(self.name, self.key.public)

    def cosign(self, text: bytes, timestamp: int) -> str:
        """The signature line ``— name base64(key ID || timestamp || signature)\\n`` over the
        checkpoint note text ``text``."""
        signature = self.key.sign(cosigned_message(text, timestamp))
        blob = self.verifier.key_id.to_bytes(4, "big") + timestamp.to_bytes(8, "big") + signature
        return f"{EM_DASH_SPACE}{self.name} {_b64_encode(blob)}\n"

    def __repr__(self) -> str:
        return f"Cosigner(name={self.name!r})"


def parse_cosigner_key(text: str) -> CosignerVerifier:
    """Read a witness verifier key ``name+hash+base64(0x04 || key)``; the key ID must match."""
    if not isinstance(text, str) or len(text) > MAX_KEY_STRING:
        raise InvalidKeyError("the witness key is not a key string")
    parts = text.split("+", 2)
    if len(parts) != 3 or not _KEY_ID.fullmatch(parts[1]):
        raise InvalidKeyError("the witness key is not name+hash+key with 8 lower-case hex digits")
    name = _require_name(parts[0])
    raw = _b64_decode(parts[2])
    if raw is None or len(raw) != 33 or raw[0] != COSIGNATURE_TYPE:
        raise InvalidKeyError("the witness key is not an Ed25519 cosignature (type 0x04) key")
    public = ed25519.Ed25519PublicKey.from_public_bytes(raw[1:])
    verifier = CosignerVerifier(name, int(parts[1], 16), VerifyKey.from_public(public))
    require_full_order("Ed25519", raw[1:], what="the witness key")  # after the key ID's check
    return verifier


# --- cosigned checkpoints ------------------------------------------------------------------------


@dataclass(frozen=True)
class CosignedCheckpoint:
    """A checkpoint verified under the log key, with the trusted witnesses whose cosignatures
    verified: ``cosigned`` by key name (-> cosignature timestamp) for people, ``keys`` (their
    verifier key strings) for quorums, since two witnesses may share a key name."""

    checkpoint: Checkpoint
    text: bytes
    cosigned: Mapping[str, int]
    keys: frozenset[str] = frozenset()


def open_cosigned(
    data: bytes,
    log: Iterable[NoteVerifier],
    cosigners: Iterable[CosignerVerifier],
    *,
    origin: str | None = None,
    now: int | None = None,
) -> CosignedCheckpoint:
    """Verify the log's signature on a checkpoint note (one of ``log``), its origin (the log key's
    name unless given) and every cosignature of a trusted witness; lines of other keys are
    ignored. A trusted witness whose cosignature fails rejects the note, as a bad signature of a
    trusted key does in signed-note."""
    logs = list(log)
    note = open_note(data, logs)
    checkpoint = parse_checkpoint(note.text)
    signer = {(v.name, v.key_id): v for v in logs}
    names = {signer[(s.name, s.key_id)].name for s in note.verified if (s.name, s.key_id) in signer}
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointOriginError(
            f"the checkpoint is of {checkpoint.origin!r}, not of {origin!r}"
        )
    if origin is None and checkpoint.origin not in names:
        raise CheckpointOriginError(
            f"the checkpoint is of {checkpoint.origin!r}, not of {', '.join(sorted(names))!r}"
        )
    trusted = {(c.name, c.key_id): c for c in cosigners}
    text = note.text.encode("utf-8")
    cosigned: dict[str, int] = {}
    keys: set[str] = set()
    for sig in note.unverified:
        verifier = trusted.get((sig.name, sig.key_id))
        if verifier is not None:
            cosigned[verifier.name] = verifier.verify(text, sig.signature, now=now)
            keys.add(verifier.encode())
    return CosignedCheckpoint(checkpoint, text, cosigned, frozenset(keys))


def cosignature_lines(response: bytes) -> list[str]:
    """The signature lines of a witness's answer (each ``— name base64\\n``), checked for syntax."""
    try:
        decoded = response.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CosignatureError("the witness answer is not UTF-8") from exc
    if not decoded.endswith("\n") or len(decoded) > 64 * 1024:
        raise CosignatureError("the witness answer is not signature lines")
    lines = [f"{line}\n" for line in decoded[:-1].split("\n")]
    for line in lines:
        name, space, blob = line[len(EM_DASH_SPACE) : -1].partition(" ")
        if (
            not line.startswith(EM_DASH_SPACE)
            or not space
            or not _is_valid_name(name)
            or _b64_decode(blob) is None
        ):
            raise CosignatureError("the witness answer is not signature lines")
    return lines


# --- policies ------------------------------------------------------------------------------------

MAX_POLICY_BYTES = 64 * 1024
MAX_POLICY_ITEMS = 256  # logs, witnesses and groups each (the spec asks for at least 32)
_ALLOWED = re.compile(r"[^\x09\x0a\x20-\x7e\x80-\U0010ffff]")


@dataclass(frozen=True)
class PolicyWitness:
    name: str  # the policy's name for it (used by groups and the quorum)
    key: CosignerVerifier
    url: str | None = None


@dataclass(frozen=True)
class PolicyGroup:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class WitnessPolicy:
    """A parsed policy: logs, witnesses and groups by name, and the quorum (a name or ``none``)."""

    logs: tuple[NoteVerifier, ...]
    witnesses: Mapping[str, PolicyWitness]
    groups: Mapping[str, PolicyGroup]
    quorum: str
    log_urls: Mapping[str, str] = field(default_factory=dict)

    @property
    def cosigners(self) -> tuple[CosignerVerifier, ...]:
        return tuple(w.key for w in self.witnesses.values())

    def _witnessed(self, name: str, cosigned: set[str]) -> bool:
        if name == "none":
            return True
        if name in self.witnesses:
            return self.witnesses[name].key.encode() in cosigned
        group = self.groups[name]
        count = sum(self._witnessed(member, cosigned) for member in group.members)
        return count >= group.threshold

    def describe(self) -> str:
        """The quorum in words, e.g. ``2 of ng, gh, cm``."""
        if self.quorum == "none":
            return "no cosignature"
        if self.quorum in self.witnesses:
            return self.quorum
        group = self.groups[self.quorum]
        return f"{group.threshold} of {', '.join(group.members)}"

    def require_quorum(self, cosigned: Iterable[str]) -> None:
        """Raise :class:`QuorumError` unless the witnesses that cosigned (their verifier key
        strings, :attr:`CosignedCheckpoint.keys`) satisfy the quorum. Keys, not names: two
        witnesses may share a key name, and one cosignature must never count for both."""
        have = set(cosigned)
        if self._witnessed(self.quorum, have):
            return
        named = sorted(n for n, w in self.witnesses.items() if w.key.encode() in have)
        raise QuorumError(
            f"the checkpoint is cosigned by {len(named)} of the policy's witnesses"
            f" ({', '.join(named) or 'none'}); the witness policy needs {self.describe()}"
        )


def _words(line: str) -> list[str]:
    return line.replace("\t", " ").split()


class _PolicyParser:
    """One method per line kind; names (witnesses and groups) share one namespace."""

    def __init__(self) -> None:
        self.logs: list[NoteVerifier] = []
        self.log_urls: dict[str, str] = {}
        self.witnesses: dict[str, PolicyWitness] = {}
        self.groups: dict[str, PolicyGroup] = {}
        self.quorum: str | None = None
        self.keys: set[bytes] = set()

    def _defined(self, name: str) -> bool:
        return name in self.witnesses or name in self.groups

    def _new_name(self, name: str) -> str:
        if name == "none" or self._defined(name):
            raise WitnessPolicyError(f"the name {name!r} is already defined")
        return name

    def _new_key(self, raw: bytes) -> None:
        if raw in self.keys:
            raise WitnessPolicyError("this key is listed twice")
        self.keys.add(raw)

    def log(self, args: list[str]) -> None:
        verifier = parse_verifier_key(args[0])
        self._new_key(verifier.key.raw())
        self.logs.append(verifier)
        if len(args) == 2:
            self.log_urls[verifier.name] = args[1]

    def witness(self, args: list[str]) -> None:
        name = self._new_name(args[0])
        cosigner = parse_cosigner_key(args[1])
        self._new_key(cosigner.key.raw())
        self.witnesses[name] = PolicyWitness(name, cosigner, args[2] if len(args) == 3 else None)

    def group(self, args: list[str]) -> None:
        name, rule, members = self._new_name(args[0]), args[1], tuple(args[2:])
        if len(set(members)) != len(members):
            raise WitnessPolicyError("a group lists a member twice")
        undefined = [m for m in members if not self._defined(m)]
        if undefined:
            raise WitnessPolicyError(f"{undefined[0]!r} is not defined above")
        if rule == "all":
            threshold = len(members)
        elif rule == "any":
            threshold = 1
        elif re.fullmatch(r"[1-9][0-9]{0,3}", rule) and int(rule) <= len(members):
            threshold = int(rule)
        else:
            raise WitnessPolicyError(f"a group's threshold is all, any or 1 to {len(members)}")
        self.groups[name] = PolicyGroup(name, threshold, members)

    def set_quorum(self, args: list[str]) -> None:
        if self.quorum is not None:
            raise WitnessPolicyError("a policy has exactly one quorum line")
        if args[0] != "none" and not self._defined(args[0]):
            raise WitnessPolicyError(f"{args[0]!r} is not defined above")
        self.quorum = args[0]

    def line(self, words: list[str]) -> None:
        keyword, args = words[0], words[1:]
        arity = {"log": (1, 2), "witness": (2, 3), "quorum": (1, 1), "group": (3, 10**6)}
        low, high = arity.get(keyword, (-1, -1))
        if not low <= len(args) <= high:
            raise WitnessPolicyError("not a log, witness, group or quorum line")
        handlers = {"log": self.log, "witness": self.witness, "group": self.group}
        handlers.get(keyword, self.set_quorum)(args)
        if max(len(self.logs), len(self.witnesses), len(self.groups)) > MAX_POLICY_ITEMS:
            raise WitnessPolicyError(f"a policy lists at most {MAX_POLICY_ITEMS} of each")


def parse_policy(data: bytes) -> WitnessPolicy:
    """Read a c2sp.org/tlog-policy file (UTF-8 text; names are compared byte for byte)."""
    if not isinstance(data, bytes) or len(data) > MAX_POLICY_BYTES:
        raise WitnessPolicyError(f"a witness policy is at most {MAX_POLICY_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WitnessPolicyError("the witness policy is not UTF-8") from exc
    if _ALLOWED.search(text):
        raise WitnessPolicyError("the witness policy holds a control character")
    parser = _PolicyParser()
    for number, raw in enumerate(text.split("\n"), start=1):
        words = _words(raw)
        if not words or words[0].startswith("#"):
            continue
        try:
            parser.line(words)
        except CryptoError as exc:
            raise WitnessPolicyError(f"line {number}: {exc}") from exc
    if parser.quorum is None:
        raise WitnessPolicyError("the witness policy has no quorum line")
    return WitnessPolicy(
        tuple(parser.logs), parser.witnesses, parser.groups, parser.quorum, parser.log_urls
    )


def verify_witnessed(
    data: bytes,
    policy: WitnessPolicy,
    log: NoteVerifier | None = None,
    *,
    now: int | None = None,
) -> CosignedCheckpoint:
    """A checkpoint signed by the pinned ``log`` key (else one of the policy's logs) and cosigned
    by a quorum of the policy's witnesses; raises otherwise (:class:`QuorumError` when only the
    cosignatures are missing). When both are given, the pinned log key must be one of the policy's
    logs (if it lists any), so a policy for another log is never applied by mistake."""
    if log is not None and policy.logs and log.encode() not in {v.encode() for v in policy.logs}:
        raise WitnessPolicyError("the witness policy does not list the pinned log key")
    logs = [log] if log is not None else list(policy.logs)
    if not logs:
        raise WitnessPolicyError("no log key: pin one, or list the log in the witness policy")
    opened = open_cosigned(data, logs, policy.cosigners, now=now)
    policy.require_quorum(opened.keys)
    return opened


# --- the add-checkpoint request (c2sp.org/tlog-witness) ------------------------------------------

MAX_ADD_CHECKPOINT_PROOF = 63
_OLD = re.compile(r"old (0|[1-9][0-9]{0,19})")


class AddCheckpointError(CryptoError):
    """An add-checkpoint request body is not an old size line, proof lines, a blank line and a
    checkpoint note (the witness answers 400 Bad Request)."""

    code = "witness.bad_request"


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    note: bytes  # the checkpoint note, verbatim (its text and signature lines)


def encode_add_checkpoint(old_size: int, proof: Iterable[bytes], note: bytes) -> bytes:
    """``old N``, the consistency proof lines, a blank line and the note."""
    lines = [f"old {old_size}", *(_b64_encode(h) for h in proof)]
    return ("\n".join(lines) + "\n\n").encode("ascii") + note


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Read an add-checkpoint body strictly (at most 63 proof hashes, each base64 of 32 bytes)."""
    head, blank, note = body.partition(b"\n\n")
    if not blank or not note:
        raise AddCheckpointError("no blank line separates the proof from the checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError as exc:
        raise AddCheckpointError("the old size and proof lines are not ASCII") from exc
    if not _OLD.fullmatch(lines[0]) or int(lines[0][4:]) >= 2**64:
        raise AddCheckpointError("the first line is not 'old <size>'")
    proof: list[bytes] = []
    for line in lines[1:]:
        decoded = _b64_decode(line)
        if decoded is None or len(decoded) != 32:
            raise AddCheckpointError("a consistency proof line is not base64 of a 32-byte hash")
        proof.append(decoded)
    if len(proof) > MAX_ADD_CHECKPOINT_PROOF:
        raise AddCheckpointError("more than 63 consistency proof lines")
    return AddCheckpoint(int(lines[0][4:]), tuple(proof), note)


def note_text(note: bytes) -> bytes:
    """The text of a signed note (up to and including the newline before the blank line), without
    verifying anything: a witness reads the origin first, to know which keys to verify with."""
    split = note.rfind(b"\n\n")
    if split < 0:
        raise AddCheckpointError("the checkpoint is not a signed note")
    return note[: split + 1]
