"""A small world of participants for the policy tests: four countries in two WCO regions, WCO
staff, auditors, an admin, and participants in every state the policy must refuse.

Key ids are derived from names (a participant's key number ``n`` hashes ``"id/n"``), so a test can
name a participant's current key (``n = 0``) or an older one without generating keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.policy.model import Policy
from pgs_hub.protocols.routing import RoutingHeader

NOW = 1_767_225_600
DAY = 24 * 3600
MID = "0b7e3a52-8f1d-4c2e-9a6b-5d4c3b2a1f0e"


def kid(participant: str, n: int = 0) -> str:
    """The ``n``-th encryption key id of ``participant`` (0 is the current one)."""
    return b64u_encode(hashlib.sha256(f"{participant}/{n}".encode()).digest())


def _member(
    pid: str,
    role: str = "ncp",
    *,
    status: str = "active",
    scope: str | None = None,
    key: bool = True,
) -> Member:
    return Member(
        id=pid,
        country=pid.split("-", 1)[0],
        role=role,
        scope=scope,
        status=status,
        enc_kid=kid(pid) if key else "",
    )


PEOPLE: tuple[Member, ...] = (
    _member("NG-NCP-LAGOS"),
    _member("NG-NCP-ABUJA"),
    _member("GH-NCP-ACCRA"),
    _member("CM-NCP-DOUALA"),
    _member("FR-NCP-PARIS"),
    _member("WCO-PGS", "wco"),
    _member("WCO-AUDIT", "auditor"),
    _member("CM-AUDIT", "auditor", scope="CM"),
    _member("WCO-ADMIN", "admin"),
    _member("GH-NCP-TEMA", status="suspended"),
    _member("NG-NCP-OLD", status="revoked"),
    _member("SN-NCP-DAKAR", key=False),  # enrolled, but no current encryption key
)


@dataclass(frozen=True)
class World:
    """The participants, and builders for headers addressed among them."""

    people: Mapping[str, Member] = field(default_factory=lambda: {m.id: m for m in PEOPLE})
    now: int = NOW

    def __getitem__(self, pid: str) -> Member:
        return self.people[pid]

    def everyone(self) -> Iterable[Member]:
        return self.people.values()

    def header(
        self,
        sender: str,
        to: Sequence[str],
        *,
        kind: str = "alert",
        tlp: str = "AMBER",
        grp: str | None = None,
        iat: int = NOW,
        exp: int | None = None,
        kids: Mapping[str, str] | None = None,
    ) -> RoutingHeader:
        """A valid routing header; ``kids`` overrides the (current) key used for some recipients."""
        keys = kids or {}
        return RoutingHeader.model_validate(
            {
                "mid": MID,
                "from": {"id": sender, "kid": kid(f"sig:{sender}")},
                "to": [{"id": pid, "kid": keys.get(pid, kid(pid))} for pid in to],
                "kind": kind,
                "iat": iat,
                "exp": exp if exp is not None else iat + DAY,
                "tlp": tlp,
                "grp": grp,
            }
        )

    def recipients(self, header: RoutingHeader) -> list[Member | None]:
        """What the hub would look up for ``header.to``: a member, or None if nobody is enrolled."""
        return [self.people.get(a.id) for a in header.to]


def _merged(base: Any, changes: Any) -> Any:
    if isinstance(base, dict) and isinstance(changes, dict):
        return {**base, **{k: _merged(base.get(k), v) for k, v in changes.items()}}
    return changes


def with_changes(base: Policy, **changes: Any) -> Policy:
    """``base`` with some values replaced (tables merged at every depth), validated again."""
    return Policy.model_validate(_merged(base.model_dump(), changes))
