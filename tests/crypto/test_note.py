"""Signed notes and tlog checkpoints (``crypto.note``): public vectors, strictness, round trips.

* The Go checksum-database note vector (``tests/vectors/note/go_sumdb_note.json``): our parser
  reads the Go key strings, our signer reproduces the published note byte for byte (Ed25519 is
  deterministic), and every key ID and signature is also checked independently with ``hashlib`` and
  ``cryptography``.
* A real sum.golang.org signed tree head, with three cosignatures, verifies as a checkpoint; the
  Go ``tlog`` tree text and the c2sp.org/tlog-checkpoint example parse (``checkpoints.json``).
* Tables of invalid notes, keys and checkpoints, each refused with its specific error.
* Properties: key strings, notes and checkpoints round-trip for generated names, texts and trees.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from pgs_hub.crypto.errors import (
    CheckpointError,
    CheckpointOriginError,
    CryptoError,
    InvalidKeyError,
    NoteError,
    NoteMalformedError,
    NoteSignatureError,
    NoteUnverifiedError,
)
from pgs_hub.crypto.keys import SigningKey
from pgs_hub.crypto.merkle import InMemoryTree, leaf_hash, verify_consistency, verify_inclusion
from pgs_hub.crypto.note import (
    MAX_NOTE_BYTES,
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    key_id,
    open_note,
    parse_checkpoint,
    parse_signer_key,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    signer_key,
    verifier_key,
    verify_checkpoint,
)

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "note"
GO: dict[str, Any] = json.loads((VECTORS / "go_sumdb_note.json").read_text("utf-8"))
CHECKPOINTS: dict[str, Any] = json.loads((VECTORS / "checkpoints.json").read_text("utf-8"))

PETER = GO["peter_neumann"]
ENOCH = GO["enoch_root"]
SUMDB = CHECKPOINTS["go_sumdb_checkpoint"]
TEXT: str = PETER["text"]
PETER_SIG: str = PETER["signature_line"]
ENOCH_SIG: str = ENOCH["signature_line"]
PETER_V = parse_verifier_key(PETER["verifier_key"])
ENOCH_V = parse_verifier_key(ENOCH["verifier_key"])

PROPS = settings(max_examples=60, deadline=None)
NAMES = st.text(
    alphabet=st.characters(
        exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), exclude_characters="+\x85"
    ),
    min_size=1,
    max_size=30,
).filter(lambda s: not any(c.isspace() for c in s))
LINE = st.text(  # anything but newline and the ASCII controls (DEL and C1 controls are allowed)
    alphabet=st.characters(min_codepoint=0x20, exclude_categories=("Cs", "Co")),
    max_size=40,
)


def note_bytes(*parts: str) -> bytes:
    return "".join(parts).encode("utf-8")


def raw_key(verifier_key_string: str) -> bytes:
    """The 32 public-key bytes of a verifier key string, decoded without crypto.note."""
    encoded = verifier_key_string.split("+", 2)[2]
    raw = base64.b64decode(encoded)
    assert raw[0] == 0x01
    return raw[1:]


def independent_check(name: str, vkey: str, text: str, line: str) -> None:
    """Key ID by hashlib, Ed25519 by cryptography: no code of ours involved."""
    public = raw_key(vkey)
    digest = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()
    assert digest[:4].hex() == vkey.split("+")[1]
    assert line.startswith("\u2014 " + name + " ")
    blob = base64.b64decode(line.split(" ")[2])
    assert blob[:4] == digest[:4]
    ed25519.Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], text.encode())


# --- the Go checksum-database vector -----------------------------------------------------------


def test_go_vector_is_what_go_says_independently() -> None:
    independent_check("PeterNeumann", PETER["verifier_key"], TEXT, PETER_SIG)
    independent_check("EnochRoot", ENOCH["verifier_key"], TEXT, ENOCH_SIG)
    assert PETER["signed_note"] == TEXT + "\n" + PETER_SIG


def test_go_keys_parse_and_encode_back() -> None:
    assert PETER_V.name == "PeterNeumann"
    assert PETER_V.key_id == int(PETER["key_id_hex"], 16) == 0xC74F20A3
    assert PETER_V.key.raw() == raw_key(PETER["verifier_key"])
    assert PETER_V.encode() == PETER["verifier_key"]
    assert ENOCH_V.encode() == ENOCH["verifier_key"]
    signer = parse_signer_key(PETER["signer_key"])
    assert signer.encode() == PETER["signer_key"]
    assert signer.verifier == PETER_V
    assert signer_key("PeterNeumann", signer.key) == PETER["signer_key"]
    assert verifier_key("PeterNeumann", signer.key.public) == PETER["verifier_key"]
    assert "AYEK" not in repr(signer)


def test_our_signer_reproduces_the_go_note() -> None:
    signer = parse_signer_key(PETER["signer_key"])
    assert sign_note(TEXT, "PeterNeumann", signer.key) == PETER["signed_note"].encode()


def test_go_note_opens() -> None:
    note = open_note(PETER["signed_note"].encode(), [PETER_V])
    assert note.text == TEXT
    assert [(s.name, s.key_id) for s in note.verified] == [("PeterNeumann", 0xC74F20A3)]
    assert note.unverified == ()


def test_doubly_signed_go_note() -> None:
    data = ENOCH["doubly_signed_note"].encode()
    assert data == note_bytes(TEXT, "\n", PETER_SIG, ENOCH_SIG)
    note = open_note(data, [PETER_V])
    assert [s.name for s in note.verified] == ["PeterNeumann"]
    assert [(s.name, s.key_id) for s in note.unverified] == [("EnochRoot", 0xAF0CFE78)]
    assert [s.name for s in open_note(data, [PETER_V, ENOCH_V]).verified] == [
        "PeterNeumann",
        "EnochRoot",
    ]
    assert [s.name for s in open_note(data, [ENOCH_V, ENOCH_V]).verified] == ["EnochRoot"]
    with pytest.raises(NoteUnverifiedError):
        open_note(data, [])


@pytest.mark.parametrize("key", [k["key"] for k in GO["bad_verifier_keys"]])
def test_go_bad_verifier_keys(key: str) -> None:
    with pytest.raises(InvalidKeyError):
        parse_verifier_key(key)


@pytest.mark.parametrize("which", ["verifier_key", "signer_key"])
def test_every_mangled_go_key_string_is_refused(which: str) -> None:
    """As Go's TestNewVerifier/TestNewSigner: every proper substring and every bumped byte fails."""
    parse = parse_verifier_key if which == "verifier_key" else parse_signer_key
    key: str = PETER[which]
    for i in range(len(key)):
        for j in range(i + 1, len(key) + 1):
            if (i, j) != (0, len(key)):
                with pytest.raises(InvalidKeyError):
                    parse(key[i:j])
        bumped = key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :]
        with pytest.raises(InvalidKeyError):
            parse(bumped)


