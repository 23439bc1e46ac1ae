"""The PGS routing header: what the hub may read about a message, and nothing more.

It travels inside the JWE protected header (parameter ``pgs``), so it is authenticated twice: by
AES-GCM for each recipient (it is the additional authenticated data) and by the sender's Ed25519
signature over the whole JWE for everyone, the hub included. Names follow JOSE/JWT habits (``iat``,
``exp`` as NumericDate seconds) so integrators in other languages meet nothing new.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from pgs_hub.crypto.keys import KEY_ID_LENGTH
from pgs_hub.protocols.errors import RoutingError
from pgs_hub.protocols.messages.attachments import MAX_ATTACHMENTS, UploadId
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.identifiers import MessageId, ParticipantId
from pgs_hub.protocols.messages.kinds import PROTOCOL, MessageKind
from pgs_hub.protocols.messages.problems import problems_from

MAX_RECIPIENTS = 512
MAX_TTL_SECONDS = 366 * 24 * 3600
_KID = re.compile(rf"[A-Za-z0-9_-]{{{KEY_ID_LENGTH}}}")


def _kid(value: str) -> str:
    if not _KID.fullmatch(value):
        raise ValueError(f"must be a {KEY_ID_LENGTH}-character RFC 7638 key thumbprint")
    return value


KeyId = Annotated[StrictStr, AfterValidator(_kid)]
GroupName = Annotated[StrictStr, Field(pattern=r"^[A-Z][A-Z0-9-]{1,39}$")]
"""A group the sender addressed (a WCO region code such as ``WCA``, ``ALL``, or a named group)."""


def participant_country(participant: str) -> str:
    """The country part of a participant id (``"WCO"`` for WCO staff)."""
    return participant.split("-", 1)[0]


def new_message_id() -> str:
    """A fresh random message id (UUID version 4, 122 random bits)."""
    return str(uuid.uuid4())


class Addressee(BaseModel):
    """A participant and the one key of theirs a message is signed or encrypted with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ParticipantId
    kid: KeyId


class RoutingHeader(BaseModel):
    """Everything the hub needs to route, store and audit a message — never its content."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    v: Literal["pgs/1"] = PROTOCOL
    mid: MessageId
    sender: Addressee = Field(alias="from")
    to: tuple[Addressee, ...] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    kind: MessageKind
    iat: StrictInt = Field(ge=0)
    exp: StrictInt = Field(ge=0)
    tlp: Tlp
    thread: MessageId | None = None
    irt: MessageId | None = None
    grp: GroupName | None = None
    att: tuple[UploadId, ...] | None = Field(default=None, min_length=1, max_length=MAX_ATTACHMENTS)
    """The hub uploads holding the message's encrypted attachments (docs/protocol.md §7): the hub
    binds them to the envelope on acceptance, without reading the content."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len({a.id for a in self.to}) != len(self.to):
            raise ValueError("lists a recipient participant more than once")
        if len({a.kid for a in self.to}) != len(self.to):
            raise ValueError("lists a recipient key more than once")
        if self.exp <= self.iat:
            raise ValueError("exp must be later than iat")
        if self.exp - self.iat > MAX_TTL_SECONDS:
            raise ValueError(f"a message may not live longer than {MAX_TTL_SECONDS} seconds")
        if self.grp is not None and self.tlp is Tlp.RED:
            raise ValueError("TLP:RED goes only to named participants, never to a group")
        if self.att is not None and len(set(self.att)) != len(self.att):
            raise ValueError("lists an upload more than once")
        if self.kind is MessageKind.RECEIPT:
            raise ValueError("receipts are signed statements, never envelopes")
        return self

    def to_wire(self) -> dict[str, Any]:
        """The JSON object placed in the JWE protected header."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @classmethod
    def from_wire(cls, obj: dict[str, Any]) -> RoutingHeader:
        """Validate a decoded header; raises :class:`RoutingError` naming each bad field."""
        try:
            return cls.model_validate(obj)
        except ValidationError as exc:
            raise RoutingError(problems_from(exc, prefix="/pgs")) from None

    def recipient(self, participant: str) -> Addressee | None:
        """The entry for ``participant``, if the message is addressed to them."""
        return next((a for a in self.to if a.id == participant), None)
