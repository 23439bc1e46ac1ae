"""``[notifications]`` in config.toml: per-participant settings, and what is refused at start-up."""

from __future__ import annotations

from typing import Any

import pytest

from hub.errors import ConfigError
from hub.notification_config import ParticipantNotifications, notification_config

GH = "GH-NCP-ACCRA"


def test_settings_are_read_per_participant() -> None:
    config = notification_config(
        {
            "smtp_host": "127.0.0.1", "smtp_port": 2525, "from": "hub@example.org",
            "participants": {GH: {"email": "duty@gh.example", "details": True}},
        }
    )  # fmt: skip
    assert config.participants == {
        GH: ParticipantNotifications("duty@gh.example", None, details=True)
    }
    assert (config.smtp_host, config.smtp_port, config.sender) == (
        "127.0.0.1", 2525, "hub@example.org",
    )  # fmt: skip
    assert notification_config({}).participants == {}


@pytest.mark.parametrize(
    ("table", "reason"),
    [
        ({"participants": {GH: {"email": "nobody"}}}, "email is not an address"),
        ({"participants": {GH: {"webhook": "ftp://x"}}}, "webhook must be an http"),
        ({"participants": {GH: {"details": "yes"}}}, "details must be true or false"),
        ({"participants": {GH: {"sms": "+233"}}}, "takes email, webhook, details"),
        ({"participants": {GH: {"email": "a@b.example"}}}, "needs smtp_host"),
        ({"smtp_port": 0}, "smtp_port"),
    ],
)
def test_bad_settings_are_refused(table: dict[str, Any], reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        notification_config(table)