# --- notes that must not open ------------------------------------------------------------------

OTHER = NoteVerifier.for_key("PeterNeumann", SigningKey.generate().public)
TAMPERED_SIG = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]

MALFORMED = {
    "text only": note_bytes(TEXT),
    "text and blank line": note_bytes(TEXT, "\n"),
    "missing blank line": note_bytes(TEXT, PETER_SIG),
    "no final newline": note_bytes(TEXT, "\n", PETER_SIG[:-1]),
    "control character": note_bytes("\x01", TEXT, "\n", PETER_SIG),
    "tab in text": note_bytes("a\tb\n", "\n", PETER_SIG),
    "carriage return": note_bytes(TEXT[:-1], "\r\n\n", PETER_SIG),
    "not utf-8": b"\xff" + note_bytes(TEXT, "\n", PETER_SIG),
    "name with a space": note_bytes(TEXT, "\n", PETER_SIG.replace("PeterNeumann", "Bad Name")),
    "name with a plus": note_bytes(TEXT, "\n", PETER_SIG.replace("PeterNeumann", "a+b")),
    "trailing garbage line": note_bytes(TEXT, "\n", PETER_SIG, "Unexpected line.\n"),
    "trailing garbage": note_bytes(TEXT, "\n", PETER_SIG, "garbage"),
    "blank line after signatures": note_bytes(TEXT, "\n", PETER_SIG, "\n"),
    "duplicated signature": note_bytes(TEXT, "\n", PETER_SIG, PETER_SIG),
    "duplicated unknown signature": note_bytes(TEXT, "\n", PETER_SIG, ENOCH_SIG, ENOCH_SIG),
    "hyphen instead of em dash": note_bytes(TEXT, "\n", "-" + PETER_SIG[1:]),
    "no space after the dash": note_bytes(TEXT, "\n", "\u2014" + PETER_SIG[2:]),
    "two spaces before the signature": note_bytes(
        TEXT, "\n", PETER_SIG.replace("Neumann ", "Neumann  ")
    ),
    "no signature": note_bytes(TEXT, "\n", "\u2014 PeterNeumann\n"),
    "unpadded base64": note_bytes(TEXT, "\n", PETER_SIG.replace("AM=\n", "AM\n")),
    "non-canonical base64": note_bytes(TEXT, "\n", PETER_SIG.replace("AM=\n", "AN=\n")),
    "base64url": note_bytes(TEXT, "\n", PETER_SIG.replace("/", "_")),
    "signature shorter than a key ID": note_bytes(TEXT, "\n", "\u2014 PeterNeumann AAAA\n"),
    "101 signatures": note_bytes(TEXT, "\n", PETER_SIG * 101),
    "too long": note_bytes("x" * MAX_NOTE_BYTES, "\n\n", PETER_SIG),
}


