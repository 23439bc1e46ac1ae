"""Who may send what to whom, read which envelope, audit and administer: every refusal code."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from policy_world import DAY, NOW, World, kid

from pgs_hub.hub.errors import Forbidden, HubError, InvalidRequest, NotFound
from pgs_hub.hub.policy.authorize import Action, Envelope, allowed, authorize, envelope_not_found
from pgs_hub.hub.policy.decisions import check_can_send
from pgs_hub.hub.policy.groups import Member, members
from pgs_hub.hub.policy.model import Policy
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.routing import RoutingHeader

WCA = ("CM-NCP-DOUALA", "GH-NCP-ACCRA", "NG-NCP-ABUJA", "NG-NCP-LAGOS")


@dataclass(frozen=True)
class Send:
    """One submission: who signs, to whom, with which header options and policy changes."""

    sender: str
    to: Sequence[str]
    header: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)
    signer: str | None = None  # the participant whose key signed, if not the header's sender


def decide(world: World, case: Send, make: Callable[..., Policy]) -> None:
    policy = make(**case.policy)
    header = world.header(case.sender, case.to, **case.header)
    group = members(policy, header.grp, world.everyone()) if header.grp else None
    signer = world[case.signer or case.sender]
    check_can_send(policy, signer, header, world.recipients(header), group, world.now)


ALLOWED = [
    pytest.param(Send("NG-NCP-LAGOS", ["GH-NCP-ACCRA"]), id="ncp-alert-to-ncp"),
    pytest.param(
        Send("NG-NCP-LAGOS", ["GH-NCP-ACCRA", "CM-NCP-DOUALA", "FR-NCP-PARIS"]),
        id="ncp-alert-across-regions",
    ),
    pytest.param(Send("GH-NCP-ACCRA", ["NG-NCP-LAGOS"], {"kind": "rfi"}), id="rfi"),
    pytest.param(Send("NG-NCP-LAGOS", ["GH-NCP-ACCRA"], {"kind": "reply"}), id="reply"),
    pytest.param(Send("NG-NCP-LAGOS", ["WCO-PGS"], {"tlp": "RED"}), id="red-to-named"),
    pytest.param(
        Send("CM-NCP-DOUALA", ["FR-NCP-PARIS", "WCO-PGS"], {"kind": "seizure"}),
        id="seizure-with-wco",
    ),
    pytest.param(
        Send(
            "CM-NCP-DOUALA",
            ["FR-NCP-PARIS"],
            {"kind": "seizure"},
            {"rules": {"seizure_requires_wco": False}},
        ),
        id="seizure-without-wco-when-the-rule-is-off",
    ),
    pytest.param(
        Send("WCO-PGS", ["NG-NCP-LAGOS"], {"kind": "seizure"}), id="seizure-from-wco-staff"
    ),
    pytest.param(Send("WCO-PGS", WCA, {"kind": "notice", "grp": "WCA"}), id="wco-notice-to-wca"),
    pytest.param(
        Send("WCO-PGS", [*WCA, "FR-NCP-PARIS"], {"kind": "notice", "grp": "ALL"}),
        id="wco-notice-to-all",
    ),
    pytest.param(Send("WCO-PGS", ["FR-NCP-PARIS"], {"grp": "EUR"}), id="wco-alert-to-eur"),
    pytest.param(
        Send("NG-NCP-LAGOS", ["GH-NCP-ACCRA"], {"iat": NOW + 300}), id="iat-within-clock-skew"
    ),
    pytest.param(
        Send("NG-NCP-LAGOS", ["GH-NCP-ACCRA"], {"iat": NOW - DAY, "exp": NOW + 1}),
        id="expires-in-one-second",
    ),
    pytest.param(
        Send("NG-NCP-LAGOS", ["GH-NCP-ACCRA"], {"exp": NOW + 90 * DAY}), id="ttl-exactly-90-days"
    ),
    pytest.param(
        Send(
            "NG-NCP-LAGOS",
            ["GH-NCP-ACCRA", "CM-NCP-DOUALA"],
            policy={"limits": {"max_recipients": 2}},
        ),
        id="at-the-recipient-limit",
    ),
    pytest.param(Send("NG-NCP-LAGOS", ["NG-NCP-LAGOS", "GH-NCP-ACCRA"]), id="sender-copies-itself"),
]


@pytest.mark.parametrize("case", ALLOWED)
def test_allowed(world: World, make_policy: Callable[..., Policy], case: Send) -> None:
    decide(world, case, make_policy)


REFUSED = [
    # the sender
    pytest.param(
        Send("GH-NCP-ACCRA", ["CM-NCP-DOUALA"], signer="NG-NCP-LAGOS"),
        Forbidden,
        "sender.impersonation",
        id="header-names-another-sender",
    ),
    pytest.param(
        Send("GH-NCP-TEMA", ["NG-NCP-LAGOS"]), Forbidden, "participant.suspended", id="suspended"
    ),
    pytest.param(
        Send("NG-NCP-OLD", ["GH-NCP-ACCRA"]), Forbidden, "participant.revoked", id="revoked"
    ),
    pytest.param(
        Send("CM-NCP-DOUALA", ["NG-NCP-LAGOS"], policy={"suspended_countries": ["CM"]}),
        Forbidden,
        "country.suspended",
        id="country-suspended",
    ),
    # what it may send
    pytest.param(
        Send("NG-NCP-LAGOS", ["GH-NCP-ACCRA"], {"kind": "notice"}),
        Forbidden,
        "policy.kind_not_allowed",
        id="ncp-notice",
    ),
    pytest.param(
        Send("WCO-AUDIT", ["NG-NCP-LAGOS"]),
        Forbidden,
        "policy.kind_not_allowed",
        id="auditor-sends",
    ),
    pytest.param(
        Send("CM-AUDIT", ["CM-NCP-DOUALA"], {"kind": "rfi"}),
        Forbidden,
        "policy.kind_not_allowed",
        id="national-auditor-sends",
    ),
    pytest.param(
        Send("WCO-ADMIN", ["FR-NCP-PARIS"], {"kind": "notice"}),
        Forbidden,
        "policy.kind_not_allowed",
        id="admin-sends",
    ),
    pytest.param(
        Send(
            "NG-NCP-LAGOS",
            ["GH-NCP-ACCRA"],
            {"kind": "seizure"},
            {"roles": {"ncp": {"send": ["alert"]}}},
        ),
        Forbidden,
        "policy.kind_not_allowed",
        id="kind-removed-by-policy",
    ),
    # times
    pytest.param(
        Send("NG-NCP-LAGOS", ["GH-NCP-ACCRA"], {"iat": NOW + 301}),
        InvalidRequest,
        "envelope.not_yet_valid",
        id="iat-beyond-clock-skew",
    ),
    pytest.param(
        Send("NG-NCP-LAGOS", ["GH-NCP-ACCRA"], {"iat": NOW - DAY, "exp": NOW}),
        InvalidRequest,
        "envelope.expired",
        id="expired",
    ),
    pytest.param(
        Send("NG-NCP-LAGOS", ["GH-NCP-ACCRA"], {"exp": NOW + 90 * DAY + 1}),
        InvalidRequest,
        "envelope.ttl_too_long",
        id="ttl-over-90-days",
    ),
    # how many
    pytest.param(
        Send(
            "NG-NCP-LAGOS",
            ["GH-NCP-ACCRA", "CM-NCP-DOUALA", "FR-NCP-PARIS"],
            policy={"limits": {"max_recipients": 2}},
        ),
        Forbidden,
        "policy.too_many_recipients",
        id="too-many-recipients",
    ),
    # groups
    pytest.param(
        Send("NG-NCP-LAGOS", WCA, {"grp": "WCA"}),
        Forbidden,
        "policy.group_not_allowed",
        id="ncp-addresses-a-group",
    ),
    pytest.param(
        Send(
            "WCO-PGS",
            WCA,
            {"kind": "notice", "grp": "WCA"},
            {"roles": {"wco": {"address_groups": False}}},
        ),
        Forbidden,
        "policy.group_not_allowed",
        id="groups-turned-off-for-wco",
    ),
    pytest.param(
        Send("WCO-PGS", WCA[:3], {"kind": "notice", "grp": "WCA"}),
        InvalidRequest,
        "group.mismatch",
        id="group-member-missing",
    ),
    # recipients
    pytest.param(
        Send("NG-NCP-LAGOS", ["GH-NCP-NOBODY"]),
        InvalidRequest,
        "recipient.unknown",
        id="unknown-recipient",
    ),
    pytest.param(
        Send("NG-NCP-LAGOS", ["GH-NCP-TEMA"]),
        Forbidden,
        "recipient.inactive",
        id="suspended-recipient",
    ),
    pytest.param(
        Send("GH-NCP-ACCRA", ["NG-NCP-OLD"]),
        Forbidden,
        "recipient.inactive",
        id="revoked-recipient",
    ),
    pytest.param(
        Send("NG-NCP-LAGOS", ["CM-NCP-DOUALA"], policy={"suspended_countries": ["CM"]}),
        Forbidden,
        "recipient.inactive",
        id="recipient-in-a-suspended-country",
    ),
    pytest.param(
        Send("NG-NCP-LAGOS", ["WCO-AUDIT"]), Forbidden, "recipient.role", id="to-global-auditor"
    ),
    pytest.param(
        Send("CM-NCP-DOUALA", ["CM-AUDIT"]), Forbidden, "recipient.role", id="to-national-auditor"
    ),
    pytest.param(
        Send("WCO-PGS", ["WCO-ADMIN"], {"kind": "notice"}),
        Forbidden,
        "recipient.role",
        id="to-admin",
    ),
    pytest.param(
        Send("NG-NCP-LAGOS", ["GH-NCP-ACCRA"], {"kids": {"GH-NCP-ACCRA": kid("GH-NCP-ACCRA", 1)}}),
        InvalidRequest,
        "recipient.stale_key",
        id="retired-key",
    ),
    pytest.param(
        Send("NG-NCP-LAGOS", ["SN-NCP-DAKAR"]),
        InvalidRequest,
        "recipient.stale_key",
        id="recipient-without-current-key",
    ),
    # rules
    pytest.param(
        Send("NG-NCP-LAGOS", ["GH-NCP-ACCRA", "FR-NCP-PARIS"], {"kind": "seizure"}),
        Forbidden,
        "policy.seizure_needs_wco",
        id="seizure-without-wco",
    ),
]


@pytest.mark.parametrize(("case", "error", "code"), REFUSED)
def test_refused(
    world: World,
    make_policy: Callable[..., Policy],
    case: Send,
    error: type[HubError],
    code: str,
) -> None:
    with pytest.raises(error) as caught:
        decide(world, case, make_policy)
    assert type(caught.value) is error
    assert caught.value.code == code
    assert str(caught.value)  # a reason in words, for the participant


def test_every_documented_code_is_exercised() -> None:
    import pgs_hub.hub.policy.decisions as module

    exercised = {p.values[2] for p in REFUSED} | {"policy.red_to_group", "group.mismatch"}
    documented = {
        line.split("``")[1]
        for line in (module.__doc__ or "").splitlines()
        if line.startswith("``") and "." in line.split("``")[1]
    }
    assert documented == exercised


# --- groups --------------------------------------------------------------------------------------


def group_header(world: World, to: Sequence[str], **options: Any) -> RoutingHeader:
    return world.header("WCO-PGS", to, kind="notice", grp="WCA", **options)


def send_to_wca(world: World, policy: Policy, header: RoutingHeader) -> None:
    group = members(policy, "WCA", world.everyone())
    check_can_send(policy, world["WCO-PGS"], header, world.recipients(header), group, world.now)


def test_group_missing_member_is_named(world: World, policy: Policy) -> None:
    with pytest.raises(InvalidRequest) as caught:
        send_to_wca(world, policy, group_header(world, WCA[1:]))
    assert caught.value.code == "group.mismatch"
    text = str(caught.value)
    assert "4 members, 3 recipients" in text
    assert "missing 1: CM-NCP-DOUALA" in text


def test_group_extra_recipient_is_named(world: World, policy: Policy) -> None:
    with pytest.raises(InvalidRequest) as caught:
        send_to_wca(world, policy, group_header(world, [*WCA, "FR-NCP-PARIS"]))
    assert caught.value.code == "group.mismatch"
    assert "not members 1: FR-NCP-PARIS" in str(caught.value)


def test_group_suspended_participant_is_not_a_member(world: World, policy: Policy) -> None:
    """A suspended participant dropped out of the group: addressing it is a mismatch."""
    with pytest.raises(InvalidRequest) as caught:
        send_to_wca(world, policy, group_header(world, [*WCA, "GH-NCP-TEMA"]))
    assert "not members 1: GH-NCP-TEMA" in str(caught.value)


def test_group_stale_key_is_named(world: World, policy: Policy) -> None:
    header = group_header(world, WCA, kids={"NG-NCP-ABUJA": kid("NG-NCP-ABUJA", 1)})
    with pytest.raises(InvalidRequest) as caught:
        send_to_wca(world, policy, header)
    assert caught.value.code == "group.mismatch"
    assert "not the current key of 1: NG-NCP-ABUJA" in str(caught.value)


def test_group_mismatch_lists_a_few_ids_and_counts_the_rest(world: World) -> None:
    many = {
        f"NG-NCP-P{i:02d}": Member(
            f"NG-NCP-P{i:02d}", "NG", "ncp", None, "active", kid(f"NG-NCP-P{i:02d}")
        )
        for i in range(12)
    }
    crowded = World(people={**world.people, **many})
    policy = Policy()
    with pytest.raises(InvalidRequest) as caught:
        send_to_wca(crowded, policy, group_header(crowded, WCA))
    assert (
        "missing 12: NG-NCP-P00, NG-NCP-P01, NG-NCP-P02, NG-NCP-P03, NG-NCP-P04 and 7 more"
        in str(caught.value)
    )


def test_group_member_who_sends_need_not_address_itself(world: World) -> None:
    policy = Policy.model_validate(
        {
            "groups": {
                "OP-GATEWAY": {
                    "description": "Gulf of Guinea ports",
                    "countries": ["NG", "GH"],
                    "participants": ["WCO-PGS"],
                }
            }
        }
    )
    group = members(policy, "OP-GATEWAY", world.everyone())
    assert "WCO-PGS" in {m.id for m in group}
    others = [m.id for m in group if m.id != "WCO-PGS"]
    for to in (others, [*others, "WCO-PGS"]):
        header = world.header("WCO-PGS", to, kind="notice", grp="OP-GATEWAY")
        check_can_send(policy, world["WCO-PGS"], header, world.recipients(header), group, NOW)


def test_tlp_red_to_a_group_is_refused(world: World, policy: Policy) -> None:
    """Refused by the routing header itself, and again by the policy if a header got around it."""
    with pytest.raises(ValueError, match="TLP:RED"):
        group_header(world, WCA, tlp="RED")
    valid = group_header(world, WCA)
    forced = valid.model_copy(update={"tlp": Tlp.RED})  # skips validation, as a bug might
    group = members(policy, "WCA", world.everyone())
    with pytest.raises(Forbidden) as caught:
        check_can_send(policy, world["WCO-PGS"], forced, world.recipients(forced), group, NOW)
    assert caught.value.code == "policy.red_to_group"


def test_group_members_must_be_resolved_by_the_caller(world: World, policy: Policy) -> None:
    header = group_header(world, WCA)
    with pytest.raises(ValueError, match="group"):
        check_can_send(policy, world["WCO-PGS"], header, world.recipients(header), None, NOW)


def test_recipients_must_follow_the_header(world: World, policy: Policy) -> None:
    header = world.header("NG-NCP-LAGOS", ["GH-NCP-ACCRA", "CM-NCP-DOUALA"])
    backwards = list(reversed(world.recipients(header)))
    with pytest.raises(ValueError, match="order"):
        check_can_send(policy, world["NG-NCP-LAGOS"], header, backwards, None, NOW)
    with pytest.raises(ValueError, match="shorter"):
        check_can_send(policy, world["NG-NCP-LAGOS"], header, backwards[:1], None, NOW)


def test_an_unknown_role_sends_nothing(world: World, policy: Policy) -> None:
    """Fail closed: a role the policy does not know may do nothing."""
    stranger = replace(world["NG-NCP-LAGOS"], role="superuser")
    header = world.header("NG-NCP-LAGOS", ["GH-NCP-ACCRA"])
    with pytest.raises(Forbidden) as caught:
        check_can_send(policy, stranger, header, world.recipients(header), None, NOW)
    assert caught.value.code == "policy.kind_not_allowed"


# --- reading (hub.policy.authorize) -------------------------------------------------------------

SENDER = "NG-NCP-LAGOS"
RECIPIENTS = frozenset({"GH-NCP-ACCRA", "WCO-PGS", "WCO-AUDIT", "WCO-ADMIN", "GH-NCP-TEMA"})
ENVELOPE = Envelope(SENDER, RECIPIENTS)

READERS = [
    pytest.param("NG-NCP-LAGOS", True, id="sender"),
    pytest.param("GH-NCP-ACCRA", True, id="recipient"),
    pytest.param("WCO-PGS", True, id="wco-recipient"),
    pytest.param("CM-NCP-DOUALA", False, id="bystander"),
    pytest.param("FR-NCP-PARIS", False, id="other-region"),
    # listed among the recipients on purpose: even then, never content for these
    pytest.param("WCO-AUDIT", False, id="global-auditor"),
    pytest.param("CM-AUDIT", False, id="national-auditor"),
    pytest.param("WCO-ADMIN", False, id="admin"),
]


@pytest.mark.parametrize(("reader", "may"), READERS)
def test_who_reads_an_envelope(world: World, policy: Policy, reader: str, may: bool) -> None:
    assert allowed(policy, world[reader], Action.FETCH, ENVELOPE) is may
    if may:
        authorize(policy, world[reader], Action.FETCH, ENVELOPE)
    else:
        with pytest.raises(NotFound) as caught:
            authorize(policy, world[reader], Action.FETCH, ENVELOPE)
        assert_no_oracle(caught.value)


def test_a_suspended_recipient_is_refused_before_any_envelope_is_looked_at(
    world: World, policy: Policy
) -> None:
    """Its own standing is refused, the same for every envelope (so no oracle either)."""
    for envelope in (ENVELOPE, Envelope("", frozenset())):
        with pytest.raises(Forbidden) as caught:
            authorize(policy, world["GH-NCP-TEMA"], Action.FETCH, envelope)
        assert caught.value.code == "participant.suspended"


def assert_no_oracle(error: NotFound) -> None:
    """The refusal is indistinguishable from the answer for an envelope that does not exist."""
    missing = envelope_not_found()
    assert type(error) is type(missing)
    assert (error.code, str(error), error.kind) == (missing.code, str(missing), missing.kind)
    assert error.code == "envelope.not_found"


def test_status_is_for_the_sender_and_receipts_for_recipients(world: World, policy: Policy) -> None:
    authorize(policy, world["NG-NCP-LAGOS"], Action.STATUS, ENVELOPE)
    authorize(policy, world["GH-NCP-ACCRA"], Action.RECEIPT, ENVELOPE)
    for reader in ("GH-NCP-ACCRA", "WCO-AUDIT", "CM-NCP-DOUALA"):
        with pytest.raises(NotFound) as caught:
            authorize(policy, world[reader], Action.STATUS, ENVELOPE)
        assert_no_oracle(caught.value)
    for reader in ("NG-NCP-LAGOS", "WCO-AUDIT", "WCO-ADMIN"):
        with pytest.raises(NotFound) as caught:
            authorize(policy, world[reader], Action.RECEIPT, ENVELOPE)
        assert_no_oracle(caught.value)


# --- auditing and administration -----------------------------------------------------------------


def test_global_auditor_sees_every_country(world: World, policy: Policy) -> None:
    assert authorize(policy, world["WCO-AUDIT"], Action.AUDIT).country is None


def test_national_auditor_sees_its_country_only(world: World, policy: Policy) -> None:
    assert authorize(policy, world["CM-AUDIT"], Action.AUDIT).country == "CM"


def test_national_auditor_without_stored_scope_stays_national(world: World, policy: Policy) -> None:
    """Fail closed if storage lost the scope: never global for a member country's auditor."""
    grant = authorize(policy, replace(world["CM-AUDIT"], scope=None), Action.AUDIT)
    assert grant.country == "CM"


