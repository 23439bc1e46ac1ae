"""The one place that decides who may do what: :func:`authorize`.

Every authorization decision of the hub — role x country x participant status x country status
x action x resource — is made here, by one pure function that returns what the actor may see
(a :class:`Grant`) or raises. The services call it (through
:func:`hub.services.access.authorize`, which also counts each decision); handlers, the console,
the WebSocket stream and storage never look at a role or a status themselves.

The order of the checks is fixed, and is what keeps "not yours" and "does not exist" alike:

1. the actor's own status (``participant.suspended``, ``participant.revoked``) and its country's
   (``country.suspended``): refused whatever the action and the resource, before any resource is
   looked at;
2. the role: what each role may do at all (``admin.forbidden``, ``audit.forbidden``,
   ``console.forbidden``, ``policy.kind_not_allowed``);
3. the resource: an envelope the actor is no party to is ``envelope.not_found`` — the very error a
   missing envelope gives, built by the same function; a hidden log entry is ``log.not_found``.

==========================  ====================================================================
action                      who (active, country not suspended)
==========================  ====================================================================
``envelope.submit``         ``ncp`` and ``wco``, sending a kind its role may send, as itself,
                            never with a message id another participant's envelope holds
``mailbox.read``            anyone, its own mailbox (inbox pages and the WebSocket stream)
``envelope.fetch``          ``ncp``/``wco``: the envelope's sender or one of its recipients
                            (also each attachment blob the envelope references)
``envelope.status``         ``ncp``/``wco``: the envelope's sender
``receipt.record``          ``ncp``/``wco``: one of the envelope's recipients
``delivery.read``           a delivery's state in the console log: the envelope's sender and
                            ``wco``/auditors in their view see every recipient's; a recipient
                            only its own
``directory.read``          anyone (participants, certificates, groups)
``codelists.read``          anyone: the whole UN/LOCODE list (never a look-up of one code)
``log.read``                anyone: checkpoints, consistency and key proofs (public metadata)
``log.entry``               an auditor in scope; anyone for a key event; a message's parties
``audit.read``              ``auditor`` (the grant's country is its scope, None = global)
``log.sign``                ``auditor`` and ``admin`` (ask for a fresh checkpoint)
``admin.manage``            ``admin``
``console.sign_in``         anyone (each role has at least one console page)
``console.traffic``         ``wco``, ``auditor`` (in its scope)
``console.log``             ``wco``, ``auditor`` (in its scope), ``ncp`` (its own messages)
``console.audit``           ``wco``, ``auditor``, ``admin``
``console.directory``       anyone
``upload.write``            ``ncp``/``wco``: create, resume, append to or delete its own uploads
``notifications.settings``  ``ncp``/``wco``: read and change its own notification settings
``notifications.audit``     ``auditor``: notification delivery records (in its scope)
==========================  ====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import Forbidden, NotFound
from pgs_hub.hub.policy.groups import ACTIVE, SUSPENDED, Member
from pgs_hub.hub.policy.model import Policy
from pgs_hub.protocols.certificates import WCO, Role
from pgs_hub.protocols.messages.kinds import MessageKind

__all__ = [
    "Action",
    "Envelope",
    "Grant",
    "LogEntry",
    "Submission",
    "Upload",
    "allowed",
    "authorize",
    "envelope_not_found",
]


class Action(StrEnum):
    """Everything a participant can ask the hub to do or show."""

    SUBMIT = "envelope.submit"
    MAILBOX = "mailbox.read"
    FETCH = "envelope.fetch"
    STATUS = "envelope.status"
    RECEIPT = "receipt.record"
    DELIVERY = "delivery.read"
    DIRECTORY = "directory.read"
    LOG_READ = "log.read"
    LOG_ENTRY = "log.entry"
    LOG_BUNDLES = "log.bundles"
    AUDIT = "audit.read"
    LOG_SIGN = "log.sign"
    ADMIN = "admin.manage"
    CONSOLE_SIGN_IN = "console.sign_in"
    CONSOLE_TRAFFIC = "console.traffic"
    CONSOLE_LOG = "console.log"
    CONSOLE_AUDIT = "console.audit"
    CONSOLE_DIRECTORY = "console.directory"
    CONSOLE_SECURITY = "console.security"
    UPLOAD = "upload.write"
    NOTIFY_SETTINGS = "notifications.settings"
    NOTIFY_AUDIT = "notifications.audit"
    CODELISTS = "codelists.read"


CONSOLE_PAGES: Final = (
    Action.CONSOLE_TRAFFIC,
    Action.CONSOLE_LOG,
    Action.CONSOLE_AUDIT,
    Action.CONSOLE_DIRECTORY,
    Action.CONSOLE_SECURITY,
)


@dataclass(frozen=True)
class Envelope:
    """An envelope as the policy sees it: who sent it, who it is addressed to.

    ``recipient`` narrows a :data:`Action.DELIVERY` decision to one recipient's delivery state.
    """

    sender: str
    recipients: frozenset[str]
    recipient: str | None = None


@dataclass(frozen=True)
class Submission:
    """A submission: the header's sender and kind, and the sender of an envelope already stored
    under the same message id (None when the id is new)."""

    claimed_sender: str
    kind: MessageKind
    stored_sender: str | None = None


@dataclass(frozen=True)
class LogEntry:
    """A transparency-log entry: its event, the countries it involves, and, for a message event,
    the message's parties (None if the message is not stored)."""

    event: str
    countries: frozenset[str]
    parties: frozenset[str] | None = None


