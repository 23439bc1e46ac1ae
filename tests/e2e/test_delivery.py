"""End to end over real sockets, on SQLite and PostgreSQL: send, receive, ack, status, stream with
reconnect, broadcast to a region, idempotent resubmission, rotation and revocation."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from pathlib import Path

import aiohttp
import pytest

from pgs_hub.crypto.errors import NotARecipientError
from pgs_hub.hub import keystore
from pgs_hub.hub.client import HubClientError, TrustError
from pgs_hub.hub.enrolment import certify
from pgs_hub.protocols.envelope import open_message, seal_message, verify_message
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.receipt import ReceiptStatus
from tests.e2e.harness import RunningHub, launched
from tests.e2e.messages import example

NG, GH, CM, FR, WCO = (
    "NG-NCP-LAGOS",
    "GH-NCP-ACCRA",
    "CM-NCP-DOUALA",
    "FR-NCP-PARIS",
    "WCO-PGS-BRUSSELS",
)
WAIT = 30.0  # a failure detector, not a measurement


async def world(hub: RunningHub) -> None:
    for pid in (NG, GH, CM, FR):
        await hub.enrol(pid, "ncp")
    await hub.enrol(WCO, "wco")


async def test_alert_is_delivered_read_and_acknowledged(hub: RunningHub) -> None:
    await world(hub)
    async with hub.client(NG) as ng, hub.client(GH) as gh, hub.client(WCO) as wco:
        sealed, accepted = await ng.send(
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH, WCO], tlp=Tlp.AMBER
        )
        assert accepted.recipients == [GH, WCO]
        for reader in (gh, wco):
            page = await reader.inbox()
            assert [i.mid for i in page.items] == [sealed.header.mid]
            assert page.items[0].wire()["from"] == NG
            opened = await reader.read(sealed.header.mid)
            assert opened.content == example(MessageKind.ALERT)
        await gh.ack(sealed.header.mid, ReceiptStatus.DELIVERED)
        await gh.ack(sealed.header.mid, ReceiptStatus.READ)
        status = await ng.status(sealed.header.mid)
        states = {r.id: r.state for r in status.recipients}
        assert states == {GH: "read", WCO: "queued"}
        receipts = [i for i in (await ng.inbox()).items if i.type == "receipt"]
        assert [(r.by, r.status) for r in receipts] == [(GH, "delivered"), (GH, "read")]


async def test_resubmission_is_idempotent_and_a_changed_envelope_conflicts(hub: RunningHub) -> None:
    await world(hub)
    async with hub.client(NG) as ng, hub.client(GH) as gh:
        key = await ng.recipient_key(GH)
        sealed = seal_message(
            sender_id=NG, signer=hub.people[NG].signing, recipients=[(GH, key)],
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), tlp=Tlp.GREEN,
            now=int(time.time()),
        )  # fmt: skip
        first = await ng.submit(sealed.raw)
        again = await ng.submit(sealed.raw)
        assert again == first
        other = seal_message(
            sender_id=NG, signer=hub.people[NG].signing, recipients=[(GH, key)],
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), tlp=Tlp.GREEN,
            now=sealed.header.iat, message_id=sealed.header.mid,
        )  # fmt: skip
        with pytest.raises(HubClientError) as caught:
            await ng.submit(other.raw)
        assert caught.value.status == 409
        assert caught.value.code == "envelope.id_conflict"
        assert len((await gh.inbox()).items) == 1


async def test_stream_resumes_after_a_reconnect_without_loss_or_repeat(hub: RunningHub) -> None:
    await world(hub)
    seen: list[int] = []
    async with hub.client(NG) as ng, hub.client(GH) as gh:

        async def send(n: int) -> list[str]:
            mids = []
            for _ in range(n):
                sealed, _ = await ng.send(
                    kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH]
                )
                mids.append(sealed.header.mid)
            return mids

        sent = await send(3)
        stream = gh.stream(0, reconnect=False)
        received = []
        async for item in stream:
            received.append(item.mid)
            seen.append(item.cursor)
            if len(received) == 2:
                break
        await stream.aclose()  # the connection drops after two items
        sent += await send(2)
        resumed = gh.stream(seen[-1], reconnect=False)
        async for item in resumed:
            received.append(item.mid)
            seen.append(item.cursor)
            if len(received) == 5:
                break
        await resumed.aclose()
        assert received == sent
        assert seen == sorted(set(seen))


async def test_the_hub_lets_go_of_a_stream_as_soon_as_its_client_goes(
    database_url: str, tmp_path: Path
) -> None:
    """A stream waiting for news stops when its client closes the connection, not at its next
    recheck (an hour here): the client's going wakes it (hub.server.stream)."""
    hour = {"recheck_seconds": 3600.0}
    async with (
        launched(tmp_path / "home", database_url, ncps=(NG, GH), stream=hour) as hub,
        hub.client(NG) as ng,
        hub.client(GH) as gh,
    ):
        await ng.send(kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH])
        stream = gh.stream(0, reconnect=False)
        async for _ in stream:
            break  # the item is here: the hub's stream now waits for news
        assert await open_streams(hub) == 1
        await stream.aclose()
        deadline = time.monotonic() + WAIT
        while await open_streams(hub) != 0:
            assert time.monotonic() < deadline, "the hub still holds the closed stream"
            await asyncio.sleep(0.05)


