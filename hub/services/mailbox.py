"""What a participant may list and fetch: its mailbox (envelopes addressed to it, receipts for
envelopes it sent), single envelopes, and the delivery state of what it sent.

Visibility failures raise exactly the error a missing object raises, so nobody can learn whether a
message id exists by asking for it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import AuthenticationError, Gone, HubError
from pgs_hub.hub.policy.authorize import Action, Envelope, envelope_not_found
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.services.access import authorize
from pgs_hub.hub.services.context import HubContext
from pgs_hub.hub.settings import DEFAULTS
from pgs_hub.hub.storage import envelopes, mailbox
from pgs_hub.protocols import api

__all__ = [
    "MAX_PAGE",
    "Page",
    "envelope_not_found",
    "fetch",
    "inbox",
    "item_json",
    "open_stream",
    "status",
    "stream_page",
]

MAX_PAGE = DEFAULTS.inbox_page_max  # the hub's own: ctx.settings.inbox_page_max
# What a message id nobody holds is, to the policy: an envelope with no parties. Asking the policy
# about it refuses it with the very error (and the same denial record) a hidden envelope gets.
_NOBODY = Envelope(sender="", recipients=frozenset())


def item_json(item: mailbox.MailboxItem) -> api.EnvelopeItem | api.ReceiptItem:
    """The API form of a mailbox item (inbox pages and WebSocket frames share it)."""
    if item.item == "envelope":
        return api.EnvelopeItem(
            cursor=item.cursor,
            type="envelope",
            mid=item.mid,
            sender=item.sender_id,
            kind=item.kind,
            tlp=item.tlp,
            group=item.grp,
            size=item.size,
            envelope_sha256=b64u_encode(item.sha256),
            iat=item.iat,
            exp=item.exp,
            accepted_at=item.accepted_at,
        )
    by, status, at, raw = item.receipt_by, item.receipt_status, item.receipt_at, item.receipt_raw
    if by is None or status is None or at is None or raw is None:  # pragma: no cover - joined
        raise RuntimeError(f"mailbox item {item.cursor} names no receipt")
    return api.ReceiptItem(
        cursor=item.cursor, type="receipt", mid=item.mid, by=by, status=status, at=at, receipt=raw
    )


@dataclass(frozen=True)
class Page:
    items: list[api.EnvelopeItem | api.ReceiptItem]
    next_cursor: int

    def to_api(self) -> api.InboxPage:
        return api.InboxPage(items=self.items, next=self.next_cursor)


async def inbox(ctx: HubContext, reader: Member, after: int, limit: int) -> Page:
    """The reader's mailbox items after cursor ``after``."""
    await authorize(ctx, reader, Action.MAILBOX)
    limit = max(1, min(limit, ctx.settings.inbox_page_max))
    async with ctx.reader.connect() as conn:
        items = await mailbox.items_after(conn, reader.id, after, limit)
    return Page([item_json(i) for i in items], items[-1].cursor if items else after)


async def open_stream(ctx: HubContext, reader: Member) -> None:
    """Whether ``reader`` may open its WebSocket stream: asked before the upgrade, so a refusal
    is an HTTP problem (403), not a stream that opens and closes."""
    await authorize(ctx, reader, Action.MAILBOX)


async def stream_page(ctx: HubContext, participant: str, after: int, limit: int) -> Page:
    """:func:`inbox` for an open WebSocket stream: the participant is read again from the
    directory (one version read when nothing changed) and the policy asked again on every page,
    so a suspension, a revocation or a suspended country stops an open stream at its next wake-up
    (the admin service and a policy reload wake the streams concerned at once).

    The streams woken together (a broadcast wakes all its recipients') are answered together
    (:class:`~hub.services.coalesce.Coalescer`): one connection, one directory read and one
    query for all of them (:func:`hub.storage.mailbox.items_after_each`), each stream's page
    still decided by the policy for its own participant.
    """
    page: Page = await ctx.stream_pages.get(
        (participant, after, max(1, min(limit, MAX_PAGE))), functools.partial(_stream_pages, ctx)
    )
    return page


