"""``pgs inbox`` for people: subject (decrypted on this machine), read state, short ids."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from pgs_hub.hub.cli.common import out
from pgs_hub.hub.cli.mailstate import MailboxState, short_ids
from pgs_hub.hub.cli.render import kind_name, when
from pgs_hub.hub.i18n import Lang, resolve, t
from pgs_hub.protocols.messages.summary import subject_line

if TYPE_CHECKING:
    from pgs_hub.hub.client import HubClient
from pgs_hub.protocols.api import InboxPage

OPEN_CONCURRENCY = 8


async def _subjects(hub: HubClient, mids: list[str], lang: Lang) -> dict[str, str]:
    """Each message's subject, opened (verified and decrypted) here; a message that does not
    open says why instead."""
    from pgs_hub.crypto.errors import CryptoError
    from pgs_hub.hub.client import HubClientError, TrustError
    from pgs_hub.protocols.errors import ProtocolError

    gate = asyncio.Semaphore(OPEN_CONCURRENCY)

    async def one(mid: str) -> tuple[str, str]:
        async with gate:
            try:
                opened = await hub.read(mid)
            except (CryptoError, ProtocolError, HubClientError, TrustError) as exc:
                reason = str(getattr(exc, "code", type(exc).__name__))
                return mid, t("cli.inbox.unreadable", lang, reason=reason)
        return mid, subject_line(opened.content.model_dump(mode="json"), lang)

    return dict(await asyncio.gather(*(one(m) for m in dict.fromkeys(mids))))


async def print_inbox(
    hub: HubClient,
    page: InboxPage,
    key_folder: Path,
    after: int,
    *,
    full_ids: bool,
    subjects: bool,
) -> None:
    lang = resolve(None)
    items = page.items
    if not items:
        out.print(t("cli.inbox.empty", lang, after=after), markup=False)
        return
    state = MailboxState.load(key_folder, hub.base_url)
    ids = short_ids([i.mid for i in items])
    envelopes = [i.mid for i in items if i.type == "envelope"]
    found = await _subjects(hub, envelopes, lang) if subjects else {}
    columns = ["id", "state", "from", "kind", "subject", "when"]
    table = Table(
        *(t(f"cli.inbox.{c}", lang) for c in columns),
        title=t("cli.inbox.title", lang, who=hub.me.id if hub.me else "", n=len(items)),
    )
    for item in items:
        mid = item.mid
        shown = mid if full_ids else ids[mid]
        if item.type == "envelope":
            table.add_row(
                shown,
                t("cli.inbox.seen", lang) if state.is_read(mid) else t("cli.inbox.new", lang),
                item.sender,
                f"{kind_name(item.kind, lang)}  TLP:{item.tlp}",
                found.get(mid, ""),
                when(item.accepted_at),
            )
        else:
            status = t(f"cli.value.{item.status}", lang)
            table.add_row(
                shown,
                "",
                item.by,
                t("cli.inbox.receipt", lang),
                t("cli.inbox.receipt_subject", lang, status=status, by=item.by),
                when(item.at),
            )
    out.print(table)
    out.print(t("cli.inbox.next", lang, next=page.next), markup=False)
