"""The hub's tables (SQLAlchemy Core), as described in ``docs/design/hub.md`` (Storage).

``migrations/`` creates and changes these tables; this module is what the repository functions
query, and the test suite checks that the two agree (no autogenerate diff). Never call
``metadata.create_all`` outside that test.

Conventions:

* times are integer seconds since the epoch (UTC), the same on SQLite and PostgreSQL;
* raw envelope bytes and SHA-256 digests are binary; JSON is stored as text, exactly as given;
* enumerated text columns carry a CHECK constraint, so a bad value fails in the database too;
* every constraint has a name from :data:`NAMING_CONVENTION`, so migrations can refer to it and
  the autogenerate comparison is stable across databases.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A 64-bit, ever-increasing key. SQLite only auto-assigns an "INTEGER PRIMARY KEY" (its rowid,
# already 64-bit), so the type is INTEGER there; the tables using it also ask SQLite for
# AUTOINCREMENT, so a number is never handed out twice, even after the newest row is deleted
# (cursors and sequence numbers are given to clients and must never go backwards).
SERIAL: Final = BigInteger().with_variant(Integer(), "sqlite")

Role = Literal["ncp", "wco", "auditor", "admin"]
Status = Literal["active", "suspended", "revoked"]
KeyUse = Literal["sig", "enc"]
KeyState = Literal["current", "retired", "revoked"]
DeliveryState = Literal["queued", "delivered", "read", "expired"]
ReceiptStatus = Literal["delivered", "read"]
MailboxItemKind = Literal["envelope", "receipt"]

PARTICIPANT_ROLES: Final[tuple[str, ...]] = get_args(Role)
PARTICIPANT_STATUSES: Final[tuple[str, ...]] = get_args(Status)
KEY_USES: Final[tuple[str, ...]] = get_args(KeyUse)
KEY_STATES: Final[tuple[str, ...]] = get_args(KeyState)
DELIVERY_STATES: Final[tuple[str, ...]] = get_args(DeliveryState)
RECEIPT_STATUSES: Final[tuple[str, ...]] = get_args(ReceiptStatus)
MAILBOX_ITEMS: Final[tuple[str, ...]] = get_args(MailboxItemKind)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL text of a CHECK that ``column`` holds one of ``values`` (fixed literals only)."""
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


metadata = MetaData(naming_convention=NAMING_CONVENTION)

