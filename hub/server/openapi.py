"""The OpenAPI 3.1 document of the hub's API, generated from the route table below and the body
models of :mod:`protocols.api` (served at /v1/openapi.json and kept in the repository as
docs/openapi.json; a test keeps the served, the generated and the stored documents equal, and
another that every route the hub serves is in the table).

Nothing here describes a body by hand: a JSON body is a model of :mod:`protocols.api`, whose JSON
schema goes to ``components/schemas``; what stays written here is what only the route table knows
(paths, parameters, status codes, summaries). Signed bodies (envelopes, receipts, certificates)
are described as JSON objects: the hub verifies them as the exact bytes received.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from pgs_hub.hub.settings import DEFAULTS as LIMITS
from pgs_hub.protocols import api

PROBLEM = {"$ref": "#/components/responses/Problem"}
SIGNED: list[dict[str, list[str]]] = [{"httpMessageSignature": []}]
JOSE = "application/jose+json"
REF = "#/components/schemas/{model}"


# --- the route table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One documented answer: a JSON body of ``model``, or other ``content``, or none."""

    description: str
    model: type[api.ApiModel] | None = None
    content: dict[str, Any] | None = None


@dataclass(frozen=True)
class Operation:
    """One operation of the API: what the OpenAPI document says of it."""

    method: str
    path: str
    summary: str
    answers: dict[int, Answer]
    problems: tuple[int, ...] = ()
    parameters: tuple[dict[str, Any], ...] = ()
    body: type[api.ApiModel] | dict[str, Any] | None = None
    description: str | None = None
    public: bool = False  # no HTTP signature asked
    extra: dict[str, Any] = field(default_factory=dict)


