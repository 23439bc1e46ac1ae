"""The one exception tree of the protocols package.

Every error has a stable ``code`` string that outer layers (the hub's API, the CLI) map to their own
vocabulary; nothing here knows about HTTP. Messages are plain English and never echo the rejected
input back, so they are safe to show to the participant who sent it.

Tree::

    ProtocolError                      protocol.error
    ├── UnknownMessageKindError        message.unknown_kind
    └── InvalidDataError               protocol.invalid  (.problems: tuple[FieldProblem, ...])
        ├── MessageValidationError     message.invalid
        ├── RoutingError               routing.invalid
        └── CertificateError           certificate.invalid

Errors about another part of the protocol (the routing header, a receipt signature ...) that carry
a list of field problems subclass :class:`InvalidDataError` with their own ``code``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "CertificateError",
    "FieldProblem",
    "InvalidDataError",
    "MessageValidationError",
    "ProtocolError",
    "RoutingError",
    "UnknownMessageKindError",
]


class ProtocolError(Exception):
    """Base of every error raised by :mod:`protocols`."""

    code: str = "protocol.error"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One thing wrong with a message, at one place in it.

    ``pointer`` is an RFC 6901 JSON Pointer into the message content (``""`` is the whole message,
    ``"/lines/0/quantity/unit"`` a nested member); ``message`` says what is wrong in plain words,
    written to follow the pointer: ``"/subject" is required``.
    """

    pointer: str
    message: str

    def __str__(self) -> str:
        where = self.pointer or "(message)"
        return f"{where} {self.message}"


class UnknownMessageKindError(ProtocolError):
    """The message kind is not one this protocol version defines."""

    code = "message.unknown_kind"


class InvalidDataError(ProtocolError):
    """Data does not satisfy its model; ``problems`` lists every problem found, in order."""

    code = "protocol.invalid"

    #: What the data is, for the text of the error ("message", "routing header" ...).
    what: str = "data"

    #: How many problems ``str()`` spells out before summarising the rest.
    SHOWN_IN_TEXT = 5

    def __init__(self, problems: Iterable[FieldProblem], *, what: str | None = None) -> None:
        self.problems: tuple[FieldProblem, ...] = tuple(problems)
        if what is not None:
            self.what = what
        shown = "; ".join(str(p) for p in self.problems[: self.SHOWN_IN_TEXT])
        more = len(self.problems) - self.SHOWN_IN_TEXT
        if more > 0:
            shown += f"; and {more} more"
        text = f"{self.what} is invalid"
        super().__init__(f"{text}: {shown}" if shown else text)


class MessageValidationError(InvalidDataError):
    """Message content does not satisfy the model of its kind."""

    code = "message.invalid"
    what = "message"

    def __init__(self, problems: Iterable[FieldProblem], *, kind: str | None = None) -> None:
        self.kind = kind
        super().__init__(problems, what=f"{kind} message" if kind else None)


class RoutingError(InvalidDataError):
    """The routing header is invalid or disagrees with the cryptography around it (the signing
    key, the JWE recipients); ``problems`` point into the envelope, under ``/pgs``."""

    code = "routing.invalid"
    what = "routing header"


class CertificateError(InvalidDataError):
    """A participant certificate's body is not a valid certificate (fields, or the rules tying
    role, country and scope together); ``problems`` point into the certificate body. Problems with
    the signature around it are crypto errors, not this."""

    code = "certificate.invalid"
    what = "certificate"
