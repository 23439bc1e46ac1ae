"""Values shared by the message kinds: version, kinds, handling marks, codes, quantities, parties.

Code-list membership (countries, units, PGS commodities) and check digits (CAS numbers) are looked
up in :mod:`protocols.codelists`, imported inside the validators so that importing this module
loads no code list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import (
    AfterValidator,
    Field,
    GetJsonSchemaHandler,
    Strict,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from protocols.messages._base import (
    CODE_MAX,
    ContentModel,
    JsonDecimal,
    Line,
    Text,
    Token,
    problem,
    single_line,
)

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_PARTIES",
    "MAX_REFERENCES",
    "PROTOCOL",
    "Attachment",
    "Attachments",
    "CasNumber",
    "CodeListSchema",
    "CommodityCode",
    "CountryCode",
    "EncryptedBlob",
    "Evaluation",
    "HsCode",
    "InformationAccuracy",
    "Location",
    "MessageId",
    "MessageKind",
    "MessageRef",
    "ParticipantId",
    "Parties",
    "Party",
    "PartyRole",
    "Quantity",
    "References",
    "Sha256Hex",
    "SourceReliability",
    "Tlp",
    "UnLocode",
    "UnNumber",
    "UnitCode",
    "UploadId",
]

PROTOCOL: Final = "pgs/1"
"""The protocol version this package speaks; receipts carry it as ``v``."""

# How many code-list entries a "must be one of ..." message spells out.
_LIST_IN_MESSAGE = 25


class MessageKind(StrEnum):
    """What a message is; names the content model in the routing header."""

    ALERT = "alert"
    """A suspicious shipment that other members should look at."""
    SEIZURE = "seizure"
    """A seizure that has been made."""
    NOTICE = "notice"
    """A broadcast from WCO staff."""
    RFI = "rfi"
    """A request for information."""
    REPLY = "reply"
    """An answer to an earlier message."""
    RECEIPT = "receipt"
    """A signed acknowledgement that a message was delivered or read."""


class Tlp(StrEnum):
    """Traffic Light Protocol 2.0 labels (FIRST), as written on the wire.

    Carried in the routing header, not in message content; defined here so both use one type.
    """

    CLEAR = "CLEAR"
    """Disclosure is not limited."""
    GREEN = "GREEN"
    """Limited disclosure: the recipient's community, not public channels."""
    AMBER = "AMBER"
    """Limited disclosure: the recipient's organisation and its clients on a need-to-know basis."""
    AMBER_STRICT = "AMBER+STRICT"
    """Limited disclosure: the recipient's organisation only."""
    RED = "RED"
    """For the eyes and ears of the individual recipients only; no further disclosure."""


class SourceReliability(StrEnum):
    """How reliable the source is: first half of the 4x4 evaluation used by customs and police.

    The same scale as Article 29 of the Europol Regulation (EU) 2016/794 and the law enforcement
    information exchange handbooks built on it (the "4x4" system, a reduced Admiralty grading).
    """

    A = "A"
    """No doubt about the source's authenticity, trustworthiness and competence, or the source has
    proved reliable in all instances."""
    B = "B"
    """The source has proved reliable in most instances."""
    C = "C"
    """The source has proved unreliable in most instances."""
    X = "X"
    """The reliability of the source cannot be assessed."""


class InformationAccuracy(StrEnum):
    """How accurate the information is: second half of the 4x4 evaluation.

    The wire values are the strings "1" to "4", not numbers.
    """

    CONFIRMED = "1"
    """Information whose accuracy is not in doubt."""
    KNOWN_TO_SOURCE = "2"
    """Known personally to the source, but not to the official passing it on."""
    CORROBORATED = "3"
    """Not known personally to the source, but corroborated by information already recorded."""
    UNCORROBORATED = "4"
    """Not known personally to the source and cannot be corroborated."""


class Evaluation(ContentModel):
    """4x4 grading of a piece of information, for example B2."""

    source: SourceReliability
    """Reliability of the source: A, B, C or X."""
    information: InformationAccuracy
    """Accuracy of the information: "1" to "4"."""

    @property
    def code(self) -> str:
        """The usual two-character form, such as ``"B2"``."""
        return f"{self.source.value}{self.information.value}"


# --- codes ---------------------------------------------------------------------------------------