async def _stream_pages(
    ctx: HubContext, requests: Sequence[tuple[str, int, int]]
) -> list[Page | Exception]:
    """The pages of :func:`stream_page` for ``requests`` (participant, after, limit)."""
    answers: list[Page | Exception] = []
    async with ctx.reader.connect() as conn:
        members = await ctx.directory.members(conn)
        allowed: dict[int, Member] = {}
        for n, (participant, _, _) in enumerate(requests):
            reader = members.get(participant)
            if reader is None:  # pragma: no cover - participants are never deleted
                answers.append(
                    AuthenticationError(
                        "this participant is no longer enrolled", code=Code.AUTH_REVOKED
                    )
                )
                continue
            try:
                await authorize(ctx, reader, Action.MAILBOX)
            except HubError as exc:
                answers.append(exc)
                continue
            allowed[n] = reader
            answers.append(_EMPTY)
        # One statement per distinct limit (the streams all ask for a page of the same size).
        for limit in {requests[n][2] for n in allowed}:
            wanted = [n for n in allowed if requests[n][2] == limit]
            lowest: dict[str, int] = {}
            for n in wanted:
                participant, after, _ = requests[n]
                lowest[participant] = min(after, lowest.get(participant, after))
            found = await mailbox.items_after_each(conn, lowest, limit)
            for n in wanted:
                participant, after, _ = requests[n]
                rows = found.get(participant, [])
                items = [i for i in rows if i.cursor > after]
                if len(rows) == limit and len(items) < limit:
                    # Two streams of one participant at different cursors: the page read for the
                    # lower one may stop short of this one's; read this one's alone.
                    items = await mailbox.items_after(conn, participant, after, limit)
                answers[n] = Page(
                    [item_json(i) for i in items], items[-1].cursor if items else after
                )
    return answers


_EMPTY = Page([], 0)


def _parties(row: envelopes.EnvelopeRow | None, recipients: set[str]) -> Envelope:
    return _NOBODY if row is None else Envelope(row.sender_id, frozenset(recipients))


async def fetch(ctx: HubContext, reader: Member, mid: str) -> bytes:
    """The exact envelope bytes, for its sender and its recipients only.

    A missing envelope and a hidden one take the same path: the same two reads (the deliveries are
    read for a missing envelope too, under a sequence number no envelope has), the same policy
    decision, the same denial record, the same error.
    """
    async with ctx.reader.connect() as conn:
        row = await envelopes.envelope_by_mid(conn, mid)
        deliveries = await envelopes.deliveries_of(conn, row.seq if row and row.seq else 0)
    resource = _parties(row, {d.recipient_id for d in deliveries})
    await authorize(ctx, reader, Action.FETCH, resource, subject=mid)
    if row is None:  # pragma: no cover - the policy refused it above
        raise envelope_not_found()
    if row.purged_at is not None:
        raise Gone(
            "this message's body was removed after every recipient had received it (retention); "
            "its metadata and audit-log entry remain",
            code=Code.ENVELOPE_PURGED,
        )
    return row.raw


async def status(ctx: HubContext, reader: Member, mid: str) -> api.DeliveryState:
    """Per-recipient delivery state, for the sender (same path for missing and hidden)."""
    async with ctx.reader.connect() as conn:
        row = await envelopes.envelope_by_mid(conn, mid)
        deliveries = await envelopes.deliveries_of(conn, row.seq if row and row.seq else 0)
    resource = _parties(row, {d.recipient_id for d in deliveries})
    await authorize(ctx, reader, Action.STATUS, resource, subject=mid)
    if row is None:  # pragma: no cover - the policy refused it above
        raise envelope_not_found()
    return api.DeliveryState(
        mid=mid,
        accepted_at=row.accepted_at,
        exp=row.exp,
        recipients=[
            api.RecipientState(
                id=d.recipient_id, state=d.state, delivered_at=d.delivered_at, read_at=d.read_at
            )
            for d in deliveries
        ],
    )
