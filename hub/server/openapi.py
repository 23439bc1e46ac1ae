"""The OpenAPI 3.1 document of the hub's API, built from data (served at /v1/openapi.json and
kept in the repository as docs/openapi.json; a test keeps the two equal)."""

from __future__ import annotations

from functools import cache
from typing import Any

from hub.i18n import LANGS

PROBLEM = {"$ref": "#/components/responses/Problem"}
SIGNED: list[dict[str, list[str]]] = [{"httpMessageSignature": []}]
JOSE = "application/jose+json"


def _problems(*statuses: int) -> dict[str, Any]:
    return {str(s): PROBLEM for s in statuses}


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or {"type": "object"}}},
    }


def _mid() -> dict[str, Any]:
    return {
        "name": "mid",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
        "description": "Message id (UUID version 4, lower case).",
    }


def _int_query(name: str, description: str, maximum: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": 0}
    if maximum:
        schema["maximum"] = maximum
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _envelope_body(description: str) -> dict[str, Any]:
    return {
        "required": True,
        "description": description,
        "content": {
            JOSE: {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }


MAILBOX_ITEM: dict[str, Any] = {
    "type": "object",
    "required": ["cursor", "type", "mid"],
    "properties": {
        "cursor": {"type": "integer"},
        "type": {"enum": ["envelope", "receipt"]},
        "mid": {"type": "string"},
        "from": {"type": "string"},
        "kind": {"type": "string"},
        "tlp": {"type": "string"},
        "group": {"type": ["string", "null"]},
        "size": {"type": "integer"},
        "envelope_sha256": {"type": "string"},
        "iat": {"type": "integer"},
        "exp": {"type": "integer"},
        "accepted_at": {"type": "integer"},
        "by": {"type": "string"},
        "status": {"type": "string"},
        "at": {"type": "integer"},
        "receipt": {"type": "string", "description": "The signed receipt (JWS JSON)."},
    },
}


def _object(required: dict[str, Any], **optional: Any) -> dict[str, Any]:
    """A JSON object with these members (more may be added later: clients ignore the others)."""
    return {"type": "object", "required": list(required), "properties": required | optional}


INT: dict[str, Any] = {"type": "integer"}
STR: dict[str, Any] = {"type": "string"}
NULLABLE_STR: dict[str, Any] = {"type": ["string", "null"]}
STR_LIST: dict[str, Any] = {"type": "array", "items": STR}
CHECKPOINT = _object({"checkpoint": STR, "size": INT, "root": STR})
INCLUSION = _object({"index": INT, "size": INT, "leaf_hash": STR, "entry": STR, "proof": STR_LIST})
ACCEPTANCE = _object(
    {"mid": STR, "envelope_sha256": STR, "accepted_at": INT, "recipients": STR_LIST,
     "acceptance": {"type": "string", "description": "The same facts as a JWS by the hub's key."}}
)  # fmt: skip
ENROLMENT = _object({"id": STR, "serial": STR})
PARTICIPANT = _object(
    {"id": STR, "country": STR, "role": STR, "status": STR,
     "certificate": NULLABLE_STR,  # null once no key of the participant is current (revoked)
     "keys": {"type": "array", "items": _object(
         {"kid": STR, "use": STR, "state": STR, "certificate": STR}
     )}},
    scope=NULLABLE_STR,
)  # fmt: skip

SECURITY_EVENTS = _object(
    {"scope": NULLABLE_STR, "since": INT, "window_seconds": INT,
     "events": {"type": "array", "items": _object(
         {"window_start": INT, "actor": STR, "actor_kind": {"enum": ["participant", "address"]},
          "country": NULLABLE_STR, "code": STR, "action": STR, "count": INT, "first_at": INT,
          "last_at": INT}
     )}}
)  # fmt: skip


def _header(name: str, description: str, schema: dict[str, Any], required: bool = True) -> Any:
    return {
        "name": name, "in": "header", "required": required, "schema": schema,
        "description": description,
    }  # fmt: skip


TUS_RESUMABLE = _header(
    "Tus-Resumable", "tus protocol version.", {"type": "string", "const": "1.0.0"}
)
UPLOAD_ID = {
    "name": "upload",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{22}$"},
    "description": "Upload id (128 random bits, base64url), given by the creation request.",
}
EMPTY = {"description": "No content; the answer is in the headers."}
OCTETS = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}


def _uploads() -> dict[str, Any]:
    """Attachment blobs: tus 1.0 uploads (docs/design/hub.md, Attachments) and downloads."""
    digits = {"type": "string", "pattern": "^[0-9]{1,19}$"}
    return {
        "/v1/uploads": {
            "options": {
                "summary": "tus discovery: version, extensions, caps",
                "responses": {
                    "204": {
                        "description": "Tus-Version, Tus-Extension (creation, checksum, "
                        "expiration, termination), Tus-Max-Size, Tus-Checksum-Algorithm (sha256), "
                        "Pgs-Max-Message-Size, Pgs-Max-Part-Size."
                    },
                    **_problems(401, 403, 429),
                },
            },
            "post": {
                "summary": "Create an upload of Upload-Length bytes (tus creation)",
                "description": (
                    "Refused before anything is stored over the per-file cap (upload.too_large)"
                    " or the participant's quota (upload.quota_exceeded). Upload-Metadata is not"
                    " stored: names and types travel only inside the encrypted message."
                ),
                "parameters": [
                    TUS_RESUMABLE,
                    _header("Upload-Length", "Size of the ciphertext.", digits),
                ],
                "responses": {
                    "201": {"description": "Created: Location, Upload-Expires."},
                    **_problems(400, 401, 403, 412, 413, 422, 429),
                },
            },
        },
        "/v1/uploads/{upload}": {
            "head": {
                "summary": "Where an upload stands: Upload-Offset to resume from (owner only)",
                "parameters": [UPLOAD_ID, TUS_RESUMABLE],
                "responses": {
                    "200": {"description": "Upload-Offset, Upload-Length, Upload-Expires."},
                    **_problems(401, 403, 404, 412, 429),
                },
            },
            "patch": {
                "summary": "Append bytes at Upload-Offset (owner only, until a message uses it)",
                "parameters": [
                    UPLOAD_ID,
                    TUS_RESUMABLE,
                    _header("Upload-Offset", "Where the body goes: the current offset.", digits),
                    _header(
                        "Upload-Checksum",
                        "sha256 and the base64 digest of the body.",
                        {"type": "string"},
                        required=False,
                    ),
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/offset+octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                },
                "responses": {
                    "204": {"description": "Stored: the new Upload-Offset."},
                    **_problems(400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 460),
                },
            },
            "delete": {
                "summary": "Delete an upload no sent message references (tus termination)",
                "parameters": [UPLOAD_ID, TUS_RESUMABLE],
                "responses": {"204": EMPTY, **_problems(401, 403, 404, 409, 412, 429)},
            },
            "get": {
                "summary": "Download a blob: the parties of the envelope that references it",
                "description": "A single byte Range is answered with 206; past the end, 416.",
                "parameters": [
                    UPLOAD_ID,
                    _header(
                        "Range",
                        "bytes=first-last, bytes=first- or bytes=-suffix.",
                        {"type": "string", "pattern": "^bytes=[0-9]{0,19}-[0-9]{0,19}$"},
                        required=False,
                    ),
                ],
                "responses": {
                    "200": {"description": "The ciphertext.", "content": OCTETS},
                    "206": {"description": "A range of the ciphertext.", "content": OCTETS},
                    **_problems(401, 403, 404, 416, 429),
                },
            },
        },
    }


NOTIFICATION_SETTINGS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "email": {"type": ["string", "null"], "maxLength": 320, "description": "Where to send"
                  " e-mail notifications (null or empty: none)."},
        "webhook": {"type": ["string", "null"], "maxLength": 2048, "description": "An http(s)"
                    " URL for Standard Webhooks (null or empty: none)."},
        "language": {"enum": list(LANGS)},
        "details": {"type": "boolean", "description": "Add the senders' countries and the"
                    " message kinds (never more)."},
        "digest_minutes": {"type": "integer", "minimum": 0, "maximum": 10080,
                           "description": "0: one notification per arrival; N: at most one"
                           " every N minutes."},
        "quiet_hours": {
            "oneOf": [
                {"type": "null"},
                _object({"start": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                         "end": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}}),
            ],
            "description": "Nothing is sent between start and end (HH:MM, in timezone); what"
            " arrived is told when they end.",
        },
        "timezone": {"type": "string", "maxLength": 64, "description": "IANA time zone."},
    },
}  # fmt: skip
NOTIFICATION_DOCUMENT = _object(
    {"email": NULLABLE_STR, "webhook": NULLABLE_STR, "language": STR,
     "details": {"type": "boolean"}, "digest_minutes": INT,
     "quiet_hours": {"type": ["object", "null"]}, "timezone": STR,
     "saved": {"type": "boolean", "description": "false: the operator's starting settings."},
     "webhook_public_key": {"type": "string", "description": "The hub's Ed25519 key that signs"
                            " webhooks (v1a), in the Standard Webhooks form whpk_<base64>."}}
)  # fmt: skip
NULLABLE_INT: dict[str, Any] = {"type": ["integer", "null"]}