def _country(value: str) -> str:
    from protocols.codelists import is_iso_country  # noqa: PLC0415 - code lists load on first use

    if not is_iso_country(value):
        raise problem("country", "is not an ISO 3166-1 alpha-2 country code, like NG")
    return value


def _unlocode(value: str) -> str:
    from protocols.codelists import is_valid_unlocode  # noqa: PLC0415 - code lists load on first use

    if not is_valid_unlocode(value):
        raise problem(
            "unlocode", "is not a UN/LOCODE of five characters without a space, like NGLOS"
        )
    return value


def _hs(value: str) -> str:
    from protocols.codelists import is_valid_hs  # noqa: PLC0415 - code lists load on first use

    if not is_valid_hs(value):
        raise problem("hs", "is not an HS subheading written like 3102.30")
    return value


def _cas(value: str) -> str:
    from protocols.codelists import is_valid_cas  # noqa: PLC0415 - code lists load on first use

    if not is_valid_cas(value):
        raise problem(
            "cas", "is not a valid CAS number (format like 6484-52-2, with a matching check digit)"
        )
    return value


def _un_number(value: str) -> str:
    from protocols.codelists import is_valid_un_number  # noqa: PLC0415 - code lists load on first use

    if not is_valid_un_number(value):
        raise problem("un_number", "is not a UN number of four digits, like 1942")
    return value


def _one_of(codes: list[str]) -> str:
    if len(codes) <= _LIST_IN_MESSAGE:
        return "must be one of " + ", ".join(codes)
    return "must be one of " + ", ".join(codes[:_LIST_IN_MESSAGE]) + " or another listed code"


def _unit(value: str) -> str:
    from protocols.codelists import units  # noqa: PLC0415 - code lists load on first use

    known = units()
    if value not in known:
        raise problem("unit", _one_of(list(known)))
    return value


def _commodity(value: str) -> str:
    from protocols.codelists import commodities  # noqa: PLC0415 - code lists load on first use

    known = commodities()
    if value not in known:
        raise problem("commodity", "is not a PGS commodity code: " + _one_of(list(known)))
    return value


def _unit_codes() -> list[str]:
    from protocols.codelists import units  # noqa: PLC0415 - code lists load on first use

    return list(units())


def _commodity_codes() -> list[str]:
    from protocols.codelists import commodities  # noqa: PLC0415 - code lists load on first use

    return list(commodities())


@dataclass(frozen=True, slots=True)
class CodeListSchema:
    """JSON Schema of a code taken from a code list: an ``enum`` of today's codes.

    The list is read when a schema is generated, not at import.
    """

    codes: Callable[[], list[str]]
    description: str

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "enum": self.codes(), "description": self.description}


def _code_schema(pattern: str, description: str, *examples: str) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "type": "string",
            "pattern": pattern,
            "description": description,
            "examples": list(examples),
        }
    )


CountryCode = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_country),
    _code_schema("^[A-Z]{2}$", "ISO 3166-1 alpha-2 country code.", "NG", "GH"),
]
"""ISO 3166-1 alpha-2 country code, upper case (``NG``)."""

UnLocode = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_unlocode),
    _code_schema("^[A-Z]{2}[A-Z2-9]{3}$", "UN/LOCODE without the space.", "NGLOS", "GHTEM"),
]
"""UN/LOCODE of a port or place, five characters without the space (``NGLOS``)."""

HsCode = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_hs),
    _code_schema(r"^\d{4}\.\d{2}$", "HS subheading (six digits) written NNNN.NN.", "3102.30"),
]
"""Harmonized System subheading, six digits written ``3102.30``."""

CasNumber = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_cas),
    _code_schema(r"^\d{2,7}-\d{2}-\d$", "CAS Registry Number with its check digit.", "6484-52-2"),
]
"""CAS Registry Number, hyphenated, with a correct check digit (``6484-52-2``)."""

UnNumber = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_un_number),
    _code_schema(r"^\d{4}$", "UN number (dangerous goods), four digits, no 'UN'.", "1942"),
]
"""UN dangerous-goods number, four digits without the ``UN`` prefix (``1942``)."""

UnitCode = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_unit),
    CodeListSchema(_unit_codes, "UN/ECE Recommendation 20 unit code from the PGS list."),
]
"""UN/ECE Recommendation 20 unit code from the PGS unit list (``KGM``, ``TNE``, ``LTR`` ...)."""

CommodityCode = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_commodity),
    CodeListSchema(_commodity_codes, "Code of a commodity on the Programme Global Shield list."),
]
"""Code of a commodity on the Programme Global Shield list (``AN`` for ammonium nitrate)."""