@dataclass(frozen=True)
class Upload:
    """An attachment upload as the policy sees it while it is written: whose it is."""

    owner: str


Resource = Envelope | Submission | LogEntry | Upload | None


@dataclass(frozen=True)
class Grant:
    """What an allowed actor may see: only data involving ``country`` (None: every country) and
    only messages ``participant`` sent or received (None: anyone's)."""

    country: str | None = None
    participant: str | None = None


EVERYTHING: Final = Grant()
_RECEIVING: Final = frozenset({Role.NCP.value, Role.WCO.value})
_KEY_EVENTS: Final = frozenset({"participant.enrolled", "keys.rotated"})
_MESSAGE_EVENTS: Final = frozenset({"envelope.accepted", "receipt.recorded"})


def envelope_not_found() -> NotFound:
    """The one error for an envelope that does not exist *or* that the caller may not see, so
    that an answer never tells whether a message id exists."""
    return NotFound("there is no such envelope for you", code=Code.ENVELOPE_NOT_FOUND)


def _log_not_found() -> NotFound:
    return NotFound("no such log entry for you", code=Code.LOG_NOT_FOUND)


def _impersonation() -> Forbidden:
    return Forbidden(
        "a participant may only send as itself: the header's from is not the signer",
        code=Code.SENDER_IMPERSONATION,
    )


def _check_standing(policy: Policy, actor: Member) -> None:
    if actor.status == SUSPENDED:
        raise Forbidden("this participant is suspended", code=Code.PARTICIPANT_SUSPENDED)
    if actor.status != ACTIVE:
        raise Forbidden("this participant's enrolment was revoked", code=Code.PARTICIPANT_REVOKED)
    if policy.is_suspended(actor.country):
        raise Forbidden(
            "participants of this country are suspended for now", code=Code.COUNTRY_SUSPENDED
        )


def _audit_scope(actor: Member) -> str | None:
    """A WCO auditor without scope is global; any other auditor sees one country: its scope, or
    its own country if a stored scope is missing (never more than the certificate rules allow)."""
    if actor.scope is not None:
        return actor.scope
    return None if actor.country == WCO else actor.country


