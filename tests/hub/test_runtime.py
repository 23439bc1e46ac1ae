"""settle_heap (hub/server/runtime.py), run once a hub has started: the objects alive then are
frozen out of later collections, the first generation's threshold is raised, and garbage in
reference cycles made afterwards is still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from pgs_hub.hub.server.runtime import GC_THRESHOLDS, settle_heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_gc")
def test_the_started_heap_is_frozen_and_later_cycles_are_still_collected() -> None:
    class Node:
        other: object

    kept = Node()
    settle_heap()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == GC_THRESHOLDS
    assert kept not in gc.get_objects()  # frozen: no collection walks it any more

    cycle = Node()
    cycle.other = cycle
    gone = weakref.ref(cycle)
    del cycle
    gc.collect()
    assert gone() is None
