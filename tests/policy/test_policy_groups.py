"""Groups: ALL, one per WCO region, and the policy's own; always the current reachable members."""

from __future__ import annotations

import pytest
from policy_world import PEOPLE, World, kid, with_changes

from pgs_hub.hub.errors import NotFound
from pgs_hub.hub.policy.groups import Member, UnknownGroup, group_names, is_group, members
from pgs_hub.hub.policy.model import Policy

WCA = ["CM-NCP-DOUALA", "GH-NCP-ACCRA", "NG-NCP-ABUJA", "NG-NCP-LAGOS"]


def ids(found: tuple[Member, ...]) -> list[str]:
    return [m.id for m in found]


def test_wca_holds_the_west_and_central_african_ncps(world: World, policy: Policy) -> None:
    found = members(policy, "WCA", world.everyone())
    assert ids(found) == WCA  # sorted by id
    assert {m.country for m in found} == {"NG", "GH", "CM"}
    assert "FR-NCP-PARIS" not in ids(found)


def test_eur_holds_france_only(world: World, policy: Policy) -> None:
    assert ids(members(policy, "EUR", world.everyone())) == ["FR-NCP-PARIS"]


def test_all_holds_every_reachable_ncp(world: World, policy: Policy) -> None:
    assert ids(members(policy, "ALL", world.everyone())) == sorted([*WCA, "FR-NCP-PARIS"])


@pytest.mark.parametrize(
    ("left_out", "why"),
    [
        ("WCO-PGS", "WCO staff are not NCPs"),
        ("WCO-AUDIT", "auditors never receive content"),
        ("CM-AUDIT", "a national auditor is not an NCP"),
        ("WCO-ADMIN", "admins never receive content"),
        ("GH-NCP-TEMA", "suspended"),
        ("NG-NCP-OLD", "revoked"),
        ("SN-NCP-DAKAR", "no current encryption key"),
    ],
)
def test_built_in_groups_leave_out(world: World, policy: Policy, left_out: str, why: str) -> None:
    for name in group_names(policy):
        assert left_out not in ids(members(policy, name, world.everyone())), why


def test_a_suspended_country_drops_out_of_every_group(world: World, policy: Policy) -> None:
    paused = with_changes(policy, suspended_countries=["GH"])
    assert ids(members(paused, "WCA", world.everyone())) == [
        "CM-NCP-DOUALA",
        "NG-NCP-ABUJA",
        "NG-NCP-LAGOS",
    ]


def test_every_region_is_a_group(policy: Policy) -> None:
    assert group_names(policy) == ("ALL", "AMC", "APC", "ESA", "EUR", "MENA", "WCA")
    for name in group_names(policy):
        assert is_group(policy, name)
    assert not is_group(policy, "OP-GATEWAY")


def test_a_region_with_no_participants_is_empty(world: World, policy: Policy) -> None:
    assert members(policy, "APC", world.everyone()) == ()


def test_membership_follows_the_participants_given(world: World, policy: Policy) -> None:
    """Computed, never stored: a newly enrolled Cameroonian NCP is a WCA member at once."""
    newcomer = Member("CM-NCP-KRIBI", "CM", "ncp", None, "active", kid("CM-NCP-KRIBI"))
    assert "CM-NCP-KRIBI" in ids(members(policy, "WCA", [*world.everyone(), newcomer]))
    rotated = Member("GH-NCP-ACCRA", "GH", "ncp", None, "active", kid("GH-NCP-ACCRA", 1))
    others = [m for m in PEOPLE if m.id != "GH-NCP-ACCRA"]
    found = {m.id: m for m in members(policy, "WCA", [*others, rotated])}
    assert found["GH-NCP-ACCRA"].enc_kid == kid("GH-NCP-ACCRA", 1)


def test_a_custom_group(world: World, policy: Policy) -> None:
    custom = with_changes(
        policy,
        groups={
            "OP-GATEWAY": {
                "description": "Operation Gateway: Gulf of Guinea ports",
                "countries": ["NG", "CM", "TG"],
                "participants": [
                    "WCO-PGS",  # staff added by id
                    "FR-NCP-PARIS",  # an NCP outside the countries
                    "NG-NCP-LAGOS",  # already in by country: listed once
                    "WCO-AUDIT",  # never: auditors do not receive content
                    "GH-NCP-TEMA",  # never: suspended
                    "BJ-NCP-COTONOU",  # not enrolled (yet): left out
                ],
            }
        },
    )
    assert group_names(custom)[-1] == "OP-GATEWAY"
    assert ids(members(custom, "OP-GATEWAY", world.everyone())) == [
        "CM-NCP-DOUALA",
        "FR-NCP-PARIS",
        "NG-NCP-ABUJA",
        "NG-NCP-LAGOS",
        "WCO-PGS",
    ]


def test_an_unknown_group(world: World, policy: Policy) -> None:
    with pytest.raises(UnknownGroup) as caught:
        members(policy, "OP-NOWHERE", world.everyone())
    assert isinstance(caught.value, NotFound)
    assert caught.value.code == "group.unknown"
    assert "OP-NOWHERE" in str(caught.value)


def test_an_unknown_group_name_is_echoed_only_when_well_formed(
    world: World, policy: Policy
) -> None:
    with pytest.raises(UnknownGroup) as caught:
        members(policy, "<script>", world.everyone())
    assert "<script>" not in str(caught.value)
