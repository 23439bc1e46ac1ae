"""Known answers from the RFCs, run through our own types and functions wherever they exist.

The values live in ``tests/vectors/rfc/`` (data, each with its RFC section); this module only says
which of our functions must reproduce them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc._rfc7518.derive_key import derive_key_for_concat_kdf
from jwcrypto.jwa import JWA

from pgs_hub.crypto import jwe, jws, strictjson
from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.errors import (
    CommitmentError,
    DecryptionError,
    InvalidKeyError,
    MalformedError,
    SignatureError,
)
from pgs_hub.crypto.keys import (
    DecryptionKey,
    RecipientKey,
    SigningKey,
    VerifyKey,
    private_jwk,
    private_key_from_jwk,
    recipient_key_from_jwk,
    thumbprint,
    verify_key_from_jwk,
)

RFC = Path(__file__).resolve().parent.parent / "vectors" / "rfc"
LABEL = b"test commitment"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RFC / name).read_text(encoding="utf-8"))
    return data


RFC8037 = load("rfc8037_appendix_a.json")
RFC7748 = load("rfc7748_x25519.json")
RFC8032 = load("rfc8032_ed25519.json")
RFC3394 = load("rfc3394_aes_key_wrap.json")
RFC7518_C = load("rfc7518_appendix_c_concat_kdf.json")


@pytest.mark.parametrize(
    "data",
    [RFC8037, RFC7748, RFC8032, RFC3394, RFC7518_C],
    ids=["rfc8037", "rfc7748", "rfc8032", "rfc3394", "rfc7518"],
)
def test_every_vector_file_cites_its_rfc(data: dict[str, Any]) -> None:
    assert data["source"].startswith("RFC ")


def unverified(signing_input: bytes, signature: bytes, key: VerifyKey) -> jws.UnverifiedJws:
    """An UnverifiedJws over arbitrary bytes, so that ``jws.verify`` checks a raw Ed25519 vector."""
    return jws.UnverifiedJws(
        protected={},
        kid=key.kid,
        typ="",
        signing_input=signing_input,
        payload=signing_input,
        signature=signature,
    )


def x25519_private(hex_value: str) -> DecryptionKey:
    return DecryptionKey.from_private(
        x25519.X25519PrivateKey.from_private_bytes(bytes.fromhex(hex_value))
    )


def x25519_public(hex_value: str) -> x25519.X25519PublicKey:
    return x25519.X25519PublicKey.from_public_bytes(bytes.fromhex(hex_value))


def concat_kdf_sha256(z: bytes, algorithm_id: bytes, apu: bytes, apv: bytes, bits: int) -> bytes:
    """RFC 7518 §4.6.2 / NIST SP 800-56A §5.8.1, written out with hashlib (one round: <= 256 bits).

    OtherInfo = len||AlgorithmID || len||PartyUInfo || len||PartyVInfo || SuppPubInfo (keydatalen).
    """
    assert bits <= 256
    other_info = b"".join(struct.pack(">I", len(v)) + v for v in (algorithm_id, apu, apv))
    other_info += struct.pack(">I", bits)
    return hashlib.sha256(struct.pack(">I", 1) + z + other_info).digest()[: bits // 8]


# --- RFC 8037 Appendix A -----------------------------------------------------------------------


def test_rfc8037_a1_private_jwk_imports_and_exports() -> None:
    jwk = RFC8037["ed25519_private_jwk"]["jwk"]
    key = private_key_from_jwk(jwk)
    assert isinstance(key, SigningKey)
    assert key.public.raw() == b64u_decode(jwk["x"])
    exported = private_jwk(key)
    assert (exported["kty"], exported["crv"], exported["x"], exported["d"]) == (
        jwk["kty"],
        jwk["crv"],
        jwk["x"],
        jwk["d"],
    )


def test_rfc8037_a1_private_jwk_with_a_wrong_public_part_is_refused() -> None:
    jwk = dict(RFC8037["ed25519_private_jwk"]["jwk"])
    jwk["x"] = RFC8037["ecdh_es_x25519"]["epk_jwk"]["x"]  # some other 32-byte value
    with pytest.raises(InvalidKeyError, match="does not match its private key"):
        private_key_from_jwk(jwk)


def test_rfc8037_a2_public_jwk_is_the_public_part_of_a1() -> None:
    public = verify_key_from_jwk(RFC8037["ed25519_public_jwk"]["jwk"])
    private = private_key_from_jwk(RFC8037["ed25519_private_jwk"]["jwk"])
    assert isinstance(private, SigningKey)
    assert public == private.public
    assert public.to_jwk()["x"] == RFC8037["ed25519_public_jwk"]["jwk"]["x"]


def test_rfc8037_a3_thumbprint() -> None:
    vector = RFC8037["thumbprint"]
    x = b64u_decode(RFC8037["ed25519_public_jwk"]["jwk"]["x"])
    assert strictjson.canonical_members(
        {"crv": "Ed25519", "kty": "OKP", "x": b64u_encode(x)}
    ) == vector["canonical_json"].encode("utf-8")
    assert hashlib.sha256(vector["canonical_json"].encode()).hexdigest() == vector["sha256_hex"]
    assert thumbprint("Ed25519", x) == vector["thumbprint"]
    assert verify_key_from_jwk(RFC8037["ed25519_public_jwk"]["jwk"]).kid == vector["thumbprint"]


def test_rfc8037_a3_a_kid_that_is_not_the_thumbprint_is_refused() -> None:
    jwk = {
        **RFC8037["ed25519_public_jwk"]["jwk"],
        "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4A",
    }
    with pytest.raises(InvalidKeyError, match="not the RFC 7638 thumbprint"):
        verify_key_from_jwk(jwk)


def test_rfc8037_a4_signature_is_reproduced_byte_for_byte() -> None:
    vector = RFC8037["ed25519_signing"]
    assert b64u_encode(vector["protected_header"].encode()) == vector["protected_b64"]
    assert b64u_encode(vector["payload"].encode()) == vector["payload_b64"]
    key = private_key_from_jwk(RFC8037["ed25519_private_jwk"]["jwk"])
    assert isinstance(key, SigningKey)
    signing_input = f"{vector['protected_b64']}.{vector['payload_b64']}".encode("ascii")
    signature = key.sign(signing_input)  # Ed25519 is deterministic (RFC 8032 §5.1.6)
    assert b64u_encode(signature) == vector["signature_b64"]
    assert (
        ".".join([vector["protected_b64"], vector["payload_b64"], b64u_encode(signature)])
        == (vector["jws_compact"])
    )


def test_rfc8037_a4_our_jws_sign_uses_the_same_deterministic_signature() -> None:
    """``jws.sign`` adds kid and typ, so its bytes differ from A.4; the signature over them is
    still the RFC's algorithm: recomputing it over the signing input gives the same value."""
    vector = RFC8037["ed25519_signing"]
    key = private_key_from_jwk(RFC8037["ed25519_private_jwk"]["jwk"])
    assert isinstance(key, SigningKey)
    raw = jws.sign(vector["payload"].encode(), key, typ="test-envelope+jws")
    assert raw == jws.sign(vector["payload"].encode(), key, typ="test-envelope+jws")
    parsed = jws.parse(raw, typ="test-envelope+jws", max_bytes=4096)
    assert parsed.signature == key.sign(parsed.signing_input)
    assert jws.verify(parsed, key.public) == vector["payload"].encode()


