"""The bodies of the hub's HTTP API, as typed models: what the hub answers and what a client sends.

The hub's services build these, its handlers serialize them, its OpenAPI document is generated from
their JSON schemas (``hub.server.openapi``), and the Python client parses every answer into them.
One definition per body, so the server, the document and the client cannot drift apart.

They live in ``protocols`` because both sides need them and they are pure: no I/O, no HTTP, no SQL.
Answers are read leniently (unknown members are ignored: a newer hub may add some) and written
exactly as declared: field order is the wire order, ``None`` is written as ``null``.

Signed bodies (envelopes, receipts, certificates) have no model here: they are JWS documents that
are verified as the exact bytes received (``protocols.envelope``, ``protocols.certificates``), never
parsed into a model first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter

from pgs_hub.crypto.b64 import b64u_ascii, b64u_encode

__all__ = [
    "API_MODELS",
    "MAILBOX_ITEM",
    "Acceptance",
    "ApiModel",
    "AuditRecord",
    "AuditRecords",
    "Checkpoint",
    "ConsistencyProof",
    "DeliveryState",
    "Directory",
    "Enrolment",
    "EnvelopeItem",
    "Group",
    "GroupMember",
    "Groups",
    "Health",
    "InboxPage",
    "InclusionProof",
    "KeyEntry",
    "Liveness",
    "LogEntries",
    "LogEntriesPage",
    "LogEntry",
    "LoginLink",
    "MailboxItem",
    "NotificationAttempt",
    "NotificationAttempts",
    "NotificationLanguage",
    "NotificationSettings",
    "NotificationSettingsChange",
    "Participant",
    "ParticipantStatus",
    "Problem",
    "ProblemError",
    "QuietHours",
    "ReceiptItem",
    "ReceiptRecorded",
    "RecipientState",
    "SecurityEvent",
    "SecurityEvents",
    "StatusAction",
    "StatusChange",
    "UnlocodeList",
    "UploadLimits",
]


class ApiModel(BaseModel):
    """An API body: immutable once built; unknown members of an answer are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        """The JSON document as sent: aliases (``from``), ``null`` kept, declared order."""
        return self.model_dump(mode="json", by_alias=True)

    def wire_json(self) -> bytes:
        """:meth:`wire` as compact UTF-8 JSON text, serialized by pydantic-core in one pass: a
        page of 10,000 log entries cost the serving hub 24-30 ms of CPU as a dict first and then
        the standard library's encoder, 7.6-8.0 ms so (bench/README.md, fifth round)."""
        return self.model_dump_json(by_alias=True).encode("utf-8")


# --- health ------------------------------------------------------------------------------------


class Health(ApiModel):
    """Readiness: ``status`` is ``ok`` or ``not ready``; ``database`` says why not."""

    status: str
    database: str
    log_origin: str


class Liveness(ApiModel):
    status: str
    log_origin: str


# --- envelopes and the mailbox -----------------------------------------------------------------


class Acceptance(ApiModel):
    """The answer to an accepted submission (201, or 200 for an identical resubmission)."""

    mid: str
    envelope_sha256: str
    accepted_at: int
    recipients: list[str]
    acceptance: str = Field(description="The same facts as a JWS by the hub's key.")


class RecipientState(ApiModel):
    id: str
    state: str
    delivered_at: int | None
    read_at: int | None


class DeliveryState(ApiModel):
    """Per-recipient delivery state of a message, for its sender."""

    mid: str
    accepted_at: int
    exp: int
    recipients: list[RecipientState]


class ReceiptRecorded(ApiModel):
    id: int
    mid: str
    status: str
    state_changed: bool


class EnvelopeItem(ApiModel):
    """A mailbox item: an envelope addressed to the reader (its metadata; fetch the bytes)."""

    cursor: int
    type: Literal["envelope"]
    mid: str
    # "from" on the wire (a Python keyword): the name for code, the alias for JSON.
    sender: str = Field(validation_alias="from", serialization_alias="from")
    kind: str
    tlp: str
    group: str | None
    size: int
    envelope_sha256: str
    iat: int
    exp: int
    accepted_at: int