@pytest.mark.parametrize("data", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_notes(data: bytes) -> None:
    with pytest.raises(NoteMalformedError):
        open_note(data, [PETER_V, ENOCH_V])


BAD_SIGNATURE = {
    "text changed": note_bytes(TEXT.replace("cryptography", "cryptographY"), "\n", PETER_SIG),
    "signature changed": note_bytes(TEXT, "\n", PETER_SIG.replace("x08go/ZJ", "x08go/ZK")),
    "signature lengthened": note_bytes(TEXT, "\n", TAMPERED_SIG),
    "signature of another text": note_bytes("another\n", "\n", PETER_SIG),
    "one good, one bad trusted signature": note_bytes(
        TEXT, "\n", PETER_SIG, ENOCH_SIG.replace("tiOHp", "tiOHq")
    ),
}


@pytest.mark.parametrize("data", list(BAD_SIGNATURE.values()), ids=list(BAD_SIGNATURE))
def test_bad_signatures_reject_the_note(data: bytes) -> None:
    with pytest.raises(NoteSignatureError):
        open_note(data, [PETER_V, ENOCH_V])


UNVERIFIED = {
    "wrong key of the same name": (PETER["signed_note"].encode(), [OTHER]),
    "no trusted key": (PETER["signed_note"].encode(), []),
    "other name, same key ID": (
        note_bytes(TEXT, "\n", PETER_SIG.replace("PeterNeumann", "CarmenSandiego")),
        [PETER_V],
    ),
    "same name, other key ID": (
        note_bytes(TEXT, "\n", PETER_SIG.replace("x08g", "xxxx")),
        [PETER_V],
    ),
}


@pytest.mark.parametrize(("data", "verifiers"), list(UNVERIFIED.values()), ids=list(UNVERIFIED))
def test_notes_without_a_trusted_signature(data: bytes, verifiers: list[NoteVerifier]) -> None:
    with pytest.raises(NoteUnverifiedError):
        open_note(data, verifiers)


def test_limits_are_the_callers_to_set() -> None:
    data = note_bytes(TEXT, "\n", PETER_SIG, ENOCH_SIG)
    with pytest.raises(NoteMalformedError):
        open_note(data, [PETER_V], max_signatures=1)
    with pytest.raises(NoteMalformedError):
        open_note(data, [PETER_V], max_bytes=len(data) - 1)
    assert open_note(data, [PETER_V], max_bytes=len(data), max_signatures=2).text == TEXT


def test_unknown_signature_types_are_kept_unverified() -> None:
    """A cosignature of another type (here 8 + 64 bytes after the key ID) is only carried."""
    blob = base64.b64encode(b"\x12\x34\x56\x78" + b"\x00" * 72).decode()
    data = note_bytes(TEXT, "\n", PETER_SIG, f"\u2014 witness.example/w1 {blob}\n")
    note = open_note(data, [PETER_V])
    assert [(s.name, len(s.signature)) for s in note.unverified] == [("witness.example/w1", 72)]


# --- keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["", "a b", "a+b", "a\tb", "a\nb", "a\u00a0b", "a\u2003b", "a\u2028b", "a\x00b"]
)
def test_invalid_key_names(name: str) -> None:
    key = SigningKey.generate()
    with pytest.raises(InvalidKeyError):
        verifier_key(name, key.public)
    with pytest.raises(InvalidKeyError):
        signer_key(name, key)
    with pytest.raises(InvalidKeyError):
        sign_note("text\n", name, key)