# --- identifiers ---------------------------------------------------------------------------------

# The same formats as the routing header (protocols.routing): a message id is a random UUID (version
# 4) in lower case; a participant id is a country code or WCO, then one to three upper-case parts.
_MESSAGE_ID = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
_PARTICIPANT_ID = "(?:[A-Z]{2}|WCO)(?:-[A-Z0-9]{1,20}){1,3}"


def _message_id(value: str) -> str:
    if not re.fullmatch(_MESSAGE_ID, value):
        raise problem("message_id", "must be a message id: a random (version 4) UUID in lower case")
    return value


def _participant_id(value: str) -> str:
    if not re.fullmatch(_PARTICIPANT_ID, value):
        raise problem(
            "participant_id",
            "must be a participant id: a country code (ISO alpha-2) or WCO, then one to three"
            " dash-separated upper-case parts, like NG-NCP-LAGOS",
        )
    return value


MessageId = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_message_id),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{_MESSAGE_ID}$",
            "description": "Message id from a routing header (UUID version 4, lower case).",
        }
    ),
]
"""The id of a message, as assigned in its routing header (random UUID, lower case)."""

ParticipantId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_participant_id),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": 64,
            "pattern": f"^{_PARTICIPANT_ID}$",
            "description": "Id of a hub participant, like NG-NCP-LAGOS or WCO-PGS.",
        }
    ),
]
"""The id of a participant (an NCP or a WCO staff desk) on the hub, like ``NG-NCP-LAGOS``."""

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _sha256_hex(value: str) -> str:
    if not _SHA256_HEX.fullmatch(value):
        raise problem("sha256_hex", "must be a SHA-256 digest as 64 lower-case hex digits")
    return value


Sha256Hex = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_sha256_hex),
    WithJsonSchema({"type": "string", "pattern": "^[0-9a-f]{64}$"}),
]
"""SHA-256 digest as 64 lower-case hexadecimal digits."""


# --- quantities ----------------------------------------------------------------------------------

Amount = Annotated[
    JsonDecimal,
    Field(gt=0, max_digits=15, decimal_places=6),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0}),
]


class Quantity(ContentModel):
    """An amount of goods with its unit, such as 24 TNE."""

    value: Amount
    """A JSON number greater than 0: at most 15 significant digits and 6 decimal places."""
    unit: UnitCode
    """UN/ECE Recommendation 20 code: KGM kilogram, TNE tonne, LTR litre, H87 piece ..."""


# --- places --------------------------------------------------------------------------------------


class Location(ContentModel):
    """A country, and the place in it when known."""

    country: CountryCode
    """ISO 3166-1 alpha-2 code of the country."""
    locode: UnLocode | None = None
    """UN/LOCODE of the port, airport, border crossing or town; it must lie in ``country``."""
    description: Line | None = None
    """The place in words, such as "container terminal, scanning bay 3"."""

    @field_validator("locode")
    @classmethod
    def _locode_in_country(cls, locode: str | None, info: ValidationInfo) -> str | None:
        country = info.data.get("country")
        if locode is not None and country is not None and locode[:2] != country:
            raise problem("locode_country", "must be a place in the country given with it")
        return locode


# --- parties -------------------------------------------------------------------------------------


class PartyRole(StrEnum):
    """The part a person or company plays in a shipment."""

    CONSIGNOR = "consignor"
    CONSIGNEE = "consignee"
    DECLARANT = "declarant"
    END_USER = "end_user"
    CARRIER = "carrier"
    FREIGHT_FORWARDER = "freight_forwarder"
    NOTIFY_PARTY = "notify_party"
    OTHER = "other"


class Party(ContentModel):
    """A person or company involved in a shipment."""

    role: PartyRole
    """The part played: consignor, consignee, declarant, end_user, carrier ..."""
    name: Line
    """Name of the person or company."""
    address: Text | None = None
    """Postal address, as declared."""
    country: CountryCode | None = None
    """Country of the address."""
    identifier: Token | None = None
    """A trader, tax or registration number, as declared (for example an EORI or TIN)."""


# --- references and attachments ------------------------------------------------------------------


class MessageRef(ContentModel):
    """A reference to an earlier message on the hub."""

    mid: MessageId
    """Message id of the earlier message."""
    kind: MessageKind | None = None
    """Kind of the earlier message, when known."""


