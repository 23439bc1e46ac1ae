"""A participant's notification settings: what is refused (named cases), what a partial change
keeps, and when quiet hours end, in the participant's own timezone (across midnight and across a
daylight-saving change)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pgs_hub.hub.errors import InvalidRequest
from pgs_hub.hub.notification_settings import (
    NotificationSettings,
    due_at,
    parse_settings,
    quiet_until,
)

NONE = NotificationSettings()


def at(text: str, zone: str) -> int:
    """Epoch seconds of a wall-clock time in ``zone`` (written the way a person reads it)."""
    return int(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp())


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ([], "must be a JSON object"),
        ({"sms": "+233"}, "unknown field"),
        ({"email": "nobody"}, "not an e-mail address"),
        ({"email": "a@b.example\r\nBcc: x@y.example"}, "not an e-mail address"),
        ({"email": 5}, "string or null"),
        ({"webhook": "ftp://x.example"}, "http:// or https://"),
        ({"webhook": "https://x.example/a b"}, "http:// or https://"),
        ({"language": "de"}, "one of en, fr, es, pt, ar"),
        ({"details": "yes"}, "true or false"),
        ({"digest_minutes": -1}, "between 0 and"),
        ({"digest_minutes": 1.5}, "whole number"),
        ({"digest_minutes": True}, "whole number"),
        ({"quiet_hours": {"start": "22:00"}}, "quiet_hours must be"),
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "HH:MM"),
        ({"quiet_hours": {"start": "07:00", "end": "07:00"}}, "must differ"),
        ({"timezone": "Mars/Olympus"}, "IANA time zone"),
        ({"timezone": "../../etc/passwd"}, "IANA time zone"),
    ],
    ids=lambda v: str(v)[:40] if isinstance(v, str) else None,
)
def test_bad_settings_are_refused_naming_the_field(doc: Any, reason: str) -> None:
    with pytest.raises(InvalidRequest, match=reason) as refused:
        parse_settings(doc, NONE)
    assert refused.value.code == "notifications.invalid"


def test_a_partial_change_keeps_the_rest_and_empty_turns_a_channel_off() -> None:
    current = parse_settings(
        {"email": "duty@gh.example", "webhook": "https://gh.example/hook", "details": True,
         "quiet_hours": {"start": "22:00", "end": "07:00"}, "timezone": "Africa/Accra"},
        NONE,
    )  # fmt: skip
    changed = parse_settings({"language": "fr", "webhook": ""}, current)
    assert changed == NotificationSettings(
        email="duty@gh.example", language="fr", details=True, quiet_start="22:00",
        quiet_end="07:00", timezone="Africa/Accra",
    )  # fmt: skip
    assert changed.channels == ("email",)
    assert parse_settings(changed.to_json() | {"quiet_hours": None}, changed).quiet_start is None


def test_quiet_hours_across_midnight_end_in_the_participants_timezone() -> None:
    lagos = NotificationSettings(quiet_start="22:00", quiet_end="07:00", timezone="Africa/Lagos")
    assert quiet_until(lagos, at("2026-12-03T21:59", "Africa/Lagos")) is None
    assert quiet_until(lagos, at("2026-12-03T22:00", "Africa/Lagos")) == at(
        "2026-12-04T07:00", "Africa/Lagos"
    )
    assert quiet_until(lagos, at("2026-12-04T03:30", "Africa/Lagos")) == at(
        "2026-12-04T07:00", "Africa/Lagos"
    )
    assert quiet_until(lagos, at("2026-12-04T07:00", "Africa/Lagos")) is None
    # The same instant is outside quiet hours for someone whose evening starts later.
    tokyo = NotificationSettings(quiet_start="22:00", quiet_end="07:00", timezone="Asia/Tokyo")
    assert quiet_until(tokyo, at("2026-12-03T12:00", "Africa/Lagos")) is None


def test_quiet_hours_follow_daylight_saving_time() -> None:
    # Paris moves from UTC+1 to UTC+2 in the night of 28-29 March 2026.
    paris = NotificationSettings(quiet_start="23:00", quiet_end="08:00", timezone="Europe/Paris")
    ends = quiet_until(paris, at("2026-03-28T23:30", "Europe/Paris"))
    assert ends == at("2026-03-29T08:00", "Europe/Paris")
    assert ends is not None
    # One hour of the night does not exist that day: 8.5 hours of wall clock are 7.5 real ones.
    assert ends - at("2026-03-28T23:30", "Europe/Paris") == int(7.5 * 3600)


def test_a_digest_is_due_at_the_end_of_its_period_and_never_inside_quiet_hours() -> None:
    now = at("2026-12-03T21:50", "Africa/Accra")
    assert due_at(NotificationSettings(), now) == now
    assert due_at(NotificationSettings(digest_minutes=5), now) == now + 300
    quiet = NotificationSettings(
        digest_minutes=15, quiet_start="22:00", quiet_end="06:30", timezone="Africa/Accra"
    )
    assert due_at(quiet, now) == at("2026-12-04T06:30", "Africa/Accra")
