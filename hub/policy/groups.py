"""Groups: named sets of participants a WCO desk may address at once.

Built-in groups:

* ``ALL`` — every active NCP participant;
* one per WCO region code (``AMC``, ``APC``, ``ESA``, ``EUR``, ``MENA``, ``WCA``) — the active
  NCP participants whose country is a member of that region (:mod:`protocols.codelists`).

Custom groups come from the policy (``[groups.NAME]``): the active NCPs of the listed countries,
plus participants listed by id, who may be NCP or WCO participants (an id that is not enrolled,
not active, or of another role is left out: auditors and admins never receive content).

Whoever is in a group must be able to receive a message now, so every group leaves out
participants that are not ``active``, participants of a suspended country, and participants with
no current encryption key. Membership is computed from the participants given, never stored: a
group always has its current members.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import NotFound
from pgs_hub.hub.policy.model import BUILTIN_ALL, Policy, builtin_group_names
from pgs_hub.protocols.certificates import Role

__all__ = [
    "ACTIVE",
    "REVOKED",
    "SUSPENDED",
    "Member",
    "UnknownGroup",
    "builtin_group_names",
    "group_names",
    "is_group",
    "members",
]

ACTIVE: Final = "active"
SUSPENDED: Final = "suspended"
REVOKED: Final = "revoked"

_NAME = re.compile(r"[A-Z][A-Z0-9-]{1,39}")


@dataclass(frozen=True)
class Member:
    """A participant as the policy sees it: who, where, what role, what state, which current key.

    ``role`` is a :class:`~protocols.certificates.Role` value and ``status`` one of ``active``,
    ``suspended``, ``revoked``; ``enc_kid`` is the current encryption key id (``""`` if none).
    """

    id: str
    country: str
    role: str
    scope: str | None
    status: str
    enc_kid: str

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


class UnknownGroup(NotFound):
    """No built-in or custom group has this name."""

    code = Code.GROUP_UNKNOWN


def group_names(policy: Policy) -> tuple[str, ...]:
    """Every group name: ``ALL``, the region codes, then the policy's own groups, each sorted."""
    builtin = sorted(builtin_group_names() - {BUILTIN_ALL})
    return (BUILTIN_ALL, *builtin, *sorted(policy.groups))


def is_group(policy: Policy, name: str) -> bool:
    return name in builtin_group_names() or name in policy.groups


def _reachable(policy: Policy, member: Member) -> bool:
    return member.active and bool(member.enc_kid) and not policy.is_suspended(member.country)


def _region_countries(code: str) -> frozenset[str]:
    from pgs_hub.protocols.codelists import members_of_region  # noqa: PLC0415 - loads on first use

    return frozenset(m.alpha2 for m in members_of_region(code))


def members(policy: Policy, name: str, participants: Iterable[Member]) -> tuple[Member, ...]:
    """The current members of group ``name`` among ``participants``, sorted by id.

    Raises :class:`UnknownGroup` when there is no such group.
    """
    reachable = [m for m in participants if _reachable(policy, m)]
    ncps = [m for m in reachable if m.role == Role.NCP]
    if name == BUILTIN_ALL:
        found = ncps
    elif name in builtin_group_names():
        countries = _region_countries(name)
        found = [m for m in ncps if m.country in countries]
    elif name in policy.groups:
        group = policy.groups[name]
        by_country = set(group.countries)
        by_id = set(group.participants)
        found = [
            m
            for m in reachable
            if (m.role == Role.NCP and m.country in by_country)
            or (m.id in by_id and m.role in {Role.NCP, Role.WCO})
        ]
    else:
        shown = f" {name}" if _NAME.fullmatch(name) else ""
        raise UnknownGroup(f"there is no group{shown}")
    unique = {m.id: m for m in found}
    return tuple(unique[pid] for pid in sorted(unique))
