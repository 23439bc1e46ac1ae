"""Pages of log entries, both ends of GET /v1/audit/entries.

* The hub's service (on SQLite and PostgreSQL) bounds a page by a count and by bytes, always sends
  at least one entry, says in ``end`` where the page stopped, and leaves nothing out below it.
* The auditor's client follows the hub's ``end`` (a page cut short is asked for again from there,
  the pages in flight beyond it dropped), refuses answers outside what it asked for, and folds the
  leaves of a page in runs that reach exactly the states of adding them one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import itertools
import json
import random
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.keys import SigningKey
from pgs_hub.crypto.merkle import CompactRange, leaf_hash
from pgs_hub.hub.client import audit as api
from pgs_hub.hub.client import log
from pgs_hub.hub.errors import InvalidRequest
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.policy.model import load_policy
from pgs_hub.hub.services import auditlog
from pgs_hub.hub.services.context import HubContext, PolicyHolder
from pgs_hub.hub.storage import audit
from pgs_hub.protocols.api import LogEntries, LogEntriesPage

COUNTRIES = ("NG", "GH", "SN")


def _auditor(country: str, scope: str | None = None) -> Member:
    return Member(
        id=f"{country}-AUDIT", country=country, role="auditor", scope=scope, status="active",
        enc_kid="",
    )  # fmt: skip


GLOBAL = _auditor("WCO")


@pytest.fixture
async def ctx(engine: AsyncEngine) -> HubContext:
    """A hub context over a log of 40 entries whose sizes vary (one much larger than the rest)."""
    async with engine.begin() as conn:
        for i in range(40):
            await audit.append_record(
                conn, at=1_767_225_600 + i, event="access.denied", actor=None, subject=None,
                country=COUNTRIES[i % 3],
                details={"reason": "x" * (2000 if i == 17 else 10 * (i % 5))},
            )  # fmt: skip
    return HubContext(
        engine=engine,
        policy=PolicyHolder(None, load_policy("", source="test policy")),
        authority=SigningKey.generate().public,
        hub_key=SigningKey.generate(),
    )


def _entries(answer: LogEntriesPage) -> list[tuple[int, bytes]]:
    """The page as an auditor's client reads it: its wire document, parsed."""
    sent = LogEntries.model_validate_json(answer.wire_json())
    assert (sent.start, sent.end) == (answer.start, answer.end)
    return [(e.index, b64u_decode(e.entry)) for e in sent.entries]


async def test_a_page_is_bounded_by_count(ctx: HubContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auditlog, "MAX_ENTRIES", 7)
    answer = await auditlog.entries(ctx, GLOBAL, 3, 1000)
    assert (answer.start, answer.end) == (3, 10)
    assert [i for i, _ in _entries(answer)] == list(range(3, 10))
    answer = await auditlog.entries(ctx, GLOBAL, 38, 1000)  # the log ends first
    assert [i for i, _ in _entries(answer)] == [38, 39]
    assert (await auditlog.entries(ctx, GLOBAL, 5, 5)).entries == []
    for start, end in ((-1, 3), (5, 4)):
        with pytest.raises(InvalidRequest):
            await auditlog.entries(ctx, GLOBAL, start, end)


@pytest.mark.parametrize("reader", [GLOBAL, _auditor("GH"), _auditor("WCO", scope="SN")])
async def test_a_page_is_bounded_by_bytes_and_covers_up_to_its_end(
    ctx: HubContext, monkeypatch: pytest.MonkeyPatch, reader: Member
) -> None:
    """Walking the log by each answer's ``end`` gives every visible entry exactly once, with at
    least one entry per page and no page over the byte budget unless it is one entry alone."""
    budget = 900
    monkeypatch.setattr(auditlog, "MAX_ENTRIES_BYTES", budget)
    scope = None if reader is GLOBAL else (reader.scope or reader.country)
    seen: list[tuple[int, bytes]] = []
    start = 0
    while start < 40:
        answer = await auditlog.entries(ctx, reader, start, 40)
        page = _entries(answer)
        assert answer.start == start < answer.end <= 40
        assert all(start <= i < answer.end for i, _ in page)
        assert len(page) == 1 or sum(len(e) for _, e in page) <= budget
        if answer.end < 40:  # cut short: by bytes, so it holds entries
            assert page
            assert page[-1][0] == answer.end - 1 or scope is not None
        seen += page
        start = answer.end
    assert [i for i, _ in seen] == [
        i for i in range(40) if scope is None or i % 3 == COUNTRIES.index(scope)
    ]
    assert all(json.loads(e)["index"] == i for i, e in seen)
    assert max(len(e) for _, e in seen) > budget or scope not in (None, COUNTRIES[17 % 3])


