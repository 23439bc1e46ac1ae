"""The hub process caches the directory; changes made by anything else on its database (another
worker, a tool writing to the database directly) are seen by its very next request."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pgs_hub.crypto.keys import SigningKey
from pgs_hub.hub.client import HubClientError
from pgs_hub.hub.enrolment import SYSTEM
from pgs_hub.hub.policy.model import load_policy
from pgs_hub.hub.services import admin
from pgs_hub.hub.services.context import HubContext, PolicyHolder
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.harness import RunningHub
from tests.e2e.messages import example

NG, GH, FR = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "FR-NCP-PARIS"


@pytest.fixture
async def outsider(hub: RunningHub) -> AsyncIterator[HubContext]:
    """Another process's view of the hub's database (as a second worker or a tool has it)."""
    engine = create_engine(hub.database_url)
    try:
        yield HubContext(
            engine=engine,
            policy=PolicyHolder(None, load_policy("", source="test policy")),
            authority=hub.authority.public,
            hub_key=SigningKey.generate(),
        )
    finally:
        await engine.dispose()


async def refused(hub: RunningHub, who: str) -> tuple[int, str]:
    async with hub.client(who) as client:
        with pytest.raises(HubClientError) as caught:
            await client.inbox()
    return caught.value.status, caught.value.code


async def test_status_changes_written_by_another_process_apply_at_once(
    hub: RunningHub, outsider: HubContext
) -> None:
    for pid in (NG, GH):
        await hub.enrol(pid, "ncp")
    async with hub.client(NG) as ng:
        await ng.inbox()  # the hub's cache now holds NG as active

    await admin.set_status(outsider, SYSTEM, NG, "suspend")
    assert await refused(hub, NG) == (403, "participant.suspended")

    await admin.set_status(outsider, SYSTEM, NG, "reinstate")
    async with hub.client(NG) as ng:
        await ng.inbox()

    await admin.set_status(outsider, SYSTEM, NG, "revoke")
    assert await refused(hub, NG) == (401, "auth.key_not_current")
    async with hub.client(GH) as gh:
        await gh.inbox()


async def test_a_new_participant_can_be_written_to_at_once(hub: RunningHub) -> None:
    for pid in (NG, GH):
        await hub.enrol(pid, "ncp")
    async with hub.client(NG) as ng:
        await ng.send(kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH])
    await hub.enrol(FR, "ncp")  # through the admin API
    async with hub.client(NG) as ng:
        sealed, accepted = await ng.send(
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[FR]
        )
    assert accepted.recipients == [FR]
    async with hub.client(FR) as fr:
        assert [i.mid for i in (await fr.inbox()).items] == [sealed.header.mid]
