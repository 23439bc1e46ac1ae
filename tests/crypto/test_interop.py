"""Interoperability with two independent JOSE libraries, joserfc and jwcrypto.

(a) both verify our outer JWS and decrypt our JWE for every recipient;
(b) an envelope built with them (JWE by jwcrypto, JWS by joserfc) opens with our code;
(c) both compute the same RFC 7638 thumbprints as ``crypto.keys.thumbprint``;
(d) our private JWK export imports into jwcrypto, and our PEM files load back.

Why jwcrypto builds the JWE in (b): our protected header must carry ``kcm`` = HMAC-SHA256(CEK,
label) *before* encryption (the header is the GCM AAD), so the builder must let us choose the CEK.
joserfc 1.x draws the CEK inside ``perform_encrypt`` (``enc.generate_cek()``) and offers no
parameter for it; jwcrypto's ``JWE`` uses its ``cek`` attribute when it is set before the first
``add_recipient``, which is what the test does. joserfc then signs the JWE bytes.

joserfc warns that alg "EdDSA" is deprecated by RFC 9864 (which registers "Ed25519"); the profile
keeps "EdDSA" on purpose (docs/protocol.md §2.1), so exactly that warning is silenced on the tests
that use joserfc's JWS.
"""

from __future__ import annotations

import hmac
import json
import os
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwe as jose_jwe
from joserfc import jws as jose_jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from joserfc.registry import HeaderParameter
from jwcrypto import jwe as jwc_jwe
from jwcrypto import jwk as jwc_jwk
from jwcrypto import jws as jwc_jws
from jwcrypto.common import JWException

from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.crypto.envelope import EnvelopeProfile, open_envelope, parse, verify
from pgs_hub.crypto.errors import CommitmentError, InvalidKeyError
from pgs_hub.crypto.keys import (
    DecryptionKey,
    KeySet,
    SigningKey,
    load_private_pem,
    private_jwk,
    private_key_from_jwk,
    private_pem,
    thumbprint,
)

if TYPE_CHECKING:
    from conftest import EnvelopeForge

EDDSA_DEPRECATION = pytest.mark.filterwarnings(
    "ignore:EdDSA is deprecated via RFC 9864:joserfc.errors.SecurityWarning"
)
ALG = "ECDH-ES+A256KW"
ENC = "A256GCM"


def _must_be_object(value: Any) -> None:
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object")  # noqa: TRY004 - joserfc expects ValueError


def joserfc_jwe_registry(profile: EnvelopeProfile) -> jose_jwe.JWERegistry:
    """joserfc, told about our two extra protected-header parameters and nothing else."""
    return jose_jwe.JWERegistry(
        algorithms=[ALG, ENC],
        verify_all_recipients=False,
        header_registry={
            profile.jwe.app_header: HeaderParameter("application header", _must_be_object),
            "kcm": HeaderParameter("key commitment", "str"),
        },
    )


JOSERFC_JWS = jose_jws.JWSRegistry(algorithms=["EdDSA"])


# --- (a) they read what we write ------------------------------------------------------------------


@EDDSA_DEPRECATION
def test_joserfc_verifies_our_jws(forge: EnvelopeForge) -> None:
    public = OKPKey.import_key(forge.sender.signing.public.to_jwk())
    result = jose_jws.deserialize_json(forge.outer(), public, registry=JOSERFC_JWS)
    assert result.payload == forge.jwe_bytes()
    assert result.headers() == {
        "alg": "EdDSA",
        "kid": forge.sender.signing.kid,
        "typ": forge.profile.jws_typ,
    }


@EDDSA_DEPRECATION
def test_joserfc_refuses_our_jws_under_another_key(forge: EnvelopeForge, outsider: KeySet) -> None:
    """Guard for the test above: joserfc really checks the signature."""
    other = OKPKey.import_key(outsider.signing.public.to_jwk())
    with pytest.raises(jose_jws.BadSignatureError):
        jose_jws.deserialize_json(forge.outer(), other, registry=JOSERFC_JWS)


def test_jwcrypto_verifies_our_jws(forge: EnvelopeForge, outsider: KeySet) -> None:
    token = jwc_jws.JWS()
    token.deserialize(
        forge.raw.decode("utf-8"), key=jwc_jwk.JWK(**forge.sender.signing.public.to_jwk())
    )
    assert token.payload == forge.jwe_bytes()
    assert token.jose_header["kid"] == forge.sender.signing.kid
    with pytest.raises(jwc_jws.InvalidJWSSignature):
        jwc_jws.JWS().deserialize(
            forge.raw.decode("utf-8"), key=jwc_jwk.JWK(**outsider.signing.public.to_jwk())
        )


