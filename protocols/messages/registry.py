"""Which model each message kind has, and the one place message content is decoded and encoded.

Content travels as one UTF-8 JSON object. Decoding refuses what two JSON parsers could read
differently (duplicate member names, ``NaN``, a byte-order mark) before the model sees anything, and
reports every problem as a :class:`~protocols.errors.FieldProblem` inside one
:class:`~protocols.errors.MessageValidationError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, Literal, NoReturn, overload

from pydantic import ValidationError

from pgs_hub.crypto import strictjson
from pgs_hub.crypto.errors import CryptoError
from pgs_hub.protocols.errors import FieldProblem, MessageValidationError, UnknownMessageKindError
from pgs_hub.protocols.messages._base import ContentModel
from pgs_hub.protocols.messages.alert import Alert
from pgs_hub.protocols.messages.kinds import PROTOCOL, MessageKind
from pgs_hub.protocols.messages.notice import Notice
from pgs_hub.protocols.messages.problems import problems_from
from pgs_hub.protocols.messages.receipt import Receipt
from pgs_hub.protocols.messages.reply import Reply
from pgs_hub.protocols.messages.rfi import Rfi
from pgs_hub.protocols.messages.seizure import Seizure

__all__ = [
    "MAX_MESSAGE_BYTES",
    "MODELS",
    "SCHEMA_BASE",
    "all_schemas",
    "encode_message",
    "json_schema",
    "model_for",
    "parse_message",
]

MODELS: Final[Mapping[MessageKind, type[ContentModel]]] = MappingProxyType(
    {
        MessageKind.ALERT: Alert,
        MessageKind.SEIZURE: Seizure,
        MessageKind.NOTICE: Notice,
        MessageKind.RFI: Rfi,
        MessageKind.REPLY: Reply,
        MessageKind.RECEIPT: Receipt,
    }
)
"""The content model of each message kind."""

MAX_MESSAGE_BYTES: Final = 4 * 1024 * 1024
"""Default cap on content bytes given to :func:`parse_message`; callers may pass a smaller one."""

SCHEMA_BASE: Final = "https://pgs.wcoomd.org/schemas/pgs-1/"
"""Where the JSON Schemas of this protocol version are published; ``$id`` is this + kind + .json."""

_JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"

_TITLES: Final[Mapping[MessageKind, str]] = MappingProxyType(
    {
        MessageKind.ALERT: "Global Shield alert",
        MessageKind.SEIZURE: "Global Shield seizure report",
        MessageKind.NOTICE: "Global Shield notice",
        MessageKind.RFI: "Global Shield request for information",
        MessageKind.REPLY: "Global Shield reply",
        MessageKind.RECEIPT: "Global Shield receipt",
    }
)


def _kind(kind: MessageKind | str) -> MessageKind:
    try:
        return MessageKind(kind)
    except ValueError:
        raise UnknownMessageKindError(
            "message kind must be one of " + ", ".join(k.value for k in MessageKind)
        ) from None


def model_for(kind: MessageKind | str) -> type[ContentModel]:
    """The content model of ``kind``; raises :class:`UnknownMessageKindError` for other kinds."""
    return MODELS[_kind(kind)]


def _invalid(kind: MessageKind, message: str) -> NoReturn:
    raise MessageValidationError([FieldProblem("", message)], kind=kind.value)


def _decode(kind: MessageKind, data: bytes, max_bytes: int) -> Any:
    """Strict JSON (the rules of :mod:`crypto.strictjson`), tolerating only trailing white space
    so that a message saved by an editor with a final newline still reads."""
    if len(data) > max_bytes:
        _invalid(kind, f"is larger than {max_bytes} bytes")
    try:
        return strictjson.loads(data.rstrip(b" \t\r\n"), what="the message", max_bytes=max_bytes)
    except CryptoError as exc:
        _invalid(kind, _plain(str(exc)))


def _plain(text: str) -> str:
    # "the message is not valid JSON" reads after the "(message)" pointer as "is not valid JSON".
    return text.removeprefix("the message ")


@overload
def parse_message(
    kind: Literal[MessageKind.ALERT], data: bytes | Mapping[str, Any], *, max_bytes: int = ...
) -> Alert: ...
@overload
def parse_message(
    kind: Literal[MessageKind.SEIZURE], data: bytes | Mapping[str, Any], *, max_bytes: int = ...
) -> Seizure: ...
@overload
def parse_message(
    kind: Literal[MessageKind.NOTICE], data: bytes | Mapping[str, Any], *, max_bytes: int = ...
) -> Notice: ...
@overload
def parse_message(
    kind: Literal[MessageKind.RFI], data: bytes | Mapping[str, Any], *, max_bytes: int = ...
) -> Rfi: ...
@overload
def parse_message(
    kind: Literal[MessageKind.REPLY], data: bytes | Mapping[str, Any], *, max_bytes: int = ...
) -> Reply: ...
@overload
def parse_message(
    kind: Literal[MessageKind.RECEIPT], data: bytes | Mapping[str, Any], *, max_bytes: int = ...
) -> Receipt: ...
@overload
def parse_message(
    kind: MessageKind | str, data: bytes | Mapping[str, Any], *, max_bytes: int = ...
) -> ContentModel: ...
def parse_message(
    kind: MessageKind | str,
    data: bytes | Mapping[str, Any],
    *,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> ContentModel:
    """Validate ``data`` as the content of a ``kind`` message and return the model.

    ``data`` is the exact content bytes (UTF-8 JSON) or an already decoded JSON object. Raises
    :class:`UnknownMessageKindError` for a kind this version does not define, and one
    :class:`MessageValidationError` listing every problem otherwise.
    """
    message_kind = _kind(kind)
    model = MODELS[message_kind]
    value = _decode(message_kind, data, max_bytes) if isinstance(data, bytes) else data
    if isinstance(value, Mapping) and not isinstance(value, dict):
        value = dict(value)
    if not isinstance(value, dict):
        _invalid(message_kind, "must be a JSON object")
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise MessageValidationError(problems_from(exc), kind=message_kind.value) from None


def encode_message(content: ContentModel) -> bytes:
    """The wire form of ``content``: compact UTF-8 JSON, absent values left out."""
    return content.model_dump_json(exclude_none=True).encode("utf-8")


def json_schema(kind: MessageKind | str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``kind`` messages, with ``$id``, title and description."""
    message_kind = _kind(kind)
    model = MODELS[message_kind]
    generated = model.model_json_schema(mode="validation")
    generated.pop("title", None)
    description = generated.pop("description", "")
    return {
        "$schema": _JSON_SCHEMA_DIALECT,
        "$id": f"{SCHEMA_BASE}{message_kind.value}.json",
        "title": f"{_TITLES[message_kind]} ({PROTOCOL})",
        "description": description,
        **generated,
    }


def all_schemas() -> dict[MessageKind, dict[str, Any]]:
    """The JSON Schema of every message kind, in :class:`MessageKind` order."""
    return {kind: json_schema(kind) for kind in MessageKind}
