"""In-process fan-out of "something new in your mailbox" to connected WebSocket streams.

A notification carries no data, only the participant id: each stream re-reads its mailbox from its
own cursor, so a missed or coalesced notification can delay an item but never lose or repeat one.
Each subscriber has a one-slot wake-up flag, so a slow consumer costs O(1) memory and never delays
the others (back-pressure by coalescing).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable


class Subscription:
    """One stream's wake-up flag."""

    def __init__(self, notifier: Notifier, participant: str) -> None:
        self._notifier = notifier
        self.participant = participant
        self._event = asyncio.Event()

    def wake(self) -> None:
        self._event.set()

    async def wait(self, timeout: float | None = None) -> bool:
        """Wait until woken (True) or the timeout passes (False); clears the flag."""
        try:
            async with asyncio.timeout(timeout):  # no task of its own, unlike wait_for
                await self._event.wait()
        except TimeoutError:
            return False
        self._event.clear()
        return True

    def close(self) -> None:
        self._notifier._remove(self)


class Notifier:
    """Maps participant ids to their live subscriptions."""

    def __init__(self) -> None:
        self._subs: defaultdict[str, set[Subscription]] = defaultdict(set)

    def subscribe(self, participant: str) -> Subscription:
        sub = Subscription(self, participant)
        self._subs[participant].add(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.participant)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.participant]

    def notify(self, participants: Iterable[str]) -> None:
        for participant in participants:
            for sub in self._subs.get(participant, ()):
                sub.wake()

    def wake_all(self) -> None:
        for subs in self._subs.values():
            for sub in subs:
                sub.wake()

    def wake_everyone(self) -> None:
        """Every stream looks again, here and (:class:`~hub.services.fanout.PgFanout`) in the
        other hub processes: after a change that may refuse any of them (a policy reload)."""
        self.wake_all()

    @property
    def connections(self) -> int:
        return sum(len(s) for s in self._subs.values())
