"""Evidence bundles cover attachments: the report lists each file's hashes (from the disclosed
content), and a bundle may carry the encrypted files, which are then checked byte for byte."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from pgs_hub.crypto import chunked
from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.crypto.keys import KeySet, SigningKey
from pgs_hub.protocols.envelope import open_message, seal_message, verify_message
from pgs_hub.protocols.evidence import (
    AttachmentEvidence,
    EvidenceAttachmentError,
    EvidenceMalformedError,
    decode_bundle,
    encode_bundle,
)
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import parse_message
from tests.protocols.test_evidence import (
    ALERT,
    GH,
    NG,
    NOW,
    WCO,
    World,
    build,
    certificate,
    check,
    receipt,
)

UPLOAD = "Zm9yIHRoZSBldmlkZW5jZQ"
FILE = bytes(i % 253 for i in range(150_000))


def _blob(key: bytes) -> bytes:
    return b"".join(chunked.encrypt(key, [FILE]))


@pytest.fixture(scope="module")
def attached() -> tuple[World, bytes]:
    """A world whose message carries one encrypted attachment; and that attachment's blob."""
    authority = SigningKey.generate()
    keys = {pid: KeySet.generate() for pid in (NG, GH, WCO)}
    certs = {
        pid: certificate(authority, pid, k, role="wco" if pid == WCO else "ncp")
        for pid, k in keys.items()
    }
    key = chunked.new_file_key()
    blob = _blob(key)
    content = dict(ALERT) | {
        "attachments": [
            {
                "name": "bill-of-lading.pdf", "media_type": "application/pdf", "size": len(FILE),
                "sha256": hashlib.sha256(FILE).hexdigest(),
                "blob": {
                    "upload": UPLOAD, "scheme": chunked.SCHEME, "key": b64u_encode(key),
                    "size": len(blob), "sha256": hashlib.sha256(blob).hexdigest(),
                },
            }
        ]
    }  # fmt: skip
    sealed = seal_message(
        sender_id=NG, signer=keys[NG].signing,
        recipients=[(GH, keys[GH].decryption.public), (WCO, keys[WCO].decryption.public)],
        kind=MessageKind.ALERT, content=parse_message(MessageKind.ALERT, content), tlp=Tlp.AMBER,
        now=NOW, attachments=[UPLOAD],
    )  # fmt: skip
    receipts = {
        (by, status): receipt(keys, sealed.raw, sealed.header.mid, by, status)
        for by, status in ((GH, "delivered"), (GH, "read"), (WCO, "delivered"))
    }
    opened = open_message(
        verify_message(sealed.raw, keys[NG].signing.public), GH, keys[GH].decryption
    )
    world = World(
        authority, SigningKey.generate(), keys, certs, sealed, receipts, opened.content_key
    )
    return world, blob


def test_the_report_lists_the_files_and_checks_a_carried_one(attached: tuple[World, bytes]) -> None:
    world, blob = attached
    with_file = build(world, attachments=(AttachmentEvidence(UPLOAD, blob),))
    data = encode_bundle(with_file)
    assert decode_bundle(data) == with_file
    report = check(world, data)
    assert report.uploads == (UPLOAD,)
    (only,) = report.attachments
    assert (only.name, only.size, only.sha256) == (
        "bill-of-lading.pdf", len(FILE), hashlib.sha256(FILE).hexdigest(),
    )  # fmt: skip
    assert only.content_verified
    # Without the file: the hashes are still reported, the file is not claimed checked.
    report = check(world, encode_bundle(build(world)))
    assert [a.content_verified for a in report.attachments] == [False]
    # Without the disclosure: only the upload ids the signed header names.
    report = check(world, encode_bundle(build(world, disclose=False)))
    assert (report.uploads, report.attachments) == ((UPLOAD,), ())


@pytest.mark.parametrize("at", [0, 60, 65_600, -1], ids=["magic", "first chunk", "second", "last"])
def test_a_changed_byte_in_a_carried_file_is_refused(
    attached: tuple[World, bytes], at: int
) -> None:
    world, blob = attached
    changed = bytearray(blob)
    changed[at] ^= 1
    bundle = build(world, attachments=(AttachmentEvidence(UPLOAD, bytes(changed)),))
    with pytest.raises(EvidenceAttachmentError, match="not the ciphertext"):
        check(world, encode_bundle(bundle))


def test_another_file_under_the_right_hash_cannot_be_made(attached: tuple[World, bytes]) -> None:
    """A blob re-encrypted under another key is another ciphertext: refused by its hash; and a
    blob that names an upload the message does not is refused whatever its bytes."""
    world, blob = attached
    other = _blob(chunked.new_file_key())
    with pytest.raises(EvidenceAttachmentError):
        check(world, encode_bundle(build(world, attachments=(AttachmentEvidence(UPLOAD, other),))))
    stranger = AttachmentEvidence("AAAAAAAAAAAAAAAAAAAAAA", blob)
    with pytest.raises(EvidenceAttachmentError, match="not an attachment of this message"):
        check(world, encode_bundle(build(world, attachments=(stranger,))))


def test_a_carried_file_needs_the_disclosed_content(attached: tuple[World, bytes]) -> None:
    world, blob = attached
    bundle = replace(build(world, disclose=False), attachments=(AttachmentEvidence(UPLOAD, blob),))
    with pytest.raises(EvidenceMalformedError, match="disclosed content key"):
        check(world, encode_bundle(bundle))
