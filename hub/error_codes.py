"""The hub's error catalogue: every stable ``code`` a problem document (RFC 9457) can carry, with
its HTTP status and the i18n key of its title (``hub.i18n``: ``error.<code>``, English and French).

The error classes of :mod:`hub.errors` say what *kind* of failure happened and
``hub/server/problems.py`` maps the kind to the status; this catalogue is where every code is
listed once, so a code is never typed twice as a literal and a test
(tests/hub/test_error_catalogue.py) checks that each raise site's kind gives the status written
here. The pure cores keep their own codes (``crypto.*``, ``protocol.*``: crypto/errors.py,
protocols/errors.py), mapped at the edge the same way.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """A stable error code. Compares and serializes as its string (``"auth.replay"``)."""

    statuses: tuple[int, ...]

    def __new__(cls, value: str, *statuses: int) -> Code:
        member = str.__new__(cls, value)
        member._value_ = value
        member.statuses = statuses
        return member

    @property
    def status(self) -> int:
        """The HTTP status this code is answered with (the first, when there are several)."""
        return self.statuses[0]

    @property
    def title_key(self) -> str:
        """The i18n key of the problem's title: ``t(code.title_key, lang)``."""
        return f"error.{self.value}"

    REQUEST_MALFORMED = "request.malformed", 400
    REQUEST_INVALID = "request.invalid", 422
    REQUEST_INCOMPLETE = "request.incomplete", 400
    REQUEST_TOO_LARGE = "request.too_large", 413
    REQUEST_TIMEOUT = "request.timeout", 408
    REQUEST_UNSUPPORTED_MEDIA_TYPE = "request.unsupported_media_type", 415
    REQUEST_BAD_FORWARDED_HEADER = "request.bad_forwarded_header", 400
    HTTP_MALFORMED = "http.malformed", 400
    HTTP_ERROR = "http.error", 400
    ROUTE_NOT_FOUND = "route.not_found", 404
    METHOD_NOT_ALLOWED = "method.not_allowed", 405
    INTERNAL = "internal", 500
    HUB_ERROR = "hub.error", 422
    AUTH_FAILED = "auth.failed", 401
    AUTH_UNKNOWN_KEY = "auth.unknown_key", 401
    AUTH_KEY_NOT_CURRENT = "auth.key_not_current", 401
    AUTH_CERTIFICATE_EXPIRED = "auth.certificate_expired", 401
    AUTH_REVOKED = "auth.revoked", 401
    AUTH_REPLAY = "auth.replay", 401
    ACCESS_DENIED = "access.denied", 403
    ADMIN_FORBIDDEN = "admin.forbidden", 403
    AUDIT_FORBIDDEN = "audit.forbidden", 403
    CONSOLE_FORBIDDEN = "console.forbidden", 403
    CONSOLE_OTHER_COUNTRY = "console.other_country", 403
    METRICS_FORBIDDEN = "metrics.forbidden", 403
    NOTIFICATIONS_FORBIDDEN = "notifications.forbidden", 403
    CODELIST_NOT_IMPORTED = "codelist.not_imported", 404
    NOTIFICATIONS_INVALID = "notifications.invalid", 422
    COUNTRY_SUSPENDED = "country.suspended", 403
    PARTICIPANT_SUSPENDED = "participant.suspended", 403
    PARTICIPANT_REVOKED = "participant.revoked", 403, 409
    PARTICIPANT_NOT_FOUND = "participant.not_found", 404
    PARTICIPANT_EXISTS = "participant.exists", 409
    SENDER_IMPERSONATION = "sender.impersonation", 403
    POLICY_KIND_NOT_ALLOWED = "policy.kind_not_allowed", 403
    POLICY_GROUP_NOT_ALLOWED = "policy.group_not_allowed", 403
    POLICY_RED_TO_GROUP = "policy.red_to_group", 403
    POLICY_SEIZURE_NEEDS_WCO = "policy.seizure_needs_wco", 403
    POLICY_TOO_MANY_RECIPIENTS = "policy.too_many_recipients", 403
    POLICY_UNKNOWN_ACTION = "policy.unknown_action", 403
    RECIPIENT_UNKNOWN = "recipient.unknown", 422
    RECIPIENT_INACTIVE = "recipient.inactive", 403
    RECIPIENT_ROLE = "recipient.role", 403
    RECIPIENT_STALE_KEY = "recipient.stale_key", 422
    GROUP_MISMATCH = "group.mismatch", 422
    ENVELOPE_NOT_FOUND = "envelope.not_found", 404
    ENVELOPE_PURGED = "envelope.purged", 410
    ENVELOPE_DUPLICATE = "envelope.duplicate", 409
    ENVELOPE_ID_CONFLICT = "envelope.id_conflict", 409
    ENVELOPE_EXPIRED = "envelope.expired", 422
    ENVELOPE_NOT_YET_VALID = "envelope.not_yet_valid", 422
    ENVELOPE_TTL_TOO_LONG = "envelope.ttl_too_long", 422
    RATE_LIMITED = "rate.limited", 429
    RATE_SUBMISSIONS = "rate.submissions", 429
    RECEIPT_IMPERSONATION = "receipt.impersonation", 403
    RECEIPT_TOO_LARGE = "receipt.too_large", 422
    RECEIPT_WRONG_ENVELOPE = "receipt.wrong_envelope", 422
    RECEIPT_WRONG_MESSAGE = "receipt.wrong_message", 422
    CERTIFICATE_SUBJECT = "certificate.subject", 422
    CERTIFICATE_EXPIRED = "certificate.expired", 422
    CERTIFICATE_CHANGES_IDENTITY = "certificate.changes_identity", 422
    KEY_EXISTS = "key.exists", 409
    KEY_NOT_FOUND = "key.not_found", 404
    KEY_NOT_LOGGED = "key.not_logged", 404
    LOG_NOT_FOUND = "log.not_found", 404
    LOG_INDEX_OUT_OF_RANGE = "log.index_out_of_range", 400
    LOG_INTEGRITY = "log.integrity", 503
    TILES_BAD_PATH = "tiles.bad_path", 422
    TILES_NOT_FOUND = "tiles.not_found", 404
    TILES_ENTRIES_FORBIDDEN = "tiles.entries_forbidden", 403
    STREAM_NOT_WEBSOCKET = "stream.not_websocket", 400
    NOT_FOUND = "not_found", 404
    CONFLICT = "conflict", 409
    GONE = "gone", 410
    SERVICE_UNAVAILABLE = "service.unavailable", 503
    DATABASE_UNAVAILABLE = "database.unavailable", 503
    STORAGE_FULL = "storage.full", 507
    HUB_SHUTTING_DOWN = "hub.shutting_down", 503
    TUS_VERSION_UNSUPPORTED = "tus.version_unsupported", 412
    RANGE_NOT_SATISFIABLE = "range.not_satisfiable", 416
    UPLOAD_NOT_FOUND = "upload.not_found", 404
    UPLOAD_FORBIDDEN = "upload.forbidden", 403
    UPLOAD_BAD_HEADER = "upload.bad_header", 422
    UPLOAD_BODY_ON_CREATION = "upload.body_on_creation", 422
    UPLOAD_CHECKSUM_ALGORITHM = "upload.checksum_algorithm", 422
    UPLOAD_CHECKSUM_MISMATCH = "upload.checksum_mismatch", 460
    UPLOAD_OFFSET_MISMATCH = "upload.offset_mismatch", 409
    UPLOAD_BEYOND_LENGTH = "upload.beyond_length", 413
    UPLOAD_PART_TOO_LARGE = "upload.part_too_large", 413
    UPLOAD_TOO_LARGE = "upload.too_large", 413
    UPLOAD_QUOTA_EXCEEDED = "upload.quota_exceeded", 413
    UPLOAD_BOUND = "upload.bound", 409
    ATTACHMENT_UNKNOWN_UPLOAD = "attachment.unknown_upload", 422
    ATTACHMENT_INCOMPLETE_UPLOAD = "attachment.incomplete_upload", 422
    ATTACHMENT_UPLOAD_TAKEN = "attachment.upload_taken", 409
    ATTACHMENT_MESSAGE_TOO_LARGE = "attachment.message_too_large", 413
    AUTH_MISSING_SIGNATURE = "auth.missing_signature", 401
    AUTH_MALFORMED_SIGNATURE = "auth.malformed_signature", 401
    AUTH_UNSUPPORTED_ALGORITHM = "auth.unsupported_algorithm", 401
    AUTH_MISSING_COMPONENT = "auth.missing_component", 401
    AUTH_EXPIRED = "auth.expired", 401
    AUTH_BAD_SIGNATURE = "auth.bad_signature", 401
    AUTH_DIGEST_MISMATCH = "auth.digest_mismatch", 401
    REQUEST_INVALID_TARGET = "request.invalid_target", 422
    REQUEST_DIGEST_MISSING = "request.digest_missing", 422
    REQUEST_DIGEST_MALFORMED = "request.digest_malformed", 422
    REQUEST_DIGEST_UNSUPPORTED = "request.digest_unsupported", 422
    GROUP_UNKNOWN = "group.unknown", 404
