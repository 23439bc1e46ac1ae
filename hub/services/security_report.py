"""What auditors read of the security events (``GET /v1/audit/security-events``, ``pgs audit
events``, the console's "Security events" page): the refusals counted per actor, reason and
minute, asked of the policy like every other read (an auditor only; a country-scoped auditor only
its country's participants' events)."""

from __future__ import annotations

from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.services.access import Action, authorize
from pgs_hub.hub.services.context import HubContext
from pgs_hub.hub.services.security_events import WINDOW_SECONDS
from pgs_hub.hub.storage import security_events as store
from pgs_hub.protocols import api


async def security_events(ctx: HubContext, reader: Member, since: int) -> api.SecurityEvents:
    """The security events of windows starting at or after ``since`` that ``reader`` may see:
    an auditor only; a country-scoped auditor only its country's participants' events."""
    scope = (await authorize(ctx, reader, Action.AUDIT)).country
    await ctx.security_events.flush()  # this process's tallies; other workers' within seconds
    since = max(since, ctx.now() - ctx.settings.security_events_max_age)
    async with ctx.reader.connect() as conn:
        rows = await store.list_counts(conn, country=scope, since=since)
    return api.SecurityEvents(
        scope=scope,
        since=since,
        window_seconds=WINDOW_SECONDS,
        events=[api.SecurityEvent.model_validate(row.to_json()) for row in rows],
    )
