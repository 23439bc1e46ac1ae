"""The ``[notifications]`` section of config.toml (see :mod:`hub.services.notifications`).

The operator's part: the mail server, how often to retry, and optional starting settings per
participant (each participant then manages its own with ``pgs notifications set``; its own
settings, once saved, win). The SMTP password is never in config.toml: it is read from
``$PGS_SMTP_PASSWORD`` (or the file ``$PGS_SMTP_PASSWORD_FILE`` names) at start-up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgs_hub.hub.errors import HubError, config_error
from pgs_hub.hub.notification_settings import NotificationSettings

SMTP_PASSWORD = "PGS_SMTP_PASSWORD"  # noqa: S105 - the variable's name, not a password
PARTICIPANT_KEYS = frozenset(
    {"email", "webhook", "details", "language", "digest_minutes", "timezone"}
)

# Kept under its old name: config.toml's per-participant table is a starting set of settings.
ParticipantNotifications = NotificationSettings


@dataclass(frozen=True)
class NotificationConfig:
    smtp_host: str | None = None
    smtp_port: int = 25
    sender: str = "pgs-hub@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)  # never printed
    smtp_starttls: bool = False
    retry_base_seconds: int = 30
    max_attempts: int = 8
    webhook_private_networks: bool = False  # true: webhooks may go to loopback/private addresses
    participants: dict[str, NotificationSettings] = field(default_factory=dict)


def _password() -> str | None:
    value = os.environ.get(SMTP_PASSWORD)
    path = os.environ.get(SMTP_PASSWORD + "_FILE")
    if value is None and path:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError:
            raise config_error("config.notifications.password_file", name=SMTP_PASSWORD) from None
    return value or None


def _int(table: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise config_error(
            "config.range", section="notifications", name=name, file="config.toml",
            low=low, high=high,
        )  # fmt: skip
    return value


def notification_config(table: dict[str, Any]) -> NotificationConfig:
    """Read ``[notifications]``; a bad value is a start-up error naming it."""
    people = table.get("participants", {})
    if not isinstance(people, dict):
        raise config_error("config.table", section="notifications.participants", file="config.toml")
    participants: dict[str, NotificationSettings] = {}
    for pid, doc in people.items():
        if not isinstance(doc, dict) or set(doc) - PARTICIPANT_KEYS:
            raise config_error("config.notifications.participant_keys", pid=pid)
        if doc.get("email") is not None and "@" not in str(doc["email"]):
            raise config_error("config.notifications.email", pid=pid)
        if doc.get("webhook") is not None and not str(doc["webhook"]).startswith(
            ("https://", "http://")
        ):
            raise config_error("config.notifications.webhook", pid=pid)
        if not isinstance(doc.get("details", False), bool):
            raise config_error("config.notifications.details", pid=pid)
        try:
            participants[pid] = NotificationSettings(**doc)
        except HubError as exc:
            raise config_error("config.notifications.participant", pid=pid, reason=exc) from None
        except TypeError:  # a value of the wrong type that the checks above let through
            raise config_error("config.notifications.participant_types", pid=pid) from None
    port = _int(table, "smtp_port", 25, 1, 65535)
    host = table.get("smtp_host")
    if any(p.email for p in participants.values()) and not isinstance(host, str):
        raise config_error("config.notifications.smtp_host")
    user = table.get("smtp_user")
    starttls = table.get("smtp_starttls", False)
    private = table.get("webhook_private_networks", False)
    if not isinstance(starttls, bool) or not isinstance(private, bool):
        raise config_error("config.notifications.booleans")
    if "smtp_password" in table:
        raise config_error("config.notifications.password_in_file", name=SMTP_PASSWORD)
    return NotificationConfig(
        smtp_host=host if isinstance(host, str) else None,
        smtp_port=port,
        sender=str(table.get("from", "pgs-hub@localhost")),
        smtp_user=user if isinstance(user, str) else None,
        smtp_password=_password(),
        smtp_starttls=starttls,
        retry_base_seconds=_int(table, "retry_base_seconds", 30, 1, 86400),
        max_attempts=_int(table, "max_attempts", 8, 1, 50),
        webhook_private_networks=private,
        participants=participants,
    )
