"""The transparency log's API from the outside (``/v1/audit``, docs/audit-log.md), over a
:class:`~hub.client.HubClient`: checkpoints, pages of entries, inclusion and consistency proofs.

Every answer is parsed into its :mod:`protocols.api` model and every base64url field decoded to
bytes; nothing is trusted (a malformed answer is a :class:`LogAnswerError`). The auditor that
checks the log with these is :mod:`hub.client.audit`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_core import from_json

from pgs_hub.crypto.b64 import b64u_decode
from pgs_hub.crypto.errors import CryptoError
from pgs_hub.crypto.merkle import HASH_SIZE
from pgs_hub.hub.client.client import HubClient
from pgs_hub.hub.client.errors import HubClientError
from pgs_hub.protocols import api

MAX_PAGE = 10_000  # entries asked for per page: the hub's cap (it may end a page sooner)
PAGES_AHEAD = 2  # pages in flight while reading entries: the hub works while the auditor hashes
PROOF_CONCURRENCY = 8
RETRY_STATUSES = (429, 503)  # rate limited, database briefly away: the same request again later
RETRY_DELAYS = (1.0, 2.0, 4.0, 4.0, 4.0, 4.0)
M = TypeVar("M", bound=api.ApiModel)


class LogAnswerError(Exception):
    """The hub answered something that is not what the audit API describes."""

    code = "log.bad_answer"


def b64_field(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise LogAnswerError(f"{what} is not a base64url string")
    try:
        return b64u_decode(value, field=what)
    except CryptoError as exc:
        raise LogAnswerError(f"{what} is not canonical base64url") from exc


def hash_field(value: object, what: str) -> bytes:
    decoded = b64_field(value, what)
    if len(decoded) != HASH_SIZE:
        raise LogAnswerError(f"{what} is not a {HASH_SIZE}-byte hash")
    return decoded


def count_field(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LogAnswerError(f"{what} is not a non-negative integer")
    return value


def hashes_field(value: object, what: str) -> list[bytes]:
    if not isinstance(value, list):
        raise LogAnswerError(f"{what} is not a list")
    return [hash_field(h, f"{what}[{i}]") for i, h in enumerate(value)]


# --- the API -------------------------------------------------------------------------------------


def _parse(model: type[M], data: bytes) -> M:
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"]) if exc.errors() else "answer"
        raise LogAnswerError(
            f"the {model.__name__} answer is not as the API says ({where})"
        ) from None


async def _get(hub: HubClient, path: str, model: type[M], **query: int | str) -> M:
    """GET ``model``, waiting and asking again while the hub answers "too many requests" or
    "unavailable" (an auditor's run makes many reads; all of them are safe to repeat)."""
    for delay in (*RETRY_DELAYS, None):
        try:
            _, data = await hub.request("GET", path, query=query or None)
        except HubClientError as exc:
            if exc.status not in RETRY_STATUSES or delay is None:
                raise
            await asyncio.sleep(delay)
        else:
            return _parse(model, data)
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class CheckpointAnswer:
    """A checkpoint as the hub served it: the signed note (bytes) and its unverified size/root."""

    note: bytes
    size: int
    root: bytes


@dataclass(frozen=True)
class LogEntry:
    """One entry (exact bytes) at its index."""

    index: int
    entry: bytes

    def decoded(self) -> dict[str, Any]:
        """The entry's JSON (``ValueError`` if it is not JSON). Parsed by pydantic-core's parser,
        not the standard library's: an auditor's full verification reads every entry to check the
        index it states, and the standard library took 7.6 us for a 358-byte entry, this 2.4 us;
        the same values (a repeated member keeps its last value in both)."""
        doc: dict[str, Any] = from_json(self.entry)
        return doc


@dataclass(frozen=True)
class InclusionAnswer:
    """The inclusion proof of leaf ``index`` in the tree of ``size``, with its entry if sent."""

    index: int
    size: int
    leaf_hash: bytes
    proof: list[bytes]
    entry: bytes | None


async def checkpoint(hub: HubClient, fresh: bool = False) -> CheckpointAnswer:
    """The latest signed checkpoint; ``fresh`` asks the hub to sign one of its current tree
    (auditors and admins only)."""
    if fresh:
        _, data = await hub.request("POST", "/v1/audit/checkpoint", body=b"")
        doc = _parse(api.Checkpoint, data)
    else:
        doc = await _get(hub, "/v1/audit/checkpoint", api.Checkpoint)
    return CheckpointAnswer(
        doc.checkpoint.encode("utf-8"), count_field(doc.size, "size"), hash_field(doc.root, "root")
    )


async def entries(hub: HubClient, start: int, end: int) -> list[LogEntry]:
    """Entries with ``start <= index < end`` that this auditor may see, as far as the hub's
    page goes (see :func:`entries_page`)."""
    return (await entries_page(hub, start, end))[1]


async def entries_page(hub: HubClient, start: int, end: int) -> tuple[int, list[LogEntry]]:
    """``(page_end, entries)``: the entries this auditor may see with ``start <= index <
    page_end``, where ``page_end`` is where the hub ended the page (at most ``end``; sooner when
    the range is more than the hub sends at once). Every entry must lie in ``[start, page_end)``
    and a page of a non-empty range must cover at least one index."""
    doc = await _get(hub, "/v1/audit/entries", api.LogEntries, start=start, end=end)
    page_end = count_field(doc.end, "end")
    if doc.start != start or not (start < page_end <= end or start == page_end == end):
        raise LogAnswerError(f"asked for entries {start}..{end - 1}, got a page up to {page_end}")
    found: list[LogEntry] = []
    for i, item in enumerate(doc.entries):
        index = count_field(item.index, f"entries[{i}].index")
        if not start <= index < page_end:
            raise LogAnswerError(f"asked for entries {start}..{page_end - 1}, got entry {index}")
        found.append(LogEntry(index, b64_field(item.entry, "entry")))
    return page_end, found


def _inclusion(doc: api.InclusionProof) -> InclusionAnswer:
    return InclusionAnswer(
        index=count_field(doc.index, "index"),
        size=count_field(doc.size, "size"),
        leaf_hash=hash_field(doc.leaf_hash, "leaf_hash"),
        proof=hashes_field(doc.proof, "proof"),
        entry=b64_field(doc.entry, "entry"),
    )


async def inclusion_proof(
    hub: HubClient, *, index: int | None = None, mid: str | None = None, size: int | None = None
) -> InclusionAnswer:
    """The inclusion proof of entry ``index``, or of message ``mid``'s ``envelope.accepted``
    entry, in the tree of ``size`` (default: the hub's current tree, which may not be signed)."""
    if (index is None) == (mid is None):
        raise ValueError("give exactly one of index and mid")
    query: dict[str, int | str] = {"index": index} if index is not None else {"mid": str(mid)}
    if size is not None:
        query["size"] = size
    return _inclusion(await _get(hub, "/v1/audit/proof/inclusion", api.InclusionProof, **query))


async def key_proof(hub: HubClient, kid: str, size: int | None = None) -> InclusionAnswer:
    """The entry that enrolled or rotated in key ``kid``, with its inclusion proof."""
    query: dict[str, int | str] = {"size": size} if size is not None else {}
    return _inclusion(await _get(hub, f"/v1/audit/proof/key/{kid}", api.InclusionProof, **query))


async def consistency_proof(hub: HubClient, first: int, second: int) -> list[bytes]:
    """The RFC 9162 consistency proof from the tree of ``first`` leaves to that of ``second``."""
    path = "/v1/audit/proof/consistency"
    doc = await _get(hub, path, api.ConsistencyProof, first=first, second=second)
    if doc.first != first or doc.second != second:
        raise LogAnswerError("the consistency proof is for other tree sizes")
    return hashes_field(doc.proof, "proof")


async def records(hub: HubClient, after: int = 0, limit: int = 1000) -> api.AuditRecords:
    """Audit records after sequence number ``after`` (the older records API)."""
    return await _get(hub, "/v1/audit/records", api.AuditRecords, after=after, limit=limit)


async def iter_entries(
    hub: HubClient, start: int, end: int, page_size: int = MAX_PAGE, ahead: int = PAGES_AHEAD
) -> AsyncGenerator[tuple[int, int, list[LogEntry]], None]:
    """``(page_start, page_end, entries)`` for consecutive pages covering ``[start, end)``.

    Each page lists the entries this caller may see, in index order, up to where the hub ended
    it (the next page starts there); entries outside it are refused as a bad answer. Up to
    ``ahead`` pages are asked for at once, so that the hub prepares the next page while the caller
    checks this one; they are asked for every ``page_size`` entries, and asked for again from
    where the hub ended a page when it ended one sooner. Close the iterator (``aclosing``) when
    leaving it early: that cancels the pages still in flight.
    """
    page_size = max(1, min(page_size, MAX_PAGE))
    pending: deque[tuple[int, asyncio.Task[tuple[int, list[LogEntry]]]]] = deque()
    position = asked = start
    try:
        while position < end:
            while len(pending) < max(1, ahead) and asked < end:
                until = min(end, asked + page_size)
                pending.append((asked, asyncio.ensure_future(entries_page(hub, asked, until))))
                asked = until
            page_start, task = pending.popleft()
            page_end, found = await task
            if page_end < min(end, page_start + page_size):  # ended sooner: the rest is off
                _discard(task for _, task in pending)
                pending.clear()
                asked = page_end
            yield position, page_end, found
            position = page_end
    finally:
        _discard(task for _, task in pending)


def _discard(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel requests no longer wanted (the outcome of one already done is dropped)."""
    for task in tasks:
        if task.done():
            if not task.cancelled():
                task.exception()
        else:
            task.cancel()
