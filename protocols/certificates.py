"""Participant certificates: the registry authority's signed statement of who a participant is.

A certificate binds a participant id to its country, its role, its audit scope and its two public
keys (Ed25519 to sign, X25519 to receive). The registry authority (the WCO) signs it offline as a
JWS in flattened JSON (EdDSA, ``typ`` ``pgs-certificate+jose``); the hub stores and serves
certificates but cannot mint one, and clients verify a recipient's certificate against the pinned
authority key before encrypting to it. The body is::

    {"v": "pgs/1", "sub": "NG-NCP-LAGOS", "country": "NG", "role": "ncp", "scope": null,
     "keys": {"sig": <Ed25519 JWK>, "enc": <X25519 JWK>}, "iat": 1767225600,
     "serial": "<random UUID>"}

Rules that tie the fields together, each checked when a :class:`Certificate` is built, so an
inconsistent certificate cannot exist in memory:

* ``country`` is the code of a WCO Member (ISO 3166-1 alpha-2, plus ``XK``) or ``WCO`` for WCO
  staff, and it is the first part of ``sub``: ``NG-NCP-LAGOS`` is Nigerian, ``WCO-PGS`` is staff.
* ``ncp``: a national contact point, so a member country — never ``WCO``.
* ``wco`` and ``admin``: WCO staff, so country ``WCO``. Administration (enrolment, suspension,
  policy) is run by the programme, not by one member administration.
* ``auditor``: either WCO staff with ``scope`` null — a global auditor, who sees the audit metadata
  of every country — or a member country's auditor whose ``scope`` is that same country. A
  national auditor with a null scope would silently be global, so it is refused.
* ``scope`` is null for every role other than ``auditor``.
* Each key is a public OKP JWK with exactly ``kty``, ``crv``, ``x``, ``kid``, ``use`` and ``alg``
  (what :meth:`crypto.keys.VerifyKey.to_jwk` and :meth:`crypto.keys.RecipientKey.to_jwk` write):
  a certificate names the purpose of each key explicitly, and ``kid`` must be the RFC 7638
  thumbprint of the key, so nobody has to trust a name.

* ``exp`` (optional, seconds since the epoch, after ``iat``): when the registry authority wants
  the certificate renewed. Certificates without it (all those issued before it existed) do not
  expire; with it, the hub refuses the certificate's signing key from ``exp`` on and warns
  ahead (``pgs admin certs --expiring``).

Nothing here reads a clock: ``iat`` and ``exp`` are given by the caller.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from pgs_hub.crypto import jws, strictjson
from pgs_hub.crypto.b64 import b64u_decode
from pgs_hub.crypto.errors import CryptoError
from pgs_hub.crypto.keys import (
    Curve,
    RecipientKey,
    SigningKey,
    VerifyKey,
    recipient_key_from_jwk,
    require_full_order,
    thumbprint,
    verify_key_from_jwk,
)
from pgs_hub.protocols.errors import CertificateError, FieldProblem
from pgs_hub.protocols.messages._base import CODE_MAX, problem
from pgs_hub.protocols.messages.identifiers import ParticipantId
from pgs_hub.protocols.messages.kinds import PROTOCOL
from pgs_hub.protocols.messages.problems import problems_from
from pgs_hub.protocols.routing import participant_country

__all__ = [
    "AUTHORITY_TYP",
    "MAX_CERTIFICATE_BYTES",
    "WCO",
    "Certificate",
    "CertificateKeys",
    "EncryptionJwk",
    "Role",
    "SigningJwk",
    "VerifiedCertificate",
    "issue_certificate",
    "make_certificate",
    "parse_certificate_body",
    "read_certificate",
    "verify_certificate",
]

AUTHORITY_TYP: Final = "pgs-certificate+jose"
"""JWS ``typ`` of a certificate; a JWS made for any other purpose is never read as one."""

MAX_CERTIFICATE_BYTES: Final = 8192
"""Largest certificate accepted; a real one is about 1 KiB."""

WCO: Final = "WCO"
"""The country of WCO staff participants (``WCO-PGS``, ``WCO-AUDIT``...)."""


class Role(StrEnum):
    """What a participant may do on the hub (docs/design/hub.md, Trust)."""

    NCP = "ncp"
    """A national contact point: sends alert, seizure, rfi and reply; reads what it is sent."""
    WCO = "wco"
    """WCO programme staff: also sends notices and may address groups."""
    AUDITOR = "auditor"
    """Reads audit metadata (of its scope) only; never sends, never reads content."""
    ADMIN = "admin"
    """Manages participants and policy; never sends, never reads content."""


# --- field types ---------------------------------------------------------------------------------

# 32 bytes in canonical unpadded base64url: 42 characters of 6 bits, then one whose two low bits are
# zero (it carries the last 4 bits).
_KEY_32 = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")
_SERIAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _key_bytes(value: str) -> str:
    if not _KEY_32.fullmatch(value):
        raise problem("jwk_x", "must be a 32-byte public key in unpadded base64url (43 characters)")
    return value


def _member_country(value: str) -> str:
    from pgs_hub.protocols.codelists import is_wco_member  # noqa: PLC0415 - code lists load on first use

    if not is_wco_member(value):
        raise problem("member_country", "must be the ISO 3166-1 alpha-2 code of a WCO Member")
    return value


def _member_country_or_wco(value: str) -> str:
    return value if value == WCO else _member_country(value)


def _serial(value: str) -> str:
    if not _SERIAL.fullmatch(value):
        raise problem("serial", "must be a random (version 4) UUID in lower case")
    return value


_Code = Annotated[StrictStr, StringConstraints(max_length=CODE_MAX)]
MemberCountry = Annotated[_Code, AfterValidator(_member_country)]
"""A WCO Member's code (ISO 3166-1 alpha-2, or ``XK``)."""
CertificateCountry = Annotated[_Code, AfterValidator(_member_country_or_wco)]
"""A WCO Member's code, or ``WCO`` for WCO staff."""
Serial = Annotated[_Code, AfterValidator(_serial)]
"""A certificate serial: a random UUID (version 4) in lower case."""
KeyBytes = Annotated[_Code, AfterValidator(_key_bytes)]