@pytest.mark.parametrize(
    "text",
    [
        PETER["verifier_key"].replace("c74f20a3", "C74F20A3"),  # key IDs are lower-case hex
        PETER["verifier_key"] + "\n",
        PETER["verifier_key"] + "=",
        PETER["verifier_key"].replace("+ARpc", "+AhRpc"),
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        PETER["signer_key"],  # a signer key is not a verifier key
        "x" * 2000,
    ],
)
def test_invalid_verifier_keys(text: str) -> None:
    with pytest.raises(InvalidKeyError):
        parse_verifier_key(text)


def test_invalid_signer_keys() -> None:
    with pytest.raises(InvalidKeyError):
        parse_signer_key(PETER["verifier_key"])
    with pytest.raises(InvalidKeyError):
        parse_signer_key(PETER["signer_key"].replace("c74f20a3", "c74f20a4"))


def test_a_verifier_is_built_only_with_its_own_key_id() -> None:
    with pytest.raises(InvalidKeyError):
        NoteVerifier("PeterNeumann", 0xC74F20A3, OTHER.key)
    with pytest.raises(InvalidKeyError):
        NoteSigner("PeterNeumann", 0xC74F20A3, SigningKey.generate())


@PROPS
@given(NAMES)
def test_key_strings_round_trip(name: str) -> None:
    key = SigningKey.generate()
    vkey = verifier_key(name, key.public)
    parsed = parse_verifier_key(vkey)
    assert parsed.name == name
    assert parsed.key_id == key_id(name, key.public.raw())
    digest = hashlib.sha256(name.encode() + b"\n\x01" + key.public.raw()).digest()
    assert f"{parsed.key_id:08x}" == digest[:4].hex() == vkey.split("+")[1]
    signer = parse_signer_key(signer_key(name, key))
    assert signer.verifier == parsed
    assert signer.key.public.raw() == key.public.raw()


# --- signing -----------------------------------------------------------------------------------

SIGNER = NoteSigner.for_key("hub.example/audit", SigningKey.generate())


@pytest.mark.parametrize(
    "text",
    [
        "a\n",
        "\n",
        "first\n\nafter an empty line\n",
        "ends with an empty line\n\n",
        "\u2014 looks like a signature line AAAA\n",
        "déjà vu, \u65e5\u672c\u8a9e\n",
        "DEL \x7f, NEL \x85 and LINE SEPARATOR \u2028 are not ASCII controls\n",
    ],
)
def test_texts_round_trip(text: str) -> None:
    data = sign_note(text, SIGNER.name, SIGNER.key)
    independent_check(SIGNER.name, SIGNER.verifier.encode(), text, data.decode()[len(text) + 1 :])
    assert open_note(data, [SIGNER.verifier]).text == text


@pytest.mark.parametrize("text", ["", "no newline", "tab\there\n", "cr\r\n", "x" * MAX_NOTE_BYTES])
def test_texts_that_cannot_be_signed(text: str) -> None:
    with pytest.raises(NoteMalformedError):
        sign_note(text, SIGNER.name, SIGNER.key)


@PROPS
@given(st.lists(LINE, min_size=1, max_size=6), NAMES)
def test_any_valid_text_round_trips(lines: list[str], name: str) -> None:
    text = "".join(f"{line}\n" for line in lines)
    signer = NoteSigner.for_key(name, SIGNER.key)
    note = open_note(sign_note(text, name, signer.key), [signer.verifier])
    assert note.text == text
    assert [s.name for s in note.verified] == [name]


# --- checkpoints -------------------------------------------------------------------------------


