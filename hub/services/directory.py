"""The directory clients encrypt from: participants, their certificates and key states, groups.

Clients must verify each certificate against the pinned registry-authority key before encrypting;
the hub serves certificates but cannot mint them.
"""

from __future__ import annotations

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import NotFound
from pgs_hub.hub.policy.authorize import Action
from pgs_hub.hub.policy.groups import Member, group_names, members
from pgs_hub.hub.services.access import authorize
from pgs_hub.hub.services.context import HubContext
from pgs_hub.hub.storage import participants as store
from pgs_hub.protocols import api


def _entry(row: store.ParticipantRow, keys: list[store.KeyRow]) -> api.Participant:
    current = [k for k in keys if k.state == "current"]
    return api.Participant(
        id=row.id,
        country=row.country,
        role=row.role,
        scope=row.scope,
        status=row.status,
        certificate=current[0].certificate if current else None,
        keys=[
            api.KeyEntry(kid=k.kid, use=k.use, state=k.state, certificate=k.certificate)
            for k in keys
        ],
    )


async def listing(ctx: HubContext, reader: Member) -> api.Directory:
    await authorize(ctx, reader, Action.DIRECTORY)
    async with ctx.reader.connect() as conn:
        rows = await store.list_participants(conn)
        entries = [_entry(r, await store.keys_of(conn, r.id)) for r in rows]
    return api.Directory(participants=entries)


async def entry(ctx: HubContext, reader: Member, participant: str) -> api.Participant:
    await authorize(ctx, reader, Action.DIRECTORY)
    async with ctx.reader.connect() as conn:
        row = await store.get_participant(conn, participant)
        if row is None:
            raise NotFound("no such participant", code=Code.PARTICIPANT_NOT_FOUND)
        return _entry(row, await store.keys_of(conn, participant))


async def groups(ctx: HubContext, reader: Member) -> api.Groups:
    await authorize(ctx, reader, Action.DIRECTORY)
    return api.Groups(groups=list(group_names(ctx.policy.current)))


async def group(ctx: HubContext, reader: Member, name: str) -> api.Group:
    await authorize(ctx, reader, Action.DIRECTORY)
    async with ctx.reader.connect() as conn:
        everyone = await ctx.directory.members(conn)
    found = members(ctx.policy.current, name, everyone.values())
    return api.Group(
        name=name, members=[api.GroupMember(id=m.id, enc_kid=m.enc_kid) for m in found]
    )