participants = Table(
    "participants",
    metadata,
    Column("id", Text, primary_key=True),
    Column("country", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("scope", Text, nullable=True),
    Column("status", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    CheckConstraint(_one_of("role", PARTICIPANT_ROLES), name="role"),
    CheckConstraint(_one_of("status", PARTICIPANT_STATUSES), name="status"),
)

participant_keys = Table(
    "participant_keys",
    metadata,
    Column("kid", Text, primary_key=True),
    Column("participant_id", Text, ForeignKey("participants.id"), nullable=False),
    Column("use", Text, nullable=False),
    Column("jwk", Text, nullable=False),
    Column("certificate", Text, nullable=False),
    Column("serial", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("retired_at", BigInteger, nullable=True),
    # The listing certificate's ``exp`` (0007); null when it has none.
    Column("expires_at", BigInteger, nullable=True),
    CheckConstraint(_one_of("use", KEY_USES), name="use"),
    CheckConstraint(_one_of("state", KEY_STATES), name="state"),
    Index("ix_participant_keys_participant_id", "participant_id"),
)

envelopes = Table(
    "envelopes",
    metadata,
    Column("seq", SERIAL, primary_key=True, autoincrement=True),
    Column("mid", Text, nullable=False, unique=True),
    Column("sender_id", Text, ForeignKey("participants.id"), nullable=False),
    Column("sender_kid", Text, ForeignKey("participant_keys.kid"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("tlp", Text, nullable=False),
    Column("grp", Text, nullable=True),
    Column("iat", BigInteger, nullable=False),
    Column("exp", BigInteger, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", LargeBinary, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("accepted_at", BigInteger, nullable=False),
    Column("thread", Text, nullable=True),
    Column("irt", Text, nullable=True),
    # When the body (raw) was purged by retention: raw is then empty, the rest kept (0007).
    Column("purged_at", BigInteger, nullable=True),
    CheckConstraint("length(sha256) = 32", name="sha256_length"),
    Index("ix_envelopes_exp", "exp"),
    sqlite_autoincrement=True,
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("envelope_seq", BigInteger, ForeignKey("envelopes.seq"), nullable=False),
    Column("recipient_id", Text, ForeignKey("participants.id"), nullable=False),
    Column("recipient_kid", Text, ForeignKey("participant_keys.kid"), nullable=False),
    Column("state", Text, nullable=False),
    Column("delivered_at", BigInteger, nullable=True),
    Column("read_at", BigInteger, nullable=True),
    PrimaryKeyConstraint("envelope_seq", "recipient_id"),
    CheckConstraint(_one_of("state", DELIVERY_STATES), name="state"),
    CheckConstraint("read_at IS NULL OR delivered_at IS NOT NULL", name="read_after_delivered"),
    Index("ix_deliveries_recipient_id_state", "recipient_id", "state"),
)

receipts = Table(
    "receipts",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("envelope_seq", BigInteger, ForeignKey("envelopes.seq"), nullable=False),
    Column("by_id", Text, ForeignKey("participants.id"), nullable=False),
    Column("status", Text, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("raw", Text, nullable=False),
    Column("sha256", LargeBinary, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    # Whether storing it moved the delivery on (None for receipts stored before revision 0006):
    # the same receipt posted again is answered with its first outcome.
    Column("state_changed", Boolean, nullable=True),
    CheckConstraint(_one_of("status", RECEIPT_STATUSES), name="status"),
    CheckConstraint("length(sha256) = 32", name="sha256_length"),
    Index("ix_receipts_envelope_seq", "envelope_seq"),
    sqlite_autoincrement=True,
)

mailbox = Table(
    "mailbox",
    metadata,
    Column("cursor", SERIAL, primary_key=True, autoincrement=True),
    Column("participant_id", Text, ForeignKey("participants.id"), nullable=False),
    Column("item", Text, nullable=False),
    Column("envelope_seq", BigInteger, ForeignKey("envelopes.seq"), nullable=False),
    Column("receipt_id", BigInteger, ForeignKey("receipts.id"), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    CheckConstraint(_one_of("item", MAILBOX_ITEMS), name="item"),
    CheckConstraint(
        "(item = 'envelope' AND receipt_id IS NULL) "
        "OR (item = 'receipt' AND receipt_id IS NOT NULL)",
        name="item_receipt",
    ),
    Index("ix_mailbox_participant_id_cursor", "participant_id", "cursor"),
    sqlite_autoincrement=True,
)

nonces = Table(
    "nonces",
    metadata,
    Column("keyid", Text, nullable=False),
    Column("nonce", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("keyid", "nonce"),
    Index("ix_nonces_expires_at", "expires_at"),
)

audit_records = Table(
    "audit_records",
    metadata,
    Column("seq", SERIAL, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("event", Text, nullable=False),
    Column("actor", Text, nullable=True),
    Column("subject", Text, nullable=True),
    Column("country", Text, nullable=True),
    Column("details", Text, nullable=False),
    # The record's place in the Merkle log and the exact bytes hashed into it (pgs-log/1).
    Column("log_index", BigInteger, nullable=False, unique=True),
    Column("entry", LargeBinary, nullable=False),
    Index("ix_audit_records_country_seq", "country", "seq"),
    sqlite_autoincrement=True,
)

# Every country a record involves (an envelope's sender and recipients, for instance): what a
# country-scoped auditor's view is filtered on.
audit_record_countries = Table(
    "audit_record_countries",
    metadata,
    Column("seq", SERIAL, ForeignKey("audit_records.seq"), primary_key=True),
    Column("country", Text, primary_key=True),
    Index("ix_audit_record_countries_country_seq", "country", "seq"),
)

# --- the Merkle log (RFC 9162) over audit records ----------------------------------------------

# Every completed perfect subtree: (level, idx) covers leaves [idx * 2**level, (idx+1) * 2**level).
log_nodes = Table(
    "log_nodes",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)

# One row: the tree size and its append frontier (the compact range's hashes, concatenated).
log_state = Table(
    "log_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("frontier", LargeBinary, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

# Signed checkpoints (C2SP tlog-checkpoint notes), one per signed size.
log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("signed_at", BigInteger, nullable=False),
)

# Witness cosignatures of signed checkpoints (c2sp.org/tlog-cosignature), one per size and witness
# key name: the signature line as the witness answered it, published after the hub's own.
log_cosignatures = Table(
    "log_cosignatures",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("witness", Text, primary_key=True),
    Column("line", Text, nullable=False),
    Column("received_at", BigInteger, nullable=False),
)

# --- the directory version (hub/services/directory_cache.py) ----------------------------------

# One row, changed in the same transaction as every write to ``participants`` or
# ``participant_keys`` (the functions of hub/storage/participants.py do it, so no caller can
# forget): ``version`` goes up by one and ``stamp`` gets 16 fresh random bytes. A cache of the
# directory is current exactly when both still read the same. The stamp is there because a
# transaction that is rolled back gives its number back: the next writer reuses it, never its stamp.
directory_version = Table(
    "directory_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
    Column("stamp", LargeBinary, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
    CheckConstraint("length(stamp) = 16", name="stamp_length"),
)

# --- the web console (docs/console.md) ---------------------------------------------------------

# One-time sign-in links: only the SHA-256 of the token is kept; ``used_at`` is set once, by the
# single UPDATE that consumes the link (so two workers cannot both accept it).
console_login_links = Table(
    "console_login_links",
    metadata,
    Column("token_hash", LargeBinary, primary_key=True),
    Column("participant_id", Text, ForeignKey("participants.id"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger, nullable=True),
    CheckConstraint("length(token_hash) = 32", name="token_hash_length"),
    Index("ix_console_login_links_expires_at", "expires_at"),
)

# Console sessions: the SHA-256 of the cookie's random id, never the id itself.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id_hash", LargeBinary, primary_key=True),
    Column("participant_id", Text, ForeignKey("participants.id"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    CheckConstraint("length(id_hash) = 32", name="id_hash_length"),
    Index("ix_console_sessions_expires_at", "expires_at"),
)

# --- security events (hub/services/security_events.py) -----------------------------------------

# Refusals, counted: one row per actor (a participant id, or the remote address of a request
# nobody could be authenticated for), reason code, action and one-minute window. A flood of
# refusals adds one row per minute per (actor, code, action), never one per request, and none of
# it goes into the transparency log. ``country`` is the participant's (None for an address): what a
# country-scoped auditor's view is filtered on.
ActorKind = Literal["participant", "address"]
ACTOR_KINDS: Final[tuple[str, ...]] = get_args(ActorKind)

security_events = Table(
    "security_events",
    metadata,
    Column("window_start", BigInteger, nullable=False),
    Column("actor", Text, nullable=False),
    Column("code", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("actor_kind", Text, nullable=False),
    Column("country", Text, nullable=True),
    Column("count", BigInteger, nullable=False),
    Column("first_at", BigInteger, nullable=False),
    Column("last_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("window_start", "actor", "code", "action"),
    CheckConstraint(_one_of("actor_kind", ACTOR_KINDS), name="actor_kind"),
    CheckConstraint("count > 0", name="count_positive"),
    Index("ix_security_events_country_window_start", "country", "window_start"),
)

# Submissions per participant and one-minute window, counted in the transaction that stores them
# (hub/services/writers.py): the limit holds across every hub process on the database.
submission_counters = Table(
    "submission_counters",
    metadata,
    Column("participant_id", Text, nullable=False),
    Column("window_start", BigInteger, nullable=False),
    Column("count", BigInteger, nullable=False),
    PrimaryKeyConstraint("participant_id", "window_start"),
    Index("ix_submission_counters_window_start", "window_start"),
)

# --- attachment uploads (tus 1.0), docs/design/hub.md (Attachments) ----------------------------
# One row per upload: who owns it, its declared length, how much is stored, until when an
# unreferenced one is kept, and the envelope (by message id) that referenced it on acceptance.
uploads = Table(
    "uploads",
    metadata,
    Column("id", Text, primary_key=True),
    Column("owner_id", Text, ForeignKey("participants.id"), nullable=False),
    Column("length", BigInteger, nullable=False),
    Column("stored", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("envelope_mid", Text, nullable=True),
    CheckConstraint("stored >= 0 AND stored <= length", name="stored_within_length"),
    Index("ix_uploads_owner_id", "owner_id"),
    Index("ix_uploads_envelope_mid", "envelope_mid"),
    Index("ix_uploads_expires_at", "expires_at"),
)

# The bytes of an upload, one row per accepted PATCH request, at its offset (opaque ciphertext).
upload_parts = Table(
    "upload_parts",
    metadata,
    Column("upload_id", Text, ForeignKey("uploads.id", ondelete="CASCADE"), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),  # empty when ``file`` names the part's file
    Column("file", Text, nullable=True),  # hub.storage.part_files (SQLite)
    PrimaryKeyConstraint("upload_id", "position"),
)

# --- notifications (hub/services/notifications.py) ---------------------------------------------
# Never a subject, a content, a message id or a secret: what to tell is "N messages await" (and,
# for a participant who opted in, the senders' countries and kinds).
NotificationChannel = Literal["email", "webhook"]
NOTIFICATION_CHANNELS: Final[tuple[str, ...]] = get_args(NotificationChannel)
NotificationState = Literal["pending", "sent", "failed", "cancelled"]
NOTIFICATION_STATES: Final[tuple[str, ...]] = get_args(NotificationState)
AttemptOutcome = Literal["sent", "retry", "given_up", "cancelled"]
ATTEMPT_OUTCOMES: Final[tuple[str, ...]] = get_args(AttemptOutcome)

# Each participant's own settings (PUT /v1/me/notifications); no row: the operator's defaults
# in config.toml, if any.
notification_settings = Table(
    "notification_settings",
    metadata,
    Column("participant_id", Text, ForeignKey("participants.id"), primary_key=True),
    Column("email", Text, nullable=True),
    Column("webhook", Text, nullable=True),
    Column("language", Text, nullable=False),
    Column("details", Boolean, nullable=False),
    Column("digest_minutes", Integer, nullable=False),
    Column("quiet_start", Text, nullable=True),  # "HH:MM" in the participant's timezone
    Column("quiet_end", Text, nullable=True),
    Column("timezone", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    CheckConstraint("language IN ('en', 'fr')", name="language"),
    CheckConstraint("digest_minutes >= 0", name="digest_minutes"),
)

# One notification to send (or sent): durable, so a restarted hub resumes its retries. While
# pending and not yet tried, later arrivals are folded into it (a digest, or quiet hours).
notifications = Table(
    "notifications",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("event_id", Text, nullable=False, unique=True),  # webhook-id: the same on each retry
    Column("participant_id", Text, ForeignKey("participants.id"), nullable=False),
    Column("channel", Text, nullable=False),
    Column("messages", Integer, nullable=False),
    Column("details", Text, nullable=True),  # JSON [[country, kind], ...] only if opted in
    Column("created_at", BigInteger, nullable=False),
    Column("due_at", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("state", Text, nullable=False),
    Column("finished_at", BigInteger, nullable=True),
    CheckConstraint(_one_of("channel", NOTIFICATION_CHANNELS), name="channel"),
    CheckConstraint(_one_of("state", NOTIFICATION_STATES), name="state"),
    Index("ix_notifications_state_due_at", "state", "due_at"),
    Index("ix_notifications_participant_id_channel", "participant_id", "channel"),
    sqlite_autoincrement=True,
)

# Every delivery attempt, as metadata only: who, by which channel, when, which attempt, what
# came of it (and the receiver's HTTP status or SMTP code). What auditors list.
notification_attempts = Table(
    "notification_attempts",
    metadata,
    Column("seq", SERIAL, primary_key=True, autoincrement=True),
    Column("notification_id", SERIAL, ForeignKey("notifications.id"), nullable=False),
    Column("participant_id", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("http_status", Integer, nullable=True),
    Column("smtp_code", Integer, nullable=True),
    Column("error", Text, nullable=True),  # the kind of failure (an exception class), no text
    CheckConstraint(_one_of("outcome", ATTEMPT_OUTCOMES), name="outcome"),
    Index("ix_notification_attempts_participant_id", "participant_id"),
    sqlite_autoincrement=True,
)