def _notifications() -> dict[str, Any]:
    return {
        "/v1/me/notifications": {
            "get": {
                "summary": "My notification settings (participants who receive messages)",
                "responses": {
                    "200": _json("Settings.", NOTIFICATION_DOCUMENT),
                    **_problems(401, 403, 429),
                },
            },
            "put": {
                "summary": "Change my notification settings (members left out keep their value)."
                " Notifications never carry a subject, content or message id.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": NOTIFICATION_SETTINGS}},
                },
                "responses": {
                    "200": _json("Settings saved.", NOTIFICATION_DOCUMENT),
                    **_problems(400, 401, 403, 413, 422, 429),
                },
            },
        },
        "/v1/audit/notifications": {
            "get": {
                "summary": "Notification delivery attempts, as metadata (auditors; scoped"
                " auditors see their country's participants only)",
                "parameters": [
                    _int_query("after", "Attempts after this sequence number."),
                    _int_query("limit", "At most this many (1-500).", 500),
                    {"name": "participant", "in": "query", "required": False, "schema": STR,
                     "description": "Only this participant's."},
                ],
                "responses": {
                    "200": _json(
                        "Attempts, oldest first.",
                        _object({"items": {"type": "array", "items": _object(
                            {"seq": INT, "notification_id": INT, "participant_id": STR,
                             "channel": {"enum": ["email", "webhook"]}, "at": INT, "attempt": INT,
                             "outcome": {"enum": ["sent", "retry", "given_up", "cancelled"]},
                             "http_status": NULLABLE_INT, "smtp_code": NULLABLE_INT,
                             "error": NULLABLE_STR}
                        )}, "next": INT}),
                    ),
                    **_problems(401, 403, 422, 429),
                },
            }
        },
    }  # fmt: skip


