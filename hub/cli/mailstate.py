"""What the command line remembers about a mailbox, in the keys folder: the ``pgs watch`` cursor
and the messages read on this machine; and short message ids resolved against the mailbox.

The state is one small JSON file, ``KEYS/mailbox-state.json``, per hub URL (one keys folder can
talk to a test hub and a production hub). It holds no secret and no message content: cursors and
message ids only. It is written atomically (a temporary file renamed over the old one).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgs_hub.hub.cli.common import fail, say

if TYPE_CHECKING:
    from pgs_hub.hub.client import HubClient

STATE_FILE = "mailbox-state.json"
MAX_REMEMBERED_READ = 5000
MIN_PREFIX = 4
SHORT_ID = 8
FULL_ID_LENGTH = 36
_ID_CHARS = re.compile(r"^[0-9a-fA-F-]+$")


@dataclass
class MailboxState:
    """The remembered state of one participant's mailbox on one hub."""

    path: Path
    hub: str
    cursor: int = 0
    read: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path, hub_url: str) -> MailboxState:
        path = folder / STATE_FILE
        hub = hub_url.rstrip("/")
        if not path.exists():
            return cls(path, hub)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            mine: dict[str, Any] = doc.get(hub, {}) if isinstance(doc, dict) else {}
            read = [str(m) for m in mine.get("read", [])]
            return cls(path, hub, int(mine.get("cursor", 0)), read)
        except (ValueError, TypeError, AttributeError):
            fail(say("cli.error.state", path=path))

    def save(self) -> None:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {}
        except ValueError:
            doc = {}
        if not isinstance(doc, dict):
            doc = {}
        doc[self.hub] = {"cursor": self.cursor, "read": self.read[-MAX_REMEMBERED_READ:]}
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        os.replace(temporary, self.path)

    def mark_read(self, mid: str) -> None:
        if mid not in self.read:
            self.read.append(mid)

    def is_read(self, mid: str) -> bool:
        return mid in self.read


async def mailbox_ids(hub: HubClient) -> list[str]:
    """Every message id in the mailbox (messages received, and sent ones with receipts)."""
    found: dict[str, None] = {}
    after = 0
    while True:
        page = await hub.inbox(after, 500)
        for item in page.items:
            found[item.mid] = None
        if not page.items:
            return list(found)
        after = page.next


def full_id(mid: str) -> bool:
    return len(mid) == FULL_ID_LENGTH and _ID_CHARS.match(mid) is not None


async def resolve_mid(hub: HubClient, prefix: str) -> str:
    """``prefix`` if it is a whole message id; else the one mailbox id it starts. One plain error
    line when it is not an id, too short, unknown or ambiguous."""
    if full_id(prefix):
        return prefix.lower()
    if not _ID_CHARS.match(prefix):
        fail(say("cli.error.mid_bad", prefix=prefix))
    if len(prefix) < MIN_PREFIX:
        fail(say("cli.error.mid_short", prefix=prefix, n=MIN_PREFIX))
    return match_prefix(prefix, await mailbox_ids(hub))


def match_prefix(prefix: str, ids: list[str]) -> str:
    """The one id of ``ids`` that starts with ``prefix``; one plain error line otherwise."""
    wanted = prefix.lower()
    matches = [m for m in ids if m.lower().startswith(wanted)]
    if not matches:
        fail(say("cli.error.mid_unknown", prefix=prefix))
    if len(matches) > 1:
        examples = ", ".join(m[: len(prefix) + 4] + "…" for m in matches[:3])
        fail(say("cli.error.mid_ambiguous", prefix=prefix, n=len(matches), examples=examples))
    return matches[0]


def short_ids(mids: list[str]) -> dict[str, str]:
    """The shortest prefix of each id (at least :data:`SHORT_ID` characters) that no other id in
    ``mids`` shares."""
    unique = list(dict.fromkeys(mids))
    result: dict[str, str] = {}
    for mid in unique:
        length = SHORT_ID
        while length < len(mid) and any(o != mid and o.startswith(mid[:length]) for o in unique):
            length += 1
        result[mid] = mid[:length]
    return result
