"""Participant certificates: only the registry authority can make one, and only a consistent one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.errors import (
    CryptoError,
    InvalidKeyError,
    SignatureError,
    UnsupportedAlgorithmError,
)
from pgs_hub.crypto.jws import sign
from pgs_hub.crypto.keys import KeySet, SigningKey, private_jwk
from pgs_hub.protocols.certificates import (
    AUTHORITY_TYP,
    Certificate,
    Role,
    issue_certificate,
    make_certificate,
    parse_certificate_body,
    read_certificate,
    verify_certificate,
)
from pgs_hub.protocols.envelope import seal_message
from pgs_hub.protocols.errors import CertificateError
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import parse_message

MESSAGES = Path(__file__).resolve().parents[1] / "vectors" / "messages"
AUTHORITY = SigningKey.generate()
KEYS = KeySet.generate()
IAT = 1_767_225_600
SERIAL = "3f2a6c1e-9b4d-4e8f-a1b2-c3d4e5f60718"


def body(**changes: Any) -> dict[str, Any]:
    """A valid certificate body for NG-NCP-LAGOS, with ``changes`` applied (None values kept)."""
    base: dict[str, Any] = {
        "v": "pgs/1",
        "sub": "NG-NCP-LAGOS",
        "country": "NG",
        "role": "ncp",
        "scope": None,
        "keys": {"sig": KEYS.signing.public.to_jwk(), "enc": KEYS.decryption.public.to_jwk()},
        "iat": IAT,
        "serial": SERIAL,
    }
    base.update(changes)
    return base


def pointers(caught: pytest.ExceptionInfo[CertificateError]) -> set[str]:
    return {p.pointer for p in caught.value.problems}


# --- round trip ----------------------------------------------------------------------------------

VALID = [
    pytest.param("NG-NCP-LAGOS", "ncp", None, id="nigerian-ncp"),
    pytest.param("GH-NCP-ACCRA", "ncp", None, id="ghanaian-ncp"),
    pytest.param("XK-NCP", "ncp", None, id="kosovo-member-without-iso-code"),
    pytest.param("WCO-PGS", "wco", None, id="wco-staff"),
    pytest.param("WCO-ADMIN", "admin", None, id="admin"),
    pytest.param("WCO-AUDIT", "auditor", None, id="global-auditor"),
    pytest.param("CM-AUDIT", "auditor", "CM", id="national-auditor"),
]


@pytest.mark.parametrize(("sub", "role", "scope"), VALID)
def test_round_trip(sub: str, role: str, scope: str | None) -> None:
    cert = make_certificate(
        sub=sub,
        role=role,
        scope=scope,
        verify_key=KEYS.signing.public,
        recipient_key=KEYS.decryption.public,
        iat=IAT,
    )
    raw = issue_certificate(cert, AUTHORITY)
    verified = verify_certificate(raw, AUTHORITY.public)
    assert verified.certificate == cert
    assert verified.raw == raw
    assert verified.verify_key.kid == KEYS.signing.kid
    assert verified.recipient_key.kid == KEYS.decryption.kid
    assert verified.certificate.role is Role(role)
    signed, unverified = read_certificate(raw)
    assert unverified == cert
    assert signed.kid == AUTHORITY.kid
    assert signed.typ == AUTHORITY_TYP


def test_the_signed_body_has_every_field_and_null_scope() -> None:
    cert = make_certificate(
        sub="NG-NCP-LAGOS",
        role=Role.NCP,
        verify_key=KEYS.signing.public,
        recipient_key=KEYS.decryption.public,
        iat=IAT,
        serial=SERIAL,
    )
    assert cert.country == "NG"  # taken from the participant id
    payload = json.loads(b64u_decode(json.loads(issue_certificate(cert, AUTHORITY))["payload"]))
    assert payload == body()


def test_fresh_serials_are_random_uuids() -> None:
    made = {
        make_certificate(
            sub="GH-NCP-ACCRA",
            role="ncp",
            verify_key=KEYS.signing.public,
            recipient_key=KEYS.decryption.public,
            iat=IAT,
        ).serial
        for _ in range(3)
    }
    assert len(made) == 3


@given(
    role_case=st.sampled_from(
        [
            ("NG-NCP-LAGOS", "ncp", None),
            ("FR-NCP-PARIS", "ncp", None),
            ("WCO-PGS", "wco", None),
            ("GH-AUDIT", "auditor", "GH"),
        ]
    ),
    iat=st.integers(min_value=0, max_value=2**53),
    serial=st.uuids(version=4).map(str),
)
def test_round_trip_property(role_case: tuple[str, str, str | None], iat: int, serial: str) -> None:
    sub, role, scope = role_case
    cert = Certificate.model_validate(
        body(sub=sub, country=sub.split("-")[0], role=role, scope=scope, iat=iat, serial=serial)
    )
    assert verify_certificate(issue_certificate(cert, AUTHORITY), AUTHORITY.public).certificate == (
        cert
    )


# --- only the authority, only these bytes --------------------------------------------------------


def issued() -> bytes:
    return issue_certificate(Certificate.model_validate(body()), AUTHORITY)


def test_signed_by_another_key_is_refused() -> None:
    impostor = SigningKey.generate()
    forged = issue_certificate(Certificate.model_validate(body()), impostor)
    with pytest.raises(InvalidKeyError, match="kid"):
        verify_certificate(forged, AUTHORITY.public)


def test_another_key_claiming_the_authority_kid_is_refused() -> None:
    impostor = SigningKey.generate()
    protected = b64u_encode(
        json.dumps({"alg": "EdDSA", "kid": AUTHORITY.kid, "typ": AUTHORITY_TYP}).encode()
    )
    payload = b64u_encode(Certificate.model_validate(body()).to_wire())
    signature = impostor.sign(f"{protected}.{payload}".encode())
    raw = json.dumps(
        {"payload": payload, "protected": protected, "signature": b64u_encode(signature)}
    ).encode()
    with pytest.raises(SignatureError):
        verify_certificate(raw, AUTHORITY.public)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"sub": "NG-NCP-ABUJA"}, id="subject"),
        pytest.param({"iat": IAT + 1}, id="issued-at"),
        pytest.param({"role": "auditor", "scope": "NG"}, id="role-and-scope"),
        pytest.param({"keys": {"sig": KeySet.generate().signing.public.to_jwk()}}, id="keys"),
    ],
)
def test_an_altered_body_is_refused(change: dict[str, Any]) -> None:
    outer = json.loads(issued())
    payload = json.loads(b64u_decode(outer["payload"]))
    if "keys" in change:
        payload["keys"]["sig"] = change["keys"]["sig"]
    else:
        payload.update(change)
    outer["payload"] = b64u_encode(json.dumps(payload).encode())
    with pytest.raises(SignatureError):
        verify_certificate(json.dumps(outer).encode(), AUTHORITY.public)


def test_the_signature_is_checked_before_the_body() -> None:
    """An invalid body under a foreign key is a signature problem: the body is never looked at."""
    raw = sign(b'{"v":"pgs/1"}', SigningKey.generate(), typ=AUTHORITY_TYP)
    with pytest.raises(InvalidKeyError):
        verify_certificate(raw, AUTHORITY.public)
    with pytest.raises(CertificateError):
        read_certificate(raw)  # read (unauthenticated) does validate the body


def test_an_envelope_signature_is_not_a_certificate() -> None:
    """Explicit typing: a JWS the authority made for another purpose is not a certificate."""
    other = sign(Certificate.model_validate(body()).to_wire(), AUTHORITY, typ="pgs-envelope+jose")
    with pytest.raises(UnsupportedAlgorithmError, match="typ"):
        verify_certificate(other, AUTHORITY.public)
    with pytest.raises(UnsupportedAlgorithmError, match="typ"):
        read_certificate(other)


def test_a_sealed_envelope_is_not_a_certificate() -> None:
    notice = parse_message(MessageKind.NOTICE, (MESSAGES / "notice.json").read_bytes())
    sealed = seal_message(
        sender_id="WCO-PGS",
        signer=AUTHORITY,
        recipients=[("NG-NCP-LAGOS", KEYS.decryption.public)],
        kind=MessageKind.NOTICE,
        content=notice,
        tlp=Tlp.GREEN,
        now=IAT,
    )
    with pytest.raises(CryptoError):
        verify_certificate(sealed.raw, AUTHORITY.public)


def test_a_signed_body_that_is_not_json_is_an_invalid_certificate() -> None:
    raw = sign(b"not json", AUTHORITY, typ=AUTHORITY_TYP)
    with pytest.raises(CertificateError) as caught:
        verify_certificate(raw, AUTHORITY.public)
    assert pointers(caught) == {""}
    assert caught.value.code == "certificate.invalid"


def test_a_duplicate_member_is_refused() -> None:
    raw = sign(b'{"v":"pgs/1","v":"pgs/1"}', AUTHORITY, typ=AUTHORITY_TYP)
    with pytest.raises(CertificateError, match="duplicate"):
        verify_certificate(raw, AUTHORITY.public)


# --- the rules, as a table of invalid bodies -----------------------------------------------------

INVALID = [
    # country and participant id
    pytest.param({"country": "GH"}, "/country", id="country-is-not-the-id-prefix"),
    pytest.param({"sub": "WCO-PGS"}, "/country", id="wco-id-with-a-member-country"),
    pytest.param({"sub": "TW-NCP", "country": "TW"}, "/country", id="iso-but-not-a-wco-member"),
    pytest.param({"sub": "ZZ-NCP", "country": "ZZ"}, "/country", id="not-a-country"),
    pytest.param({"country": "ng"}, "/country", id="lower-case-country"),
    pytest.param({"sub": "ng-ncp-lagos"}, "/sub", id="malformed-participant-id"),
    # role and country
    pytest.param({"sub": "WCO-PGS", "country": "WCO"}, "/role", id="ncp-for-wco-staff"),
    pytest.param({"role": "wco"}, "/role", id="wco-role-for-a-member-country"),
    pytest.param({"role": "admin"}, "/role", id="admin-for-a-member-country"),
    pytest.param({"role": "superuser"}, "/role", id="unknown-role"),
    # scope
    pytest.param({"scope": "NG"}, "/scope", id="ncp-with-a-scope"),
    pytest.param(
        {"sub": "WCO-PGS", "country": "WCO", "role": "wco", "scope": "NG"},
        "/scope",
        id="wco-with-a-scope",
    ),
    pytest.param(
        {"sub": "WCO-ADMIN", "country": "WCO", "role": "admin", "scope": "FR"},
        "/scope",
        id="admin-with-a-scope",
    ),
    pytest.param(
        {"sub": "WCO-AUDIT", "country": "WCO", "role": "auditor", "scope": "NG"},
        "/scope",
        id="wco-auditor-with-a-country-scope",
    ),
    pytest.param(
        {"sub": "CM-AUDIT", "country": "CM", "role": "auditor", "scope": None},
        "/scope",
        id="national-auditor-without-scope",
    ),
    pytest.param(
        {"sub": "CM-AUDIT", "country": "CM", "role": "auditor", "scope": "GH"},
        "/scope",
        id="national-auditor-of-another-country",
    ),
    pytest.param(
        {"sub": "CM-AUDIT", "country": "CM", "role": "auditor", "scope": "XX"},
        "/scope",
        id="scope-not-a-country",
    ),
    # the other fields
    pytest.param({"v": "pgs/2"}, "/v", id="other-version"),
    pytest.param({"iat": -1}, "/iat", id="negative-iat"),
    pytest.param({"iat": "1767225600"}, "/iat", id="iat-as-text"),
    pytest.param({"iat": True}, "/iat", id="iat-as-boolean"),
    pytest.param({"iat": 1.5}, "/iat", id="iat-as-fraction"),
    pytest.param({"serial": SERIAL.upper()}, "/serial", id="upper-case-serial"),
    pytest.param({"serial": "3f2a6c1e-9b4d-1e8f-a1b2-c3d4e5f60718"}, "/serial", id="uuid1-serial"),
    pytest.param({"exp": IAT}, "/exp", id="unknown-member"),
]


@pytest.mark.parametrize(("change", "pointer"), INVALID)
def test_invalid_bodies_name_the_field(change: dict[str, Any], pointer: str) -> None:
    with pytest.raises(CertificateError) as caught:
        parse_certificate_body(body(**change))
    assert pointers(caught) == {pointer}
    assert caught.value.code == "certificate.invalid"
    # The same body signed by the authority is still refused, with the same problem.
    signed = sign(json.dumps(body(**change)).encode(), AUTHORITY, typ=AUTHORITY_TYP)
    with pytest.raises(CertificateError) as again:
        verify_certificate(signed, AUTHORITY.public)
    assert pointers(again) == {pointer}


def test_a_missing_field_is_named() -> None:
    incomplete = body()
    del incomplete["scope"], incomplete["serial"]
    with pytest.raises(CertificateError) as caught:
        parse_certificate_body(incomplete)
    assert pointers(caught) == {"/scope", "/serial"}
    assert "/scope is required" in str(caught.value)


def test_messages_do_not_echo_the_rejected_value() -> None:
    with pytest.raises(CertificateError) as caught:
        parse_certificate_body(body(sub="NG-NCP-SECRETNAME", country="GH"))
    assert "SECRETNAME" not in str(caught.value)


def test_certificates_are_frozen() -> None:
    cert = Certificate.model_validate(body())
    with pytest.raises(ValueError, match="frozen"):
        cert.role = Role.ADMIN


# --- keys ----------------------------------------------------------------------------------------

OTHER = KeySet.generate()


def with_keys(
    sig: dict[str, Any] | None = None, enc: dict[str, Any] | None = None
) -> dict[str, Any]:
    return body(
        keys={
            "sig": sig if sig is not None else KEYS.signing.public.to_jwk(),
            "enc": enc if enc is not None else KEYS.decryption.public.to_jwk(),
        }
    )


def edited(jwk: dict[str, str], **changes: str | None) -> dict[str, str]:
    result = {**jwk, **{k: v for k, v in changes.items() if v is not None}}
    for name in [k for k, v in changes.items() if v is None]:
        del result[name]
    return result


SIG = KEYS.signing.public.to_jwk()
ENC = KEYS.decryption.public.to_jwk()

BAD_KEYS = [
    pytest.param(with_keys(sig=ENC), "/keys/sig/crv", id="x25519-as-signing-key"),
    pytest.param(with_keys(enc=SIG), "/keys/enc/crv", id="ed25519-as-encryption-key"),
    pytest.param(with_keys(sig=ENC, enc=SIG), "/keys/sig/crv", id="keys-swapped"),
    pytest.param(
        with_keys(sig=edited(SIG, kid=OTHER.signing.kid)), "/keys/sig/kid", id="kid-of-another-key"
    ),
    pytest.param(
        with_keys(enc=edited(ENC, kid="not-a-thumbprint")), "/keys/enc/kid", id="kid-not-thumbprint"
    ),
    pytest.param(with_keys(sig=edited(SIG, kid=None)), "/keys/sig/kid", id="kid-missing"),
    pytest.param(with_keys(sig=edited(SIG, use=None)), "/keys/sig/use", id="use-missing"),
    pytest.param(with_keys(sig=edited(SIG, use="enc")), "/keys/sig/use", id="use-enc-for-sig"),
    pytest.param(with_keys(enc=edited(ENC, alg="RSA-OAEP")), "/keys/enc/alg", id="foreign-alg"),
    pytest.param(with_keys(sig=edited(SIG, kty="EC")), "/keys/sig/kty", id="not-okp"),
    pytest.param(with_keys(sig=edited(SIG, x=SIG["x"][:-2])), "/keys/sig/x", id="short-x"),
    pytest.param(
        with_keys(sig=edited(SIG, x=SIG["x"][:-1] + "B")), "/keys/sig/x", id="non-canonical-x"
    ),
    pytest.param(
        with_keys(sig=private_jwk(KEYS.signing)), "/keys/sig/d", id="private-key-published"
    ),
    pytest.param(body(keys={"sig": SIG}), "/keys/enc", id="encryption-key-missing"),
    pytest.param(
        body(keys={"sig": SIG, "enc": ENC, "extra": ENC}), "/keys/extra", id="a-third-key"
    ),
]


@pytest.mark.parametrize(("document", "pointer"), BAD_KEYS)
def test_wrong_keys_are_refused(document: dict[str, Any], pointer: str) -> None:
    with pytest.raises(CertificateError) as caught:
        parse_certificate_body(document)
    assert pointer in pointers(caught)
    assert all(p.startswith("/keys/") for p in pointers(caught))


def test_a_private_key_is_never_echoed() -> None:
    secret = private_jwk(KEYS.signing)["d"]
    with pytest.raises(CertificateError) as caught:
        parse_certificate_body(with_keys(sig=private_jwk(KEYS.signing)))
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value.problems)
