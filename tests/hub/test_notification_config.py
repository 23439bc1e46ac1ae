"""``[notifications]`` in config.toml: per-participant settings, and what is refused at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pgs_hub.hub.errors import ConfigError
from pgs_hub.hub.i18n import LANGS
from pgs_hub.hub.notification_config import ParticipantNotifications, notification_config

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
        ({"smtp_password": "hunter22"}, "does not belong in config.toml"),
        ({"retry_base_seconds": 0}, "retry_base_seconds"),
        ({"max_attempts": True}, "max_attempts"),
        ({"smtp_starttls": "yes"}, "smtp_starttls"),
        ({"participants": {GH: {"timezone": "Mars/Olympus"}}}, "IANA time zone"),
    ],
)
def test_bad_settings_are_refused(table: dict[str, Any], reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        notification_config(table)


@pytest.mark.parametrize(
    ("doc", "english", "french"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone is not an IANA time zone", "fuseau horaire IANA"),
        (
            {"language": "de"},
            "language must be one of en, fr, es, pt, ar",
            "language doit être l'une de ces langues : en, fr, es, pt, ar",
        ),
        ({"digest_minutes": 10**9}, "digest_minutes must be between 0 and", "compris entre 0 et"),
        ({"digest_minutes": "5"}, "a value has the wrong type", "pas le bon type"),
    ],
)
def test_a_participants_refused_setting_is_said_in_the_operators_language(
    doc: dict[str, Any], english: str, french: str
) -> None:
    """A rule of the settings themselves (the same one the API applies) reaches the operator in
    their language with the participant's section, not as English or a Python type error."""
    with pytest.raises(ConfigError) as caught:
        notification_config({"participants": {GH: doc}})
    error = caught.value
    assert str(error).startswith(f"[notifications.participants.{GH}] ")
    assert english in str(error)
    assert french in (error.text("fr") or "")
    for lang in LANGS:
        text = error.text(lang)
        assert text is not None
        assert f"[notifications.participants.{GH}] " in text
        assert (english in text) == (lang == "en"), lang


def test_the_smtp_password_comes_from_the_environment_and_is_never_printed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PGS_SMTP_PASSWORD", "CANARY-pw-1")
    config = notification_config({"smtp_host": "127.0.0.1", "smtp_user": "hub"})
    assert (config.smtp_user, config.smtp_password) == ("hub", "CANARY-pw-1")
    assert "CANARY-pw-1" not in repr(config)
    monkeypatch.delenv("PGS_SMTP_PASSWORD")
    secret = tmp_path / "smtp-password"
    secret.write_text("CANARY-pw-2\n")
    monkeypatch.setenv("PGS_SMTP_PASSWORD_FILE", str(secret))
    assert notification_config({}).smtp_password == "CANARY-pw-2"  # noqa: S105 - a canary
    assert (config.retry_base_seconds, config.max_attempts) == (30, 8)
