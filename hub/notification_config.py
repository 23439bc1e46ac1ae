"""The ``[notifications]`` section of config.toml (see :mod:`hub.services.notifications`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.errors import ConfigError


@dataclass(frozen=True)
class ParticipantNotifications:
    email: str | None = None
    webhook: str | None = None
    details: bool = False


@dataclass(frozen=True)
class NotificationConfig:
    smtp_host: str | None = None
    smtp_port: int = 25
    sender: str = "pgs-hub@localhost"
    participants: dict[str, ParticipantNotifications] = field(default_factory=dict)


def notification_config(table: dict[str, Any]) -> NotificationConfig:
    """Read ``[notifications]``; a bad value is a start-up error naming it."""
    people = table.get("participants", {})
    if not isinstance(people, dict):
        raise ConfigError("[notifications.participants] in config.toml must be a table")
    participants: dict[str, ParticipantNotifications] = {}
    for pid, doc in people.items():
        if not isinstance(doc, dict) or set(doc) - {"email", "webhook", "details"}:
            raise ConfigError(f"[notifications.participants.{pid}] takes email, webhook, details")
        email, webhook, details = doc.get("email"), doc.get("webhook"), doc.get("details", False)
        if email is not None and (not isinstance(email, str) or "@" not in email):
            raise ConfigError(f"[notifications.participants.{pid}] email is not an address")
        if webhook is not None and (
            not isinstance(webhook, str) or not webhook.startswith(("https://", "http://"))
        ):
            raise ConfigError(f"[notifications.participants.{pid}] webhook must be an http(s) URL")
        if not isinstance(details, bool):
            raise ConfigError(f"[notifications.participants.{pid}] details must be true or false")
        participants[pid] = ParticipantNotifications(email, webhook, details)
    port = table.get("smtp_port", 25)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError("[notifications] smtp_port in config.toml must be a port number")
    host = table.get("smtp_host")
    if any(p.email for p in participants.values()) and not isinstance(host, str):
        raise ConfigError("[notifications] needs smtp_host to send e-mail")
    return NotificationConfig(
        smtp_host=host if isinstance(host, str) else None,
        smtp_port=port,
        sender=str(table.get("from", "pgs-hub@localhost")),
        participants=participants,
    )
