"""Message content models of the Global Shield protocol (pgs/1).

Each message kind has one frozen pydantic model; :func:`parse_message` validates content for a kind
and raises one :class:`~protocols.errors.MessageValidationError` listing every problem with a JSON
pointer. Content carries no routing data: sender, recipients, message id and TLP are in the signed
routing header (:mod:`protocols.routing`).
"""

from pgs_hub.protocols.messages._base import ContentModel
from pgs_hub.protocols.messages.alert import Alert
from pgs_hub.protocols.messages.attachments import Attachment
from pgs_hub.protocols.messages.codes import (
    CasNumber,
    CommodityCode,
    CountryCode,
    HsCode,
    UnitCode,
    UnLocode,
    UnNumber,
)
from pgs_hub.protocols.messages.enforcement import (
    Action,
    Concealment,
    ConcealmentMethod,
    DetectionMethod,
    RiskIndicator,
)
from pgs_hub.protocols.messages.evaluation import Evaluation, InformationAccuracy, SourceReliability
from pgs_hub.protocols.messages.goods import CommodityLine
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.identifiers import MessageId, ParticipantId, Sha256Hex
from pgs_hub.protocols.messages.kinds import PROTOCOL, MessageKind
from pgs_hub.protocols.messages.notice import (
    Audience,
    AudienceScope,
    LocalizedBody,
    LocalizedTitle,
    Notice,
    NoticeCategory,
)
from pgs_hub.protocols.messages.parties import Party, PartyRole
from pgs_hub.protocols.messages.places import Location
from pgs_hub.protocols.messages.quantities import Quantity
from pgs_hub.protocols.messages.receipt import Receipt, ReceiptStatus
from pgs_hub.protocols.messages.references import MessageRef
from pgs_hub.protocols.messages.registry import (
    MODELS,
    all_schemas,
    encode_message,
    json_schema,
    model_for,
    parse_message,
)
from pgs_hub.protocols.messages.reply import Reply
from pgs_hub.protocols.messages.rfi import Priority, Rfi
from pgs_hub.protocols.messages.seizure import SeizedLine, Seizure
from pgs_hub.protocols.messages.shipment import ContainerNumber, Route, Shipment, TransportMode

__all__ = [
    "MODELS",
    "PROTOCOL",
    "Action",
    "Alert",
    "Attachment",
    "Audience",
    "AudienceScope",
    "CasNumber",
    "CommodityCode",
    "CommodityLine",
    "Concealment",
    "ConcealmentMethod",
    "ContainerNumber",
    "ContentModel",
    "CountryCode",
    "DetectionMethod",
    "Evaluation",
    "HsCode",
    "InformationAccuracy",
    "LocalizedBody",
    "LocalizedTitle",
    "Location",
    "MessageId",
    "MessageKind",
    "MessageRef",
    "Notice",
    "NoticeCategory",
    "ParticipantId",
    "Party",
    "PartyRole",
    "Priority",
    "Quantity",
    "Receipt",
    "ReceiptStatus",
    "Reply",
    "Rfi",
    "RiskIndicator",
    "Route",
    "SeizedLine",
    "Seizure",
    "Sha256Hex",
    "Shipment",
    "SourceReliability",
    "Tlp",
    "TransportMode",
    "UnLocode",
    "UnNumber",
    "UnitCode",
    "all_schemas",
    "encode_message",
    "json_schema",
    "model_for",
    "parse_message",
]