def _check_thumbprint(kid: str, info: ValidationInfo, crv: Curve) -> str:
    x = info.data.get("x")
    if x is None or info.data.get("crv") != crv:
        return kid  # x or crv is wrong already, and reported; the kid cannot be checked
    if kid != thumbprint(crv, b64u_decode(x, field="x")):
        raise problem("kid", "must be the RFC 7638 thumbprint of the key")
    return kid


class SigningJwk(BaseModel):
    """The participant's public Ed25519 signing key as a JWK (RFC 8037)."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: KeyBytes
    kid: _Code
    use: Literal["sig"]
    alg: Literal["EdDSA"]

    @field_validator("kid")
    @classmethod
    def _kid_is_thumbprint(cls, kid: str, info: ValidationInfo) -> str:
        return _check_thumbprint(kid, info, "Ed25519")

    def verify_key(self) -> VerifyKey:
        return verify_key_from_jwk(self.model_dump())


class EncryptionJwk(BaseModel):
    """The participant's public X25519 encryption key as a JWK (RFC 8037)."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    kty: Literal["OKP"]
    crv: Literal["X25519"]
    x: KeyBytes
    kid: _Code
    use: Literal["enc"]
    alg: Literal["ECDH-ES+A256KW"]

    @field_validator("kid")
    @classmethod
    def _kid_is_thumbprint(cls, kid: str, info: ValidationInfo) -> str:
        return _check_thumbprint(kid, info, "X25519")

    def recipient_key(self) -> RecipientKey:
        return recipient_key_from_jwk(self.model_dump())


class CertificateKeys(BaseModel):
    """The two public keys a certificate binds to its subject."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    sig: SigningJwk
    enc: EncryptionJwk


class Certificate(BaseModel):
    """The body of a participant certificate; see the module documentation for the rules."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    v: Literal["pgs/1"]
    sub: ParticipantId
    country: CertificateCountry
    role: Role
    scope: MemberCountry | None
    keys: CertificateKeys
    iat: StrictInt = Field(ge=0)
    serial: Serial
    # Optional, so that certificates issued before expiry existed stay valid (and their signed
    # bytes unchanged: to_wire leaves it out when absent). When present, after ``iat``.
    exp: StrictInt | None = Field(default=None, ge=0)

    # Each rule is checked on the later of the fields it ties together, so that the problem points
    # at a field: pydantic passes the fields validated so far in ``info.data``.

    @field_validator("country")
    @classmethod
    def _country_of_subject(cls, country: str, info: ValidationInfo) -> str:
        sub = info.data.get("sub")
        if sub is not None and participant_country(sub) != country:
            raise problem(
                "certificate_country", "must be the country the participant id begins with"
            )
        return country

    @field_validator("role")
    @classmethod
    def _role_fits_country(cls, role: Role, info: ValidationInfo) -> Role:
        country = info.data.get("country")
        if country is None:
            return role
        if role is Role.NCP and country == WCO:
            raise problem(
                "certificate_role",
                "cannot be ncp for WCO staff: an ncp belongs to a member country",
            )
        if role in {Role.WCO, Role.ADMIN} and country != WCO:
            raise problem(
                "certificate_role", "can be wco or admin only for WCO staff (country WCO)"
            )
        return role

    @field_validator("scope")
    @classmethod
    def _scope_fits_role(cls, scope: str | None, info: ValidationInfo) -> str | None:
        role, country = info.data.get("role"), info.data.get("country")
        if role is None or country is None:
            return scope
        if role is not Role.AUDITOR:
            if scope is not None:
                raise problem("certificate_scope", "must be null: only auditors have a scope")
        elif country == WCO:
            if scope is not None:
                raise problem(
                    "certificate_scope", "must be null for a WCO auditor, who audits every country"
                )
        elif scope != country:
            raise problem(
                "certificate_scope",
                "must be the auditor's own country: a national auditor audits only its country",
            )
        return scope

    @field_validator("exp")
    @classmethod
    def _exp_after_iat(cls, exp: int | None, info: ValidationInfo) -> int | None:
        iat = info.data.get("iat")
        if exp is not None and iat is not None and exp <= iat:
            raise problem("certificate_expiry", "must be after iat (the time of issue)")
        return exp

    def expired(self, now: int) -> bool:
        """Whether the certificate has an expiry and ``now`` is at or past it."""
        return self.exp is not None and now >= self.exp

    def verify_key(self) -> VerifyKey:
        """The subject's signing key."""
        return self.keys.sig.verify_key()

    def recipient_key(self) -> RecipientKey:
        """The subject's encryption key."""
        return self.keys.enc.recipient_key()

    def to_wire(self) -> bytes:
        """The exact bytes the authority signs: compact UTF-8 JSON, every field present (but
        ``exp`` when there is none)."""
        body = self.model_dump(mode="json")
        if body["exp"] is None:
            del body["exp"]
        return strictjson.dumps(body)