class ReceiptItem(ApiModel):
    """A mailbox item: a signed receipt for an envelope the reader sent."""

    cursor: int
    type: Literal["receipt"]
    mid: str
    by: str
    status: str
    at: int
    receipt: str = Field(description="The signed receipt (JWS JSON).")


MailboxItem = Annotated[EnvelopeItem | ReceiptItem, Field(discriminator="type")]
#: Reads one mailbox item (a WebSocket frame of /v1/stream).
MAILBOX_ITEM: TypeAdapter[EnvelopeItem | ReceiptItem] = TypeAdapter(MailboxItem)


class InboxPage(ApiModel):
    """A page of mailbox items and the cursor to continue from."""

    items: list[MailboxItem]
    next: int


# --- directory ---------------------------------------------------------------------------------


class KeyEntry(ApiModel):
    kid: str
    use: str
    state: str
    certificate: str


class Participant(ApiModel):
    """A directory entry. ``certificate`` is the current one, ``null`` once no key is current."""

    id: str
    country: str
    role: str
    scope: str | None = None
    status: str
    certificate: str | None
    keys: list[KeyEntry]


class Directory(ApiModel):
    participants: list[Participant]


class Groups(ApiModel):
    groups: list[str]


class UnlocodeList(ApiModel):
    """The hub's UN/LOCODE list, served whole (gzip) so that clients search it locally: each
    place is ``[code, name, name without diacritics, subdivision, functions, coordinates]``,
    sorted by code; ``functions`` holds UNECE's function characters (1 port, 2 rail, 3 road,
    4 airport, 5 postal, 6 multimodal, 7 fixed transport, B border crossing)."""

    format: str
    version: str
    date: str
    count: int
    places: list[list[str]]


class GroupMember(ApiModel):
    id: str
    enc_kid: str


class Group(ApiModel):
    name: str
    members: list[GroupMember]


# --- administration ----------------------------------------------------------------------------


class Enrolment(ApiModel):
    id: str
    serial: str


StatusAction = Literal["suspend", "reinstate", "revoke"]


class StatusChange(ApiModel):
    """The request body of POST /v1/admin/participants/{participant}/status."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: StatusAction


class ParticipantStatus(ApiModel):
    id: str
    status: str


class LoginLink(ApiModel):
    """A one-time sign-in URL to the console, and how many seconds it stays valid."""

    url: str = Field(json_schema_extra={"format": "uri"})
    expires_in: int


# --- audit -------------------------------------------------------------------------------------


class AuditRecord(ApiModel):
    seq: int
    at: int
    event: str
    actor: str | None
    subject: str | None
    country: str | None
    details: dict[str, JsonValue]


class AuditRecords(ApiModel):
    records: list[AuditRecord]
    next: int


class Checkpoint(ApiModel):
    """The signed checkpoint note (with witness cosignatures), its tree size and root."""

    checkpoint: str
    size: int
    root: str


class LogEntry(ApiModel):
    index: int
    entry: str = Field(description="The entry's bytes, base64url.")


class LogEntries(ApiModel):
    start: int
    end: int
    entries: list[LogEntry]


@dataclass(frozen=True, slots=True)
class LogEntriesPage:
    """A page of ``GET /v1/audit/entries`` as the hub serves it: :class:`LogEntries`' document,
    written from the stored entries' bytes (``entries``: index and bytes, in order).

    Why not a :class:`LogEntries`: an auditor downloads the whole log, 10,000 entries a page, and
    a model of 10,000 :class:`LogEntry` (each validated, its entry encoded as text) cost the hub
    45 ms of CPU per page to build and serialize, against 17 ms written so. The document is the
    same to the byte (a property test in ``tests/protocols/test_api_wire_json.py``): the same
    members in the same order, and nothing in it needs escaping (integers, base64url letters).
    """

    start: int
    end: int
    entries: Sequence[tuple[int, bytes]]

    def wire_json(self) -> bytes:
        """Exactly ``self.to_model().wire_json()``."""
        item = b'{"index":%d,"entry":"%s"}'
        items = b",".join([item % (index, b64u_ascii(entry)) for index, entry in self.entries])
        return b'{"start":%d,"end":%d,"entries":[%s]}' % (self.start, self.end, items)

    def to_model(self) -> LogEntries:
        return LogEntries(
            start=self.start,
            end=self.end,
            entries=[LogEntry(index=i, entry=b64u_encode(e)) for i, e in self.entries],
        )


class InclusionProof(ApiModel):
    index: int
    size: int
    leaf_hash: str
    entry: str
    proof: list[str]


class ConsistencyProof(ApiModel):
    first: int
    second: int
    proof: list[str]


class SecurityEvent(ApiModel):
    window_start: int
    actor: str
    actor_kind: Literal["participant", "address"]
    country: str | None
    code: str
    action: str
    count: int
    first_at: int
    last_at: int


class SecurityEvents(ApiModel):
    scope: str | None
    since: int
    window_seconds: int
    events: list[SecurityEvent]


# --- problems and headers ----------------------------------------------------------------------


class ProblemError(ApiModel):
    pointer: str | None = None
    detail: str | None = None


class Problem(ApiModel):
    """An RFC 9457 problem document, with the hub's stable ``code``."""

    type: str = Field(json_schema_extra={"format": "uri"})
    title: str
    status: int
    detail: str
    code: str
    errors: list[ProblemError] | None = None


