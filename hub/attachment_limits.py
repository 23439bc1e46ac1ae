"""The ``[attachments]`` section of config.toml: caps on uploads, checked before bytes are stored.

Defaults (shown commented in a new home's config.toml)::

    [attachments]
    max_file_bytes = 52428800      # 50 MiB: one encrypted file (its ciphertext)
    max_message_bytes = 104857600  # 100 MiB: all the files one message references
    quota_bytes = 1073741824       # 1 GiB: everything one participant's uploads hold at a time
    max_part_bytes = 8388608       # 8 MiB: the body of one PATCH request
    pending_seconds = 86400        # an upload no accepted envelope references is deleted after
    parts_in_flight = 2            # PATCHes of one upload taken at once (1: hubs behind a balancer)
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from pgs_hub.hub.errors import config_error

MIB = 1024 * 1024


@dataclass(frozen=True)
class AttachmentLimits:
    max_file_bytes: int = 50 * MIB
    max_message_bytes: int = 100 * MIB
    quota_bytes: int = 1024 * MIB
    #: 8 MiB: a PATCH is read whole (its signature covers its digest) before it is authentic,
    #: so this is also what one connection can make the hub hold; clients start at 1 MiB and
    #: grow their parts to it on a fast link only (each part that arrived in under a second
    #: doubles the next, so an 8 MiB part arrives in about 2 s, well within the body timeout),
    #: since each part costs a signed request and a commit: a 20 MB upload takes 5 PATCHes
    #: instead of 7, and ~15% less of the hub's CPU than with 4 MiB (bench/README.md, 5b).
    max_part_bytes: int = 8 * MIB
    pending_seconds: int = 24 * 3600
    #: 2: a PATCH may start where the part still in flight will end (hub.services.upload_window).
    #: The window is per process: hub nodes behind a load balancer, where a client's second
    #: connection may reach another node, set 1 (``pgs serve --workers`` does so by itself).
    parts_in_flight: int = 2


_BOUNDS = {
    "max_file_bytes": (1, 1 << 40),
    "max_message_bytes": (1, 1 << 42),
    "quota_bytes": (0, 1 << 50),
    "max_part_bytes": (1024, 64 * MIB),
    "pending_seconds": (60, 366 * 24 * 3600),
    "parts_in_flight": (1, 2),
}


def attachment_limits(table: dict[str, Any]) -> AttachmentLimits:
    """Read the ``[attachments]`` table; unknown names and out-of-range values are refused."""
    names = {f.name for f in fields(AttachmentLimits)}
    unknown = sorted(set(table) - names)
    if unknown:
        raise config_error(
            "config.unknown_settings", section="attachments", file="config.toml",
            names=", ".join(unknown),
        )  # fmt: skip
    values: dict[str, int] = {}
    for name, value in table.items():
        low, high = _BOUNDS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise config_error(
                "config.range", section="attachments", name=name, file="config.toml",
                low=low, high=high,
            )  # fmt: skip
        values[name] = value
    return AttachmentLimits(**values)
