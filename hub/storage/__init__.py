"""The hub's storage: SQLAlchemy Core tables and small repository functions.

Every repository function takes an ``AsyncConnection``; the caller owns the transaction
(``async with engine.begin() as conn:``) and keeps it short. The schema is created and changed
only by the migrations (:mod:`hub.storage.migrate`).
"""

from pgs_hub.hub.storage.audit import AuditRecord
from pgs_hub.hub.storage.engine import create_engine, default_sqlite_url, ping, redact
from pgs_hub.hub.storage.envelopes import DeliveryRow, EnvelopeRow
from pgs_hub.hub.storage.mailbox import MailboxItem
from pgs_hub.hub.storage.participants import KeyRow, ParticipantRow
from pgs_hub.hub.storage.receipts import ReceiptRow

__all__ = [
    "AuditRecord",
    "DeliveryRow",
    "EnvelopeRow",
    "KeyRow",
    "MailboxItem",
    "ParticipantRow",
    "ReceiptRow",
    "create_engine",
    "default_sqlite_url",
    "ping",
    "redact",
]
