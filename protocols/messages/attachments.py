"""Files sent with a message: their description, and where their encrypted bytes are on the hub.

The bytes travel separately (uploads); the content carries each file's description and key.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    Strict,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from pgs_hub.protocols.messages._base import (
    CODE_MAX,
    ContentModel,
    problem,
    single_line,
)
from pgs_hub.protocols.messages.identifiers import Sha256Hex

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_ATTACHMENT_SIZE",
    "Attachment",
    "Attachments",
    "EncryptedBlob",
    "UploadId",
]

_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


def _media_type(value: str) -> str:
    if not _MEDIA_TYPE.fullmatch(value):
        raise problem(
            "media_type", "must be a lower-case media type without parameters, like application/pdf"
        )
    return value


def _file_name(value: str) -> str:
    if "/" in value or "\\" in value or value in {".", ".."}:
        raise problem("file_name", "must be a file name without folders")
    return value


def _ciphertext_size(size: int) -> int:
    from pgs_hub.crypto.chunked import ciphertext_size  # noqa: PLC0415 - keeps this module's imports light

    return ciphertext_size(size)


MAX_ATTACHMENT_SIZE = 2**40
"""Largest attachment size a message may declare (the hub enforces its own, smaller cap)."""


_UPLOAD_ID = "[A-Za-z0-9_-]{22}"
_FILE_KEY = "[A-Za-z0-9_-]{43}"


def _upload_id(value: str) -> str:
    if not re.fullmatch(_UPLOAD_ID, value):
        raise problem("upload_id", "must be a hub upload id: 22 base64url characters")
    return value


def _file_key(value: str) -> str:
    if not re.fullmatch(_FILE_KEY, value) or value[-1] not in "AEIMQUYcgkosw048":
        raise problem("file_key", "must be a 32-byte key in base64url without padding")
    return value


UploadId = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_upload_id),
    WithJsonSchema({"type": "string", "pattern": f"^{_UPLOAD_ID}$"}),
]
"""The id the hub gave an upload (128 random bits, base64url), named in the routing header."""


class EncryptedBlob(ContentModel):
    """Where the encrypted bytes of an attachment are on the hub, and how to open them.

    The key travels only here, inside the end-to-end encrypted content; the hub stores the
    ciphertext and never sees it (docs/protocol.md §7)."""

    upload: UploadId
    """The hub's upload id of the ciphertext; the routing header's ``att`` lists it too."""
    scheme: Literal["pgs-chunked-v1"]
    """The chunked encryption scheme (docs/protocol.md §7)."""
    key: Annotated[
        str,
        AfterValidator(_file_key),
        WithJsonSchema({"type": "string", "pattern": f"^{_FILE_KEY}$"}),
    ]
    """The file key: 32 random bytes, base64url without padding."""
    size: Annotated[int, Strict(), Field(ge=0, le=2 * MAX_ATTACHMENT_SIZE)]
    """Size of the ciphertext in bytes."""
    sha256: Sha256Hex
    """SHA-256 of the ciphertext, 64 lower-case hex digits."""


class Attachment(ContentModel):
    """Description of a file sent with a message; the bytes travel separately."""

    name: Annotated[
        str,
        StringConstraints(min_length=1, max_length=255),
        AfterValidator(single_line),
        AfterValidator(_file_name),
    ]
    """File name, without folders, at most 255 characters."""
    media_type: Annotated[
        str,
        StringConstraints(max_length=CODE_MAX),
        AfterValidator(_media_type),
        WithJsonSchema(
            {
                "type": "string",
                "pattern": "^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$",
            }
        ),
    ]
    """Media type such as application/pdf or image/jpeg, lower case, no parameters."""
    size: Annotated[int, Strict(), Field(ge=0, le=MAX_ATTACHMENT_SIZE)]
    """Size of the file in bytes."""
    sha256: Sha256Hex
    """SHA-256 of the file's bytes, 64 lower-case hex digits."""
    blob: EncryptedBlob | None = None
    """The encrypted bytes on the hub; absent when only the description travels (pgs/1 before
    attachments were carried)."""

    @model_validator(mode="after")
    def _blob_size(self) -> Attachment:
        if self.blob is not None and self.blob.size != _ciphertext_size(self.size):
            raise problem("blob_size", "the blob size is not the ciphertext size of the file size")
        return self


MAX_ATTACHMENTS = 20

Attachments = Annotated[tuple[Attachment, ...], Field(max_length=MAX_ATTACHMENTS)]
"""Up to 20 attachment descriptions."""
