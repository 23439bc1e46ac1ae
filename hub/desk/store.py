"""What the desk keeps on the officer's machine, in the keys folder.

* ``mailbox-state.json``: the messages read here, in the same file and format as ``pgs inbox``
  uses (:mod:`hub.cli.mailstate`), so the command line and the desk agree on what is unread; the
  ``pgs watch`` cursor in it is left alone. It holds message ids only.
* ``desk/sent/<mid>.json``: the messages this officer sent from the desk (header and content), so
  a thread shows both sides: the hub cannot give the sender back a message encrypted to others.
* ``desk/drafts/<name>.json`` and ``desk/templates/<name>.json``: unsent forms.

Every write is atomic (a temporary file renamed over the old one). Names are made safe here.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

STATE_FILE = "mailbox-state.json"
MAX_REMEMBERED_READ = 5000
DESK_DIR = "desk"
_SAFE = re.compile(r"[^A-Za-z0-9 _.-]+")


def _write(path: Path, doc: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def safe_name(name: str) -> str:
    """A file-name-safe form of a draft or template name (empty when nothing is left)."""
    return _SAFE.sub("", name).strip(" .")[:60]


class ReadState:
    """The set of messages read on this machine, for one hub."""

    def __init__(self, folder: Path, hub_url: str) -> None:
        self.path = folder / STATE_FILE
        self.hub = hub_url.rstrip("/")
        doc = _read(self.path)
        mine = doc.get(self.hub, {}) if isinstance(doc, dict) else {}
        read = mine.get("read", []) if isinstance(mine, dict) else []
        self.read: list[str] = [str(m) for m in read] if isinstance(read, list) else []

    def is_read(self, mid: str) -> bool:
        return mid in self.read

    def mark(self, mids: list[str]) -> None:
        new = [m for m in mids if m not in self.read]
        if not new:
            return
        self.read += new
        doc = _read(self.path)
        doc = doc if isinstance(doc, dict) else {}
        mine = doc.get(self.hub)
        mine = mine if isinstance(mine, dict) else {}
        mine["read"] = self.read[-MAX_REMEMBERED_READ:]
        mine.setdefault("cursor", 0)
        doc[self.hub] = mine
        _write(self.path, doc)


class Folder:
    """One kind of saved JSON document under ``KEYS/desk/<kind>/``."""

    def __init__(self, keys: Path, kind: str) -> None:
        self.root = keys / DESK_DIR / kind

    def save(self, name: str, doc: dict[str, Any]) -> str:
        safe = safe_name(name)
        if not safe:
            raise ValueError("empty name")
        _write(self.root / f"{safe}.json", doc)
        return safe

    def load(self, name: str) -> dict[str, Any] | None:
        safe = safe_name(name)
        doc = _read(self.root / f"{safe}.json") if safe else None
        return doc if isinstance(doc, dict) else None

    def delete(self, name: str) -> None:
        safe = safe_name(name)
        if safe:
            (self.root / f"{safe}.json").unlink(missing_ok=True)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.stem for p in self.root.glob("*.json"))

    def all(self) -> list[dict[str, Any]]:
        return [d for n in self.names() if (d := self.load(n)) is not None]