_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


def _media_type(value: str) -> str:
    if not _MEDIA_TYPE.fullmatch(value):
        raise problem(
            "media_type", "must be a lower-case media type without parameters, like application/pdf"
        )
    return value


def _file_name(value: str) -> str:
    if "/" in value or "\\" in value or value in {".", ".."}:
        raise problem("file_name", "must be a file name without folders")
    return value


def _ciphertext_size(size: int) -> int:
    from crypto.chunked import ciphertext_size  # noqa: PLC0415 - keeps this module's imports light

    return ciphertext_size(size)


MAX_ATTACHMENT_SIZE = 2**40
"""Largest attachment size a message may declare (the hub enforces its own, smaller cap)."""


_UPLOAD_ID = "[A-Za-z0-9_-]{22}"
_FILE_KEY = "[A-Za-z0-9_-]{43}"


def _upload_id(value: str) -> str:
    if not re.fullmatch(_UPLOAD_ID, value):
        raise problem("upload_id", "must be a hub upload id: 22 base64url characters")
    return value


def _file_key(value: str) -> str:
    if not re.fullmatch(_FILE_KEY, value) or value[-1] not in "AEIMQUYcgkosw048":
        raise problem("file_key", "must be a 32-byte key in base64url without padding")
    return value


UploadId = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_upload_id),
    WithJsonSchema({"type": "string", "pattern": f"^{_UPLOAD_ID}$"}),
]
"""The id the hub gave an upload (128 random bits, base64url), named in the routing header."""


class EncryptedBlob(ContentModel):
    """Where the encrypted bytes of an attachment are on the hub, and how to open them.

    The key travels only here, inside the end-to-end encrypted content; the hub stores the
    ciphertext and never sees it (docs/protocol.md §7)."""

    upload: UploadId
    """The hub's upload id of the ciphertext; the routing header's ``att`` lists it too."""
    scheme: Literal["pgs-chunked-v1"]
    """The chunked encryption scheme (docs/protocol.md §7)."""
    key: Annotated[
        str,
        AfterValidator(_file_key),
        WithJsonSchema({"type": "string", "pattern": f"^{_FILE_KEY}$"}),
    ]
    """The file key: 32 random bytes, base64url without padding."""
    size: Annotated[int, Strict(), Field(ge=0, le=2 * MAX_ATTACHMENT_SIZE)]
    """Size of the ciphertext in bytes."""
    sha256: Sha256Hex
    """SHA-256 of the ciphertext, 64 lower-case hex digits."""


class Attachment(ContentModel):
    """Description of a file sent with a message; the bytes travel separately."""

    name: Annotated[
        str,
        StringConstraints(min_length=1, max_length=255),
        AfterValidator(single_line),
        AfterValidator(_file_name),
    ]
    """File name, without folders, at most 255 characters."""
    media_type: Annotated[
        str,
        StringConstraints(max_length=CODE_MAX),
        AfterValidator(_media_type),
        WithJsonSchema(
            {
                "type": "string",
                "pattern": "^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$",
            }
        ),
    ]
    """Media type such as application/pdf or image/jpeg, lower case, no parameters."""
    size: Annotated[int, Strict(), Field(ge=0, le=MAX_ATTACHMENT_SIZE)]
    """Size of the file in bytes."""
    sha256: Sha256Hex
    """SHA-256 of the file's bytes, 64 lower-case hex digits."""
    blob: EncryptedBlob | None = None
    """The encrypted bytes on the hub; absent when only the description travels (pgs/1 before
    attachments were carried)."""

    @model_validator(mode="after")
    def _blob_size(self) -> Attachment:
        if self.blob is not None and self.blob.size != _ciphertext_size(self.size):
            raise problem("blob_size", "the blob size is not the ciphertext size of the file size")
        return self


# --- lists shared by several kinds ---------------------------------------------------------------

MAX_PARTIES = 20
MAX_REFERENCES = 20
MAX_ATTACHMENTS = 20

Parties = Annotated[tuple[Party, ...], Field(max_length=MAX_PARTIES)]
"""Up to 20 parties."""
References = Annotated[tuple[MessageRef, ...], Field(max_length=MAX_REFERENCES)]
"""Up to 20 references to earlier messages."""
Attachments = Annotated[tuple[Attachment, ...], Field(max_length=MAX_ATTACHMENTS)]
"""Up to 20 attachment descriptions."""