# --- the client ---------------------------------------------------------------------------------


@dataclass
class FakeHub:
    """Answers GET /v1/audit/entries over a log of ``size`` entries as a hub may: pages end at
    ``cuts`` (as a byte budget would) or at ``cap`` entries; ``tamper`` spoils chosen answers."""

    size: int
    cap: int = log.MAX_PAGE
    cuts: set[int] = field(default_factory=set)
    tamper: Any = None
    asked: list[tuple[int, int]] = field(default_factory=list)
    base_url: str = "http://fake"

    async def request(
        self, method: str, path: str, *, query: dict[str, int | str]
    ) -> tuple[int, bytes]:
        assert (method, path) == ("GET", "/v1/audit/entries")
        start, end = int(query["start"]), int(query["end"])
        self.asked.append((start, end))
        await asyncio.sleep(0)
        end = min(end, start + self.cap, self.size)
        end = min([c for c in self.cuts if start < c < end] or [end])
        doc: dict[str, Any] = {
            "start": start,
            "end": end,
            "entries": [{"index": i, "entry": b64u_encode(b"e%d" % i)} for i in range(start, end)],
        }
        return 200, json.dumps(self.tamper(doc) if self.tamper else doc).encode()


async def _read(hub: FakeHub, start: int, end: int, **kw: int) -> list[tuple[int, int, list[int]]]:
    pages = log.iter_entries(hub, start, end, **kw)  # type: ignore[arg-type]
    return [(s, e, [x.index for x in found]) async for s, e, found in pages]


@pytest.mark.parametrize("ahead", [1, 2, 5])
async def test_the_client_follows_where_the_hub_ends_a_page(ahead: int) -> None:
    rng = random.Random(ahead)
    for _ in range(30):
        size = rng.randrange(1, 400)
        hub = FakeHub(
            size, cap=rng.choice((7, 50, 1000)), cuts=set(rng.sample(range(size), min(5, size)))
        )
        start = rng.randrange(size)
        pages = await _read(hub, start, size, page_size=rng.randrange(1, 120), ahead=ahead)
        assert pages[0][0] == start
        assert pages[-1][1] == size
        assert all(a[1] == b[0] for a, b in itertools.pairwise(pages))  # contiguous
        assert [i for _, _, found in pages for i in found] == list(range(start, size))
        assert all(found == list(range(s, e)) for s, e, found in pages)


def _spoil(page_start: int, change: Any) -> Any:
    def tamper(doc: dict[str, Any]) -> dict[str, Any]:
        return change(doc) if doc["start"] == page_start else doc

    return tamper


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d | {"end": d["end"] + 1}, id="end-beyond-what-was-asked"),
        pytest.param(lambda d: d | {"end": d["start"], "entries": []}, id="no-progress"),
        pytest.param(lambda d: d | {"start": d["start"] + 1}, id="another-start"),
        pytest.param(lambda d: {k: v for k, v in d.items() if k != "end"}, id="no-end"),
        pytest.param(lambda d: d | {"end": "20"}, id="end-not-an-integer"),
        pytest.param(
            lambda d: d | {"end": d["end"] - 2, "entries": d["entries"]}, id="entry-past-the-end"
        ),
        pytest.param(
            lambda d: d | {"entries": [{"index": d["start"] - 1, "entry": "AA"}]},
            id="entry-before-the-start",
        ),
    ],
)
async def test_the_client_refuses_pages_outside_what_it_asked(change: Any) -> None:
    hub = FakeHub(100, tamper=_spoil(20, change))
    with pytest.raises(log.LogAnswerError):
        await _read(hub, 0, 100, page_size=10, ahead=3)


