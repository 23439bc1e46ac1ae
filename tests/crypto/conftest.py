"""Shared fixtures for the crypto tests: one test profile, fixed key sets, and an envelope forge.

Keys are generated once per session (key generation is cheap, but hypothesis tests must not depend
on function-scoped fixtures). The forge takes a real sealed envelope apart and puts edited versions
back together, re-signing with the sender's key, so that a test about a profile rule fails on that
rule and not on the signature.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pgs_hub.crypto import strictjson
from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.envelope import EnvelopeProfile, seal
from pgs_hub.crypto.jwe import JweProfile
from pgs_hub.crypto.keys import KeySet, SigningKey

VECTORS = Path(__file__).resolve().parent.parent / "vectors"

TEST_PROFILE = EnvelopeProfile(
    jws_typ="test-envelope+jws",
    jwe=JweProfile(
        content_type="test+json",
        app_header="app",
        commitment_label=b"test commitment",
    ),
)

APP_HEADER: dict[str, Any] = {"v": "test/1", "kind": "notice", "n": 7}
PLAINTEXT = b'{"note":"inspect container MSCU1234565","seals":["A1","B2"]}'


def _json(value: bytes | str | Mapping[str, Any]) -> bytes:
    """Bytes as given, text as UTF-8, a mapping through the project's compact serializer."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return strictjson.dumps(value)


@dataclass(frozen=True)
class EnvelopeForge:
    """A sealed envelope with its keys, and the tools to build edited copies of it."""

    profile: EnvelopeProfile
    sender: KeySet
    recipients: tuple[KeySet, ...]
    raw: bytes

    # --- reading (our own output, so the standard library parser is enough) -------------------

    def outer(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.raw)
        return value

    def jws_header(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(b64u_decode(self.outer()["protected"]))
        return value

    def jwe_bytes(self) -> bytes:
        return b64u_decode(self.outer()["payload"])

    def jwe(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.jwe_bytes())
        return value

    def jwe_header(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(b64u_decode(self.jwe()["protected"]))
        return value

    # --- writing --------------------------------------------------------------------------------

    def sign(
        self,
        *,
        protected_b64: str | None = None,
        payload_b64: str | None = None,
        signer: SigningKey | None = None,
    ) -> bytes:
        """A flattened JWS over exactly these two strings, validly signed (by the sender)."""
        outer = self.outer()
        protected_b64 = outer["protected"] if protected_b64 is None else protected_b64
        payload_b64 = outer["payload"] if payload_b64 is None else payload_b64
        key = self.sender.signing if signer is None else signer
        signature = key.sign(f"{protected_b64}.{payload_b64}".encode())
        return strictjson.dumps(
            {
                "payload": payload_b64,
                "protected": protected_b64,
                "signature": b64u_encode(signature),
            }
        )

    def with_jws_header(
        self, header: bytes | str | Mapping[str, Any], *, signer: SigningKey | None = None
    ) -> bytes:
        """Replace the JWS protected header (given as JSON bytes/text or a mapping); re-sign."""
        return self.sign(protected_b64=b64u_encode(_json(header)), signer=signer)

    def with_jwe(
        self, jwe: bytes | str | Mapping[str, Any], *, signer: SigningKey | None = None
    ) -> bytes:
        """Replace the whole JWE (the JWS payload); re-sign."""
        return self.sign(payload_b64=b64u_encode(_json(jwe)), signer=signer)

    def with_jwe_header(
        self, header: bytes | str | Mapping[str, Any], *, signer: SigningKey | None = None
    ) -> bytes:
        """Replace the JWE protected header; re-sign. (It is the GCM AAD: only parse and
        commitment checks can pass after this, which is what the tests using it want.)"""
        jwe = self.jwe()
        jwe["protected"] = b64u_encode(_json(header))
        return self.with_jwe(jwe, signer=signer)

    def with_recipient_header(
        self, index: int, changes: Mapping[str, Any], *, drop: tuple[str, ...] = ()
    ) -> bytes:
        """Set (and drop) members of ``recipients[index].header``; re-sign."""
        jwe = self.jwe()
        header = jwe["recipients"][index]["header"]
        header.update(changes)
        for name in drop:
            del header[name]
        return self.with_jwe(jwe)


@pytest.fixture(scope="session")
def profile() -> EnvelopeProfile:
    return TEST_PROFILE


@pytest.fixture(scope="session")
def plaintext() -> bytes:
    """The content of the ``sealed`` envelope."""
    return PLAINTEXT


@pytest.fixture(scope="session")
def app_header() -> dict[str, Any]:
    """The application header of the ``sealed`` envelope."""
    return dict(APP_HEADER)


@pytest.fixture(scope="session")
def sender() -> KeySet:
    return KeySet.generate()


@pytest.fixture(scope="session")
def recipients() -> tuple[KeySet, KeySet, KeySet]:
    return (KeySet.generate(), KeySet.generate(), KeySet.generate())


@pytest.fixture(scope="session")
def outsider() -> KeySet:
    """A participant that is never a recipient and never the sender."""
    return KeySet.generate()


@pytest.fixture(scope="session")
def sealed(sender: KeySet, recipients: tuple[KeySet, ...]) -> bytes:
    return seal(
        profile=TEST_PROFILE,
        app_header=APP_HEADER,
        plaintext=PLAINTEXT,
        signer=sender.signing,
        recipients=[r.decryption.public for r in recipients],
    )


@pytest.fixture(scope="session")
def forge(sender: KeySet, recipients: tuple[KeySet, ...], sealed: bytes) -> EnvelopeForge:
    return EnvelopeForge(profile=TEST_PROFILE, sender=sender, recipients=recipients, raw=sealed)