def test_go_sumdb_signed_tree_head_verifies() -> None:
    vkey = SUMDB["verifier_key"]
    data: str = SUMDB["signed_note"]
    text = data[: data.rindex("\n\n") + 1]
    independent_check("sum.golang.org", vkey, text, data[len(text) + 1 :])
    verifier = parse_verifier_key(vkey)
    checkpoint = verify_checkpoint(data.encode(), verifier, origin=SUMDB["origin"])
    assert checkpoint == Checkpoint(
        SUMDB["origin"], SUMDB["size"], base64.b64decode(SUMDB["root_base64"])
    )
    assert checkpoint.to_note_text() == text
    with pytest.raises(CheckpointOriginError):  # its key name is not its origin
        verify_checkpoint(data.encode(), verifier)
    with pytest.raises(CheckpointOriginError):
        verify_checkpoint(data.encode(), verifier, origin="Go rocks but I might have the wrong ID")


def test_go_sumdb_cosignatures() -> None:
    data = SUMDB["signed_note"] + "".join(SUMDB["cosignature_lines"])
    text = SUMDB["signed_note"][: SUMDB["signed_note"].rindex("\n\n") + 1]
    cosigners = [parse_verifier_key(k) for k in SUMDB["cosigner_verifier_keys"]]
    for cosigner, line in zip(cosigners, SUMDB["cosignature_lines"], strict=True):
        independent_check(cosigner.name, cosigner.encode(), text, line)
    log = parse_verifier_key(SUMDB["verifier_key"])
    note = open_note(data.encode(), [log, *cosigners])
    assert [s.name for s in note.verified] == ["sum.golang.org", "monkeys", "bananas", "witness"]
    checkpoint = verify_checkpoint(data.encode(), log, origin=SUMDB["origin"])
    assert checkpoint.size == SUMDB["size"]
    cosigned_only = text + "\n" + "".join(SUMDB["cosignature_lines"])
    with pytest.raises(NoteUnverifiedError):  # cosignatures alone are not the log's signature
        verify_checkpoint(cosigned_only.encode(), log, origin=SUMDB["origin"])
    with pytest.raises(CheckpointOriginError):  # a witness key is not the log of this origin
        verify_checkpoint(data.encode(), cosigners[0])


def test_go_tlog_tree_text_parses() -> None:
    vector = CHECKPOINTS["go_tlog_tree_format"]
    checkpoint = parse_checkpoint(vector["text"])
    assert checkpoint.origin == "go.sum database tree"
    assert checkpoint.size == vector["size"]
    assert checkpoint.root == leaf_hash(vector["root_is_leaf_hash_of"].encode())
    assert checkpoint.to_note_text() == vector["text"]
    for bad in vector["bad_texts"]:
        with pytest.raises(CheckpointError):
            parse_checkpoint(bad)


def test_c2sp_spec_example_parses_but_no_key_verifies_it() -> None:
    vector = CHECKPOINTS["c2sp_spec_example"]
    data: str = vector["signed_note"]
    checkpoint = parse_checkpoint(data[: data.rindex("\n\n") + 1])
    assert (checkpoint.origin, checkpoint.size) == (vector["origin"], vector["size"])
    with pytest.raises(NoteUnverifiedError):
        open_note(data.encode(), [SIGNER.verifier])
    blob = base64.b64decode(data.rstrip("\n").rsplit(" ", 1)[1])
    assert len(blob) == 4 + 64


ROOT = bytes(range(32))
ROOT_B64 = base64.b64encode(ROOT).decode()
ROOT_B64URL = base64.urlsafe_b64encode(b"\xff" * 32).decode()
BAD_CHECKPOINT_TEXTS = {
    "no final newline": f"log\n1\n{ROOT_B64}",
    "two lines": "log\n1\n",
    "empty origin": f"\n1\n{ROOT_B64}\n",
    "leading zero": f"log\n01\n{ROOT_B64}\n",
    "plus sign": f"log\n+1\n{ROOT_B64}\n",
    "negative": f"log\n-1\n{ROOT_B64}\n",
    "space in size": f"log\n1 \n{ROOT_B64}\n",
    "hex size": f"log\n0x1\n{ROOT_B64}\n",
    "size of 2**64": f"log\n{2**64}\n{ROOT_B64}\n",
    "huge size": f"log\n{'9' * 5000}\n{ROOT_B64}\n",
    "31-byte root": f"log\n1\n{base64.b64encode(ROOT[:31]).decode()}\n",
    "33-byte root": f"log\n1\n{base64.b64encode(ROOT + b'x').decode()}\n",
    "unpadded root": f"log\n1\n{ROOT_B64.rstrip('=')}\n",
    "non-canonical root": f"log\n1\n{ROOT_B64[:-2]}9=\n",
    "base64url root": f"log\n1\n{ROOT_B64URL}\n",
    "empty extension line": f"log\n1\n{ROOT_B64}\n\nx\n",
    "control character": f"log\n1\n{ROOT_B64}\n\x01\n",
    "carriage return": f"log\r\n1\n{ROOT_B64}\n",
}


