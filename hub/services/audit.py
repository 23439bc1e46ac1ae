"""Refusals on the record: denials are security events (hub.services.security_events), counted
per actor, reason and minute, and never appended to the transparency log one by one.

Records hold metadata only: who, what action, why refused — never content or secrets (the
``subject``, a message id say, is not kept: it would make every refusal a row of its own).
"""

from __future__ import annotations

from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.services.context import HubContext


async def record_denial(
    ctx: HubContext, *, actor: Member, action: str, reason: str, subject: str | None = None
) -> None:
    """Record that ``actor`` was refused ``action`` for ``reason`` (a stable problem code)."""
    del subject  # kept in the signature for callers; never stored (see the module docs)
    ctx.security_events.record(
        actor=actor.id, actor_kind="participant", country=actor.country, code=reason,
        action=action,
    )  # fmt: skip
    ctx.metrics.inc("pgs_security_events_total", code=reason)


def record_refusal(
    ctx: HubContext, *, actor: Member | None, address: str, action: str, code: str
) -> None:
    """Record a refusal made at the HTTP edge: by ``actor`` if the request was authenticated,
    else by the remote ``address``."""
    if actor is not None:
        ctx.security_events.record(
            actor=actor.id, actor_kind="participant", country=actor.country, code=code,
            action=action,
        )  # fmt: skip
    else:
        ctx.security_events.record(
            actor=address, actor_kind="address", country=None, code=code, action=action
        )
    ctx.metrics.inc("pgs_security_events_total", code=code)
