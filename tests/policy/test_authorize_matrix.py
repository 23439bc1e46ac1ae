"""The whole authorization matrix, walked by hypothesis: role x country x participant status x
country status x action x resource, against :func:`hub.policy.authorize.authorize`.

The expected answer of every combination comes from the small tables below, written from
docs/design/hub.md (Trust, API) and the console's page table, not from the policy's code. Every
answer is compared in full: allowed with which grant (country, participant), or refused with
which error type and code. Refusals about the resource must never come before the actor's own
standing, and "not yours" must be the very error "does not exist" gives.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from pgs_hub.hub.errors import Forbidden, HubError, NotFound
from pgs_hub.hub.policy.authorize import (
    Action,
    Envelope,
    Grant,
    LogEntry,
    Submission,
    Upload,
    authorize,
    envelope_not_found,
)
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.policy.model import Policy
from pgs_hub.protocols.messages.kinds import MessageKind

ROLES = ("ncp", "wco", "auditor", "admin")
COUNTRIES = ("NG", "GH", "WCO")
STATUSES = ("active", "suspended", "revoked")
ALL = frozenset(ROLES)

#: action -> roles that may do it at all (docs/design/hub.md; the console's page table).
MAY: dict[Action, frozenset[str]] = {
    Action.SUBMIT: frozenset({"ncp", "wco"}),
    Action.MAILBOX: ALL,
    Action.FETCH: frozenset({"ncp", "wco"}),
    Action.STATUS: frozenset({"ncp", "wco"}),
    Action.RECEIPT: frozenset({"ncp", "wco"}),
    Action.DELIVERY: frozenset({"ncp", "wco", "auditor"}),
    Action.DIRECTORY: ALL,
    Action.LOG_READ: ALL,
    Action.LOG_ENTRY: ALL,
    Action.AUDIT: frozenset({"auditor"}),
    Action.LOG_BUNDLES: frozenset({"auditor"}),  # and only a global one (docs/audit-log.md)
    Action.LOG_SIGN: frozenset({"auditor", "admin"}),
    Action.ADMIN: frozenset({"admin"}),
    Action.CONSOLE_SIGN_IN: ALL,
    Action.CONSOLE_TRAFFIC: frozenset({"wco", "auditor"}),
    Action.CONSOLE_LOG: frozenset({"wco", "auditor", "ncp"}),
    Action.CONSOLE_AUDIT: frozenset({"wco", "auditor", "admin"}),
    Action.CONSOLE_DIRECTORY: ALL,
    Action.CONSOLE_SECURITY: frozenset({"auditor"}),
    Action.UPLOAD: frozenset({"ncp", "wco"}),
    Action.NOTIFY_SETTINGS: frozenset({"ncp", "wco"}),  # its own settings only
    Action.NOTIFY_AUDIT: frozenset({"auditor"}),
    Action.CODELISTS: ALL,  # the whole UN/LOCODE list: reference data, no participant data
}
#: action -> the refusal when the role may not.
REFUSAL: dict[Action, tuple[type[HubError], str]] = {
    Action.SUBMIT: (Forbidden, "policy.kind_not_allowed"),
    Action.FETCH: (NotFound, "envelope.not_found"),
    Action.STATUS: (NotFound, "envelope.not_found"),
    Action.RECEIPT: (NotFound, "envelope.not_found"),
    Action.DELIVERY: (NotFound, "envelope.not_found"),
    Action.LOG_ENTRY: (NotFound, "log.not_found"),
    Action.AUDIT: (Forbidden, "audit.forbidden"),
    Action.LOG_BUNDLES: (Forbidden, "tiles.entries_forbidden"),
    Action.LOG_SIGN: (Forbidden, "audit.forbidden"),
    Action.ADMIN: (Forbidden, "admin.forbidden"),
    Action.CONSOLE_SIGN_IN: (Forbidden, "console.forbidden"),
    Action.CONSOLE_TRAFFIC: (Forbidden, "console.forbidden"),
    Action.CONSOLE_LOG: (Forbidden, "console.forbidden"),
    Action.CONSOLE_AUDIT: (Forbidden, "console.forbidden"),
    Action.CONSOLE_DIRECTORY: (Forbidden, "console.forbidden"),
    Action.CONSOLE_SECURITY: (Forbidden, "console.forbidden"),
    Action.UPLOAD: (Forbidden, "upload.forbidden"),
    Action.NOTIFY_SETTINGS: (Forbidden, "notifications.forbidden"),
    Action.NOTIFY_AUDIT: (Forbidden, "audit.forbidden"),
}
#: what each role may send under the default policy (default.toml).
SENDS = {
    "ncp": {MessageKind.ALERT, MessageKind.SEIZURE, MessageKind.RFI, MessageKind.REPLY},
    "wco": {
        MessageKind.ALERT,
        MessageKind.SEIZURE,
        MessageKind.RFI,
        MessageKind.REPLY,
        MessageKind.NOTICE,
    },
}
SCOPED_ACTIONS = {
    Action.AUDIT,
    Action.NOTIFY_AUDIT,
    Action.CONSOLE_SIGN_IN,
    Action.CONSOLE_TRAFFIC,
    Action.CONSOLE_LOG,
    Action.CONSOLE_AUDIT,
    Action.CONSOLE_DIRECTORY,
    Action.CONSOLE_SECURITY,
}


@dataclass(frozen=True)
class Case:
    role: str
    country: str
    scope: str | None
    status: str
    suspended: frozenset[str]
    action: Action
    # the actor's relation to the resource
    is_sender: bool
    is_recipient: bool
    claims_self: bool
    stored: str  # "none", "self" or "other": who holds the submitted message id already
    kind: MessageKind
    event: str
    countries: frozenset[str]

    @property
    def actor(self) -> Member:
        return Member("ME", self.country, self.role, self.scope, self.status, "kid")

    def resource(self) -> Envelope | Submission | LogEntry | Upload | None:
        me = self.actor.id
        if self.action in (Action.FETCH, Action.STATUS, Action.RECEIPT, Action.DELIVERY):
            recipients = {"R1", "R2"} | ({me} if self.is_recipient else set())
            return Envelope(
                me if self.is_sender else "S",
                frozenset(recipients),
                recipient=me if self.is_recipient else "R1",
            )
        if self.action is Action.SUBMIT:
            stored = {"none": None, "self": me, "other": "S"}[self.stored]
            return Submission(me if self.claims_self else "S", self.kind, stored)
        if self.action is Action.UPLOAD:  # is_sender: the actor's own upload
            return Upload(me if self.is_sender else "S")
        if self.action is Action.LOG_ENTRY:
            parties = frozenset({"S", *([me] if self.is_recipient else [])})
            return LogEntry(self.event, self.countries, parties)
        return None


def audit_country(case: Case) -> str | None:
    if case.scope is not None:
        return case.scope
    return None if case.country == "WCO" else case.country


def expected(case: Case) -> tuple[str, object]:  # noqa: PLR0911, PLR0912 - a table, top to bottom
    """("allow", Grant) or ("deny", (error type, code)), from the tables above."""
    if case.status == "suspended":
        return "deny", (Forbidden, "participant.suspended")
    if case.status == "revoked":
        return "deny", (Forbidden, "participant.revoked")
    if case.country in case.suspended:
        return "deny", (Forbidden, "country.suspended")
    action, role = case.action, case.role
    if action is Action.SUBMIT:
        if not case.claims_self or case.stored == "other":
            return "deny", (Forbidden, "sender.impersonation")
        if case.kind not in SENDS.get(role, set()):
            return "deny", REFUSAL[action]
        return "allow", Grant()
    if role not in MAY[action]:
        return "deny", REFUSAL[action]
    party = {
        Action.FETCH: case.is_sender or case.is_recipient,
        Action.STATUS: case.is_sender,
        Action.RECEIPT: case.is_recipient,
        Action.DELIVERY: role != "ncp" or case.is_sender or case.is_recipient,
    }
    if not party.get(action, True):
        return "deny", REFUSAL[action]
    if action is Action.LOG_BUNDLES:
        return ("allow", Grant()) if audit_country(case) is None else ("deny", REFUSAL[action])
    if action is Action.UPLOAD and not case.is_sender:
        return "deny", (NotFound, "upload.not_found")
    if action is Action.LOG_ENTRY:
        if role == "auditor":
            scope = audit_country(case)
            if scope is None or scope in case.countries:
                return "allow", Grant(country=scope)
            return "deny", REFUSAL[action]
        key_event = case.event in ("participant.enrolled", "keys.rotated")
        message_party = case.event in ("envelope.accepted", "receipt.recorded") and (
            case.is_recipient
        )
        return ("allow", Grant()) if key_event or message_party else ("deny", REFUSAL[action])
    if action in SCOPED_ACTIONS or action is Action.DELIVERY:
        if role == "auditor":
            return "allow", Grant(country=audit_country(case))
        if role == "ncp" and action is not Action.DELIVERY:
            return "allow", Grant(participant="ME")
    return "allow", Grant()


@dataclass(frozen=True)
class Relation:
    """How the actor relates to the resource (drawn by hypothesis)."""

    is_sender: bool
    is_recipient: bool
    claims_self: bool
    stored: str
    kind: MessageKind
    event: str
    countries: frozenset[str]


relations = st.builds(
    Relation,
    is_sender=st.booleans(),
    is_recipient=st.booleans(),
    claims_self=st.booleans(),
    stored=st.sampled_from(("none", "self", "other")),
    kind=st.sampled_from([k for k in MessageKind if k is not MessageKind.RECEIPT]),
    event=st.sampled_from(
        (
            "participant.enrolled",
            "keys.rotated",
            "envelope.accepted",
            "receipt.recorded",
            "policy.reloaded",
            "access.denied",
        )
    ),
    countries=st.frozensets(st.sampled_from(("NG", "GH", "FR"))),
)
MATRIX = [
    (role, country, scope, status, suspended, action)
    for role in ROLES
    for country in COUNTRIES
    for scope in (None, "NG", "GH")
    for status in STATUSES
    for suspended in (frozenset(), frozenset({"NG"}), frozenset({"GH"}), frozenset({"NG", "GH"}))
    for action in Action
]


@settings(max_examples=10, deadline=None, phases=[Phase.explicit, Phase.generate])
@given(relations)
def test_the_policy_answers_as_the_table_says(relation: Relation) -> None:
    """Every cell of role x country x scope x status x suspended countries x action, for a
    resource relation hypothesis draws."""
    policies = {s: Policy(suspended_countries=s) for _, _, _, _, s, _ in MATRIX}
    wrong = []
    for role, country, scope, status, suspended, action in MATRIX:
        case = Case(role, country, scope, status, suspended, action, **vars(relation))
        want = expected(case)
        try:
            got: tuple[str, object] = (
                "allow",
                authorize(policies[suspended], case.actor, action, case.resource()),
            )
        except (Forbidden, NotFound) as exc:
            got = ("deny", (type(exc), exc.code))
            missing = envelope_not_found()
            if exc.code == missing.code and (str(exc), exc.kind) != (str(missing), missing.kind):
                wrong.append(f"{case}: 'not yours' differs from 'does not exist': {exc}")
        if got != want:
            wrong.append(f"{case}: got {got}, expected {want}")
    assert not wrong, f"{len(wrong)} cells differ, e.g.\n" + "\n".join(wrong[:5])


def test_every_action_is_in_the_table() -> None:
    """A new action must be added to the expected tables (and so be thought about)."""
    assert set(MAY) == set(Action)
    never_refused = {Action.MAILBOX, Action.DIRECTORY, Action.LOG_READ, Action.CODELISTS}
    assert set(REFUSAL) | never_refused == set(Action)