def _path(name: str, schema: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    doc = {"name": name, "in": "path", "required": True, "schema": schema}
    return doc | ({"description": description} if description else {})


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


def _header(name: str, description: str, schema: dict[str, Any], required: bool = True) -> Any:
    return {
        "name": name, "in": "header", "required": required, "schema": schema,
        "description": description,
    }  # fmt: skip


def _signed_body(description: str) -> dict[str, Any]:
    return {
        "required": True,
        "description": description,
        "content": {
            JOSE: {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }


STRING = {"type": "string"}
MID = _path("mid", {"type": "string", "format": "uuid"}, "Message id (UUID version 4, lower case).")
PARTICIPANT = _path("participant", STRING)
UPLOAD_ID = _path(
    "upload",
    {"type": "string", "pattern": "^[A-Za-z0-9_-]{22}$"},
    "Upload id (128 random bits, base64url), given by the creation request.",
)
TUS_RESUMABLE = _header(
    "Tus-Resumable", "tus protocol version.", {"type": "string", "const": "1.0.0"}
)
DIGITS = {"type": "string", "pattern": "^[0-9]{1,19}$"}
OCTETS = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
TEXT = {"text/plain": {"schema": {"type": "string"}}}
CERTIFICATE = _signed_body("Certificate (JWS, typ pgs-certificate+jose).")
NOT_READY = (
    "Not ready: `database` says why (unreachable, read-only, full, a write failed recently)."
    " Retry-After is set."
)

OPERATIONS: tuple[Operation, ...] = (
    # --- public
    Operation("get", "/v1/health", "Readiness (as /v1/health/ready; kept for existing probes)",
              {200: Answer("The hub and its database answer.", api.Health),
               503: Answer("Not ready: `database` says why. Retry-After is set.", api.Health)},
              public=True),
    Operation("get", "/v1/health/live",
              "Liveness: the process answers (the database is not asked)",
              {200: Answer("Alive.", api.Liveness)}, public=True),
    Operation("get", "/v1/health/ready", "Readiness: the database answers and can be written",
              {200: Answer("Ready.", api.Health), 503: Answer(NOT_READY, api.Health)},
              public=True),
    Operation("get", "/v1/openapi.json", "This document",
              {200: Answer("OpenAPI 3.1", content={"application/json": {
                  "schema": {"type": "object"}}})}, public=True),
    Operation("get", "/metrics", "Prometheus metrics (text exposition format)",
              {200: Answer("metrics", content=TEXT)}, public=True),
    # --- envelopes and the mailbox
    Operation("post", "/v1/envelopes", "Submit an envelope",
              {201: Answer("Accepted and durably stored.", api.Acceptance),
               200: Answer("Already accepted (identical resubmission).", api.Acceptance)},
              (400, 401, 403, 408, 409, 413, 415, 422, 429, 503),
              body=_signed_body("The envelope: JWS (flattened JSON) wrapping a JWE."),
              description=(
                  "Authenticated by the envelope's own JWS (docs/protocol.md); no HTTP signature"
                  " is needed. Idempotent by message id: the same bytes again return the original"
                  " acceptance with 200; other bytes under the same id are a 409."
              ), public=True),
    Operation("get", "/v1/envelopes/{mid}",
              "Fetch one envelope (its sender and recipients only)",
              {200: Answer("The exact envelope bytes", content={JOSE: {
                  "schema": {"type": "object"}}})},
              (401, 403, 404, 429, 410), (MID,)),
    Operation("get", "/v1/envelopes/{mid}/status",
              "Per-recipient delivery state (the sender only)",
              {200: Answer("Delivery state", api.DeliveryState)}, (401, 403, 404, 429), (MID,)),
    Operation("post", "/v1/envelopes/{mid}/receipts",
              "Record a signed receipt (a recipient only); forwarded to the sender",
              {201: Answer("Recorded", api.ReceiptRecorded)},
              (400, 401, 403, 404, 408, 415, 422, 429), (MID,),
              body=_signed_body("A receipt: JWS (typ pgs-receipt+jose) over the receipt JSON.")),
    Operation("get", "/v1/inbox", "Mailbox items after a cursor",
              {200: Answer("A page of items and the cursor to continue from", api.InboxPage)},
              (401, 403, 422, 429),
              (_int_query("after", "Return items after this cursor (default 0)."),
               _int_query("limit", f"At most this many items (1-{LIMITS.inbox_page_max},"
                          f" default {LIMITS.page_size}).", LIMITS.inbox_page_max))),
    Operation("get", "/v1/stream", "WebSocket stream of mailbox items (signed upgrade request)",
              {101: Answer("Switching to WebSocket")},
              # 400 stream.not_websocket: a plain GET without the Upgrade; 422: a bad after.
              (400, 401, 403, 422, 429),
              (_int_query("after", "Resume after this cursor."),),
              description=(
                  "Each text frame is one mailbox item (see /v1/inbox)."
                  " Resume with ?after=CURSOR."
              )),
    # --- directory
    Operation("get", "/v1/directory", "Participants, their certificates and key states",
              {200: Answer("Directory", api.Directory)}, (401, 403, 429)),
    Operation("get", "/v1/directory/{participant}", "One participant",
              {200: Answer("Directory entry", api.Participant)}, (401, 403, 404, 429),
              (PARTICIPANT,)),
    Operation("get", "/v1/groups", "Group names",
              {200: Answer("Groups", api.Groups)}, (401, 403, 429)),
    Operation("get", "/v1/groups/{name}",
              "A group's current members and their encryption key ids",
              {200: Answer("Members", api.Group)}, (401, 403, 404, 429), (_path("name", STRING),)),
    # --- code lists: served whole, searched by the clients (the hub never sees a look-up)
    Operation("get", "/v1/codelists/unlocode",
              "The UN/LOCODE list the operator imported (whole, gzip; ETag + If-None-Match)",
              {200: Answer("The list: gzip of the canonical JSON (ETag: its SHA-256).",
                           content={"application/gzip": {"schema": {
                               "$ref": REF.format(model="UnlocodeList")}}}),
               304: Answer("Not modified: the list named by If-None-Match is current.")},
              (401, 403, 404, 429),
              (_header("If-None-Match", "The ETag of the list the client holds.", STRING,
                       required=False),),
              description=(
                  "Any active participant. 404 codelist.not_imported until the operator ran"
                  " `pgs admin codelists import-unlocode`. Clients cache it and look codes up"
                  " locally: asking about one code would tell the hub what a message says."
              )),
    # --- administration
    Operation("post", "/v1/admin/participants",
              "Enrol a participant (admin) with a certificate signed by the authority",
              {201: Answer("Enrolled", api.Enrolment)},
              (400, 401, 403, 408, 409, 415, 422, 429), body=CERTIFICATE),
    Operation("post", "/v1/admin/participants/{participant}/certificate",
              "Rotate a participant's keys with a new certificate (admin)",
              {200: Answer("Rotated", api.Enrolment)},
              (400, 401, 403, 404, 408, 409, 415, 422, 429), (PARTICIPANT,), body=CERTIFICATE),
    Operation("post", "/v1/admin/participants/{participant}/status",
              "Suspend, reinstate or revoke a participant (admin)",
              {200: Answer("New status", api.ParticipantStatus)},
              (400, 401, 403, 404, 408, 409, 415, 422, 429), (PARTICIPANT,),
              body=api.StatusChange),
    Operation("post", "/v1/console/login-links",
              "A one-time, two-minute sign-in link to the web console",
              {201: Answer("A one-time sign-in URL, and how many seconds it stays valid",
                           api.LoginLink)}, (401, 403, 429)),
    # --- audit
    Operation("get", "/v1/audit/checkpoint",
              "The latest signed checkpoint of the audit log (C2SP tlog-checkpoint)",
              {200: Answer("Checkpoint note, size and root", api.Checkpoint)}, (401, 403, 429)),
    Operation("post", "/v1/audit/checkpoint",
              "Sign a checkpoint of the current tree now (auditors, admins)",
              {200: Answer("Checkpoint note, size and root", api.Checkpoint)}, (401, 403, 429)),
    Operation("get", "/v1/audit/entries",
              "Log entries [start, end) (auditors; scoped: their country only)",
              {200: Answer("Entries (base64url); the page ends at end, perhaps short of the end"
                           " asked", api.LogEntries)},
              (401, 403, 422, 429),
              (_int_query("start", "First index."),
               _int_query("end", "One past the last index (at most start +"
                          f" {LIMITS.log_entries_page_max})."))),
    Operation("get", "/v1/audit/proof/inclusion",
              "RFC 9162 inclusion proof of an entry, by index or by message id",
              {200: Answer("Inclusion proof", api.InclusionProof)},
              (400, 401, 403, 404, 422, 429),
              (_int_query("index", "Entry index."),
               {"name": "mid", "in": "query", "required": False, "schema": STRING},
               _int_query("size", "Tree size (default: current)."))),
    Operation("get", "/v1/audit/proof/key/{kid}",
              "The entry that enrolled or rotated in a key, with its inclusion proof",
              {200: Answer("Inclusion proof", api.InclusionProof)}, (401, 403, 404, 422, 429),
              (_path("kid", STRING), _int_query("size", "Tree size (default: current)."))),
    Operation("get", "/v1/audit/proof/consistency",
              "RFC 9162 consistency proof between two tree sizes",
              {200: Answer("Consistency proof", api.ConsistencyProof)}, (401, 403, 422, 429),
              (_int_query("first", "Older size."), _int_query("second", "Newer size."))),
    Operation("get", "/v1/audit/tlog/checkpoint",
              "C2SP tlog-tiles checkpoint: the signed note with witness cosignatures",
              {200: Answer("The checkpoint note (text/plain; charset=utf-8)", content=TEXT)},
              (401, 429)),
    Operation("get", "/v1/audit/tlog/tile/{path}",
              "C2SP tlog-tiles hash tile (<L>/<N>[.p/<W>]) or entry bundle "
              "(entries/<N>[.p/<W>], global auditors only)",
              {200: Answer("The tile's hashes, or the bundle's uint16-prefixed entries",
                           content=OCTETS)},
              (401, 403, 404, 422, 429), (_path("path", STRING),)),
    Operation("get", "/v1/audit/records",
              "Audit metadata (auditors; scoped auditors see their country only)",
              {200: Answer("Records", api.AuditRecords)}, (401, 403, 422, 429),
              (_int_query("after", "Records after this sequence number."),
               _int_query("limit", f"At most this many (1-{LIMITS.records_page_max}).",
                          LIMITS.records_page_max))),
    Operation("get", "/v1/audit/security-events",
              "Refusals counted per actor, reason code, action and minute (auditors;"
              " scoped auditors see their country's participants only)",
              {200: Answer("Security events, newest window first.", api.SecurityEvents)},
              (401, 403, 422, 429),
              (_int_query("since", "Windows starting at or after this time (default: 24 h)."),)),
    # --- attachment blobs: tus 1.0 uploads (docs/design/hub.md, Attachments) and downloads
    Operation("options", "/v1/uploads", "tus discovery: version, extensions, caps",
              {204: Answer("Tus-Version, Tus-Extension (creation, checksum, expiration,"
                           " termination), Tus-Max-Size, Tus-Checksum-Algorithm (sha256),"
                           " Pgs-Max-Message-Size, Pgs-Max-Part-Size, Pgs-Parts-In-Flight (PATCHes"
                           " of one upload the hub takes in flight at once: 1 or 2).")},
              (401, 403, 429)),
    Operation("post", "/v1/uploads", "Create an upload of Upload-Length bytes (tus creation)",
              {201: Answer("Created: Location, Upload-Expires.")},
              (400, 401, 403, 412, 413, 422, 429),
              (TUS_RESUMABLE, _header("Upload-Length", "Size of the ciphertext.", DIGITS)),
              description=(
                  "Refused before anything is stored over the per-file cap (upload.too_large)"
                  " or the participant's quota (upload.quota_exceeded). Upload-Metadata is not"
                  " stored: names and types travel only inside the encrypted message."
              )),
    Operation("head", "/v1/uploads/{upload}",
              "Where an upload stands: Upload-Offset to resume from (owner only)",
              {200: Answer("Upload-Offset, Upload-Length, Upload-Expires.")},
              (401, 403, 404, 412, 429), (UPLOAD_ID, TUS_RESUMABLE)),
    Operation("patch", "/v1/uploads/{upload}",
              "Append bytes at Upload-Offset (owner only, until a message uses it)",
              {204: Answer("Stored: the new Upload-Offset.")},
              (400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 460),
              (UPLOAD_ID, TUS_RESUMABLE,
               _header("Upload-Offset", "Where the body goes: the current offset, or where"
                       " the part still in flight will end (Pgs-Parts-In-Flight: 2).", DIGITS),
               _header("Upload-Checksum", "sha256 and the base64 digest of the body.",
                       {"type": "string"}, required=False)),
              body={"required": True, "content": {"application/offset+octet-stream": {
                  "schema": {"type": "string", "format": "binary"}}}}),
    Operation("delete", "/v1/uploads/{upload}",
              "Delete an upload no sent message references (tus termination)",
              {204: Answer("No content; the answer is in the headers.")},
              (401, 403, 404, 409, 412, 429), (UPLOAD_ID, TUS_RESUMABLE)),
    Operation("get", "/v1/uploads/{upload}",
              "Download a blob: the parties of the envelope that references it",
              {200: Answer("The ciphertext.", content=OCTETS),
               206: Answer("A range of the ciphertext.", content=OCTETS)},
              (401, 403, 404, 416, 429),
              (UPLOAD_ID,
               _header("Range", "bytes=first-last, bytes=first- or bytes=-suffix.",
                       {"type": "string", "pattern": "^bytes=[0-9]{0,19}-[0-9]{0,19}$"},
                       required=False)),
              description="A single byte Range is answered with 206; past the end, 416."),
    # --- notifications: content-free, each participant its own settings (docs/design/hub.md)
    Operation("get", "/v1/me/notifications",
              "My notification settings (participants who receive messages)",
              {200: Answer("Settings.", api.NotificationSettings)}, (401, 403, 429)),
    Operation("put", "/v1/me/notifications",
              "Change my notification settings (members left out keep their value)."
              " Notifications never carry a subject, content or message id.",
              {200: Answer("Settings saved.", api.NotificationSettings)},
              (400, 401, 403, 413, 422, 429), body=api.NotificationSettingsChange),
    Operation("get", "/v1/audit/notifications",
              "Notification delivery attempts, as metadata (auditors; scoped"
              " auditors see their country's participants only)",
              {200: Answer("Attempts, oldest first.", api.NotificationAttempts)},
              (401, 403, 422, 429),
              (_int_query("after", "Attempts after this sequence number."),
               _int_query("limit", "At most this many (1-500).", 500),
               {"name": "participant", "in": "query", "required": False, "schema": STRING,
                "description": "Only this participant's."})),
)  # fmt: skip


# --- generation --------------------------------------------------------------------------------


class _Schemas(GenerateJsonSchema):
    """JSON schemas without the per-field titles pydantic derives from attribute names."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _schemas() -> dict[str, Any]:
    _, top = models_json_schema(
        [(model, "validation") for model in api.API_MODELS],
        ref_template=REF,
        schema_generator=_Schemas,
    )
    defs: dict[str, Any] = top["$defs"]
    return dict(sorted(defs.items()))


def _answer(answer: Answer) -> dict[str, Any]:
    doc: dict[str, Any] = {"description": answer.description}
    if answer.model is not None:
        ref = {"$ref": REF.format(model=answer.model.__name__)}
        doc["content"] = {"application/json": {"schema": ref}}
    elif answer.content is not None:
        doc["content"] = answer.content
    return doc


def _operation(op: Operation) -> dict[str, Any]:
    doc: dict[str, Any] = {"summary": op.summary}
    if op.description:
        doc["description"] = op.description
    if op.public:
        doc["security"] = []
    if op.parameters:
        doc["parameters"] = list(op.parameters)
    if isinstance(op.body, type):
        ref = {"$ref": REF.format(model=op.body.__name__)}
        doc["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref}}}
    elif op.body is not None:
        doc["requestBody"] = op.body
    responses = {str(status): _answer(answer) for status, answer in op.answers.items()}
    doc["responses"] = responses | {str(s): PROBLEM for s in op.problems}
    return doc


@cache
def document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
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
                f' alg="ed25519"; ±{LIMITS.clock_skew_seconds} s window; nonces are single-use).'
                " Errors are RFC 9457 problem"
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
            "schemas": _schemas(),
            "responses": {
                "Problem": {
                    "description": "An RFC 9457 problem document",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": REF.format(model="Problem")}
                        }
                    },
                }
            },
        },
    }