@pytest.mark.parametrize("index", [0, 1, 2], ids=["recipient-1", "recipient-2", "recipient-3"])
def test_joserfc_decrypts_our_jwe(forge: EnvelopeForge, plaintext: bytes, index: int) -> None:
    key = OKPKey.import_key(private_jwk(forge.recipients[index].decryption))
    result = jose_jwe.decrypt_json(
        json.loads(forge.jwe_bytes()), key, registry=joserfc_jwe_registry(forge.profile)
    )
    assert result.plaintext == plaintext
    assert result.protected["kcm"] == forge.jwe_header()["kcm"]


@pytest.mark.parametrize("index", [0, 1, 2], ids=["recipient-1", "recipient-2", "recipient-3"])
def test_jwcrypto_decrypts_our_jwe_and_agrees_on_the_commitment(
    forge: EnvelopeForge, plaintext: bytes, index: int
) -> None:
    token = jwc_jwe.JWE()
    token.deserialize(
        forge.jwe_bytes().decode("utf-8"),
        key=jwc_jwk.JWK(**private_jwk(forge.recipients[index].decryption)),
    )
    assert token.payload == plaintext
    # jwcrypto exposes the CEK it unwrapped: the header's kcm must be HMAC-SHA256(CEK, label).
    expected = hmac.digest(token.cek, forge.profile.jwe.commitment_label, "sha256")
    assert forge.jwe_header()["kcm"] == b64u_encode(expected)
    # ... and it is the same CEK our own code recovers.
    opened = open_envelope(
        verify(parse(forge.raw, profile=forge.profile), forge.sender.signing.public),
        forge.recipients[index].decryption,
        profile=forge.profile,
    )
    assert opened.content_key == token.cek


def test_the_libraries_refuse_a_non_recipient(forge: EnvelopeForge, outsider: KeySet) -> None:
    """Guard: neither library decrypts for a key that is not among the recipients."""
    with pytest.raises(JWException):
        jwc_jwe.JWE().deserialize(
            forge.jwe_bytes().decode("utf-8"),
            key=jwc_jwk.JWK(**private_jwk(outsider.decryption)),
        )
    with pytest.raises(JoseError):
        jose_jwe.decrypt_json(
            json.loads(forge.jwe_bytes()),
            OKPKey.import_key(private_jwk(outsider.decryption)),
            registry=joserfc_jwe_registry(forge.profile),
        )


# --- (b) we read what they write ------------------------------------------------------------------


def jwcrypto_jwe(
    plaintext: bytes,
    recipients: list[DecryptionKey],
    *,
    profile: EnvelopeProfile,
    app_header: dict[str, Any],
    cek: bytes,
) -> bytes:
    """A JWE in general JSON serialization built by jwcrypto, under our profile, with this CEK."""
    protected = {
        "enc": ENC,
        "cty": profile.jwe.content_type,
        "kcm": b64u_encode(hmac.digest(cek, profile.jwe.commitment_label, "sha256")),
        profile.jwe.app_header: app_header,
    }
    token = jwc_jwe.JWE(
        plaintext, protected=json.dumps(protected), flattened=False, algs=[ALG, ENC]
    )
    token.cek = cek  # used by add_recipient instead of a random one (see the module docstring)
    for recipient in recipients:
        token.add_recipient(
            jwc_jwk.JWK(**recipient.public.to_jwk()), header={"alg": ALG, "kid": recipient.kid}
        )
    serialized: str = token.serialize()
    return serialized.encode("utf-8")


def joserfc_flattened_jws(payload: bytes, signer: SigningKey, *, typ: str) -> bytes:
    key = OKPKey.import_key(private_jwk(signer))
    members: jose_jws.HeaderDict = {"protected": {"alg": "EdDSA", "kid": signer.kid, "typ": typ}}
    serialized = jose_jws.serialize_json(members, payload, key, registry=JOSERFC_JWS)
    assert set(serialized) == {"payload", "protected", "signature"}
    return json.dumps(serialized).encode("utf-8")


@EDDSA_DEPRECATION
def test_an_envelope_built_by_jwcrypto_and_joserfc_opens_with_our_code(
    profile: EnvelopeProfile, sender: KeySet, recipients: tuple[KeySet, ...]
) -> None:
    plaintext = b'{"from":"another implementation"}'
    app_header = {"v": "test/1", "kind": "notice"}
    cek = os.urandom(32)
    inner = jwcrypto_jwe(
        plaintext,
        [r.decryption for r in recipients],
        profile=profile,
        app_header=app_header,
        cek=cek,
    )
    raw = joserfc_flattened_jws(inner, sender.signing, typ=profile.jws_typ)

    unverified = parse(raw, profile=profile)
    assert unverified.signer_kid == sender.signing.kid
    verified = verify(unverified, sender.signing.public)
    assert verified.app_header == app_header
    assert verified.recipient_kids == tuple(r.decryption.kid for r in recipients)
    for recipient in recipients:
        opened = open_envelope(verified, recipient.decryption, profile=profile)
        assert opened.plaintext == plaintext
        assert opened.content_key == cek


