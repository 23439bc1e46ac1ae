"""The services' door to the policy: every authorization decision goes through :func:`authorize`
here, which asks the one policy function (:func:`hub.policy.authorize.authorize`), counts the
decision (``pgs_policy_decisions_total`` by action and outcome) and, on a refusal, puts it on the
record with :func:`hub.services.audit.record_denial` before raising.

Handlers, the console and the stream never decide: they call a service function, which calls
this. The count is also how ``tests/hub/test_every_route_decides.py`` proves that no route reaches
data without a decision.
"""

from __future__ import annotations

from typing import Final

from pgs_hub.hub.errors import HubError
from pgs_hub.hub.policy.authorize import Action, Grant, Resource
from pgs_hub.hub.policy.authorize import authorize as policy_authorize
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.services.audit import record_denial
from pgs_hub.hub.services.context import HubContext

__all__ = ["DECISIONS", "Action", "Grant", "authorize", "decide"]

DECISIONS: Final = "pgs_policy_decisions_total"


def decide(ctx: HubContext, actor: Member, action: Action, resource: Resource = None) -> Grant:
    """Ask the policy and count the answer; raises the policy's refusal without recording it
    (for callers that record it themselves, such as the submission service)."""
    try:
        grant = policy_authorize(ctx.policy.current, actor, action, resource)
    except HubError as exc:
        ctx.metrics.inc(DECISIONS, action=action.value, outcome=exc.code)
        raise
    ctx.metrics.inc(DECISIONS, action=action.value, outcome="allowed")
    return grant


async def authorize(
    ctx: HubContext,
    actor: Member,
    action: Action,
    resource: Resource = None,
    *,
    subject: str | None = None,
) -> Grant:
    """:func:`decide`, and a refusal recorded as a denial (``subject``: what was asked for)."""
    try:
        return decide(ctx, actor, action, resource)
    except HubError as exc:
        await record_denial(ctx, actor=actor, action=action.value, reason=exc.code, subject=subject)
        raise
