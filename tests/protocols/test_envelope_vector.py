"""The worked example of docs/protocol.md §6, checked three ways.

1. Re-sealing from the recorded inputs reproduces ``envelope.json`` byte for byte.
2. Every intermediate value is recomputed here with independent code (hashlib, hmac, and
   ``cryptography`` primitives directly — not through :mod:`crypto`), following the spec text.
3. Our own code and an independent JOSE library (jwcrypto) open the recorded bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import json
import struct
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap

from pgs_hub.crypto.keys import private_key_from_jwk
from pgs_hub.protocols.envelope import open_message, verify_message
from pgs_hub.protocols.messages.registry import encode_message, parse_message

VECTORS = Path(__file__).parents[1] / "vectors" / "envelope"


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text())


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_envelope_vectors", VECTORS.parent / "make_envelope_vectors.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_regenerating_reproduces_every_file_byte_for_byte(generator: ModuleType) -> None:
    for name, data in generator.build().items():
        assert (VECTORS / name).read_bytes() == data, name


def thumbprint(crv: str, x: str) -> str:
    members = json.dumps({"crv": crv, "kty": "OKP", "x": x}, separators=(",", ":"))
    return b64e(hashlib.sha256(members.encode()).digest())


def concat_kdf_a256kw(z: bytes) -> bytes:
    """RFC 7518 §4.6.2 written out: one SHA-256 round, counter 1."""
    alg = b"ECDH-ES+A256KW"
    other = struct.pack(">I", len(alg)) + alg + struct.pack(">I", 0) * 2 + struct.pack(">I", 256)
    return hashlib.sha256(struct.pack(">I", 1) + z + other).digest()


def test_intermediate_values_follow_the_spec_text() -> None:
    raw = (VECTORS / "envelope.json").read_bytes()
    inputs, mid, keys = load("inputs.json"), load("intermediate.json"), load("keys.json")
    outer = json.loads(raw)
    assert list(outer) == ["payload", "protected", "signature"]
    jws_header = json.loads(b64d(outer["protected"]))
    sender_jwk = keys[inputs["sender"]]["signing"]
    assert jws_header == {
        "alg": "EdDSA",
        "kid": thumbprint("Ed25519", sender_jwk["x"]),
        "typ": "pgs-envelope+jose",
    }
    ed25519.Ed25519PublicKey.from_public_bytes(b64d(sender_jwk["x"])).verify(
        b64d(outer["signature"]), f"{outer['protected']}.{outer['payload']}".encode()
    )
    inner = json.loads(b64d(outer["payload"]))
    assert b64d(outer["payload"]).decode() == mid["jwe"]
    header = json.loads(b64d(inner["protected"]))
    assert set(header) == {"enc", "cty", "kcm", "pgs"}
    routing = header["pgs"]
    assert routing["mid"] == inputs["message_id"]
    assert routing["from"] == {"id": inputs["sender"], "kid": jws_header["kid"]}
    cek = b64d(inputs["cek"])
    label = b"pgs/1 content-key commitment"
    assert header["kcm"] == b64e(hmac.digest(cek, label, "sha256")) == mid["kcm"]
    for index, (entry, pid, step) in enumerate(
        zip(inner["recipients"], inputs["recipients"], mid["recipients"], strict=True)
    ):
        recipient_jwk = keys[pid]["encryption"]
        assert entry["header"]["kid"] == thumbprint("X25519", recipient_jwk["x"])
        assert routing["to"][index] == {"id": pid, "kid": entry["header"]["kid"]}
        ephemeral = x25519.X25519PrivateKey.from_private_bytes(
            b64d(inputs["ephemeral_private_keys"][index])
        )
        assert entry["header"]["epk"]["x"] == b64e(ephemeral.public_key().public_bytes_raw())
        z = ephemeral.exchange(x25519.X25519PublicKey.from_public_bytes(b64d(recipient_jwk["x"])))
        assert b64e(z) == step["shared_secret_z"]
        # The recipient computes the same Z from its side.
        recipient = x25519.X25519PrivateKey.from_private_bytes(b64d(recipient_jwk["d"]))
        assert recipient.exchange(ephemeral.public_key()) == z
        kek = concat_kdf_a256kw(z)
        assert b64e(kek) == step["kek"]
        assert aes_key_unwrap(kek, b64d(entry["encrypted_key"])) == cek
    plaintext = AESGCM(cek).decrypt(
        b64d(inner["iv"]),
        b64d(inner["ciphertext"]) + b64d(inner["tag"]),
        inner["protected"].encode(),
    )
    assert plaintext.decode() == inputs["plaintext"]
    assert parse_message("alert", plaintext) == parse_message(
        "alert", json.dumps(inputs["content"]).encode()
    )
    assert mid["envelope_sha256"] == b64e(hashlib.sha256(raw).digest())


def test_each_recipient_opens_it_with_our_code() -> None:
    raw = (VECTORS / "envelope.json").read_bytes()
    inputs, keys = load("inputs.json"), load("keys.json")
    sender = private_key_from_jwk(keys[inputs["sender"]]["signing"])
    for pid in inputs["recipients"]:
        key = private_key_from_jwk(keys[pid]["encryption"])
        verified = verify_message(raw, sender.public)  # type: ignore[arg-type]
        opened = open_message(verified, pid, key)  # type: ignore[arg-type]
        assert opened.header.mid == inputs["message_id"]
        assert encode_message(opened.content).decode() == inputs["plaintext"]


def test_jwcrypto_verifies_and_decrypts_the_recorded_bytes() -> None:
    from jwcrypto import jwe, jwk, jws

    raw = (VECTORS / "envelope.json").read_bytes()
    inputs, keys = load("inputs.json"), load("keys.json")
    sender = {k: v for k, v in keys[inputs["sender"]]["signing"].items() if k != "d"}
    signed = jws.JWS()
    signed.deserialize(raw.decode(), jwk.JWK(**sender))
    for pid in inputs["recipients"]:
        token = jwe.JWE()
        token.deserialize(signed.payload.decode(), jwk.JWK(**keys[pid]["encryption"]))
        assert token.payload.decode() == inputs["plaintext"]


def test_the_protocol_document_shows_these_vectors() -> None:
    """docs/protocol.md §6 must not drift from the files the tests check."""
    doc = (Path(__file__).parents[2] / "docs" / "protocol.md").read_text()
    mid, inputs = load("intermediate.json"), load("inputs.json")
    for value in (mid["envelope_sha256"], mid["kcm"], inputs["cek"], inputs["plaintext"]):
        assert value in doc
    for step in mid["recipients"]:
        assert step["kek"] in doc
        assert step["encrypted_key"] in doc