@pytest.mark.parametrize("reader", ["NG-NCP-LAGOS", "WCO-PGS", "WCO-ADMIN", "FR-NCP-PARIS"])
def test_only_auditors_audit(world: World, policy: Policy, reader: str) -> None:
    with pytest.raises(Forbidden) as caught:
        authorize(policy, world[reader], Action.AUDIT)
    assert caught.value.code == "audit.forbidden"


def test_a_suspended_auditor_does_not_audit(world: World, policy: Policy) -> None:
    with pytest.raises(Forbidden) as caught:
        authorize(policy, replace(world["WCO-AUDIT"], status="suspended"), Action.AUDIT)
    assert caught.value.code == "participant.suspended"


def test_only_active_admins_administer(world: World, policy: Policy) -> None:
    authorize(policy, world["WCO-ADMIN"], Action.ADMIN)
    for actor, code in (
        (world["WCO-PGS"], "admin.forbidden"),
        (world["WCO-AUDIT"], "admin.forbidden"),
        (world["NG-NCP-LAGOS"], "admin.forbidden"),
        (replace(world["WCO-ADMIN"], status="suspended"), "participant.suspended"),
    ):
        with pytest.raises(Forbidden) as caught:
            authorize(policy, actor, Action.ADMIN)
        assert caught.value.code == code
