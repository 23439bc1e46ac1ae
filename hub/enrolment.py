"""Issuing certificates with the registry-authority key, and enrolling the first admin directly.

The authority key is used only by these offline steps (``pgs init``, ``pgs admin certify`` /
``enrol``); the running hub never loads it.
"""

from __future__ import annotations

import time
from pathlib import Path

from pgs_hub.crypto.keys import RecipientKey, SigningKey, VerifyKey
from pgs_hub.hub import keystore
from pgs_hub.hub.home import HUB_KEY_DIR, POLICY_FILE
from pgs_hub.hub.hub_keys import load_or_create_hub_key
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.policy.model import load_policy_file
from pgs_hub.hub.services import admin
from pgs_hub.hub.services.context import HubContext, PolicyHolder
from pgs_hub.hub.services.database import open_engine
from pgs_hub.protocols.certificates import issue_certificate, make_certificate

SYSTEM = Member(
    id="WCO-SYSTEM", country="WCO", role="admin", scope=None, status="active", enc_kid=""
)


def certify(
    authority: SigningKey,
    participant: str,
    *,
    role: str,
    verify: VerifyKey,
    encrypt: RecipientKey,
    now: int,
    scope: str | None = None,
    valid_days: float | None = None,
) -> bytes:
    """A certificate binding ``participant`` (country from its id), ``role`` and two keys; with
    ``valid_days``, it expires that long after ``now``."""
    exp = None if valid_days is None else now + max(1, round(valid_days * 86400))
    certificate = make_certificate(
        sub=participant, role=role, verify_key=verify, recipient_key=encrypt, iat=now,
        scope=scope, exp=exp,
    )  # fmt: skip
    return issue_certificate(certificate, authority)


async def bootstrap_admin(
    home: Path,
    url: str,
    authority: SigningKey,
    admin_id: str,
    *,
    passphrase: bytes | None = None,
    hub_passphrase: bytes | None = None,
) -> Path:
    """Create the first admin's keys under ``HOME/admin/ID`` (encrypted with ``passphrase`` if
    given) and enrol it without an API call."""
    folder = home / "admin" / admin_id
    local = keystore.create(folder, admin_id, passphrase)
    raw = certify(
        authority,
        admin_id,
        role="admin",
        verify=local.signing.public,
        encrypt=local.decryption.public,
        now=int(time.time()),
    )
    engine = open_engine(url)
    try:
        policy_path = home / POLICY_FILE
        ctx = HubContext(
            engine=engine,
            policy=PolicyHolder(policy_path, load_policy_file(policy_path)),
            authority=authority.public,
            hub_key=load_or_create_hub_key(home / HUB_KEY_DIR, passphrase=hub_passphrase),
        )
        await admin.enrol(ctx, SYSTEM, raw)
    finally:
        await engine.dispose()
    return folder
