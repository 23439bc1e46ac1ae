"""Audit records written outside the main transaction: denials (nothing else is stored for them).

Until the audit-log issue turns ``audit_records`` into a Merkle log, this is a plain append-only
table. Records hold metadata only: who, what action, why refused — never content or secrets.
"""

from __future__ import annotations

from hub.policy.groups import Member
from hub.services.context import HubContext
from hub.storage import audit


async def record_denial(
    ctx: HubContext, *, actor: Member, action: str, reason: str, subject: str | None = None
) -> None:
    async with ctx.engine.begin() as conn:
        await audit.append_record(
            conn,
            at=ctx.now(),
            event="access.denied",
            actor=actor.id,
            subject=subject,
            country=actor.country,
            details={"action": action, "reason": reason},
        )