class UploadLimits(ApiModel):
    """The hub's attachment caps, read from the headers of the tus discovery (OPTIONS)."""

    max_file_bytes: int
    max_message_bytes: int
    max_part_bytes: int
    # PATCHes of one upload the hub takes in flight at once (Pgs-Parts-In-Flight; 1 when the
    # header is absent, as from any other tus server).
    parts_in_flight: int = 1


#: Every model a JSON body of the API is built from (the OpenAPI document's components).

# --- notifications (content-free: never a subject, a content or a message id) --------------------

_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
NotificationLanguage = Literal["en", "fr", "es", "pt", "ar"]


class QuietHours(ApiModel):
    """Nothing is sent between ``start`` and ``end`` (HH:MM, in the participant's time zone)."""

    start: str = Field(pattern=_HHMM)
    end: str = Field(pattern=_HHMM)


class NotificationSettingsChange(ApiModel):
    """The members of a participant's notification settings to change (the others keep their
    value). The hub checks each member itself and names the one that is wrong."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email: str | None = Field(
        default=None, max_length=320, description="Where to send e-mail (null or empty: none)."
    )
    webhook: str | None = Field(
        default=None, max_length=2048, description="An http(s) URL for Standard Webhooks."
    )
    language: NotificationLanguage | None = None
    details: bool | None = Field(
        default=None, description="Add the senders' countries and the message kinds (never more)."
    )
    digest_minutes: int | None = Field(
        default=None,
        ge=0,
        le=10080,
        description="0: one notification per arrival; N: at most one every N minutes.",
    )
    quiet_hours: QuietHours | None = None
    timezone: str | None = Field(default=None, max_length=64, description="IANA time zone.")

    def changes(self) -> dict[str, Any]:
        """Only the members set (a ``null`` given on purpose is kept: it clears the value)."""
        return self.model_dump(mode="json", exclude_unset=True)


class NotificationSettings(ApiModel):
    email: str | None
    webhook: str | None
    language: str
    details: bool
    digest_minutes: int
    quiet_hours: QuietHours | None
    timezone: str
    saved: bool = Field(description="false: the operator's starting settings.")
    webhook_public_key: str = Field(
        description="The hub's Ed25519 key that signs webhooks (v1a), as whpk_<base64>."
    )


class NotificationAttempt(ApiModel):
    seq: int
    notification_id: int
    participant_id: str
    channel: Literal["email", "webhook"]
    at: int
    attempt: int
    outcome: Literal["sent", "retry", "given_up", "cancelled"]
    http_status: int | None
    smtp_code: int | None
    error: str | None


class NotificationAttempts(ApiModel):
    items: list[NotificationAttempt]
    next: int


API_MODELS: tuple[type[ApiModel], ...] = (
    Health, Liveness, Acceptance, DeliveryState, ReceiptRecorded, InboxPage, Directory,
    Participant, Groups, Group, Enrolment, StatusChange, ParticipantStatus, LoginLink,
    AuditRecords, Checkpoint, LogEntries, InclusionProof, ConsistencyProof, SecurityEvents,
    Problem, NotificationSettingsChange, NotificationSettings, NotificationAttempts,
    UnlocodeList,
)  # fmt: skip
