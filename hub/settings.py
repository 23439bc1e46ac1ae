"""Every limit and default of the hub's API in one typed object, documented once (this table).

The values below were constants repeated across modules (the page size in five places, the
signature window in three); each module now reads them from here. The hub's own settings come from
``config.toml`` (``[limits]``, read by :func:`from_toml` for ``hub.home.load_config``) and reach
the services as ``HubContext.settings``; code that runs without a hub (the client, the CLI, the
OpenAPI document) reads :data:`DEFAULTS`.

=============================  =========  ==========================================================
setting (``[limits]`` key)     default    what it bounds
=============================  =========  ==========================================================
``page_size``                  100        items per page when a client gives no ``limit`` (inbox,
                                          audit records)
``inbox_page_max``             500        most items one ``GET /v1/inbox`` answers
``records_page_max``           1000       most records one ``GET /v1/audit/records`` answers
``log_entries_page_max``       10000      most entries one ``GET /v1/audit/entries`` answers ...
``log_entries_page_bytes``     8 MiB      ... and at most this many entry bytes (one entry at least)
``security_events_since``      86400      default window of ``GET /v1/audit/security-events`` (s)
``security_events_max_age``    90 days    oldest window that endpoint answers for (s)
``stream_page``                200        mailbox items a WebSocket stream reads per query
``housekeeping_seconds``       30         expiry, nonce purge and checkpoint signing interval
``database_retry_after``       5          ``Retry-After`` of a 503/507 when the database is away
=============================  =========  ==========================================================

Fixed by the protocol, not configurable (here so that they are written once):

=============================  =========  ==========================================================
``clock_skew_seconds``         300        a signed request's ``created`` may be this far from the
                                          hub's clock; nonces are kept twice as long (RFC 9421)
``body_margin_bytes``          64 KiB     room over the largest envelope before a body is refused
                                          while reading (413)
=============================  =========  ==========================================================

Caps set by the policy file (envelope size, recipients, lifetime) stay in ``hub/policy/`` and the
attachment caps in ``[attachments]`` (``hub/attachment_limits.py``): they are decisions, not
defaults, and are reloaded with the policy.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from pgs_hub.hub.errors import config_error

MIB = 1024 * 1024
DAY = 86400


@dataclass(frozen=True)
class Settings:
    """The hub's limits and defaults (see the module's table)."""

    page_size: int = 100
    inbox_page_max: int = 500
    records_page_max: int = 1000
    log_entries_page_max: int = 10_000
    log_entries_page_bytes: int = 8 * MIB
    security_events_since: int = DAY
    security_events_max_age: int = 90 * DAY
    stream_page: int = 200
    housekeeping_seconds: float = 30.0
    database_retry_after: int = 5
    # Fixed by the protocol (not read from config.toml).
    clock_skew_seconds: int = 300
    body_margin_bytes: int = 64 * 1024


DEFAULTS = Settings()
_FIXED = frozenset({"clock_skew_seconds", "body_margin_bytes"})
# The range each configurable setting must be in (inclusive).
_RANGES: dict[str, tuple[float, float]] = {
    "page_size": (1, 10_000),
    "inbox_page_max": (1, 10_000),
    "records_page_max": (1, 100_000),
    "log_entries_page_max": (1, 1_000_000),
    "log_entries_page_bytes": (64 * 1024, 256 * MIB),
    "security_events_since": (60, 365 * DAY),
    "security_events_max_age": (DAY, 3650 * DAY),
    "stream_page": (1, 10_000),
    "housekeeping_seconds": (1, 3600),
    "database_retry_after": (1, 3600),
}


def from_toml(table: dict[str, Any], *, ignore: frozenset[str] = frozenset()) -> Settings:
    """The settings a ``[limits]`` table of config.toml gives (the other keys keep their default).

    ``ignore``: keys of the table that other code reads (``submissions_per_minute``). An unknown
    key, a fixed one or a value out of range is a :class:`ConfigError` naming it."""
    changes: dict[str, Any] = {}
    for name, value in table.items():
        if name in ignore:
            continue
        if name in _FIXED or name not in _RANGES:
            raise config_error("config.limits.unknown", name=name)
        low, high = _RANGES[name]
        integral = isinstance(getattr(DEFAULTS, name), int)
        number = isinstance(value, int) if integral else isinstance(value, int | float)
        if isinstance(value, bool) or not number or not low <= value <= high:
            raise config_error("config.limits.range", name=name, low=f"{low:g}", high=f"{high:g}")
        changes[name] = value
    return dataclasses.replace(DEFAULTS, **changes)