@dataclass(frozen=True)
class VerifiedCertificate:
    """A certificate whose authority signature was checked, with its subject's keys imported."""

    certificate: Certificate
    raw: bytes
    verify_key: VerifyKey
    recipient_key: RecipientKey


# --- building, signing, reading ------------------------------------------------------------------


def parse_certificate_body(body: bytes | Mapping[str, Any]) -> Certificate:
    """Validate a certificate body (JSON bytes or a decoded object); raises
    :class:`CertificateError` listing every problem, with pointers into the body."""
    if isinstance(body, bytes):
        try:
            value: Any = strictjson.loads(body, what="certificate", max_bytes=MAX_CERTIFICATE_BYTES)
        except CryptoError as exc:
            raise CertificateError(
                [FieldProblem("", str(exc).removeprefix("certificate "))]
            ) from None
    else:
        value = dict(body)
    try:
        return Certificate.model_validate(value)
    except ValidationError as exc:
        raise CertificateError(problems_from(exc)) from None


def make_certificate(
    *,
    sub: str,
    role: Role | str,
    verify_key: VerifyKey,
    recipient_key: RecipientKey,
    iat: int,
    scope: str | None = None,
    country: str | None = None,
    serial: str | None = None,
    exp: int | None = None,
) -> Certificate:
    """A certificate body for ``sub`` and its two public keys.

    ``country`` defaults to the first part of ``sub`` and ``serial`` to a fresh random UUID.
    Raises :class:`CertificateError` when the values break a rule, and
    :class:`~crypto.errors.LowOrderKeyError` for a key of small order: the registry authority
    never certifies one (the hub would refuse it at enrolment anyway).
    """
    require_full_order("Ed25519", verify_key.raw(), what="the signing key")
    require_full_order("X25519", recipient_key.raw(), what="the encryption key")
    return parse_certificate_body(
        {
            "v": PROTOCOL,
            "sub": sub,
            "country": country if country is not None else participant_country(sub),
            "role": str(role),
            "scope": scope,
            "keys": {"sig": verify_key.to_jwk(), "enc": recipient_key.to_jwk()},
            "iat": iat,
            "serial": serial if serial is not None else str(uuid.uuid4()),
        }
        | ({"exp": exp} if exp is not None else {})
    )


def issue_certificate(cert: Certificate, authority: SigningKey) -> bytes:
    """Sign ``cert`` with the registry authority's key; returns the JWS JSON bytes."""
    return jws.sign(cert.to_wire(), authority, typ=AUTHORITY_TYP)


def read_certificate(raw: bytes) -> tuple[jws.UnverifiedJws, Certificate]:
    """Parse a certificate. **Unauthenticated**: for display or to find the signing kid; use
    :func:`verify_certificate` before trusting anything in it."""
    signed = jws.parse(raw, typ=AUTHORITY_TYP, what="certificate", max_bytes=MAX_CERTIFICATE_BYTES)
    return signed, parse_certificate_body(signed.payload)


def verify_certificate(raw: bytes, authority: VerifyKey) -> VerifiedCertificate:
    """Verify the authority's signature over ``raw``, then validate the body.

    The signature is checked before the body is looked at. A JWS of another ``typ``, another
    signing key or altered bytes raise a :class:`~crypto.errors.CryptoError`; a signed body that
    breaks a rule raises :class:`CertificateError`.
    """
    signed = jws.parse(raw, typ=AUTHORITY_TYP, what="certificate", max_bytes=MAX_CERTIFICATE_BYTES)
    certificate = parse_certificate_body(jws.verify(signed, authority))
    return VerifiedCertificate(
        certificate=certificate,
        raw=raw,
        verify_key=certificate.verify_key(),
        recipient_key=certificate.recipient_key(),
    )