@pytest.mark.parametrize(
    "text", list(BAD_CHECKPOINT_TEXTS.values()), ids=list(BAD_CHECKPOINT_TEXTS)
)
def test_invalid_checkpoint_texts(text: str) -> None:
    with pytest.raises(CheckpointError):
        parse_checkpoint(text)


def test_checkpoint_text_forms() -> None:
    assert parse_checkpoint(f"Moon Log\n0\n{ROOT_B64}\n").origin == "Moon Log"  # spaces allowed
    assert parse_checkpoint(f"log\n{2**64 - 1}\n{ROOT_B64}\n").size == 2**64 - 1
    checkpoint = Checkpoint("example.com/log", 42, ROOT, ("ext one", "ext two"))
    text = checkpoint.to_note_text()
    assert text == f"example.com/log\n42\n{ROOT_B64}\next one\next two\n"
    assert parse_checkpoint(text) == checkpoint


@pytest.mark.parametrize(
    "args",
    [
        ("", 1, ROOT, ()),
        ("a\nb", 1, ROOT, ()),
        ("log", -1, ROOT, ()),
        ("log", 2**64, ROOT, ()),
        ("log", True, ROOT, ()),
        ("log", 1, ROOT[:31], ()),
        ("log", 1, ROOT, ("",)),
        ("log", 1, ROOT, ("a\nb",)),
        ("log", 1, ROOT, ["list"]),
    ],
)
def test_invalid_checkpoints_cannot_be_built(args: tuple[Any, ...]) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint(*args)


@PROPS
@given(
    NAMES,
    st.integers(0, 2**64 - 1),
    st.binary(min_size=32, max_size=32),
    st.lists(LINE.filter(bool), max_size=3),
)
def test_checkpoints_round_trip(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    signer = NoteSigner.for_key(origin, SIGNER.key)
    data = sign_checkpoint(checkpoint, origin, signer.key)
    assert verify_checkpoint(data, signer.verifier) == checkpoint


def test_a_log_checkpoint_carries_its_merkle_tree() -> None:
    """The intended use: sign the tree head, verify it, then proofs against its root and size."""
    leaves = [leaf_hash(f"entry {i}".encode()) for i in range(21)]
    tree = InMemoryTree(leaves[:13])
    old = verify_checkpoint(
        sign_checkpoint(Checkpoint(SIGNER.name, tree.size, tree.root()), SIGNER.name, SIGNER.key),
        SIGNER.verifier,
    )
    tree.extend(leaves[13:])
    new_data = sign_checkpoint(
        Checkpoint(SIGNER.name, tree.size, tree.root()), SIGNER.name, SIGNER.key
    )
    new = verify_checkpoint(new_data, SIGNER.verifier)
    verify_inclusion(leaves[7], 7, new.size, tree.inclusion_proof(7, new.size), new.root)
    verify_consistency(
        old.size, new.size, tree.consistency_proof(old.size, new.size), old.root, new.root
    )
    forged = new_data.replace(f"\n{new.size}\n".encode(), f"\n{new.size + 1}\n".encode())
    with pytest.raises(NoteSignatureError):
        verify_checkpoint(forged, SIGNER.verifier)
    with pytest.raises(NoteUnverifiedError):
        verify_checkpoint(new_data, OTHER)


def test_errors_have_stable_codes() -> None:
    codes = {
        NoteMalformedError: "note.malformed",
        NoteUnverifiedError: "note.unverified",
        NoteSignatureError: "note.bad_signature",
        CheckpointError: "checkpoint.malformed",
        CheckpointOriginError: "checkpoint.wrong_origin",
    }
    for error, code in codes.items():
        assert error.code == code
        assert issubclass(error, NoteError)
        assert issubclass(error, CryptoError)