def _auditor(actor: Member) -> Grant:
    if actor.role != Role.AUDITOR:
        raise Forbidden("only an active auditor may read audit records", code=Code.AUDIT_FORBIDDEN)
    return Grant(country=_audit_scope(actor))


def _view(actor: Member) -> Grant:
    """What the console shows each role: a WCO participant and an admin everything they may see;
    an auditor its scope; an NCP its own messages."""
    if actor.role == Role.AUDITOR:
        return Grant(country=_audit_scope(actor))
    if actor.role == Role.NCP:
        return Grant(participant=actor.id)
    return EVERYTHING


_CONSOLE_ROLES: Final[dict[Action, frozenset[str]]] = {
    Action.CONSOLE_SIGN_IN: frozenset(r.value for r in Role),
    Action.CONSOLE_TRAFFIC: frozenset({Role.WCO.value, Role.AUDITOR.value}),
    Action.CONSOLE_LOG: frozenset({Role.WCO.value, Role.AUDITOR.value, Role.NCP.value}),
    Action.CONSOLE_AUDIT: frozenset({Role.WCO.value, Role.AUDITOR.value, Role.ADMIN.value}),
    Action.CONSOLE_DIRECTORY: frozenset(r.value for r in Role),
    Action.CONSOLE_SECURITY: frozenset({Role.AUDITOR.value}),
}


def _envelope(resource: Resource) -> Envelope:
    if not isinstance(resource, Envelope):
        raise TypeError("this action needs the envelope as its resource")
    return resource


def _party(actor: Member, resource: Resource, *, sender: bool, recipient: bool) -> Grant:
    envelope = _envelope(resource)
    ok = actor.role in _RECEIVING and (
        (sender and actor.id == envelope.sender) or (recipient and actor.id in envelope.recipients)
    )
    if not ok:
        raise envelope_not_found()
    return EVERYTHING


def _submit(policy: Policy, actor: Member, resource: Resource) -> Grant:
    if not isinstance(resource, Submission):
        raise TypeError("envelope.submit needs the submission as its resource")
    if resource.claimed_sender != actor.id:
        raise _impersonation()
    # Another participant's message id: refused exactly like an impersonation, so that the answer
    # does not say that the id exists.
    if resource.stored_sender is not None and resource.stored_sender != actor.id:
        raise _impersonation()
    if not policy.may_send(actor.role, resource.kind):
        raise Forbidden(
            f"a participant of role {actor.role} may not send {resource.kind.value} messages",
            code=Code.POLICY_KIND_NOT_ALLOWED,
        )
    return EVERYTHING


def _delivery(actor: Member, resource: Resource) -> Grant:
    envelope = _envelope(resource)
    if actor.role == Role.NCP:
        if actor.id in (envelope.sender, envelope.recipient):
            return EVERYTHING
        raise envelope_not_found()
    if actor.role in {Role.WCO.value, Role.AUDITOR.value}:
        return _view(actor)
    raise envelope_not_found()


def upload_not_found() -> NotFound:
    """The one error for an upload that does not exist *or* is someone else's."""
    return NotFound("there is no such upload for you", code=Code.UPLOAD_NOT_FOUND)


def _upload(actor: Member, resource: Resource) -> Grant:
    if not isinstance(resource, Upload):
        raise TypeError("upload.write needs the upload as its resource")
    if actor.role not in _RECEIVING:
        raise Forbidden(
            "only participants who send messages upload attachments", code=Code.UPLOAD_FORBIDDEN
        )
    if resource.owner != actor.id:
        raise upload_not_found()
    return EVERYTHING


def _log_entry(actor: Member, resource: Resource) -> Grant:
    if not isinstance(resource, LogEntry):
        raise TypeError("log.entry needs the entry as its resource")
    if actor.role == Role.AUDITOR:
        scope = _audit_scope(actor)
        if scope is None or scope in resource.countries:
            return Grant(country=scope)
        raise _log_not_found()
    if resource.event in _KEY_EVENTS:
        return EVERYTHING
    if resource.event in _MESSAGE_EVENTS and resource.parties and actor.id in resource.parties:
        return EVERYTHING
    raise _log_not_found()


