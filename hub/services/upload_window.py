"""Two parts of one upload in flight at once, in one hub process (a window of two PATCHes).

tus sends one PATCH at a time: the next part leaves the client only once the hub has answered
the last one, so after each part's last byte the link idles while the hub makes the part durable
(its file's fsync, its row's commit) and checks the next part's head (signature, nonce, status).
On the bench machine of the sixteenth round that was 30-43 ms per 8 MiB part, in which the body
itself took 17-23 ms (bench/README.md, "Uploads, sixteenth round").

This hub also takes a PATCH at the offset where the part it is still receiving or storing will
end: its body arrives meanwhile, and it is recorded only after that part is, in the same
compare-and-set transaction as any part (``blobs.append``), so the stored bytes stay in order
whatever happens. If the part before it is not stored (cut off, refused, lost a race), neither is
it: 409, and the client resumes from the offset HEAD gives. The window is per process and holds
one follower per part: a third PATCH, or one that reaches another hub process, gets the plain tus
answer (409 ``upload.offset_mismatch``). The two PATCHes travel on two connections, so the
second one's head may be read before the first one's: a PATCH past the stored offset waits up to
:data:`FOLLOW_WAIT_SECONDS` for a part of its upload to arrive before it is refused.

The hub says how many parts a client may have in flight in its tus discovery
(``Pgs-Parts-In-Flight``: 1 when workers share the port); a plain tus client sends one at a time
and never meets any of this.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Final

#: How long a PATCH past an upload's stored offset may wait for the part it would follow (sent
#: just before it on another connection) before it is refused as at the wrong offset.
FOLLOW_WAIT_SECONDS: Final = 1.0


@dataclass(eq=False)
class PartInFlight:
    """A PATCH accepted and not yet settled: bytes ``[offset, end)`` of an upload (``end`` None:
    its length was not declared, so no part can follow it)."""

    upload_id: str
    offset: int
    end: int | None
    after: PartInFlight | None = None  # the part this one is recorded after
    followed: bool = False
    settled: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    async def stored(self) -> bool:
        """Whether this part was stored, once it is settled (a waiter cancelled leaves it be)."""
        return await asyncio.shield(self.settled)


class UploadWindow:
    """The parts in flight in this process, the latest of each upload."""

    def __init__(self) -> None:
        self._latest: dict[str, PartInFlight] = {}
        self._arrivals: dict[str, tuple[asyncio.Event, int]] = {}  # upload: (event, waiters)

    def __len__(self) -> int:
        return len(self._latest) + len(self._arrivals)

    def latest(self, upload_id: str) -> PartInFlight | None:
        """The upload's latest part in flight (read before its stored offset is: see
        :meth:`may_follow`)."""
        return self._latest.get(upload_id)

    @staticmethod
    def may_follow(
        latest: PartInFlight | None, stored: int, offset: int, length: int | None
    ) -> bool:
        """Whether a part of ``length`` bytes at ``offset`` may follow ``latest`` (read before
        the upload's ``stored`` offset was): ``latest`` starts where the upload stands, this
        part starts where it will end, and nothing follows it yet."""
        return (
            latest is not None
            and not latest.settled.done()
            and latest.offset == stored
            and latest.end == offset
            and not latest.followed
            and length is not None
        )

    def open(
        self, upload_id: str, offset: int, length: int | None, after: PartInFlight | None
    ) -> PartInFlight:
        """Record an accepted part as in flight (after ``after``, when it follows one)."""
        if after is not None:
            after.followed = True
        part = PartInFlight(upload_id, offset, None if length is None else offset + length, after)
        self._latest[upload_id] = part
        waiting = self._arrivals.pop(upload_id, None)
        if waiting is not None:
            waiting[0].set()
        return part

    async def arrival(self, upload_id: str, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a part of the upload to be opened; whether one
        was."""
        event, waiters = self._arrivals.get(upload_id, (asyncio.Event(), 0))
        self._arrivals[upload_id] = (event, waiters + 1)
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            return False
        finally:
            held = self._arrivals.get(upload_id)
            if held is not None and held[0] is event:
                if held[1] > 1:
                    self._arrivals[upload_id] = (event, held[1] - 1)
                else:
                    del self._arrivals[upload_id]
        return True

    def settle(self, part: PartInFlight, stored: bool) -> None:
        """The part was stored or dropped (once; later calls change nothing). It lets go of the
        part it followed, so that an upload's settled parts do not stay chained to the latest."""
        if not part.settled.done():
            part.settled.set_result(stored)
        part.after = None
        if self._latest.get(part.upload_id) is part:
            del self._latest[part.upload_id]