@cache
def document() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/v1/health": {
            "get": {
                "summary": "Readiness (as /v1/health/ready; kept for existing probes)",
                "security": [],
                "responses": {
                    "200": _json(
                        "The hub and its database answer.",
                        _object({"status": STR, "database": STR, "log_origin": STR}),
                    ),
                    "503": _json(
                        "Not ready: `database` says why. Retry-After is set.",
                        _object({"status": STR, "database": STR, "log_origin": STR}),
                    ),
                },
            }
        },
        "/v1/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": _json("OpenAPI 3.1")},
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics (text exposition format)",
                "security": [],
                "responses": {
                    "200": {
                        "description": "metrics",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/v1/envelopes": {
            "post": {
                "summary": "Submit an envelope",
                "description": (
                    "Authenticated by the envelope's own JWS (docs/protocol.md);"
                    " no HTTP signature is needed. Idempotent by message id: the same bytes again"
                    " return the original"
                    " acceptance with 200; other bytes under the same id are a 409."
                ),
                "security": [],
                "requestBody": _envelope_body("The envelope: JWS (flattened JSON) wrapping a JWE."),
                "responses": {
                    "201": _json("Accepted and durably stored.", ACCEPTANCE),
                    "200": _json("Already accepted (identical resubmission).", ACCEPTANCE),
                    **_problems(400, 401, 403, 408, 409, 413, 415, 422, 429, 503),
                },
            }
        },
        "/v1/envelopes/{mid}": {
            "get": {
                "summary": "Fetch one envelope (its sender and recipients only)",
                "parameters": [_mid()],
                "responses": {
                    "200": {
                        "description": "The exact envelope bytes",
                        "content": {JOSE: {"schema": {"type": "object"}}},
                    },
                    **_problems(401, 403, 404, 429, 410),
                },
            }
        },
        "/v1/envelopes/{mid}/status": {
            "get": {
                "summary": "Per-recipient delivery state (the sender only)",
                "parameters": [_mid()],
                "responses": {
                    "200": _json(
                        "Delivery state",
                        _object(
                            {
                                "mid": STR,
                                "accepted_at": INT,
                                "exp": INT,
                                "recipients": {
                                    "type": "array",
                                    "items": _object(
                                        {
                                            "id": STR,
                                            "state": STR,
                                            "delivered_at": {"type": ["integer", "null"]},
                                            "read_at": {"type": ["integer", "null"]},
                                        }
                                    ),
                                },
                            }
                        ),
                    ),
                    **_problems(401, 403, 404, 429),
                },
            }
        },
        "/v1/envelopes/{mid}/receipts": {
            "post": {
                "summary": "Record a signed receipt (a recipient only); forwarded to the sender",
                "parameters": [_mid()],
                "requestBody": _envelope_body(
                    "A receipt: JWS (typ pgs-receipt+jose) over the receipt JSON."
                ),
                "responses": {
                    "201": _json(
                        "Recorded",
                        _object(
                            {
                                "id": INT,
                                "mid": STR,
                                "status": STR,
                                "state_changed": {"type": "boolean"},
                            }
                        ),
                    ),
                    **_problems(400, 401, 403, 404, 408, 415, 422, 429),
                },
            }
        },
        "/v1/inbox": {
            "get": {
                "summary": "Mailbox items after a cursor",
                "parameters": [
                    _int_query("after", "Return items after this cursor (default 0)."),
                    _int_query("limit", "At most this many items (1-500, default 100).", 500),
                ],
                "responses": {
                    "200": _json(
                        "A page of items and the cursor to continue from",
                        {
                            "type": "object",
                            "required": ["items", "next"],
                            "properties": {
                                "items": {"type": "array", "items": MAILBOX_ITEM},
                                "next": {"type": "integer"},
                            },
                        },
                    ),
                    **_problems(401, 403, 422, 429),
                },
            }
        },
        "/v1/stream": {
            "get": {
                "summary": "WebSocket stream of mailbox items (signed upgrade request)",
                "description": (
                    "Each text frame is one mailbox item (see /v1/inbox)."
                    " Resume with ?after=CURSOR."
                ),
                "parameters": [_int_query("after", "Resume after this cursor.")],
                "responses": {
                    "101": {"description": "Switching to WebSocket"},
                    # 400 stream.not_websocket: a plain GET without the Upgrade; 422: a bad after.
                    **_problems(400, 401, 403, 422, 429),
                },
            }
        },
        "/v1/directory": {
            "get": {
                "summary": "Participants, their certificates and key states",
                "responses": {
                    "200": _json(
                        "Directory",
                        _object({"participants": {"type": "array", "items": PARTICIPANT}}),
                    ),
                    **_problems(401, 403, 429),
                },
            }
        },
        "/v1/directory/{participant}": {
            "get": {
                "summary": "One participant",
                "parameters": [
                    {
                        "name": "participant",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": _json("Directory entry", PARTICIPANT),
                    **_problems(401, 403, 404, 429),
                },
            }
        },
        "/v1/groups": {
            "get": {
                "summary": "Group names",
                "responses": {
                    "200": _json("Groups", _object({"groups": STR_LIST})),
                    **_problems(401, 403, 429),
                },
            }
        },
        "/v1/groups/{name}": {
            "get": {
                "summary": "A group's current members and their encryption key ids",
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": _json(
                        "Members",
                        _object(
                            {
                                "name": STR,
                                "members": {
                                    "type": "array",
                                    "items": _object({"id": STR, "enc_kid": STR}),
                                },
                            }
                        ),
                    ),
                    **_problems(401, 403, 404, 429),
                },
            }
        },
        "/v1/admin/participants": {
            "post": {
                "summary": "Enrol a participant (admin) with a certificate signed by the authority",
                "requestBody": _envelope_body("Certificate (JWS, typ pgs-certificate+jose)."),
                "responses": {
                    "201": _json("Enrolled", ENROLMENT),
                    **_problems(400, 401, 403, 408, 409, 415, 422, 429),
                },
            }
        },
        "/v1/admin/participants/{participant}/certificate": {
            "post": {
                "summary": "Rotate a participant's keys with a new certificate (admin)",
                "parameters": [
                    {
                        "name": "participant",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": _envelope_body("Certificate (JWS, typ pgs-certificate+jose)."),
                "responses": {
                    "200": _json("Rotated", ENROLMENT),
                    **_problems(400, 401, 403, 404, 408, 409, 415, 422, 429),
                },
            }
        },
        "/v1/admin/participants/{participant}/status": {
            "post": {
                "summary": "Suspend, reinstate or revoke a participant (admin)",
                "parameters": [
                    {
                        "name": "participant",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["action"],
                                "additionalProperties": False,
                                "properties": {
                                    "action": {"enum": ["suspend", "reinstate", "revoke"]}
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json("New status", _object({"id": STR, "status": STR})),
                    **_problems(400, 401, 403, 404, 408, 409, 415, 422, 429),
                },
            }
        },
        "/v1/audit/checkpoint": {
            "get": {
                "summary": "The latest signed checkpoint of the audit log (C2SP tlog-checkpoint)",
                "responses": {
                    "200": _json("Checkpoint note, size and root", CHECKPOINT),
                    **_problems(401, 403, 429),
                },
            },
            "post": {
                "summary": "Sign a checkpoint of the current tree now (auditors, admins)",
                "responses": {
                    "200": _json("Checkpoint note, size and root", CHECKPOINT),
                    **_problems(401, 403, 429),
                },
            },
        },
        "/v1/audit/entries": {
            "get": {
                "summary": "Log entries [start, end) (auditors; scoped: their country only)",
                "parameters": [
                    _int_query("start", "First index."),
                    _int_query("end", "One past the last index (at most start + 10000)."),
                ],
                "responses": {
                    "200": _json(
                        "Entries (base64url); the page ends at end, perhaps short of the end asked",
                        _object(
                            {
                                "start": INT,
                                "end": INT,
                                "entries": {
                                    "type": "array",
                                    "items": _object({"index": INT, "entry": STR}),
                                },
                            }
                        ),
                    ),
                    **_problems(401, 403, 422, 429),
                },
            }
        },
        "/v1/audit/proof/inclusion": {
            "get": {
                "summary": "RFC 9162 inclusion proof of an entry, by index or by message id",
                "parameters": [
                    _int_query("index", "Entry index."),
                    {"name": "mid", "in": "query", "required": False, "schema": {"type": "string"}},
                    _int_query("size", "Tree size (default: current)."),
                ],
                "responses": {
                    "200": _json("Inclusion proof", INCLUSION),
                    **_problems(400, 401, 403, 404, 422, 429),
                },
            }
        },
        "/v1/audit/proof/key/{kid}": {
            "get": {
                "summary": "The entry that enrolled or rotated in a key, with its inclusion proof",
                "parameters": [
                    {"name": "kid", "in": "path", "required": True, "schema": {"type": "string"}},
                    _int_query("size", "Tree size (default: current)."),
                ],
                "responses": {
                    "200": _json("Inclusion proof", INCLUSION),
                    **_problems(401, 403, 404, 422, 429),
                },
            }
        },
        "/v1/audit/proof/consistency": {
            "get": {
                "summary": "RFC 9162 consistency proof between two tree sizes",
                "parameters": [
                    _int_query("first", "Older size."),
                    _int_query("second", "Newer size."),
                ],
                "responses": {
                    "200": _json(
                        "Consistency proof",
                        _object({"first": INT, "second": INT, "proof": STR_LIST}),
                    ),
                    **_problems(401, 403, 422, 429),
                },
            }
        },
        "/v1/audit/tlog/checkpoint": {
            "get": {
                "summary": "C2SP tlog-tiles checkpoint: the signed note with witness cosignatures",
                "responses": {
                    "200": {
                        "description": "The checkpoint note (text/plain; charset=utf-8)",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **_problems(401, 429),
                },
            }
        },
        "/v1/audit/tlog/tile/{path}": {
            "get": {
                "summary": "C2SP tlog-tiles hash tile (<L>/<N>[.p/<W>]) or entry bundle "
                "(entries/<N>[.p/<W>], global auditors only)",
                "parameters": [
                    {"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "The tile's hashes, or the bundle's uint16-prefixed entries",
                        "content": {
                            "application/octet-stream": {
                                "schema": {"type": "string", "format": "binary"}
                            }
                        },
                    },
                    **_problems(401, 403, 404, 422, 429),
                },
            }
        },
        "/v1/console/login-links": {
            "post": {
                "summary": "A one-time, two-minute sign-in link to the web console",
                "responses": {
                    "201": _json(
                        "A one-time sign-in URL, and how many seconds it stays valid",
                        _object({"url": {"type": "string", "format": "uri"}, "expires_in": INT}),
                    ),
                    **_problems(401, 403, 429),
                },
            }
        },
        "/v1/audit/records": {
            "get": {
                "summary": "Audit metadata (auditors; scoped auditors see their country only)",
                "parameters": [
                    _int_query("after", "Records after this sequence number."),
                    _int_query("limit", "At most this many (1-1000).", 1000),
                ],
                "responses": {
                    "200": _json(
                        "Records",
                        _object(
                            {
                                "records": {
                                    "type": "array",
                                    "items": _object(
                                        {
                                            "seq": INT,
                                            "at": INT,
                                            "event": STR,
                                            "actor": NULLABLE_STR,
                                            "subject": NULLABLE_STR,
                                            "country": NULLABLE_STR,
                                            "details": {"type": "object"},
                                        }
                                    ),
                                },
                                "next": INT,
                            }
                        ),
                    ),
                    **_problems(401, 403, 422, 429),
                },
            }
        },
        "/v1/health/live": {
            "get": {
                "summary": "Liveness: the process answers (the database is not asked)",
                "security": [],
                "responses": {"200": _json("Alive.", _object({"status": STR, "log_origin": STR}))},
            }
        },
        "/v1/health/ready": {
            "get": {
                "summary": "Readiness: the database answers and can be written",
                "security": [],
                "responses": {
                    "200": _json(
                        "Ready.", _object({"status": STR, "database": STR, "log_origin": STR})
                    ),
                    "503": _json(
                        "Not ready: `database` says why (unreachable, read-only, full, a write"
                        " failed recently). Retry-After is set.",
                        _object({"status": STR, "database": STR, "log_origin": STR}),
                    ),
                },
            }
        },
        "/v1/audit/security-events": {
            "get": {
                "summary": "Refusals counted per actor, reason code, action and minute (auditors;"
                " scoped auditors see their country's participants only)",
                "parameters": [
                    _int_query("since", "Windows starting at or after this time (default: 24 h).")
                ],
                "responses": {
                    "200": _json("Security events, newest window first.", SECURITY_EVENTS),
                    **_problems(401, 403, 422, 429),
                },
            }
        },
        **_uploads(),
        **_notifications(),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Global Shield Hub API",
            "version": "1.0.0",
            "description": (
                "Signed, end-to-end encrypted exchange for the WCO Programme Global Shield."
                " Requests are authenticated with HTTP Message Signatures"
                " (RFC 9421, Ed25519, label `pgs`,"
                " covering @method, @target-uri and content-digest, with created, nonce, keyid and"
                ' alg="ed25519"; ±300 s window; nonces are single-use). Errors are RFC 9457 problem'
                " documents with a stable `code`."
            ),
        },
        "servers": [{"url": "/"}],
        "security": SIGNED,
        "paths": paths,
        "components": {
            "securitySchemes": {
                "httpMessageSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Signature",
                    "description": "RFC 9421 Signature and Signature-Input headers (see info).",
                }
            },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail", "code"],
                    "properties": {
                        "type": {"type": "string", "format": "uri"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "code": {"type": "string"},
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "pointer": {"type": "string"},
                                    "detail": {"type": "string"},
                                },
                            },
                        },
                    },
                }
            },
            "responses": {
                "Problem": {
                    "description": "An RFC 9457 problem document",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                }
            },
        },
    }
