"""The audit log's API over real sockets: checkpoints verify under the log key, entries rebuild
the signed root, proofs verify with RFC 9162 algorithms, and access follows the auditor's scope."""

from __future__ import annotations

import base64
import json
import tomllib

import pytest

from pgs_hub.crypto.merkle import InMemoryTree, leaf_hash, verify_consistency, verify_inclusion
from pgs_hub.crypto.note import parse_verifier_key, verify_checkpoint
from pgs_hub.hub.client import HubClient, HubClientError
from pgs_hub.protocols import api
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.harness import RunningHub
from tests.e2e.messages import example

NG, GH, CM, WCO = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "CM-NCP-DOUALA", "WCO-PGS-BRUSSELS"


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def traffic(hub: RunningHub) -> str:
    for pid in (NG, GH, CM):
        await hub.enrol(pid, "ncp")
    await hub.enrol(WCO, "wco")
    await hub.enrol("WCO-AUDIT", "auditor")
    await hub.enrol("GH-AUDIT", "auditor", scope="GH")
    async with hub.client(NG) as ng:
        sealed, _ = await ng.send(
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH, WCO]
        )
    async with hub.client(GH) as gh:
        await gh.ack(sealed.header.mid)
    return sealed.header.mid


async def checkpoint(client: HubClient, fresh: bool = True) -> api.Checkpoint:
    if fresh:
        _, data = await client.request("POST", "/v1/audit/checkpoint")
        return api.Checkpoint.model_validate_json(data)
    return await client.get("/v1/audit/checkpoint", api.Checkpoint)


async def test_a_global_auditor_rebuilds_the_signed_tree(hub: RunningHub) -> None:
    mid = await traffic(hub)
    config = tomllib.loads((hub.home / "config.toml").read_text())
    verifier = parse_verifier_key(config["log"]["verifier_key"])
    async with hub.client("WCO-AUDIT") as auditor:
        first = await checkpoint(auditor)
        signed = verify_checkpoint(
            first.checkpoint.encode(), verifier, origin=config["log"]["origin"]
        )
        assert signed.size == first.size
        page = await auditor.get("/v1/audit/entries", api.LogEntries, start=0, end=signed.size)
        entries = page.entries
        assert [e.index for e in entries] == list(range(signed.size))
        tree = InMemoryTree()
        for e in entries:
            tree.append(leaf_hash(b64d(e.entry)))
        assert tree.root() == signed.root
        events = [json.loads(b64d(e.entry))["event"] for e in entries]
        assert events.count("participant.enrolled") == 7  # the admin and six more
        assert "envelope.accepted" in events
        assert "receipt.recorded" in events
        proof = await auditor.get(
            "/v1/audit/proof/inclusion", api.InclusionProof, mid=mid, size=signed.size
        )
        verify_inclusion(b64d(proof.leaf_hash), proof.index, signed.size,
                         [b64d(p) for p in proof.proof], signed.root)  # fmt: skip
        assert json.loads(b64d(proof.entry))["subject"] == mid
        # More traffic, a new checkpoint, and the old one is a prefix of it.
    async with hub.client(GH) as gh:
        await gh.send(kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[NG])
    async with hub.client("WCO-AUDIT") as auditor:
        note = (await checkpoint(auditor)).checkpoint.encode()
        second = verify_checkpoint(note, verifier, origin=config["log"]["origin"])
        assert second.size > signed.size
        consistency = await auditor.get(
            "/v1/audit/proof/consistency", api.ConsistencyProof,
            first=signed.size, second=second.size,
        )  # fmt: skip
        verify_consistency(signed.size, second.size, [b64d(p) for p in consistency.proof],
                           signed.root, second.root)  # fmt: skip


async def test_scopes_of_the_log(hub: RunningHub) -> None:
    mid = await traffic(hub)
    async with hub.client("GH-AUDIT") as scoped:
        size = (await checkpoint(scoped)).size
        visible = (await scoped.get("/v1/audit/entries", api.LogEntries, start=0, end=size)).entries
        assert visible
        assert all("GH" in json.loads(b64d(e.entry))["countries"] for e in visible)
    async with hub.client(CM) as cm:
        with pytest.raises(HubClientError) as caught:
            await cm.get("/v1/audit/entries", api.LogEntries, start=0, end=10)
        assert caught.value.status == 403
        with pytest.raises(HubClientError) as caught:  # not its message: like a missing entry
            await cm.get("/v1/audit/proof/inclusion", api.InclusionProof, mid=mid)
        assert caught.value.status == 404
        # Any participant may check that a key it encrypts to was logged.
        latest = await checkpoint(cm, fresh=False)  # any participant reads checkpoints
        gh_kid = hub.people[GH].decryption.kid
        path = f"/v1/audit/proof/key/{gh_kid}"
        proof = await cm.get(path, api.InclusionProof, size=latest.size)
        assert json.loads(b64d(proof.entry))["details"]["enc_kid"] == gh_kid
        verify_inclusion(b64d(proof.leaf_hash), proof.index, latest.size,
                         [b64d(p) for p in proof.proof], b64d(latest.root))  # fmt: skip
    async with hub.client(NG) as ng:  # the sender may prove its message was accepted
        proof = await ng.get("/v1/audit/proof/inclusion", api.InclusionProof, mid=mid)
        assert json.loads(b64d(proof.entry))["event"] == "envelope.accepted"