async def open_streams(hub: RunningHub) -> int:
    """The hub's own count of open streams (its ``pgs_websocket_connections`` gauge)."""
    async with aiohttp.ClientSession() as session, session.get(f"{hub.url}/metrics") as resp:
        text = await resp.text()
    found = re.search(r"^pgs_websocket_connections (\S+)$", text, re.M)
    assert found is not None, text
    return int(float(found.group(1)))


async def test_live_push_reaches_a_connected_recipient(hub: RunningHub) -> None:
    await world(hub)
    async with hub.client(NG) as ng, hub.client(GH) as gh:
        got: asyncio.Queue[dict[str, object]] = asyncio.Queue()

        async def listen() -> None:
            async for item in gh.stream(0):
                await got.put(item.wire())

        listener = asyncio.create_task(listen())
        await asyncio.sleep(0.3)  # connected and idle
        sealed, _ = await ng.send(
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH]
        )
        item = await asyncio.wait_for(got.get(), timeout=10)
        assert item["mid"] == sealed.header.mid
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener


async def test_wco_broadcast_to_west_and_central_africa(hub: RunningHub) -> None:
    await world(hub)
    async with hub.client(WCO) as wco:
        members = [m.id for m in await wco.group("WCA")]
        assert members == sorted([CM, GH, NG])
        sealed, accepted = await wco.send(
            kind=MessageKind.NOTICE, content=example(MessageKind.NOTICE), group="WCA", tlp=Tlp.GREEN
        )
        assert sorted(accepted.recipients) == sorted([CM, GH, NG])
    for pid in (NG, GH, CM):
        async with hub.client(pid) as member:
            opened = await member.read(sealed.header.mid)
            assert opened.header.grp == "WCA"
    async with hub.client(FR) as fr:
        assert (await fr.inbox()).items == []
        with pytest.raises(HubClientError) as caught:
            await fr.fetch(sealed.header.mid)
        assert caught.value.status == 404


async def test_a_recipient_list_that_is_not_the_group_is_refused(hub: RunningHub) -> None:
    await world(hub)
    async with hub.client(WCO) as wco:
        keys = [(pid, await wco.recipient_key(pid)) for pid in (NG, GH)]  # CM left out
        sealed = seal_message(
            sender_id=WCO, signer=hub.people[WCO].signing, recipients=keys,
            kind=MessageKind.NOTICE, content=example(MessageKind.NOTICE), tlp=Tlp.GREEN,
            now=int(time.time()), group="WCA",
        )  # fmt: skip
        with pytest.raises(HubClientError) as caught:
            await wco.submit(sealed.raw)
        assert caught.value.status == 422  # the sender can fix it: fetch the group again
        assert caught.value.code == "group.mismatch"
        assert CM in caught.value.problem["detail"]
    async with hub.client(NG) as ng:
        assert (await ng.inbox()).items == []


async def test_rotation_old_signing_key_refused_old_messages_still_open(hub: RunningHub) -> None:
    await world(hub)
    old_gh = hub.people[GH]
    async with hub.client(NG) as ng:
        before, _ = await ng.send(
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH]
        )
    new_gh = keystore.rotate(hub.home / "people" / GH, None)  # what `pgs key rotate` does
    assert [k.kid for k in new_gh.retired] == [old_gh.decryption.kid]
    certificate = certify(
        hub.authority,
        GH,
        role="ncp",
        verify=new_gh.signing.public,
        encrypt=new_gh.decryption.public,
        now=int(time.time()),
    )
    async with hub.client(hub.admin) as admin:
        await admin.rotate(GH, certificate)
    async with hub.client(old_gh) as stale:
        with pytest.raises(HubClientError) as caught:
            await stale.inbox()
        assert caught.value.status == 401
        assert caught.value.code == "auth.key_not_current"
    async with hub.client(NG) as ng:
        after, _ = await ng.send(
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH]
        )
    async with hub.client(new_gh) as gh:
        assert (await gh.read(after.header.mid)).header.to[0].kid == new_gh.decryption.kid
        # The older message was encrypted to the retired key, which the key folder kept.
        assert (await gh.read(before.header.mid)).header.to[0].kid == old_gh.decryption.kid
        raw = await gh.fetch(before.header.mid)
    with pytest.raises(NotARecipientError):  # the new key alone cannot open it
        open_message(verify_message(raw, hub.people[NG].signing.public), GH, new_gh.decryption)


async def test_revocation_takes_effect_at_once(hub: RunningHub) -> None:
    await world(hub)
    async with hub.client(hub.admin) as admin:
        await admin.set_status(CM, "revoke")
    async with hub.client(CM) as cm:
        with pytest.raises(HubClientError) as caught:
            await cm.inbox()
        assert caught.value.status == 401
    async with hub.client(NG) as ng:
        with pytest.raises(TrustError):
            await ng.recipient_key(CM)  # the client refuses a revoked recipient
        key = (await ng.participant(CM)).keys
        assert {k.state for k in key} == {"revoked"}
