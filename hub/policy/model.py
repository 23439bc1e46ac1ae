"""The hub's access-control policy as typed values, and the one place it is read from TOML.

``default.toml`` next to this module documents every key; a key left out of a policy file takes
the value written there, which is also the default below (a test keeps the two equal). Loading is
strict: an unknown key, a wrong type or a value outside its range refuses the whole file with the
TOML line (syntax) or the dotted key (values) and plain words, so a reload never half-applies.

There is no attachment limit: attachments are described inside the encrypted content, which the
hub cannot read, so it could not enforce one. ``limits.max_envelope_bytes`` bounds everything the
hub accepts; clients enforce their own attachment limits. A policy that sets
``max_attachments_bytes`` is refused with that explanation rather than silently ignored.

What the protocol promises is not a setting. Auditors and admins never send; receipts are never
envelopes; TLP:RED never goes to a group; no limit may exceed the protocol's own cap. A policy
that tries to relax one of these is refused rather than silently ignored.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from pgs_hub.hub.errors import ConfigError
from pgs_hub.protocols.certificates import MemberCountry, Role
from pgs_hub.protocols.envelope import PGS_PROFILE
from pgs_hub.protocols.messages._base import Line, problem
from pgs_hub.protocols.messages.identifiers import ParticipantId
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.problems import plain_message
from pgs_hub.protocols.routing import MAX_RECIPIENTS, MAX_TTL_SECONDS

__all__ = [
    "BUILTIN_ALL",
    "DEFAULT_POLICY_FILE",
    "GroupDef",
    "Limits",
    "Policy",
    "PolicyError",
    "RolePolicy",
    "Roles",
    "Rules",
    "builtin_group_names",
    "default_policy",
    "default_policy_text",
    "load_policy",
    "load_policy_file",
]

DEFAULT_POLICY_FILE: Final = "default.toml"
BUILTIN_ALL: Final = "ALL"
"""The built-in group of every active NCP participant."""

MAX_POLICY_BYTES: Final = 1024 * 1024
_DAY: Final = 24 * 3600
_GROUP_NAME: Final = re.compile(r"[A-Z][A-Z0-9-]{1,39}")  # the routing header's grp
_GROUP_NAME_RULE: Final = (
    "must be 2 to 40 characters: an upper-case letter, then upper-case letters, digits or dashes"
)


class PolicyError(ConfigError):
    """The policy file cannot be used; the message says where (TOML line or dotted key) and why.

    ``problems`` lists each problem on its own (``"limits.max_recipients must be at most 512"``);
    ``fields`` holds the same as (where, what) pairs, so that the CLI can say each "what" in the
    operator's language under a head line that is (``config.policy.invalid``).
    """

    code = "policy.invalid"

    def __init__(
        self, message: str, *, problems: Iterable[str] = (), key: str | None = None,
        values: Mapping[str, object] | None = None, fields: Iterable[tuple[str, str]] = (),
    ) -> None:  # fmt: skip
        super().__init__(message, key=key, values=values)
        self.problems: tuple[str, ...] = tuple(problems)
        self.fields: tuple[tuple[str, str], ...] = tuple(fields)


def builtin_group_names() -> frozenset[str]:
    """``ALL`` and the WCO region codes (``AMC``, ``APC``, ``ESA``, ``EUR``, ``MENA``, ``WCA``)."""
    from pgs_hub.protocols.codelists import wco_regions  # noqa: PLC0415 - code lists load on first use

    return frozenset({BUILTIN_ALL, *wco_regions()})


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


# --- roles ----------------------------------------------------------------------------------------


class RolePolicy(_Frozen):
    """What one role may do."""

    send: frozenset[MessageKind] = frozenset()
    """Message kinds it may send."""
    address_groups: StrictBool = False
    """Whether it may address a group (routing header ``grp``)."""

    @field_validator("send")
    @classmethod
    def _no_receipts(cls, send: frozenset[MessageKind]) -> frozenset[MessageKind]:
        if MessageKind.RECEIPT in send:
            raise problem(
                "policy_receipt",
                "may not list receipt: a receipt is a signed statement, not an envelope",
            )
        return send


_NCP_KINDS = frozenset({MessageKind.ALERT, MessageKind.SEIZURE, MessageKind.RFI, MessageKind.REPLY})


def _ncp() -> RolePolicy:
    return RolePolicy(send=_NCP_KINDS)


def _wco() -> RolePolicy:
    return RolePolicy(send=_NCP_KINDS | {MessageKind.NOTICE}, address_groups=True)


def _never_sends(value: RolePolicy) -> RolePolicy:
    if value.send or value.address_groups:
        raise problem(
            "policy_role",
            "must have send = [] and address_groups = false: auditors and admins never send",
        )
    return value


_Silent = Annotated[RolePolicy, AfterValidator(_never_sends)]


class Roles(_Frozen):
    """What each participant role may do; ``auditor`` and ``admin`` may do nothing."""

    ncp: RolePolicy = Field(default_factory=_ncp)
    wco: RolePolicy = Field(default_factory=_wco)
    auditor: _Silent = Field(default_factory=RolePolicy)
    admin: _Silent = Field(default_factory=RolePolicy)

    def of(self, role: str) -> RolePolicy | None:
        """The rules of ``role``, or ``None`` for a role this policy does not know (fail closed)."""
        try:
            known = Role(role)
        except ValueError:
            return None
        policies: Mapping[Role, RolePolicy] = {
            Role.NCP: self.ncp,
            Role.WCO: self.wco,
            Role.AUDITOR: self.auditor,
            Role.ADMIN: self.admin,
        }
        return policies[known]


# --- rules and limits -----------------------------------------------------------------------------


def _always(value: bool) -> bool:
    if not value:
        raise problem(
            "policy_red",
            "cannot be false: the protocol never sends TLP:RED to a group",
        )
    return value


class Rules(_Frozen):
    """Rules about whom a message must or may reach."""

    seizure_requires_wco: StrictBool = True
    """A seizure must be addressed to at least one participant of role ``wco``."""
    red_only_to_named: Annotated[StrictBool, AfterValidator(_always)] = True
    """TLP:RED only to named participants, never to a group (always true; see default.toml)."""


class Limits(_Frozen):
    """Caps on what one participant may submit, each within the protocol's own cap."""

    max_envelope_bytes: StrictInt = Field(
        default=PGS_PROFILE.max_envelope_bytes, ge=1024, le=PGS_PROFILE.max_envelope_bytes
    )
    max_recipients: StrictInt = Field(default=MAX_RECIPIENTS, ge=1, le=MAX_RECIPIENTS)
    rate_per_minute: StrictInt = Field(default=600, ge=1, le=1_000_000)
    rate_burst: StrictInt = Field(default=100, ge=1, le=1_000_000)
    clock_skew_seconds: StrictInt = Field(default=300, ge=0, le=3600)
    max_ttl_days: StrictInt = Field(default=90, ge=1, le=MAX_TTL_SECONDS // _DAY)

    @model_validator(mode="before")
    @classmethod
    def _no_attachment_limit(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "max_attachments_bytes" in data:
            raise problem(
                "policy_attachments",
                "may not set max_attachments_bytes: attachments are inside the encrypted content,"
                " which the hub cannot see; max_envelope_bytes bounds what it accepts",
            )
        return data

    @property
    def max_ttl_seconds(self) -> int:
        return self.max_ttl_days * _DAY


# --- groups ---------------------------------------------------------------------------------------


def _group_name(value: str) -> str:
    if not _GROUP_NAME.fullmatch(value):
        raise problem("group_name", _GROUP_NAME_RULE)
    return value


GroupName = Annotated[StrictStr, AfterValidator(_group_name)]
"""A custom group's name: the pattern of the routing header's ``grp``."""


class GroupDef(_Frozen):
    """A custom group: named member countries' NCPs, and participants added one by one."""

    description: Line
    countries: tuple[MemberCountry, ...] = ()
    participants: tuple[ParticipantId, ...] = ()

    @model_validator(mode="after")
    def _not_empty(self) -> GroupDef:
        if not self.countries and not self.participants:
            raise problem("group_empty", "must list countries, participants or both")
        if len(set(self.countries)) != len(self.countries):
            raise problem("group_duplicate", "lists a country more than once")
        if len(set(self.participants)) != len(self.participants):
            raise problem("group_duplicate", "lists a participant more than once")
        return self


# --- the policy -----------------------------------------------------------------------------------


class Policy(_Frozen):
    """The whole policy. Build it with :func:`load_policy`; ``Policy()`` is the default policy."""

    suspended_countries: frozenset[MemberCountry] = frozenset()
    roles: Roles = Field(default_factory=Roles)
    rules: Rules = Field(default_factory=Rules)
    limits: Limits = Field(default_factory=Limits)
    groups: dict[GroupName, GroupDef] = Field(default_factory=dict)

    @field_validator("groups")
    @classmethod
    def _no_shadowing(cls, groups: dict[str, GroupDef]) -> dict[str, GroupDef]:
        builtin = builtin_group_names()
        taken = sorted(name for name in groups if name in builtin)
        if taken:
            raise problem(
                "group_builtin",
                "may not redefine a built-in group (ALL or a WCO region code): " + ", ".join(taken),
            )
        return groups

    def may_send(self, role: str, kind: MessageKind) -> bool:
        rules = self.roles.of(role)
        return rules is not None and kind in rules.send

    def may_address_groups(self, role: str) -> bool:
        rules = self.roles.of(role)
        return rules is not None and rules.address_groups

    def is_suspended(self, country: str) -> bool:
        return country in self.suspended_countries


# --- loading --------------------------------------------------------------------------------------


def _dotted(location: Iterable[int | str]) -> str:
    """A pydantic error location as the TOML key a person would look for: ``limits.max_ttl_days``,
    ``groups.OP-X.countries[2]``; a table name that is itself wrong is marked ``(name)``."""
    out = ""
    for part in location:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            out += " (name)"
        else:
            out += f".{part}" if out else part
    return out or "(policy)"


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    """Each problem once, as (the TOML key, what is wrong with it)."""
    errors: list[ErrorDetails] = exc.errors(include_url=False, include_input=False)
    found: list[tuple[str, str]] = []
    for error in errors:
        problem = (_dotted(error["loc"]), plain_message(error))
        if problem not in found:
            found.append(problem)
    return found


def load_policy(text: str, *, source: str = "policy") -> Policy:
    """Parse and validate a policy; raises :class:`PolicyError` naming every problem.

    ``source`` names the policy in messages (a file path, or ``"policy"``).
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_POLICY_BYTES:
        raise PolicyError.keyed("config.policy.too_large", source=source, limit=MAX_POLICY_BYTES)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError.keyed("cli.message.toml", path=source, reason=exc) from None
    try:
        return Policy.model_validate(document)
    except ValidationError as exc:
        fields = _problems(exc)
        problems = [f"{where} {what}" for where, what in fields]
        raise PolicyError(
            f"{source} is invalid: " + "; ".join(problems), problems=problems, fields=fields,
            key="config.policy.invalid", values={"source": source},
        ) from None  # fmt: skip


def load_policy_file(path: Path) -> Policy:
    """Read and validate the policy file at ``path``; raises :class:`PolicyError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError.keyed("cli.message.not_exist", path=path) from None
    except UnicodeDecodeError:
        raise PolicyError.keyed("config.policy.not_utf8", path=path) from None
    except OSError as exc:
        raise PolicyError.keyed(
            "config.policy.unreadable", path=path, reason=exc.strerror
        ) from None
    return load_policy(text, source=str(path))


def default_policy_text() -> str:
    """The commented default policy (``hub/policy/default.toml``), e.g. for ``pgs init`` to copy."""
    try:
        folder: Any = resources.files(__package__ or "pgs_hub.hub.policy")
    except NotADirectoryError:  # pragma: no cover - see protocols.codelists._data_dir
        folder = Path(__file__).resolve().parent
    text: str = folder.joinpath(DEFAULT_POLICY_FILE).read_text(encoding="utf-8")
    return text


def default_policy() -> Policy:
    """The default policy, read from ``default.toml``."""
    return load_policy(default_policy_text(), source=DEFAULT_POLICY_FILE)