def test_rfc8037_a5_validation_through_jws_verify() -> None:
    vector = RFC8037["ed25519_signing"]
    key = verify_key_from_jwk(RFC8037["ed25519_public_jwk"]["jwk"])
    protected_b64, payload_b64, signature_b64 = vector["jws_compact"].split(".")
    signing_input = f"{protected_b64}.{payload_b64}".encode("ascii")
    signature = b64u_decode(signature_b64)
    assert jws.verify(unverified(signing_input, signature, key), key) == signing_input
    tampered = signing_input[:-1] + b"h"
    with pytest.raises(SignatureError, match="does not verify"):
        jws.verify(unverified(tampered, signature, key), key)


def test_rfc8037_a4_jws_is_outside_our_profile() -> None:
    """The RFC's JWS header is just {"alg":"EdDSA"}: our strict parser asks for kid and typ."""
    vector = RFC8037["ed25519_signing"]
    protected_b64, payload_b64, signature_b64 = vector["jws_compact"].split(".")
    flattened = strictjson.dumps(
        {"payload": payload_b64, "protected": protected_b64, "signature": signature_b64}
    )
    with pytest.raises(MalformedError, match="lacks header parameter\\(s\\): kid, typ"):
        jws.parse(flattened, typ="test-envelope+jws", max_bytes=4096)


