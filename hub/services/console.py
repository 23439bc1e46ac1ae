"""The web console's services: what each page shows, for whom, read through the same policy
function as the API (:func:`hub.services.access.authorize`) and gathered read-only from
:mod:`hub.storage.stats`. The console (``hub/console/``) parses, calls one of these and renders;
it never looks at a role or a status itself.

Who sees what (decided by :mod:`hub.policy.authorize`, the ``console.*`` actions):

==============================  ==========================================================
reader                          pages and data
==============================  ==========================================================
WCO participant                 traffic, log, audit, directory; every country
auditor, global (WCO, no scope) traffic, log, audit, directory, security events; every country
auditor, country-scoped         the same pages; messages (and security events) of its country
NCP                             log (messages it sent or received, and of each only its
                                own delivery state unless it is the sender), directory
admin                           audit, directory
==============================  ==========================================================

A participant that is suspended, revoked or of a suspended country is refused every page, its
console session included (:func:`sign_in` is asked again on every request).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pgs_hub.crypto.errors import CryptoError, ProofError
from pgs_hub.crypto.merkle import consistency_plan, verify_consistency
from pgs_hub.crypto.note import NoteVerifier, verify_checkpoint
from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import Forbidden
from pgs_hub.hub.policy.authorize import CONSOLE_PAGES, Action, Envelope, Grant, allowed
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.services.access import authorize
from pgs_hub.hub.services.context import HubContext
from pgs_hub.hub.storage import log as log_store
from pgs_hub.hub.storage import stats as store
from pgs_hub.protocols.codelists import wco_members, wco_regions

TRAFFIC, LOG, AUDIT, DIRECTORY, SECURITY = "traffic", "log", "audit", "directory", "security"
PAGES = (TRAFFIC, LOG, AUDIT, DIRECTORY, SECURITY)
_ACTIONS = dict(zip(PAGES, CONSOLE_PAGES, strict=True))
#: What the directory page lists, one row per participant (the console renders it).
ParticipantRow = store.ParticipantRow
PAGE_SIZE = 25
CSV_MAX_ROWS = 10_000
HISTORY = 20


@dataclass(frozen=True)
class Viewer:
    """A signed-in participant and the pages the policy lets it open (for the navigation; each
    page's service function asks the policy again)."""

    member: Member
    pages: tuple[str, ...]
    country: str | None = None  # only messages involving this country
    participant: str | None = None  # only messages this participant sent or received

    def require(self, page: str) -> None:
        if page not in self.pages:
            raise Forbidden("this page is not for this participant", code=Code.CONSOLE_FORBIDDEN)


async def sign_in(ctx: HubContext, member: Member) -> Viewer:
    """The console view of ``member``, if the policy lets it sign in (a link, a session, each
    request); raises ``participant.suspended``, ``country.suspended``, ``console.forbidden``..."""
    grant = await authorize(ctx, member, Action.CONSOLE_SIGN_IN)
    policy = ctx.policy.current
    pages = tuple(p for p in PAGES if allowed(policy, member, _ACTIONS[p]))
    return Viewer(member, pages, country=grant.country, participant=grant.participant)


@dataclass(frozen=True)
class Query:
    """What the reader asked for (already parsed and validated)."""

    start: int
    end: int
    kind: str | None = None
    country: str | None = None
    participant: str | None = None
    mid: str | None = None


def selection(grant: Grant, query: Query) -> store.Selection:
    """The reader's query narrowed to what the policy granted; another country's data is refused
    outright."""
    if grant.country is not None and query.country not in (None, grant.country):
        raise Forbidden("another country's data", code=Code.CONSOLE_OTHER_COUNTRY)
    return store.Selection(
        start=query.start,
        end=query.end,
        kind=query.kind,
        countries=tuple(c for c in (grant.country, query.country) if c is not None),
        participants=tuple(p for p in (grant.participant, query.participant) if p is not None),
        mid=query.mid,
    )


def region_of(country: str) -> str | None:
    member = wco_members().get(country)
    return member.region if member else None


@dataclass
class Traffic:
    days: list[int]
    per_day: dict[tuple[int, str], int]
    per_region: list[tuple[str, int]]  # region code ("" for none), messages
    pairs: list[tuple[str, str, int]]
    total: int
    undelivered: int
    expired: int
    median_seconds: float | None


async def traffic(ctx: HubContext, viewer: Viewer, query: Query) -> Traffic:
    sel = selection(await authorize(ctx, viewer.member, Action.CONSOLE_TRAFFIC), query)
    async with ctx.reader.connect() as conn:
        per_day = await store.per_day_and_kind(conn, sel)
        by_country = await store.per_sender_country(conn, sel)
        pairs = await store.country_pairs(conn, sel)
        states = await store.delivery_states(conn, sel)
        durations = await store.delivery_seconds(conn, sel)
    first, last = query.start // store.DAY, (query.end - 1) // store.DAY
    regions: Counter[str] = Counter()
    for country, n in by_country:
        regions[region_of(country) or ""] += n
    ordered = [(code, regions[code]) for code in wco_regions() if regions[code]]
    if regions[""]:
        ordered.append(("", regions[""]))
    return Traffic(
        days=list(range(first, last + 1)),
        per_day={(day, kind): n for day, kind, n in per_day},
        per_region=ordered,
        pairs=pairs,
        total=sum(n for _, _, n in per_day),
        undelivered=states.get("queued", 0),
        expired=states.get("expired", 0),
        median_seconds=statistics.median(durations) if durations else None,
    )


@dataclass
class LogPage:
    total: int
    offset: int
    rows: list[store.LogRow]
    deliveries: dict[int, list[store.DeliveryRow]] = field(default_factory=dict)


async def message_log(
    ctx: HubContext, viewer: Viewer, query: Query, *, offset: int, limit: int = PAGE_SIZE
) -> LogPage:
    sel = selection(await authorize(ctx, viewer.member, Action.CONSOLE_LOG), query)
    async with ctx.reader.connect() as conn:
        total = await store.count_messages(conn, sel)
        rows = await store.messages(conn, sel, offset=offset, limit=limit)
        found = await store.deliveries_of(conn, [r.seq for r in rows])
    page = LogPage(total, offset, rows)
    for d in found:
        page.deliveries.setdefault(d.envelope_seq, []).append(d)
    # Whose delivery and read state the reader may see, row by row: a recipient only its own, the
    # sender every recipient's (the policy's delivery.read).
    policy = ctx.policy.current
    for row in rows:
        listed = page.deliveries.get(row.seq, [])
        recipients = frozenset(d.recipient_id for d in listed)
        page.deliveries[row.seq] = [
            d
            for d in listed
            if allowed(
                policy,
                viewer.member,
                Action.DELIVERY,
                Envelope(row.sender_id, recipients, recipient=d.recipient_id),
            )
        ]
    return page


@dataclass(frozen=True)
class CheckedCheckpoint:
    row: store.CheckpointRow
    signature_ok: bool
    consistent_with_previous: bool | None  # None: the oldest shown


def checkpoint_signature_ok(note: str, verifier: NoteVerifier, origin: str) -> bool:
    try:
        verify_checkpoint(note.encode("utf-8"), verifier, origin=origin)
    except CryptoError:
        return False
    return True


async def checkpoint_history(ctx: HubContext, viewer: Viewer) -> list[CheckedCheckpoint]:
    """The newest checkpoints, each with its signature checked and a consistency proof (from the
    stored subtrees) verified against the next older one."""
    await authorize(ctx, viewer.member, Action.CONSOLE_AUDIT)
    verifier = NoteVerifier.for_key(ctx.log_origin, ctx.log_key.public)
    async with ctx.reader.connect() as conn:
        rows = await store.checkpoints(conn, HISTORY)
        checked: list[CheckedCheckpoint] = []
        for i, row in enumerate(rows):
            older = rows[i + 1] if i + 1 < len(rows) else None
            consistent: bool | None = None
            if older is not None:
                consistent = await _consistent(conn, older, row)
            checked.append(
                CheckedCheckpoint(
                    row, checkpoint_signature_ok(row.note, verifier, ctx.log_origin), consistent
                )
            )
    return checked


async def _consistent(conn: Any, older: store.CheckpointRow, newer: store.CheckpointRow) -> bool:
    if older.size == 0:
        return True
    plan = consistency_plan(older.size, newer.size)
    proof = plan.assemble(await log_store.nodes(conn, plan.nodes))
    try:
        verify_consistency(older.size, newer.size, proof, older.root, newer.root)
    except ProofError:
        return False
    return True


@dataclass
class Directory:
    participants: list[store.ParticipantRow]
    keys: dict[str, list[store.KeyRow]]
    events: list[store.KeyEvent]


async def directory(ctx: HubContext, viewer: Viewer) -> Directory:
    await authorize(ctx, viewer.member, Action.CONSOLE_DIRECTORY)
    async with ctx.reader.connect() as conn:
        people = await store.directory(conn)
        keys = await store.keys(conn)
        events = await store.key_events(conn)
    by_owner: dict[str, list[store.KeyRow]] = {}
    for key in keys:
        by_owner.setdefault(key.participant_id, []).append(key)
    return Directory(people, by_owner, events)
