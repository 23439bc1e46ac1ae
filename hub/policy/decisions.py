"""What an envelope may carry and whom it may reach: the content checks of a submission, raising
on refusal. Who may submit at all (status, country, role, impersonation) is decided by
:func:`hub.policy.authorize.authorize`, which :func:`check_can_send` asks first; every other
decision (reading, receipts, auditing, administration, the console) is made there too.

Every refusal has a stable code and a reason in plain words for the participant who asked:

=============================  ================  ================================================
code                           error             when
=============================  ================  ================================================
``sender.impersonation``       Forbidden         the header's ``from`` is not the signer
``participant.suspended``      Forbidden         the sender is suspended
``participant.revoked``        Forbidden         the sender is neither active nor suspended
``country.suspended``          Forbidden         the sender's country is suspended by the policy
``policy.kind_not_allowed``    Forbidden         the sender's role may not send this kind
``envelope.not_yet_valid``     InvalidRequest    ``iat`` is further ahead than the clock skew
``envelope.expired``           InvalidRequest    ``exp`` is not after now
``envelope.ttl_too_long``      InvalidRequest    ``exp - iat`` is longer than ``max_ttl_days``
``policy.too_many_recipients`` Forbidden         more recipients than ``max_recipients``
``policy.group_not_allowed``   Forbidden         the sender's role may not address groups
``policy.red_to_group``        Forbidden         TLP:RED addressed to a group
``group.mismatch``             InvalidRequest    recipients are not the group's current members
``recipient.unknown``          InvalidRequest    a recipient is not enrolled
``recipient.inactive``         Forbidden         a recipient (or its country) is suspended/revoked
``recipient.role``             Forbidden         a recipient is an auditor or an admin
``recipient.stale_key``        InvalidRequest    a recipient key is not its current one
``policy.seizure_needs_wco``   Forbidden         a seizure reaches no WCO participant (a WCO
                                                 sender counts as one)
=============================  ================  ================================================

``InvalidRequest`` is for input that is simply wrong and that the sender can fix by itself
(refresh the directory or the group, fix its clock); ``Forbidden`` for what the policy does not
allow this sender. Ids named in a reason are the ones the sender itself put in its header.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import Forbidden, InvalidRequest
from pgs_hub.hub.policy.authorize import Action, Submission, authorize
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.policy.model import Policy
from pgs_hub.protocols.certificates import Role
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.routing import RoutingHeader

__all__ = ["check_can_send"]

_RECEIVING_ROLES = frozenset({Role.NCP, Role.WCO})
_SHOWN = 5


def _few(ids: Iterable[str]) -> str:
    """At most five ids, then how many more: ``"A, B, C, D, E and 3 more"``."""
    items = list(ids)
    shown = ", ".join(items[:_SHOWN])
    return f"{shown} and {len(items) - _SHOWN} more" if len(items) > _SHOWN else shown


# --- sending -------------------------------------------------------------------------------------


def _check_sender(policy: Policy, sender: Member, header: RoutingHeader) -> None:
    authorize(policy, sender, Action.SUBMIT, Submission(header.sender.id, header.kind))


def _check_times(policy: Policy, header: RoutingHeader, now: int) -> None:
    limits = policy.limits
    if header.iat > now + limits.clock_skew_seconds:
        raise InvalidRequest(
            f"the envelope's iat is more than {limits.clock_skew_seconds} seconds ahead of the"
            " hub's clock: check the sender's clock",
            code=Code.ENVELOPE_NOT_YET_VALID,
        )
    if header.exp <= now:
        raise InvalidRequest("the envelope has expired (exp is past)", code=Code.ENVELOPE_EXPIRED)
    if header.exp - header.iat > limits.max_ttl_seconds:
        raise InvalidRequest(
            f"the envelope may live at most {limits.max_ttl_days} days (exp - iat)",
            code=Code.ENVELOPE_TTL_TOO_LONG,
        )


def _check_group(
    policy: Policy,
    sender: Member,
    header: RoutingHeader,
    group: str,
    group_members: Sequence[Member] | None,
) -> None:
    if not policy.may_address_groups(sender.role):
        raise Forbidden(
            f"a participant of role {sender.role} may not address a group",
            code=Code.POLICY_GROUP_NOT_ALLOWED,
        )
    if header.tlp is Tlp.RED and policy.rules.red_only_to_named:
        raise Forbidden(
            "TLP:RED goes only to named participants, never to a group",
            code=Code.POLICY_RED_TO_GROUP,
        )
    if group_members is None:
        raise ValueError("the caller must resolve the group's members before checking")
    # The sender may, but need not, be among the recipients of a group it belongs to.
    expected = {m.id: m.enc_kid for m in group_members if m.id != sender.id}
    given = {a.id: a.kid for a in header.to if a.id != sender.id}
    missing = sorted(expected.keys() - given.keys())
    extra = sorted(given.keys() - expected.keys())
    stale = sorted(pid for pid in expected.keys() & given.keys() if expected[pid] != given[pid])
    if not (missing or extra or stale):
        return
    parts = []
    if missing:
        parts.append(f"missing {len(missing)}: {_few(missing)}")
    if extra:
        parts.append(f"not members {len(extra)}: {_few(extra)}")
    if stale:
        parts.append(f"not the current key of {len(stale)}: {_few(stale)}")
    raise InvalidRequest(
        f"the recipients are not exactly the current members of group {group}"
        f" ({len(expected)} members, {len(given)} recipients): "
        + "; ".join(parts)
        + ". Fetch the group again and re-encrypt",
        code=Code.GROUP_MISMATCH,
    )


def _check_recipients(
    policy: Policy, header: RoutingHeader, recipients: Sequence[Member | None]
) -> list[Member]:
    pairs = list(zip(header.to, recipients, strict=True))
    for addressee, member in pairs:
        if member is not None and member.id != addressee.id:
            raise ValueError("recipients must be given in the header's order")
    unknown = [a.id for a, m in pairs if m is None]
    if unknown:
        raise InvalidRequest(
            f"no participant is enrolled as {_few(unknown)}", code=Code.RECIPIENT_UNKNOWN
        )
    found = [m for _, m in pairs if m is not None]
    inactive = [m.id for m in found if not m.active or policy.is_suspended(m.country)]
    if inactive:
        raise Forbidden(
            f"these recipients are suspended or revoked: {_few(inactive)}",
            code=Code.RECIPIENT_INACTIVE,
        )
    silent = [m.id for m in found if m.role not in _RECEIVING_ROLES]
    if silent:
        raise Forbidden(
            f"auditors and admins never receive messages: {_few(silent)}", code=Code.RECIPIENT_ROLE
        )
    stale = [a.id for a, m in pairs if m is not None and a.kid != m.enc_kid]
    if stale:
        raise InvalidRequest(
            f"the key used is not the current encryption key of {_few(stale)}: fetch their"
            " certificates again and re-encrypt",
            code=Code.RECIPIENT_STALE_KEY,
        )
    return found


def check_can_send(  # noqa: PLR0917 - called positionally by the submission service
    policy: Policy,
    sender: Member,
    header: RoutingHeader,
    recipients: Sequence[Member | None],
    group_members: Sequence[Member] | None,
    now: int,
) -> None:
    """Raise unless ``sender`` may submit an envelope with ``header`` now.

    ``sender`` is the participant whose current signing key signed the envelope; ``recipients``
    are the participants named in ``header.to``, in the same order, ``None`` for an id nobody is
    enrolled as; ``group_members`` are the current members of ``header.grp`` (from
    :func:`hub.policy.groups.members`) when the header names a group. The recipients of a group
    message must be exactly those members, each with its current key; a sender that is itself a
    member may include itself or not.
    """
    _check_sender(policy, sender, header)
    _check_times(policy, header, now)
    if len(header.to) > policy.limits.max_recipients:
        raise Forbidden(
            f"an envelope may have at most {policy.limits.max_recipients} recipients",
            code=Code.POLICY_TOO_MANY_RECIPIENTS,
        )
    if header.grp is not None:
        _check_group(policy, sender, header, header.grp, group_members)
    found = _check_recipients(policy, header, recipients)
    if (
        header.kind is MessageKind.SEIZURE
        and policy.rules.seizure_requires_wco
        and sender.role != Role.WCO
        and not any(m.role == Role.WCO for m in found)
    ):
        raise Forbidden(
            "a seizure report must also be addressed to a WCO participant",
            code=Code.POLICY_SEIZURE_NEEDS_WCO,
        )