def test_rfc8037_a6_keys_and_shared_secret_through_our_types() -> None:
    vector = RFC8037["ecdh_es_x25519"]
    bob = x25519_private(vector["bob_private_hex"])
    assert bob.public.raw().hex() == vector["bob_public_hex"]
    assert b64u_encode(bob.public.raw()) == vector["bob_public_jwk"]["x"]
    ephemeral = x25519_private(vector["ephemeral_private_hex"])
    assert ephemeral.public.raw().hex() == vector["ephemeral_public_hex"]
    assert b64u_encode(ephemeral.public.raw()) == vector["epk_jwk"]["x"]
    assert vector["jwe_protected_header"]["epk"] == vector["epk_jwk"]
    # Both directions of the agreement, through the function our JWE uses.
    assert jwe._agree(ephemeral.private, bob.public.key).hex() == vector["z_hex"]
    assert jwe._agree(bob.private, ephemeral.public.key).hex() == vector["z_hex"]


def test_rfc8037_a6_public_jwk_imports_only_without_its_label_kid() -> None:
    """A.6 names Bob's key "Bob"; our key ids are thumbprints, so that JWK is refused as is."""
    vector = RFC8037["ecdh_es_x25519"]
    with pytest.raises(InvalidKeyError, match="not the RFC 7638 thumbprint"):
        recipient_key_from_jwk(vector["bob_public_jwk"])
    jwk = {k: v for k, v in vector["bob_public_jwk"].items() if k != "kid"}
    key = recipient_key_from_jwk(jwk)
    assert key.raw().hex() == vector["bob_public_hex"]
    assert key.kid == thumbprint("X25519", key.raw())


def test_rfc8037_a6_kdf_for_the_examples_own_parameters() -> None:
    """RFC 8037 publishes no derived key for A.6, so its KEK (ECDH-ES+A128KW: AlgorithmID is
    the alg, keydatalen 128) is computed three ways that must agree: by hand per RFC 7518 §4.6.2
    with hashlib, with cryptography's ConcatKDFHash, and by jwcrypto from the A.6 keys."""
    vector = RFC8037["ecdh_es_x25519"]
    header = vector["jwe_protected_header"]
    assert (header["alg"], header["enc"]) == ("ECDH-ES+A128KW", "A128GCM")
    z = bytes.fromhex(vector["z_hex"])
    alg = header["alg"].encode("ascii")
    by_hand = concat_kdf_sha256(z, alg, b"", b"", 128)
    other_info = struct.pack(">I", len(alg)) + alg + struct.pack(">III", 0, 0, 128)
    with_cryptography = ConcatKDFHash(
        algorithm=hashes.SHA256(), length=16, otherinfo=other_info
    ).derive(z)
    ephemeral = x25519_private(vector["ephemeral_private_hex"]).private
    bob_public = x25519_public(vector["bob_public_hex"])
    by_jwcrypto = JWA.keymgmt_alg(header["alg"])._derive(
        ephemeral, bob_public, header["alg"], 128, {}
    )
    assert by_hand == with_cryptography == by_jwcrypto
    assert len(by_hand) == 16


def test_our_kek_for_ecdh_es_a256kw_matches_jwcrypto_and_joserfc() -> None:
    """``crypto.jwe._kek`` for the A.6 inputs, against two independent JOSE libraries."""
    vector = RFC8037["ecdh_es_x25519"]
    z = bytes.fromhex(vector["z_hex"])
    ours = jwe._kek(z)
    ephemeral = x25519_private(vector["ephemeral_private_hex"]).private
    bob_public = x25519_public(vector["bob_public_hex"])
    by_jwcrypto = JWA.keymgmt_alg("ECDH-ES+A256KW")._derive(
        ephemeral, bob_public, "ECDH-ES+A256KW", 256, {}
    )
    by_joserfc = derive_key_for_concat_kdf(z, {"alg": "ECDH-ES+A256KW"}, 256, 256)
    by_hand = concat_kdf_sha256(z, b"ECDH-ES+A256KW", b"", b"", 256)
    assert len(ours) == 32
    assert ours == by_jwcrypto == by_joserfc == by_hand
    # and it is not the A128KW key or the direct-mode key: the parameters are bound in
    assert ours[:16] != concat_kdf_sha256(z, b"ECDH-ES+A128KW", b"", b"", 128)
    assert ours != concat_kdf_sha256(z, b"A256GCM", b"", b"", 256)


