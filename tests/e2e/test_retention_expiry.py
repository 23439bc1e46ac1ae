"""Retention and certificate expiry, on SQLite and PostgreSQL, against a real hub process.

* A delivered envelope's body is purged only once every recipient has it; then fetching it is
  ``410 envelope.purged``, while its status, a late receipt, and the signed log's proof that
  names the exact bytes a recipient kept all still work (what evidence for metadata needs).
  Its attachment blob is deleted with it, not before.
* Certificates may carry ``exp``: ``pgs admin certs --expiring`` warns ahead; an expired
  certificate is refused at enrolment, and its key is refused for signed requests and for
  submitting envelopes (``auth.certificate_expired``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.crypto.merkle import leaf_hash, verify_inclusion
from pgs_hub.hub import keystore
from pgs_hub.hub.cli import main
from pgs_hub.hub.client import HubClientError
from pgs_hub.hub.client.attachments import encrypt_file, upload_file
from pgs_hub.hub.client.log import checkpoint, inclusion_proof
from pgs_hub.hub.enrolment import certify
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.hub.storage.tables import directory_version, participant_keys
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.receipt import ReceiptStatus
from tests.e2e.harness import RunningHub
from tests.e2e.messages import example
from tests.e2e.test_attachments import content_with, count_uploads
from tests.e2e.test_audit_tools import Ran, connection

NG, GH, WCO, CM, FR = (
    "NG-NCP-LAGOS",
    "GH-NCP-ACCRA",
    "WCO-PGS-BRUSSELS",
    "CM-NCP-DOUALA",
    "FR-NCP-PARIS",
)
DAY = 86400


async def run(*args: object) -> Ran:
    result = await asyncio.to_thread(
        CliRunner().invoke, main, [str(a) for a in args], catch_exceptions=False
    )
    return Ran(result.exit_code, result.stdout, result.stderr)


async def purge(hub: RunningHub) -> int:
    ran = await run(
        "admin", "purge-bodies", "--days", "0", "--home", hub.home,
        "--database-url", hub.database_url,
    )  # fmt: skip
    assert ran.code == 0, ran.line()
    return int(ran.out.split("bodies of ")[1].split()[0])


async def test_delivered_bodies_are_purged_and_metadata_stays_verifiable(
    hub: RunningHub, tmp_path: Path
) -> None:
    for pid in (NG, GH):
        await hub.enrol(pid, "ncp")
    await hub.enrol(WCO, "wco")
    photo = tmp_path / "seizure.jpg"
    photo.write_bytes(os.urandom(40_000))
    encrypted = encrypt_file(photo, tmp_path)
    async with hub.client(NG) as ng, hub.client(GH) as gh, hub.client(WCO) as wco:
        upload = await upload_file(ng, encrypted)
        sealed, _ = await ng.send(
            kind=MessageKind.ALERT, content=content_with(encrypted.description(upload)),
            to=[GH, WCO], attachments=[upload],
        )  # fmt: skip
        mid = sealed.header.mid
        kept = await gh.fetch(mid)  # what GH keeps of it
        await gh.ack(mid, ReceiptStatus.DELIVERED)
        assert await purge(hub) == 0  # the WCO does not have it yet
        assert await count_uploads(hub) == (1, 1)  # nor its attachment
        assert await wco.fetch(mid) == kept
        await wco.ack(mid, ReceiptStatus.READ)
        assert await purge(hub) == 1
        assert await count_uploads(hub) == (0, 0)  # the blob went with the body
        assert await purge(hub) == 0  # once

        for reader in (gh, wco, ng):
            with pytest.raises(HubClientError) as refused:
                await reader.fetch(mid)
            assert (refused.value.status, refused.value.code) == (410, "envelope.purged")
        status = await ng.status(mid)  # metadata kept
        assert {r.id: r.state for r in status.recipients} == {GH: "delivered", WCO: "read"}
        # a late receipt, for the bytes GH kept, is still accepted
        await gh.ack(mid, ReceiptStatus.READ, envelope=kept)
        assert {r.id: r.state for r in (await ng.status(mid)).recipients}[GH] == "read"

        # The signed log still proves what was accepted: its entry names the SHA-256 of the
        # exact bytes GH kept, and the inclusion proof checks against a signed checkpoint.
        cp = await checkpoint(gh)  # signed anew if the log grew
        proof = await inclusion_proof(gh, mid=mid, size=cp.size)
    assert proof.entry is not None
    verify_inclusion(leaf_hash(proof.entry), proof.index, proof.size, proof.proof, cp.root)
    details = json.loads(proof.entry)["details"]
    assert details["sha256"] in (
        b64u_encode(hashlib.sha256(kept).digest()),
        hashlib.sha256(kept).hexdigest(),
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # storage-neutral rules
async def test_certificates_expire(hub: RunningHub) -> None:
    await hub.enrol(GH, "ncp")
    now = int(time.time())
    # enrolled with a certificate that expires in ten days
    cm = keystore.create(hub.home / "people" / CM, CM, None)
    soon = certify(
        hub.authority, CM, role="ncp", verify=cm.signing.public,
        encrypt=cm.decryption.public, now=now, valid_days=10,
    )  # fmt: skip
    async with hub.client(hub.admin) as admin:
        await admin.enrol(soon)
    hub.people[CM] = cm
    admin_keys = ["--keys", hub.home / "admin" / "WCO-HUB-ADMIN"]
    who = [*connection(hub, GH)[:2], *admin_keys, *connection(hub, GH)[4:6]]
    ran = await run("admin", "certs", "--expiring", *who)
    assert ran.code == 2, ran.line()
    assert CM in ran.out
    assert GH not in ran.out  # a year away
    ran = await run("admin", "certs", "--expiring", "5", *who)
    assert (ran.code, "no certificate expires within 5 days" in ran.out) == (0, True)

    # an already expired certificate cannot be enrolled
    fr = keystore.create(hub.home / "people" / FR, FR, None)
    stale = certify(
        hub.authority, FR, role="ncp", verify=fr.signing.public,
        encrypt=fr.decryption.public, now=now - 20 * DAY, valid_days=10,
    )  # fmt: skip
    async with hub.client(hub.admin) as admin:
        with pytest.raises(HubClientError) as refused:
            await admin.enrol(stale)
    assert (refused.value.status, refused.value.code) == (422, "certificate.expired")

    # time passes: CM's certificate is past its exp (moved in the database; the directory
    # version moves too, as every directory change does)
    engine = create_engine(hub.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(participant_keys)
                .where(participant_keys.c.participant_id == CM)
                .values(expires_at=now - 1)
            )
            await conn.execute(
                update(directory_version).values(version=directory_version.c.version + 1)
            )
    finally:
        await engine.dispose()
    async with hub.client(CM) as client:
        for attempt in (
            client.inbox(),
            client.send(kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH]),
        ):
            with pytest.raises(HubClientError) as refused:
                await attempt
            assert (refused.value.status, refused.value.code) == (401, "auth.certificate_expired")
            assert "has expired" in str(refused.value)
