"""The officer's mailbox as the desk holds it in memory: messages opened here, the ones sent
from here, receipts, threads, outcomes, and who is listening for live arrivals.

Messages are opened (verified and decrypted) once, when they arrive, and kept in memory for the
life of the unlocked desk; nothing decrypted is written to disk except what the officer sent
(:mod:`hub.desk.store`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pgs_hub.hub.desk.hubapi import HubApi, HubProblem, Item, Opened
from pgs_hub.hub.desk.store import Folder
from pgs_hub.protocols.messages.summary import strings_under, subject_line
from pgs_hub.protocols.routing import participant_country

OPEN_CONCURRENCY = 8
#: A reply whose subject is exactly this prefix and an outcome code is one-click outcome
#: feedback on an alert (the desk's convention, language-neutral; the answer says it in words).
OUTCOME_PREFIX = "outcome:"
OUTCOME_CODES = ("inspected", "seized", "nothing_found", "false_alarm")


@dataclass
class Message:
    """One message as the desk shows it."""

    mid: str
    kind: str
    sender: str
    to: list[str]
    tlp: str
    group: str | None
    at: int
    thread: str
    irt: str | None
    content: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    mine: bool = False
    signer_kid: str = ""

    @property
    def country(self) -> str:
        return participant_country(self.sender) if self.sender[:2].isalpha() else ""

    @property
    def subject(self) -> str:
        return self.subject_in("en")

    def subject_in(self, lang: str) -> str:
        """The one line an inbox shows: the subject, a notice's title (in ``lang`` when the
        notice has it), or the first words of an answer or a question."""
        return subject_line(self.content, lang)

    @property
    def is_outcome_reply(self) -> bool:
        """A one-click outcome reply: shown by its outcome's name, not its coded subject."""
        return self.kind == "reply" and self.outcome is not None

    @property
    def outcome(self) -> str | None:
        """The outcome this message reports on the message it answers, if it is one."""
        if self.kind == "seizure" and self.irt:
            return "seized"
        subject = str(self.content.get("subject", ""))
        if self.kind == "reply" and subject.startswith(OUTCOME_PREFIX):
            code = subject.removeprefix(OUTCOME_PREFIX)
            return code if code in OUTCOME_CODES else None
        return None

    @property
    def commodities(self) -> set[str]:
        return {str(line.get("commodity")) for line in self.content.get("lines", [])}

    def countries(self) -> set[str]:
        """The countries a filter by country matches: the sender's and those in the content."""
        return {self.country} | strings_under(self.content, "country")


def from_opened(opened: Opened, *, mine: bool = False) -> Message:
    header = opened.header
    return Message(
        mid=header.mid, kind=header.kind.value, sender=header.sender.id,
        to=[a.id for a in header.to], tlp=header.tlp.value, group=header.grp, at=header.iat,
        thread=header.thread or header.mid, irt=header.irt, content=opened.content, mine=mine,
        signer_kid=header.sender.kid,
    )  # fmt: skip


def from_item(item: Item, reason: str) -> Message:
    """A message that did not open: what the hub said of it, and why it did not open."""
    return Message(
        mid=item.mid, kind=item.kind, sender=item.sender, to=[], tlp=item.tlp, group=item.group,
        at=item.accepted_at, thread=item.mid, irt=None, error=reason,
    )  # fmt: skip


@dataclass(frozen=True)
class ReceiptSeen:
    by: str
    status: str
    at: int


class Mailbox:
    """Messages received and sent, receipts, and the live-arrival listeners."""

    def __init__(self, api: HubApi, sent: Folder) -> None:
        self.api = api
        self.sent = sent
        self.messages: dict[str, Message] = {}
        self.receipts: dict[str, list[ReceiptSeen]] = {}
        self.cursor = 0
        self.listeners: set[asyncio.Queue[str]] = set()
        self._lock = asyncio.Lock()
        self._load_sent()

    def _load_sent(self) -> None:
        for doc in self.sent.all():
            try:
                message = Message(**doc)
            except TypeError:
                continue
            message.mine = True
            self.messages[message.mid] = message

    def remember_sent(self, message: Message) -> None:
        message.mine = True
        self.messages[message.mid] = message
        doc = {k: v for k, v in message.__dict__.items() if k != "mine"}
        self.sent.save(message.mid, json.loads(json.dumps(doc)))

    async def _open(self, item: Item, gate: asyncio.Semaphore) -> Message:
        async with gate:
            try:
                return from_opened(await self.api.open(item.mid))
            except HubProblem as exc:
                return from_item(item, exc.code)

    async def take(self, items: list[Item]) -> list[Message]:
        """Add mailbox items (opening new envelopes); the messages that are new."""
        gate = asyncio.Semaphore(OPEN_CONCURRENCY)
        fresh = [i for i in items if i.type == "envelope" and i.mid not in self.messages]
        for item in items:
            self.cursor = max(self.cursor, item.cursor)
            if item.type == "receipt":
                seen = ReceiptSeen(item.receipt_by, item.receipt_status, item.receipt_at)
                known = self.receipts.setdefault(item.mid, [])
                if seen not in known:
                    known.append(seen)
        opened = await asyncio.gather(*(self._open(i, gate) for i in dict.fromkeys(fresh)))
        for message in opened:
            self.messages[message.mid] = message
        return list(opened)

    async def refresh(self) -> list[Message]:
        async with self._lock:
            return await self.take(await self.api.items(self.cursor))

    async def follow(self) -> None:
        """Take items from the hub's stream as they arrive and tell every listener (runs until
        cancelled; a refused stream is retried after a pause)."""
        while True:
            try:
                async for item in self.api.stream(self.cursor):
                    async with self._lock:
                        new = await self.take([item])
                    for message in new:
                        self.announce(message.mid)
                    if item.type == "receipt":
                        self.announce(item.mid)
            except HubProblem:
                await asyncio.sleep(5)

    def hang_up(self) -> None:
        """End every live-arrival stream (at shutdown or lock): each gets an empty id."""
        for queue in list(self.listeners):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait("")

    def announce(self, mid: str) -> None:
        for queue in list(self.listeners):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(mid)

    # --- views ---------------------------------------------------------------------------------

    def received(self) -> list[Message]:
        return sorted((m for m in self.messages.values() if not m.mine), key=lambda m: -m.at)

    def thread(self, message: Message) -> list[Message]:
        key = message.thread
        members = [m for m in self.messages.values() if key in (m.thread, m.mid)]
        return sorted(members, key=lambda m: (m.at, m.mid))

    def outcomes(self, mid: str) -> Counter[str]:
        """The outcomes reported on message ``mid`` (one per reporting participant)."""
        latest: dict[str, tuple[int, str]] = {}
        for message in self.messages.values():
            code = message.outcome if message.irt == mid else None
            if code is not None and latest.get(message.sender, (0, ""))[0] <= message.at:
                latest[message.sender] = (message.at, code)
        return Counter(code for _, code in latest.values())