async def test_clients_refuse_a_key_that_is_not_in_the_log(hub: RunningHub) -> None:
    """A hub (or anyone with database access) that slips in a certified key without logging it is
    caught by a client that pins the log key."""
    import json as _json
    import time

    from sqlalchemy import update

    from pgs_hub.crypto.keys import KeySet
    from pgs_hub.hub.client import TrustError
    from pgs_hub.hub.enrolment import certify
    from pgs_hub.hub.storage.engine import create_engine
    from pgs_hub.hub.storage.tables import participant_keys

    await traffic(hub)
    config = tomllib.loads((hub.home / "config.toml").read_text())
    verifier = parse_verifier_key(config["log"]["verifier_key"])
    logged = HubClient(hub.url, hub.people[NG], authority=hub.authority.public, log_key=verifier)
    async with logged as ng:
        assert (await ng.recipient_key(GH)).kid == hub.people[GH].decryption.kid
    # Substitute Ghana's encryption key in the database: a valid certificate, but no log entry.
    rogue = KeySet.generate()
    certificate = certify(
        hub.authority,
        GH,
        role="ncp",
        verify=rogue.signing.public,
        encrypt=rogue.decryption.public,
        now=int(time.time()),
    ).decode()
    engine = create_engine(hub.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(participant_keys)
                .where(participant_keys.c.participant_id == GH)
                .values(state="retired")
            )
            for use, key in (("sig", rogue.signing.public), ("enc", rogue.decryption.public)):
                await conn.execute(
                    participant_keys.insert().values(
                        kid=key.kid,
                        participant_id=GH,
                        use=use,
                        jwk=_json.dumps(key.to_jwk()),
                        certificate=certificate,
                        serial="00000000-0000-4000-8000-000000000000",
                        state="current",
                        created_at=int(time.time()),
                        retired_at=None,
                    )
                )
    finally:
        await engine.dispose()
    async with HubClient(hub.url, hub.people[NG], authority=hub.authority.public) as trusting:
        assert (await trusting.recipient_key(GH)).kid == rogue.decryption.kid  # fooled
    logged = HubClient(hub.url, hub.people[NG], authority=hub.authority.public, log_key=verifier)
    async with logged as ng:
        with pytest.raises(TrustError, match="not proven to be in the hub's log"):
            await ng.recipient_key(GH)


async def test_a_proof_at_a_given_size_is_decided_like_one_by_message_id(hub: RunningHub) -> None:
    """``index`` and ``size`` (the one-statement path that reads the envelope's parties with the
    proof): the message's sender and recipients get its entries, anyone else the very answer a
    missing entry gets; a key event is public."""
    mid = await traffic(hub)
    async with hub.client("WCO-AUDIT") as auditor:
        size = (await checkpoint(auditor)).size
        page = await auditor.get("/v1/audit/entries", api.LogEntries, start=0, end=size)
    docs = {e.index: json.loads(b64d(e.entry)) for e in page.entries}
    of_message = [i for i, d in docs.items() if d["subject"] == mid]
    assert {docs[i]["event"] for i in of_message} == {"envelope.accepted", "receipt.recorded"}
    enrolment = next(i for i, d in docs.items() if d["event"] == "participant.enrolled")
    for pid, sees in ((NG, True), (GH, True), (WCO, True), (CM, False)):
        async with hub.client(pid) as client:
            for index in of_message:
                query = {"index": index, "size": size}
                if not sees:
                    with pytest.raises(HubClientError) as caught:
                        await client.get("/v1/audit/proof/inclusion", api.InclusionProof, **query)
                    assert (caught.value.status, caught.value.code) == (404, "log.not_found")
                    continue
                proof = await client.get("/v1/audit/proof/inclusion", api.InclusionProof, **query)
                assert json.loads(b64d(proof.entry))["subject"] == mid
            assert (await client.get(
                "/v1/audit/proof/inclusion", api.InclusionProof, index=enrolment, size=size
            )).index == enrolment  # fmt: skip