# --- RFC 7518 Appendix C: the Concat KDF construction --------------------------------------------


def p256_private(jwk: dict[str, str]) -> ec.EllipticCurvePrivateKey:
    key = ec.derive_private_key(int.from_bytes(b64u_decode(jwk["d"]), "big"), ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    assert numbers.x == int.from_bytes(b64u_decode(jwk["x"]), "big")
    assert numbers.y == int.from_bytes(b64u_decode(jwk["y"]), "big")
    return key


def test_rfc7518_appendix_c_concat_kdf() -> None:
    vector = RFC7518_C
    alice = p256_private(vector["alice_ephemeral_jwk"])
    bob = p256_private(vector["bob_jwk"])
    z = alice.exchange(ec.ECDH(), bob.public_key())
    assert list(z) == vector["z"]
    assert bob.exchange(ec.ECDH(), alice.public_key()) == z
    header = vector["header"]
    assert b64u_decode(header["apu"]) == vector["party_u_info"].encode()
    assert b64u_decode(header["apv"]) == vector["party_v_info"].encode()
    algorithm_id = vector["algorithm_id"].encode()
    apu = vector["party_u_info"].encode()
    apv = vector["party_v_info"].encode()
    bits = vector["keydatalen"]
    expected = bytes(vector["derived_key"])
    assert b64u_encode(expected) == vector["derived_key_b64"]
    # by hand (the construction our _kek uses), with cryptography, and with joserfc
    assert concat_kdf_sha256(z, algorithm_id, apu, apv, bits) == expected
    other_info = b"".join(struct.pack(">I", len(v)) + v for v in (algorithm_id, apu, apv))
    other_info += struct.pack(">I", bits)
    kdf = ConcatKDFHash(algorithm=hashes.SHA256(), length=bits // 8, otherinfo=other_info)
    assert kdf.derive(z) == expected
    assert derive_key_for_concat_kdf(z, header, bits, None) == expected


# --- RFC 7748 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vector", RFC7748["scalar_multiplication"], ids=["section-5.2-1", "section-5.2-2"]
)
def test_rfc7748_scalar_multiplication_through_agree(vector: dict[str, str]) -> None:
    key = x25519_private(vector["scalar_hex"])
    assert jwe._agree(key.private, x25519_public(vector["u_hex"])).hex() == vector["output_hex"]


def test_rfc7748_iterated_1000() -> None:
    vector = RFC7748["iterated"]
    k = u = bytes.fromhex(vector["start_hex"])
    for i in range(1000):
        k, u = (
            jwe._agree(
                x25519_private(k.hex()).private, x25519.X25519PublicKey.from_public_bytes(u)
            ),
            k,
        )
        if i == 0:
            assert k.hex() == vector["after_1_hex"]
    assert k.hex() == vector["after_1000_hex"]


def test_rfc7748_diffie_hellman_through_our_key_types() -> None:
    vector = RFC7748["diffie_hellman"]
    alice = x25519_private(vector["alice_private_hex"])
    bob = x25519_private(vector["bob_private_hex"])
    assert alice.public.raw().hex() == vector["alice_public_hex"]
    assert bob.public.raw().hex() == vector["bob_public_hex"]
    assert isinstance(alice.public, RecipientKey)
    assert alice.kid == thumbprint("X25519", alice.public.raw())
    assert jwe._agree(alice.private, bob.public.key).hex() == vector["shared_hex"]
    assert jwe._agree(bob.private, alice.public.key).hex() == vector["shared_hex"]


def test_rfc7748_all_zero_output_is_refused() -> None:
    """RFC 7748 §6.1: check for the all-zero value; the zero u-coordinate is a low-order point."""
    alice = x25519_private(RFC7748["diffie_hellman"]["alice_private_hex"])
    with pytest.raises(InvalidKeyError, match="low-order point"):
        jwe._agree(alice.private, x25519.X25519PublicKey.from_public_bytes(bytes(32)))


# --- RFC 8032 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", RFC8032["tests"], ids=["test-1", "test-2", "test-3"])
def test_rfc8032_sign_and_verify_through_our_key_types(vector: dict[str, str]) -> None:
    secret = bytes.fromhex(vector["secret_key_hex"])
    key = SigningKey.from_private(ed25519.Ed25519PrivateKey.from_private_bytes(secret))
    assert key.public.raw().hex() == vector["public_key_hex"]
    message = bytes.fromhex(vector["message_hex"])
    signature = key.sign(message)
    assert signature.hex() == vector["signature_hex"]
    public = VerifyKey.from_public(
        ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(vector["public_key_hex"]))
    )
    assert jws.verify(unverified(message, signature, public), public) == message


