"""A participant's notification settings, validated on construction, and when a notification may
go out (digests and quiet hours) — pure: no I/O, the time is given.

The wire form (``GET``/``PUT /v1/me/notifications``)::

    {"email": "duty@customs.example" | null, "webhook": "https://..." | null,
     "language": "en" | "fr" | "es" | "pt" | "ar", "details": false, "digest_minutes": 0,
     "quiet_hours": {"start": "22:00", "end": "07:00"} | null, "timezone": "Africa/Accra"}

``digest_minutes`` 0 sends one notification per arrival; N > 0 sends at most one every N minutes
("N messages await"). During quiet hours (in the participant's own timezone) nothing is sent; what
arrived is told once they end. ``details`` adds the senders' countries and the message kinds,
never more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import InvalidRequest
from pgs_hub.hub.i18n import LANGS

LANGUAGES: Final = LANGS
MAX_DIGEST_MINUTES: Final = 7 * 24 * 60
MAX_ADDRESS: Final = 320
MAX_URL: Final = 2048
MAX_TIMEZONE: Final = 64
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
FIELDS: Final = frozenset(
    {"email", "webhook", "language", "details", "digest_minutes", "quiet_hours", "timezone"}
)


def _is_zone(name: str) -> bool:
    if len(name) > MAX_TIMEZONE:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _invalid(detail: str) -> InvalidRequest:
    return InvalidRequest(detail, code=Code.NOTIFICATIONS_INVALID)


# The rules of the settings themselves are said from the catalog (InvalidRequest.keyed): the
# same sentence reaches an API client (the English ``detail``) and an operator whose
# config.toml breaks one (in their language, through hub.errors.ConfigError).
_CODE: Final = Code.NOTIFICATIONS_INVALID


@dataclass(frozen=True)
class NotificationSettings:
    """One participant's settings; an instance is always valid (see :func:`parse_settings`)."""

    email: str | None = None
    webhook: str | None = None
    language: str = "en"
    details: bool = False
    digest_minutes: int = 0
    quiet_start: str | None = None
    quiet_end: str | None = None
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.email is not None and (
            len(self.email) > MAX_ADDRESS or not _EMAIL.match(self.email)
        ):
            raise InvalidRequest.keyed("notifications.invalid.email", code=_CODE)
        if self.webhook is not None and (
            len(self.webhook) > MAX_URL
            or not re.match(r"^https?://[^\s/?#]+", self.webhook)
            or any(c.isspace() for c in self.webhook)
        ):
            raise InvalidRequest.keyed("notifications.invalid.webhook", code=_CODE)
        if self.language not in LANGUAGES:
            raise InvalidRequest.keyed(
                "notifications.invalid.language", code=_CODE, languages=", ".join(LANGUAGES)
            )
        if not 0 <= self.digest_minutes <= MAX_DIGEST_MINUTES:
            raise InvalidRequest.keyed(
                "notifications.invalid.digest_minutes", code=_CODE, most=MAX_DIGEST_MINUTES
            )
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise InvalidRequest.keyed("notifications.invalid.quiet_both", code=_CODE)
        for value in (self.quiet_start, self.quiet_end):
            if value is not None and not _HHMM.match(value):
                raise InvalidRequest.keyed("notifications.invalid.quiet_clock", code=_CODE)
        if self.quiet_start is not None and self.quiet_start == self.quiet_end:
            raise InvalidRequest.keyed("notifications.invalid.quiet_differ", code=_CODE)
        if not _is_zone(self.timezone):
            raise InvalidRequest.keyed("notifications.invalid.timezone", code=_CODE)

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(
            name for name, target in (("email", self.email), ("webhook", self.webhook)) if target
        )

    def to_json(self) -> dict[str, Any]:
        quiet = (
            {"start": self.quiet_start, "end": self.quiet_end}
            if self.quiet_start is not None
            else None
        )
        return {
            "email": self.email,
            "webhook": self.webhook,
            "language": self.language,
            "details": self.details,
            "digest_minutes": self.digest_minutes,
            "quiet_hours": quiet,
            "timezone": self.timezone,
        }


def parse_settings(doc: object, current: NotificationSettings) -> NotificationSettings:
    """The settings ``doc`` asks for; fields it leaves out keep their ``current`` value (so
    ``pgs notifications set --language fr`` changes only the language). Raises
    :class:`~hub.errors.InvalidRequest` (``notifications.invalid``) naming what is wrong."""
    if not isinstance(doc, dict):
        raise _invalid("the body must be a JSON object")
    unknown = set(doc) - FIELDS
    if unknown:
        # The names are not echoed: a refusal describes the problem, never repeats the input.
        raise _invalid(f"unknown field(s); the fields are {', '.join(sorted(FIELDS))}")
    values = current.to_json() | doc
    for name in ("email", "webhook"):
        if values[name] is not None and not isinstance(values[name], str):
            raise _invalid(f"{name} must be a string or null")
        if values[name] == "":
            values[name] = None
    if not isinstance(values["language"], str) or not isinstance(values["timezone"], str):
        raise _invalid("language and timezone must be strings")
    if not isinstance(values["details"], bool):
        raise _invalid("details must be true or false")
    digest = values["digest_minutes"]
    if isinstance(digest, bool) or not isinstance(digest, int):
        raise _invalid("digest_minutes must be a whole number of minutes")
    quiet = values["quiet_hours"]
    start = end = None
    if quiet is not None:
        if not isinstance(quiet, dict) or set(quiet) != {"start", "end"}:
            raise _invalid('quiet_hours must be {"start": "HH:MM", "end": "HH:MM"} or null')
        start, end = quiet["start"], quiet["end"]
        if not isinstance(start, str) or not isinstance(end, str):
            raise InvalidRequest.keyed("notifications.invalid.quiet_clock", code=_CODE)
    return NotificationSettings(
        email=values["email"],
        webhook=values["webhook"],
        language=values["language"],
        details=values["details"],
        digest_minutes=digest,
        quiet_start=start,
        quiet_end=end,
        timezone=values["timezone"],
    )


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_until(settings: NotificationSettings, at: int) -> int | None:
    """If ``at`` (epoch seconds) falls in the participant's quiet hours, when they end (epoch
    seconds); None otherwise. A period may span midnight (22:00-07:00). Computed in the
    participant's timezone, so it follows daylight saving time."""
    if settings.quiet_start is None or settings.quiet_end is None:
        return None
    zone = ZoneInfo(settings.timezone)
    local = datetime.fromtimestamp(at, UTC).astimezone(zone)
    start, end, now = _clock(settings.quiet_start), _clock(settings.quiet_end), local.time()
    spans_midnight = start > end
    inside = (start <= now or now < end) if spans_midnight else (start <= now < end)
    if not inside:
        return None
    end_day = local.date()
    if spans_midnight and now >= start:
        end_day += timedelta(days=1)
    ends = datetime.combine(end_day, end, tzinfo=zone)
    return int(ends.timestamp())


def due_at(settings: NotificationSettings, now: int) -> int:
    """When a notification of an arrival at ``now`` goes out: at once, or at the end of the
    digest period, and never inside quiet hours."""
    due = now + settings.digest_minutes * 60
    later = quiet_until(settings, due)
    return later if later is not None else due