def authorize(  # noqa: PLR0911, PLR0912 - one branch per action, as in the table above
    policy: Policy, actor: Member, action: Action, resource: Resource = None
) -> Grant:
    """Decide whether ``actor`` may do ``action`` on ``resource`` under ``policy``; return what it
    may see, or raise :class:`~hub.errors.Forbidden` / :class:`~hub.errors.NotFound`.

    ``resource`` is an :class:`Envelope` for the envelope actions and ``delivery.read``, a
    :class:`Submission` for ``envelope.submit``, a :class:`LogEntry` for ``log.entry``, an
    :class:`Upload` for ``upload.write``, and None
    for everything else. Fails closed: an unknown role or action is refused.
    """
    _check_standing(policy, actor)
    if action is Action.SUBMIT:
        return _submit(policy, actor, resource)
    if action in (Action.MAILBOX, Action.DIRECTORY, Action.LOG_READ, Action.CODELISTS):
        return EVERYTHING
    if action is Action.FETCH:
        return _party(actor, resource, sender=True, recipient=True)
    if action is Action.STATUS:
        return _party(actor, resource, sender=True, recipient=False)
    if action is Action.RECEIPT:
        return _party(actor, resource, sender=False, recipient=True)
    if action is Action.DELIVERY:
        return _delivery(actor, resource)
    if action is Action.LOG_ENTRY:
        return _log_entry(actor, resource)
    if action is Action.UPLOAD:
        return _upload(actor, resource)
    if action is Action.AUDIT:
        return _auditor(actor)
    if action is Action.NOTIFY_SETTINGS:
        # Only the roles that receive messages are notified; each sets its own (no resource:
        # the settings are always the actor's).
        if actor.role not in _RECEIVING:
            raise Forbidden(
                "only participants who receive messages have notification settings",
                code=Code.NOTIFICATIONS_FORBIDDEN,
            )
        return EVERYTHING
    if action is Action.NOTIFY_AUDIT:
        return _auditor(actor)
    if action is Action.LOG_BUNDLES:
        # A tlog-tiles entry bundle holds 256 entries of every country: removing some would break
        # its hash, so only an auditor who may see every entry reads bundles.
        if actor.role != Role.AUDITOR or _audit_scope(actor) is not None:
            raise Forbidden(
                "entry bundles mix every country's entries: only a global auditor reads them "
                "(a country's auditor reads its entries from /v1/audit/entries)",
                code=Code.TILES_ENTRIES_FORBIDDEN,
            )
        return EVERYTHING
    if action is Action.LOG_SIGN:
        if actor.role not in {Role.AUDITOR.value, Role.ADMIN.value}:
            raise Forbidden(
                "only auditors and admins ask for a new checkpoint", code=Code.AUDIT_FORBIDDEN
            )
        return EVERYTHING
    if action is Action.ADMIN:
        if actor.role != Role.ADMIN:
            raise Forbidden("only an active admin may do this", code=Code.ADMIN_FORBIDDEN)
        return EVERYTHING
    if action in _CONSOLE_ROLES:
        if actor.role not in _CONSOLE_ROLES[action]:
            raise Forbidden("this page is not for this participant", code=Code.CONSOLE_FORBIDDEN)
        return _view(actor)
    raise Forbidden(f"unknown action {action}", code=Code.POLICY_UNKNOWN_ACTION)  # pragma: no cover


def allowed(policy: Policy, actor: Member, action: Action, resource: Resource = None) -> bool:
    """Whether :func:`authorize` allows it: only for what to *show* (a navigation link), never to
    guard data — the data's own service function calls :func:`authorize`."""
    try:
        authorize(policy, actor, action, resource)
    except (Forbidden, NotFound):
        return False
    return True