@settings(max_examples=200, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=2048))
def test_our_signatures_are_the_bytes_openssl_makes(seed: bytes, message: bytes) -> None:
    # SigningKey signs with libsodium; Ed25519 is deterministic, so any other signer (OpenSSL,
    # behind `cryptography`) must produce the same 64 bytes, and they must verify.
    private = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    key = SigningKey.from_private(private)
    signature = key.sign(message)
    assert signature == private.sign(message)
    private.public_key().verify(signature, message)


def test_a_key_paired_with_another_public_key_still_signs_as_itself() -> None:
    # A forger's key claims another's kid: what it signs verifies under its own key only.
    own, other = SigningKey.generate(), SigningKey.generate()
    forged = SigningKey(own.private, other.public)
    signature = forged.sign(b"statement")
    own.private.public_key().verify(signature, b"statement")
    with pytest.raises(InvalidSignature):
        other.private.public_key().verify(signature, b"statement")


@pytest.mark.parametrize("vector", RFC8032["tests"], ids=["test-1", "test-2", "test-3"])
def test_rfc8032_altered_message_or_signature_is_refused(vector: dict[str, str]) -> None:
    public = VerifyKey.from_public(
        ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(vector["public_key_hex"]))
    )
    message = bytes.fromhex(vector["message_hex"])
    signature = bytes.fromhex(vector["signature_hex"])
    with pytest.raises(SignatureError, match="does not verify"):
        jws.verify(unverified(message + b"\x00", signature, public), public)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    with pytest.raises(SignatureError, match="does not verify"):
        jws.verify(unverified(message, flipped, public), public)


# --- RFC 3394 -----------------------------------------------------------------------------------


def test_rfc3394_section_4_6_with_cryptography() -> None:
    kek = bytes.fromhex(RFC3394["kek_hex"])
    key_data = bytes.fromhex(RFC3394["key_data_hex"])
    wrapped = bytes.fromhex(RFC3394["ciphertext_hex"])
    assert aes_key_wrap(kek, key_data) == wrapped
    assert aes_key_unwrap(kek, wrapped) == key_data


def _single_recipient_jwe(
    kid: str, encrypted_key: bytes, cek_for_commitment: bytes
) -> jwe.ParsedJwe:
    """A parsed JWE with one recipient entry (for ``kid``) carrying ``encrypted_key``."""
    return jwe.ParsedJwe(
        protected_b64="",
        protected={},
        recipients=(jwe.RecipientEntry(kid, DecryptionKey.generate().public.raw(), encrypted_key),),
        iv=bytes(12),
        ciphertext=b"",
        tag=bytes(16),
        commitment=hmac.digest(cek_for_commitment, LABEL, "sha256"),
        app_header={},
    )


def test_rfc3394_section_4_6_through_our_unwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    """The vector's key data is a 256-bit CEK: with the KDF pinned to return the RFC's KEK,
    ``jwe.unwrap_key`` must recover it, check the commitment, and map a bad wrap to our error."""
    kek = bytes.fromhex(RFC3394["kek_hex"])
    key_data = bytes.fromhex(RFC3394["key_data_hex"])
    wrapped = bytes.fromhex(RFC3394["ciphertext_hex"])
    monkeypatch.setattr(jwe, "_kek", lambda _shared: kek)
    profile = jwe.JweProfile(content_type="test+json", app_header="app", commitment_label=LABEL)
    key = DecryptionKey.generate()

    assert jwe.unwrap_key(
        _single_recipient_jwe(key.kid, wrapped, key_data), key, profile=profile
    ) == (key_data)
    corrupted = _single_recipient_jwe(key.kid, wrapped[:-1] + bytes([wrapped[-1] ^ 1]), key_data)
    with pytest.raises(DecryptionError, match="could not be unwrapped"):
        jwe.unwrap_key(corrupted, key, profile=profile)
    wrong_commitment = _single_recipient_jwe(key.kid, wrapped, bytes(32))
    with pytest.raises(CommitmentError, match="does not match the header's key commitment"):
        jwe.unwrap_key(wrong_commitment, key, profile=profile)
