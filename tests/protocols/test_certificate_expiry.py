"""Certificate expiry (``exp``): optional, after ``iat``; certificates without it keep their exact
signed bytes (so every certificate issued before expiry existed still verifies) and never expire."""

from __future__ import annotations

import json

import pytest

from pgs_hub.crypto.b64 import b64u_decode
from pgs_hub.protocols.certificates import (
    issue_certificate,
    make_certificate,
    parse_certificate_body,
    verify_certificate,
)
from pgs_hub.protocols.errors import CertificateError
from tests.protocols.test_certificates import AUTHORITY, IAT, KEYS, body, pointers


def test_without_exp_the_signed_bytes_have_no_exp_and_never_expire() -> None:
    cert = make_certificate(
        sub="NG-NCP-LAGOS", role="ncp", verify_key=KEYS.signing.public,
        recipient_key=KEYS.decryption.public, iat=IAT,
    )  # fmt: skip
    payload = json.loads(b64u_decode(json.loads(issue_certificate(cert, AUTHORITY))["payload"]))
    assert "exp" not in payload
    assert not cert.expired(IAT + 100 * 365 * 86400)


def test_exp_is_signed_and_checked_against_the_time_given() -> None:
    cert = make_certificate(
        sub="NG-NCP-LAGOS", role="ncp", verify_key=KEYS.signing.public,
        recipient_key=KEYS.decryption.public, iat=IAT, exp=IAT + 86400,
    )  # fmt: skip
    verified = verify_certificate(issue_certificate(cert, AUTHORITY), AUTHORITY.public)
    assert verified.certificate.exp == IAT + 86400
    assert not verified.certificate.expired(IAT + 86399)
    assert verified.certificate.expired(IAT + 86400)


@pytest.mark.parametrize("exp", [IAT, IAT - 1, -1, "soon", 1.5, True])
def test_an_exp_not_after_iat_or_not_an_integer_is_refused(exp: object) -> None:
    with pytest.raises(CertificateError) as caught:
        parse_certificate_body(body(exp=exp))
    assert pointers(caught) == {"/exp"}
