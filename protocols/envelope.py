"""PGS envelopes: the generic crypto envelope profile bound to the PGS routing header and messages.

Sealing takes a content model and the recipients' *verified* keys; verifying checks, beyond the
signature, that the header agrees with the cryptography around it: the signing key is the one the
header names for the sender, and the JWE's recipient entries are exactly the header's recipients,
in order. Opening checks that the key belongs to the participant it is used for and that the
decrypted content is a valid message of the header's kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pgs_hub.crypto import envelope as env
from pgs_hub.crypto.errors import NotARecipientError
from pgs_hub.crypto.jwe import FixedRandomness, JweProfile
from pgs_hub.crypto.keys import DecryptionKey, RecipientKey, SigningKey, VerifyKey
from pgs_hub.protocols.errors import FieldProblem, RoutingError
from pgs_hub.protocols.messages._base import ContentModel
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import encode_message, parse_message
from pgs_hub.protocols.messages.reply import Reply
from pgs_hub.protocols.routing import Addressee, RoutingHeader, new_message_id

# Content is base64url-encoded twice (JWE ciphertext, then JWS payload): 3 MiB of content
# makes about 5.4 MiB of envelope, under the 6 MiB envelope cap.
MAX_CONTENT_BYTES = 3 * 1024 * 1024

PGS_PROFILE = env.EnvelopeProfile(
    jws_typ="pgs-envelope+jose",
    jwe=JweProfile(
        content_type="pgs-content+json",
        app_header="pgs",
        commitment_label=b"pgs/1 content-key commitment",
        max_recipients=512,
        max_protected_bytes=128 * 1024,
        max_ciphertext_bytes=MAX_CONTENT_BYTES,
    ),
    max_envelope_bytes=6 * 1024 * 1024,
)


@dataclass(frozen=True)
class SealedMessage:
    """Envelope bytes ready to submit, with the header they carry."""

    raw: bytes
    header: RoutingHeader


@dataclass(frozen=True)
class VerifiedMessage:
    """An envelope whose signature and header consistency were checked."""

    envelope: env.VerifiedEnvelope
    header: RoutingHeader

    @property
    def raw(self) -> bytes:
        return self.envelope.raw


@dataclass(frozen=True)
class OpenedMessage:
    """A decrypted, validated message."""

    verified: VerifiedMessage
    content: ContentModel
    content_key: bytes

    @property
    def header(self) -> RoutingHeader:
        return self.verified.header

    def __repr__(self) -> str:
        return f"OpenedMessage(mid={self.header.mid!r}, kind={self.header.kind.value!r})"


def _check_reply(header: RoutingHeader, content: ContentModel) -> None:
    """A reply's content names the message it answers; the header must name the same one."""
    if isinstance(content, Reply) and header.irt != content.in_reply_to.mid:
        raise RoutingError(
            [FieldProblem("/pgs/irt", "must be the message id the reply's in_reply_to names")]
        )


def _check_attachments(header: RoutingHeader, content: ContentModel) -> None:
    """The uploads the header names (which the hub binds to the envelope) are exactly those the
    content's attachments point to, so that what the hub keeps is what the recipients need."""
    described = getattr(content, "attachments", ())
    uploads = {a.blob.upload for a in described if a.blob is not None}
    if uploads != set(header.att or ()):
        raise RoutingError(
            [FieldProblem("/pgs/att", "must list exactly the uploads the attachments point to")]
        )


def seal_message(
    *,
    sender_id: str,
    signer: SigningKey,
    recipients: Sequence[tuple[str, RecipientKey]],
    kind: MessageKind,
    content: ContentModel,
    tlp: Tlp,
    now: int,
    ttl_seconds: int = 30 * 24 * 3600,
    thread: str | None = None,
    in_reply_to: str | None = None,
    message_id: str | None = None,
    group: str | None = None,
    fixed: FixedRandomness | None = None,
    attachments: Sequence[str] = (),
) -> SealedMessage:
    """Validate ``content`` as a ``kind`` message, then encrypt it to ``recipients`` and sign it."""
    plaintext = encode_message(content)
    parse_message(kind, plaintext)  # the content must be exactly what recipients will accept
    header = RoutingHeader.model_validate(
        {
            "mid": message_id or new_message_id(),
            "from": {"id": sender_id, "kid": signer.kid},
            "to": [{"id": pid, "kid": key.kid} for pid, key in recipients],
            "kind": kind,
            "iat": now,
            "exp": now + ttl_seconds,
            "tlp": tlp,
            "thread": thread,
            "irt": in_reply_to,
            "grp": group,
            "att": list(attachments) or None,
        }
    )
    _check_reply(header, content)
    _check_attachments(header, content)
    raw = env.seal(
        profile=PGS_PROFILE,
        app_header=header.to_wire(),
        plaintext=plaintext,
        signer=signer,
        recipients=[key for _, key in recipients],
        fixed=fixed,
    )
    return SealedMessage(raw, header)


def read_header(raw: bytes) -> tuple[env.UnverifiedEnvelope, RoutingHeader]:
    """Parse an envelope and its routing header. **Unauthenticated**: use it to find the sender's
    key, then call :func:`verify_message`."""
    envelope = env.parse(raw, profile=PGS_PROFILE)
    return envelope, RoutingHeader.from_wire(envelope.claimed_header)


def verify_message(raw: bytes, sender_key: VerifyKey) -> VerifiedMessage:
    """Verify signature and header consistency; raises a crypto or :class:`RoutingError`."""
    envelope, header = read_header(raw)
    return verify_parsed(envelope, header, sender_key)


def verify_parsed(
    envelope: env.UnverifiedEnvelope, header: RoutingHeader, sender_key: VerifyKey
) -> VerifiedMessage:
    """:func:`verify_message` of what :func:`read_header` returned, without parsing it again.

    Both are immutable, and ``header`` must be the one read from ``envelope``.
    """
    verified = env.verify(envelope, sender_key)
    if header.sender.kid != verified.signer.kid:
        raise RoutingError(
            [FieldProblem("/pgs/from/kid", "is not the key that signed the envelope")]
        )
    header_kids = tuple(a.kid for a in header.to)
    if header_kids != verified.recipient_kids:
        raise RoutingError(
            [
                FieldProblem(
                    "/pgs/to", "does not list exactly the JWE's recipients in the same order"
                )
            ]
        )
    return VerifiedMessage(verified, header)


def open_message(message: VerifiedMessage, participant: str, key: DecryptionKey) -> OpenedMessage:
    """Decrypt as ``participant`` holding ``key`` and validate the content for the header's kind."""
    entry: Addressee | None = message.header.recipient(participant)
    if entry is None or entry.kid != key.kid:
        raise NotARecipientError(f"{participant} with this key is not a recipient of the message")
    opened = env.open_envelope(message.envelope, key, profile=PGS_PROFILE)
    content = parse_message(message.header.kind, opened.plaintext)
    _check_reply(message.header, content)
    _check_attachments(message.header, content)
    return OpenedMessage(message, content, opened.content_key)