async def test_leaving_early_cancels_the_pages_in_flight() -> None:
    hub = FakeHub(1000)
    pages = log.iter_entries(hub, 0, 1000, page_size=10, ahead=4)  # type: ignore[arg-type]
    async with contextlib.aclosing(pages):
        async for _ in pages:
            break
    await asyncio.sleep(0)
    assert len(hub.asked) <= 5  # the first page and those in flight, nothing after
    assert all(
        not t.get_coro().__qualname__.startswith("entries_page") for t in asyncio.all_tasks()
    )


def test_the_page_sizes_agree() -> None:
    cli = importlib.import_module(
        "pgs_hub.hub.cli.audit"
    )  # (``hub.cli.audit`` is also a click group)
    assert cli.MAX_PAGE == log.MAX_PAGE == auditlog.MAX_ENTRIES


@pytest.mark.parametrize("seed", range(6))
def test_runs_of_good_leaves_reach_the_states_of_one_leaf_at_a_time(seed: int) -> None:
    """``_Download.add_good`` against ``add`` leaf by leaf: same leaves, frontier, snapshots, and
    the same check of a stored root at ``check_at`` (right or wrong), over several snapshots."""
    rng = random.Random(seed)
    leaves = [leaf_hash(b"%d" % i) for i in range(3 * api.SNAPSHOT_EVERY + 77)]
    base = CompactRange().extended(leaves[: rng.randrange(2000)])
    rest = leaves[base.size :]
    check_at = base.size + rng.randrange(1, len(rest) + 1) if seed % 3 else None
    right = CompactRange().extended(leaves[:check_at]).root() if check_at else b""
    check_root = right if seed % 2 else leaf_hash(b"not the root")
    one, runs = (api._Download(base, check_at, check_root) for _ in range(2))
    for leaf in rest:
        one.add(leaf)
    position = 0
    while position < len(rest):
        step = rng.choice((1, 5, 300, api.SNAPSHOT_EVERY, 2500))
        runs.add_good(rest[position : position + step])
        position += step
    for name in ("leaves", "running", "snapshots", "bad_prefix"):
        assert getattr(runs, name) == getattr(one, name), name
    if check_at is not None:
        assert (one.bad_prefix is None) == (check_root == right)


@pytest.mark.parametrize(
    ("entry", "scope", "problem"),
    [
        (b'{"index": 7, "countries": ["GH"]}', None, None),
        (b'{"index": 7, "countries": ["GH"]}', "GH", None),
        (
            b'{"index": 7, "index": 8}',
            None,
            "the entry at 7 says it is entry 8 (moved or inserted)",
        ),
        (b'{"index": 6}', None, "the entry at 7 says it is entry 6 (moved or inserted)"),
        (
            b'{"index": 7, "countries": ["NG"]}',
            "GH",
            "entry 7 does not involve GH, yet was shown to its auditor",
        ),
        (b'{"index": 7', None, "entry 7 is not JSON"),
        (b'{"index": 7} {}', None, "entry 7 is not JSON"),
        (b'{"index": "\xff"}', None, "entry 7 is not JSON"),
        (b"[7]", None, "entry 7 is not a JSON object"),
    ],
)
def test_each_entry_is_read_for_the_index_it_states(
    entry: bytes, scope: str | None, problem: str | None
) -> None:
    """What the auditor's tool finds in an entry itself, before any hash: each problem named (a
    repeated member counts by its last value, as JSON parsers commonly read it)."""
    assert api._entry_problem(log.LogEntry(7, entry), scope) == problem