@EDDSA_DEPRECATION
def test_a_foreign_envelope_with_a_wrong_commitment_is_refused(
    profile: EnvelopeProfile, sender: KeySet, recipients: tuple[KeySet, ...]
) -> None:
    """Guard for the test above: the commitment in the foreign header is really checked."""
    # the header commits to one key, jwcrypto is made to use another
    protected = {
        "enc": ENC,
        "cty": profile.jwe.content_type,
        "kcm": b64u_encode(hmac.digest(os.urandom(32), profile.jwe.commitment_label, "sha256")),
        profile.jwe.app_header: {"v": "test/1"},
    }
    token = jwc_jwe.JWE(b"x", protected=json.dumps(protected), flattened=False, algs=[ALG, ENC])
    token.cek = os.urandom(32)
    key = recipients[0].decryption
    token.add_recipient(jwc_jwk.JWK(**key.public.to_jwk()), header={"alg": ALG, "kid": key.kid})
    raw = joserfc_flattened_jws(token.serialize().encode(), sender.signing, typ=profile.jws_typ)
    verified = verify(parse(raw, profile=profile), sender.signing.public)
    with pytest.raises(CommitmentError, match="key commitment"):
        open_envelope(verified, key, profile=profile)


# --- (c) thumbprints ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["signing", "decryption"])
def test_thumbprints_agree_with_both_libraries(outsider: KeySet, kind: str) -> None:
    key: SigningKey | DecryptionKey = getattr(outsider, kind)
    jwk = key.public.to_jwk()
    crv = "Ed25519" if kind == "signing" else "X25519"
    ours = thumbprint(crv, key.public.raw())
    assert ours == key.kid == jwk["kid"]
    assert OKPKey.import_key(jwk).thumbprint() == ours
    assert jwc_jwk.JWK(**jwk).thumbprint() == ours
    # without the optional members too (kid, use, alg are not part of the thumbprint)
    bare = {"kty": jwk["kty"], "crv": jwk["crv"], "x": jwk["x"]}
    assert OKPKey.import_key(bare).thumbprint() == ours
    assert jwc_jwk.JWK(**bare).thumbprint() == ours


# --- (d) key export and import --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["signing", "decryption"])
def test_private_jwk_imports_into_jwcrypto(outsider: KeySet, kind: str) -> None:
    key: SigningKey | DecryptionKey = getattr(outsider, kind)
    exported = private_jwk(key)
    imported = jwc_jwk.JWK(**exported)
    assert imported.has_private
    assert imported.export_public(as_dict=True) == key.public.to_jwk()
    assert imported.thumbprint() == key.kid
    # and back: jwcrypto's export of the private key imports into our code as the same key
    round_trip = private_key_from_jwk(imported.export_private(as_dict=True))
    assert round_trip.kid == key.kid
    assert private_jwk(round_trip) == exported


@pytest.mark.parametrize("kind", ["signing", "decryption"])
@pytest.mark.parametrize(
    "passphrase", [None, b"correct horse battery staple"], ids=["plain", "encrypted"]
)
def test_pem_round_trip(outsider: KeySet, kind: str, passphrase: bytes | None) -> None:
    key: SigningKey | DecryptionKey = getattr(outsider, kind)
    pem = private_pem(key, passphrase)
    assert pem.startswith(
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----" if passphrase else b"-----BEGIN PRIVATE KEY-----"
    )
    loaded = load_private_pem(pem, passphrase)
    assert type(loaded) is type(key)
    assert loaded.kid == key.kid
    assert private_jwk(loaded) == private_jwk(key)
    # an independent reader of the same file finds the same key
    assert jwc_jwk.JWK.from_pem(pem, password=passphrase).thumbprint() == key.kid


@pytest.mark.parametrize(
    ("written_with", "read_with", "message"),
    [
        pytest.param(b"right", b"wrong", "wrong passphrase", id="wrong-passphrase"),
        pytest.param(b"right", None, "a passphrase is needed", id="missing-passphrase"),
        pytest.param(None, b"surplus", "not encrypted but a passphrase was given", id="surplus"),
    ],
)
def test_pem_passphrase_errors(
    outsider: KeySet, written_with: bytes | None, read_with: bytes | None, message: str
) -> None:
    pem = private_pem(outsider.signing, written_with)
    with pytest.raises(InvalidKeyError, match=message):
        load_private_pem(pem, read_with)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", id="garbage"
        ),
    ],
)
def test_pem_that_is_not_a_key(data: bytes) -> None:
    with pytest.raises(InvalidKeyError, match="could not be read"):
        load_private_pem(data, None)


def test_pem_of_another_key_type_is_refused() -> None:
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(InvalidKeyError, match="only Ed25519 and X25519"):
        load_private_pem(other, None)
