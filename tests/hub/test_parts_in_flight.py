"""The window of parts in flight alone (hub.services.upload_window): who may follow whom, and that
nothing is left behind once parts settle or waits time out (it must not grow with traffic)."""

from __future__ import annotations

import asyncio

from pgs_hub.hub.services.upload_window import UploadWindow

U = "u" * 22


async def test_a_part_may_follow_the_latest_only_where_it_ends_and_only_once() -> None:
    window = UploadWindow()
    first = window.open(U, 0, 100, None)
    assert window.latest(U) is first
    assert window.may_follow(first, 0, 100, 50)
    assert not window.may_follow(first, 0, 99, 50)  # not where it ends
    assert not window.may_follow(first, 0, 100, None)  # no declared length
    assert not window.may_follow(first, 100, 100, 50)  # it is not where the upload stands
    assert not window.may_follow(None, 0, 100, 50)
    second = window.open(U, 100, 50, first)
    assert first.followed
    assert not window.may_follow(first, 0, 100, 50)  # one follower per part
    assert not window.may_follow(second, 0, 150, 50)  # a third in flight
    assert window.latest(U) is second
    window.settle(first, stored=True)
    assert await first.stored()
    assert window.may_follow(second, 100, 150, 50)  # the window slides
    assert second.after is first
    window.settle(second, stored=False)
    window.settle(second, stored=True)  # once: later calls change nothing
    assert not await second.stored()
    assert second.after is None  # settled parts are not kept chained
    assert not window.may_follow(second, 100, 150, 50)  # settled
    assert len(window) == 0


async def test_a_part_with_no_declared_length_is_followed_by_none() -> None:
    window = UploadWindow()
    part = window.open(U, 0, None, None)
    assert part.end is None
    assert not window.may_follow(part, 0, 0, 10)
    window.settle(part, stored=True)
    assert len(window) == 0


async def test_a_wait_for_the_part_before_ends_when_it_arrives_or_times_out() -> None:
    window = UploadWindow()
    waiting = [asyncio.ensure_future(window.arrival(U, 5.0)) for _ in range(2)]
    late = asyncio.ensure_future(window.arrival("v" * 22, 0.01))
    await asyncio.sleep(0)
    assert len(window) == 2  # two uploads waited for
    assert not await late  # nothing arrived for that one
    part = window.open(U, 0, 10, None)
    assert await asyncio.gather(*waiting) == [True, True]
    window.settle(part, stored=True)
    assert len(window) == 0


async def test_a_waiter_cancelled_leaves_nothing_behind() -> None:
    window = UploadWindow()
    waiting = asyncio.ensure_future(window.arrival(U, 5.0))
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert len(window) == 0
