"""The hub's one error tree. Each error has a stable ``code`` and an HTTP-free ``kind``;
``hub/server/problems.py`` is the only place that maps kinds to status codes (RFC 9457).

Messages are written for the participant who made the request: plain words, never internal
exception text, never message content or secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Self

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.i18n import Lang, t


class Kind(StrEnum):
    """What sort of failure, independent of transport."""

    MALFORMED = "malformed"  # the input cannot be parsed at all (→ 400)
    INVALID = "invalid"  # the input parses but breaks a rule of the protocol (→ 422)
    UNAUTHENTICATED = "unauthenticated"  # who is asking could not be established (→ 401)
    FORBIDDEN = "forbidden"  # known caller, action not allowed (→ 403)
    NOT_FOUND = "not_found"  # absent, or not visible to this caller (→ 404)
    CONFLICT = "conflict"  # clashes with what is stored (→ 409)
    TOO_LARGE = "too_large"  # over a size limit (→ 413)
    RATE_LIMITED = "rate_limited"  # too many requests (→ 429)
    UNAVAILABLE = "unavailable"  # a dependency is down; try again (→ 503)
    TIMEOUT = "timeout"  # the client took too long to send its request (→ 408)
    GONE = "gone"  # existed, removed on purpose (retention) (→ 410)


class HubError(Exception):
    """Base of every error the hub raises on purpose."""

    code: Code = Code.HUB_ERROR
    kind: Kind = Kind.INVALID
    #: The catalog key and values of an error raised with :meth:`keyed` (else None).
    key: str | None = None
    values: Mapping[str, object] = {}

    def __init__(self, message: str, *, code: Code | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @classmethod
    def keyed(cls, key: str, *, code: Code | None = None, **values: object) -> Self:
        """This error with the catalog's English text for ``key`` as its message, keeping the
        key so that a person's tool can say it in their language (:meth:`text`). The API's
        ``detail`` stays English, for programs and logs; ``key`` is an extraction keyword."""
        error = cls(t(key, "en", **values), code=code)
        error.key, error.values = key, dict(values)
        return error

    def text(self, lang: Lang) -> str | None:
        """The message in ``lang``; None for one raised without a catalog key."""
        return t(self.key, lang, **self.values) if self.key is not None else None


class MalformedRequest(HubError):
    code = Code.REQUEST_MALFORMED
    kind = Kind.MALFORMED


class InvalidRequest(HubError):
    code = Code.REQUEST_INVALID
    kind = Kind.INVALID


class AuthenticationError(HubError):
    code = Code.AUTH_FAILED
    kind = Kind.UNAUTHENTICATED


class Forbidden(HubError):
    code = Code.ACCESS_DENIED
    kind = Kind.FORBIDDEN


class NotFound(HubError):
    code = Code.NOT_FOUND
    kind = Kind.NOT_FOUND


class Conflict(HubError):
    code = Code.CONFLICT
    kind = Kind.CONFLICT


class TooLarge(HubError):
    code = Code.REQUEST_TOO_LARGE
    kind = Kind.TOO_LARGE


class Gone(HubError):
    code = Code.GONE
    kind = Kind.GONE


class RateLimited(HubError):
    code = Code.RATE_LIMITED
    kind = Kind.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: int, code: Code | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class Unavailable(HubError):
    code = Code.SERVICE_UNAVAILABLE
    kind = Kind.UNAVAILABLE

    def __init__(self, message: str, *, retry_after: int = 5, code: Code | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class RequestTimeout(HubError):
    code = Code.REQUEST_TIMEOUT
    kind = Kind.TIMEOUT


class ConfigError(Exception):
    """The hub's own configuration or home folder is unusable (start-up, not a request).

    Raised with :meth:`keyed` (or :func:`config_error`), it carries its catalog key and values:
    ``str()`` is the English text (for logs and English users), and the CLI says the same in the
    user's language (:mod:`hub.cli.errors`). A plain message is only matched against the
    catalog's known patterns.
    """

    code = "config.invalid"

    def __init__(
        self, message: str, *, key: str | None = None, values: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.key = key
        self.values: Mapping[str, object] = dict(values or {})

    def text(self, lang: Lang) -> str | None:
        """The message in ``lang``; None for one raised without a catalog key."""
        if self.key is None:
            return None
        return t(self.key, lang, **_said_in(lang, self.values))

    @classmethod
    def keyed(cls, key: str, **values: object) -> Self:
        """This error with the catalog's text for ``key`` (an extraction keyword, like ``t``:
        ``make i18n-check`` finds the key in every language). A value that is itself a keyed
        :class:`HubError` (the reason a setting was refused) is said in the same language."""
        return cls(t(key, "en", **_said_in("en", values)), key=key, values=values)


def _said_in(lang: Lang, values: Mapping[str, object]) -> dict[str, object]:
    return {
        name: (value.text(lang) or str(value)) if isinstance(value, HubError) else value
        for name, value in values.items()
    }


def config_error(key: str, **values: object) -> ConfigError:
    """``ConfigError.keyed(key, **values)``, the spelling where no subclass is meant."""
    return ConfigError.keyed(key, **values)
