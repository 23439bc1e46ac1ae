"""The log as C2SP tlog-tiles (docs/audit-log.md): the checkpoint, hash tiles and entry bundles.

Hash tiles are hashes of the tree only: any authenticated participant may read them, as it may
read the checkpoint and the consistency proofs. Entry bundles hold the entries themselves, 256
consecutive ones that involve any countries: only a global auditor may read them. A country-scoped
auditor is refused a bundle (it would show other countries' metadata, and a bundle with entries
left out would no longer hash to its tile) and reads its entries from ``/v1/audit/entries``,
which filters them, checking each by inclusion proof.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.crypto.errors import CryptoError
from pgs_hub.crypto.tiles import Tile, encode_bundle, encode_tile, parse_tile_path
from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import InvalidRequest, NotFound
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.services import auditlog
from pgs_hub.hub.services.access import Action, authorize
from pgs_hub.hub.services.context import HubContext
from pgs_hub.hub.storage import log


async def checkpoint(ctx: HubContext, reader: Member) -> bytes:
    """The latest checkpoint note with the witnesses' cosignatures (``<prefix>/checkpoint``)."""
    await authorize(ctx, reader, Action.LOG_READ)
    return (await auditlog.latest(ctx)).cosigned_note.encode("utf-8")


def _tile(path: str) -> Tile:
    try:
        return parse_tile_path(path)
    except CryptoError as exc:
        raise InvalidRequest(f"not a tile path: {exc}", code=Code.TILES_BAD_PATH) from None


async def _signed_size(conn: AsyncConnection) -> int:
    latest = await log.latest_checkpoint(conn)
    return 0 if latest is None else latest.size


async def tile(ctx: HubContext, reader: Member, path: str) -> bytes:
    """The bytes of ``tile/<path>``: a hash tile, or an entry bundle (global auditors only).

    Only tiles that the latest signed checkpoint's tree holds are served (full, or partial of
    the width that tree gives them); their content never changes once served.
    """
    wanted = _tile(path)
    if wanted.level is None:
        await authorize(ctx, reader, Action.LOG_BUNDLES, subject=path)
    else:
        await authorize(ctx, reader, Action.LOG_READ, subject=path)
    async with ctx.reader.connect() as conn:
        if not wanted.available_in(await _signed_size(conn)):
            raise NotFound("no such tile in the signed tree", code=Code.TILES_NOT_FOUND)
        begin = wanted.index * 256
        if wanted.level is None:
            found = await log.entries(conn, start=begin, end=begin + wanted.count)
            if [e.index for e in found] != list(range(begin, begin + wanted.count)):
                raise NotFound("entries of this bundle are missing", code=Code.TILES_NOT_FOUND)
            return encode_bundle(e.entry for e in found)
        nodes = wanted.nodes()
        hashes = await log.nodes(conn, nodes)
    if len(hashes) != len(nodes):
        raise NotFound("hashes of this tile are missing", code=Code.TILES_NOT_FOUND)
    return encode_tile([hashes[node] for node in nodes])
