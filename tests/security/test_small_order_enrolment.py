"""Keys of small order against a real hub.

The attack: a certificate for the identity point as a signing key (the registry authority signs
what it is given). Under that key OpenSSL accepts ``R`` the identity, ``S`` zero as a signature of
every message, so anybody could send as that participant, and the participant could deny all it
sent. The hub refuses such a key at enrolment and rotation (crypto.keys.require_full_order), and
a key stored before the refusal existed authenticates nobody: a request "signed" with the forged
signature is refused with 401, where without the checks it is answered 200.
"""

from __future__ import annotations

import json
import time
import uuid

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

from pgs_hub.crypto.keys import DecryptionKey, RecipientKey, SigningKey, VerifyKey
from pgs_hub.hub.client.errors import HubClientError
from pgs_hub.hub.storage import participants as store
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.protocols.certificates import (
    issue_certificate,
    parse_certificate_body,
    read_certificate,
)
from tests.e2e.harness import RunningHub
from tests.e2e.rawhttp import signature_headers

NG, FR, GH = "NG-NCP-LAGOS", "FR-NCP-PARIS", "GH-NCP-ACCRA"
IDENTITY = bytes.fromhex("01" + "00" * 31)
FORGED = IDENTITY + bytes(32)  # R the identity, S zero: valid for any message under IDENTITY


def _weak_signing_key() -> VerifyKey:
    return VerifyKey.from_public(ed25519.Ed25519PublicKey.from_public_bytes(IDENTITY))


def _weak_encryption_key() -> RecipientKey:
    return RecipientKey.from_public(x25519.X25519PublicKey.from_public_bytes(bytes(32)))


def _certificate(
    authority: SigningKey, participant: str, verify: VerifyKey, encrypt: RecipientKey
) -> bytes:
    """Signed by the real authority, built without make_certificate (which refuses such keys),
    as a careless or deceived registry tool might."""
    body = parse_certificate_body(
        {
            "v": "pgs/1",
            "sub": participant,
            "country": participant[:2],
            "role": "ncp",
            "scope": None,
            "keys": {"sig": verify.to_jwk(), "enc": encrypt.to_jwk()},
            "iat": int(time.time()),
            "serial": str(uuid.uuid4()),
        }
    )
    return issue_certificate(body, authority)


class _Forger:
    """Signs as the holder of the identity key without any private key."""

    kid = _weak_signing_key().kid

    def sign(self, data: bytes) -> bytes:
        del data
        return FORGED


async def test_enrolment_and_rotation_refuse_a_key_of_small_order(hub: RunningHub) -> None:
    await hub.enrol(NG, "ncp")
    honest_sig, honest_enc = SigningKey.generate().public, DecryptionKey.generate().public
    weak = [
        ("signing key", _weak_signing_key(), honest_enc),
        ("encryption key", honest_sig, _weak_encryption_key()),
    ]
    async with hub.client(hub.admin) as admin:
        for what, verify, encrypt in weak:
            with pytest.raises(HubClientError) as refused:
                await admin.enrol(_certificate(hub.authority, FR, verify, encrypt))
            assert (refused.value.status, refused.value.code) == (400, "crypto.low_order_key")
            assert "order" in refused.value.problem["detail"], what
            with pytest.raises(HubClientError) as refused:
                await admin.rotate(NG, _certificate(hub.authority, NG, verify, encrypt))
            assert (refused.value.status, refused.value.code) == (400, "crypto.low_order_key")
        # Nothing half-written: FR is not there (an enrolment now would be participant.exists),
        # and its honest keys are not taken.
        assert FR not in {p.id for p in await admin.directory()}
        await admin.enrol(_certificate(hub.authority, FR, honest_sig, honest_enc))
    # NG's keys are still its current ones.
    async with hub.client(NG) as ng:
        await ng.inbox()


async def test_a_stored_key_of_small_order_authenticates_nobody(hub: RunningHub) -> None:
    weak, now = _weak_signing_key(), int(time.time())
    certificate = _certificate(hub.authority, GH, weak, DecryptionKey.generate().public)
    serial = read_certificate(certificate)[1].serial
    engine = create_engine(hub.database_url)
    try:
        async with engine.begin() as conn:  # what an older hub's enrolment wrote
            await store.insert_participant(
                conn,
                store.ParticipantRow(
                    id=GH,
                    country="GH",
                    role="ncp",
                    scope=None,
                    status="active",
                    created_at=now,
                    updated_at=now,
                ),
            )
            await store.add_keys(
                conn,
                [
                    store.KeyRow(
                        kid=weak.kid,
                        participant_id=GH,
                        use="sig",
                        jwk=json.dumps(weak.to_jwk(), sort_keys=True),
                        certificate=certificate.decode(),
                        serial=serial,
                        state="current",
                        created_at=now,
                        retired_at=None,
                    )
                ],
            )
    finally:
        await engine.dispose()
    url = f"{hub.url}/v1/inbox"
    async with aiohttp.ClientSession() as session:
        for _ in range(2):  # refused again, not only on the first lookup
            headers = signature_headers(_Forger(), "GET", url, None)  # type: ignore[arg-type]
            async with session.get(url, headers=headers) as reply:
                problem = await reply.json(content_type=None)
                assert (reply.status, problem.get("code")) == (401, "auth.failed"), problem
                assert "small order" in problem["detail"]
