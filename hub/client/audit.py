"""The auditor that checks the transparency log, what ``pgs audit verify`` runs (:func:`audit`).

It checks a fresh checkpoint against the pinned log key, checks that it extends the last
checkpoint this auditor saw, downloads the entries it has not seen yet (through the API wrapper,
:mod:`hub.client.log`) and either recomputes the whole tree (a global auditor, resuming from its
saved compact frontier) or checks each visible entry's inclusion proof (a country-scoped auditor,
who sees only some entries). When the recomputed root differs, it finds the *first* entry that is
wrong by bisecting on prefix roots with consistency proofs, so the report names one index.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.crypto.errors import CryptoError, ProofError, QuorumError
from pgs_hub.crypto.merkle import EMPTY_ROOT, HASH_SIZE, CompactRange, leaf_hash, verify_consistency
from pgs_hub.crypto.merkle import verify_inclusion as merkle_verify_inclusion
from pgs_hub.crypto.note import Checkpoint, NoteVerifier, verify_checkpoint
from pgs_hub.crypto.witness import WitnessPolicy, verify_witnessed
from pgs_hub.hub.client.client import HubClient
from pgs_hub.hub.client.errors import HubClientError
from pgs_hub.hub.client.log import (
    MAX_PAGE,
    PROOF_CONCURRENCY,
    LogAnswerError,
    LogEntry,
    checkpoint,
    consistency_proof,
    count_field,
    hash_field,
    hashes_field,
    inclusion_proof,
    iter_entries,
)
from pgs_hub.protocols import api

# --- the auditor's state -------------------------------------------------------------------------


STATE_VERSION = 1


def _encode_range(state: CompactRange) -> dict[str, Any]:
    return {"size": state.size, "hashes": [b64u_encode(h) for h in state.hashes]}


def _decode_range(doc: object) -> CompactRange:
    if not isinstance(doc, dict):
        raise LogStateError("a saved frontier is not an object")
    try:
        return CompactRange(
            count_field(doc.get("size"), "frontier size"),
            tuple(hashes_field(doc.get("hashes"), "frontier")),
        )
    except (LogAnswerError, CryptoError) as exc:
        raise LogStateError(f"a saved frontier is unusable: {exc}") from exc


class LogStateError(Exception):
    """The auditor's state file is unreadable or does not fit this log."""

    code = "audit.state"


@dataclass
class LogState:
    """What one auditor remembers of one log: the last checkpoint it verified (None before the
    first complete run), with, for a global auditor, its own compact frontier of that tree; and
    ``pending``, how far an unfinished run got (resumed by the next one)."""

    hub: str
    origin: str
    scope: str | None
    checkpoint: str | None  # the last verified signed note, as text
    size: int
    root: bytes
    frontier: CompactRange | None
    verified_at: int
    pending: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "hub": self.hub,
            "origin": self.origin,
            "scope": self.scope,
            "checkpoint": self.checkpoint,
            "size": self.size,
            "root": b64u_encode(self.root),
            "frontier": None if self.frontier is None else _encode_range(self.frontier),
            "verified_at": self.verified_at,
            "pending": self.pending,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> LogState:
        try:
            frontier = doc.get("frontier")
            checkpoint = doc.get("checkpoint")
            pending = doc.get("pending")
            return cls(
                hub=str(doc["hub"]),
                origin=str(doc["origin"]),
                scope=doc.get("scope"),
                checkpoint=checkpoint if isinstance(checkpoint, str) else None,
                size=count_field(doc["size"], "size"),
                root=hash_field(doc["root"], "root"),
                frontier=None if frontier is None else _decode_range(frontier),
                verified_at=count_field(doc.get("verified_at", 0), "verified_at"),
                pending=pending if isinstance(pending, dict) else None,
            )
        except (KeyError, LogAnswerError) as exc:
            raise LogStateError(f"the saved state is unusable: {exc}") from exc


class StateFile:
    """The auditor's local memory: one JSON file, one entry per (hub URL, log origin), written
    atomically (a temporary file renamed over the old one), so an interrupted run never leaves
    half a file behind."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @staticmethod
    def key(hub_url: str, origin: str) -> str:
        return f"{hub_url.rstrip('/')} {origin}"

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"v": STATE_VERSION, "logs": {}}
        try:
            doc = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise LogStateError(f"cannot read {self.path}: {exc}") from exc
        if (
            not isinstance(doc, dict)
            or doc.get("v") != STATE_VERSION
            or not isinstance(doc.get("logs"), dict)
        ):
            raise LogStateError(f"{self.path} is not an audit state file (version {STATE_VERSION})")
        return doc

    def load(self, hub_url: str, origin: str) -> LogState | None:
        found = self._read()["logs"].get(self.key(hub_url, origin))
        return None if found is None else LogState.from_json(found)

    def save(self, state: LogState) -> None:
        doc = self._read()
        doc["logs"][self.key(state.hub, state.origin)] = state.to_json()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".audit-state-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as sink:
                json.dump(doc, sink, indent=1)
                sink.flush()
                os.fsync(sink.fileno())
            Path(tmp).replace(self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                Path(tmp).unlink()
            raise


# --- the auditor ---------------------------------------------------------------------------------


class AuditFailure(Exception):
    """The log does not verify: ``code`` says how, ``index`` is the first bad entry when one can
    be named."""

    def __init__(self, code: str, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.index = index


@dataclass
class AuditResult:
    """What one run did."""

    checkpoint: Checkpoint
    scope: str | None
    previous_size: int | None  # the size verified before this run (None: first run)
    start: int  # first index read this run
    end: int  # one past the last index read this run
    received: int  # entries received (a scoped auditor receives only those involving it)
    paused: bool = False  # stopped early (max_entries): the next run resumes at ``end``
    resumed: bool = False  # started where an unfinished run stopped
    note: str = ""  # the checkpoint note verified (with the witnesses' cosignatures)


@dataclass
class ProgressHooks:
    """Callbacks for a progress display; all optional."""

    start: Callable[[int, int], None] = lambda start, end: None
    advance: Callable[[int], None] = lambda count: None
    note: Callable[[str], None] = lambda text: None


_MISSING = b"\xff" * HASH_SIZE  # stands for an entry the hub did not send (never a real leaf)
SNAPSHOT_EVERY = 1024


@dataclass
class _Download:
    """Leaf hashes of entries ``[base.size, end)`` received on top of a frontier, packed 32 bytes
    each (32 MB a million entries); ``running`` is the frontier after them while nothing is known
    to be wrong, with a copy kept every :data:`SNAPSHOT_EVERY` entries so that a bisection step
    recomputes at most that many leaves."""

    base: CompactRange
    check_at: int | None = None  # a size whose root must be ``check_root`` (full re-reads)
    check_root: bytes = b""
    leaves: bytearray = field(default_factory=bytearray)
    running: CompactRange = field(init=False)
    snapshots: dict[int, CompactRange] = field(default_factory=dict)
    bad_prefix: int | None = None  # smallest prefix size known to contain a bad entry
    reasons: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.running = self.base
        self.snapshots[self.base.size] = self.base

    @property
    def end(self) -> int:
        return self.base.size + len(self.leaves) // HASH_SIZE

    def leaf(self, index: int) -> bytes:
        at = (index - self.base.size) * HASH_SIZE
        return bytes(self.leaves[at : at + HASH_SIZE])

    def add(self, leaf: bytes, problem: str | None = None) -> None:
        index = self.end
        self.leaves += leaf
        if problem is not None:
            self.reasons.setdefault(index, problem)
            self.mark_bad(index + 1)
        if self.bad_prefix is None:
            self.running, _ = self.running.append(leaf)
            if self.end % SNAPSHOT_EVERY == 0:
                self.snapshots[self.end] = self.running
            if self.end == self.check_at and self.running.root() != self.check_root:
                self.mark_bad(self.end)

    def add_good(self, leaves: list[bytes]) -> None:
        """:meth:`add` for consecutive leaves without a known problem, folded in runs up to each
        snapshot (and to ``check_at``) with :meth:`CompactRange.extended`: the same states, and
        the same checks at the same sizes, as adding them one by one."""
        done = 0
        while done < len(leaves) and self.bad_prefix is None:
            end = self.end
            stop = end + SNAPSHOT_EVERY - end % SNAPSHOT_EVERY
            if self.check_at is not None and end < self.check_at < stop:
                stop = self.check_at
            run = leaves[done : done + stop - end]
            self.leaves += b"".join(run)
            self.running = self.running.extended(run)
            done += len(run)
            if self.end % SNAPSHOT_EVERY == 0:
                self.snapshots[self.end] = self.running
            if self.end == self.check_at and self.running.root() != self.check_root:
                self.mark_bad(self.end)
        self.leaves += b"".join(leaves[done:])

    def mark_bad(self, prefix: int) -> None:
        if self.bad_prefix is None or prefix < self.bad_prefix:
            self.bad_prefix = prefix

    def root_at(self, size: int) -> bytes:
        """Our root of the first ``size`` entries (``base.size <= size <= end``)."""
        start = max(k for k in self.snapshots if k <= size)
        grown, _ = self.snapshots[start].extend(self.leaf(i) for i in range(start, size))
        return grown.root()

    def describe(self, index: int) -> str:
        if index in self.reasons:
            return self.reasons[index]
        return f"entry {index} is not the entry the signed log holds (altered or replaced)"


def _entry_problem(item: LogEntry, scope: str | None) -> str | None:
    """Why ``item`` cannot be the entry at its index (or be shown to ``scope``), or None."""
    try:
        doc = item.decoded()
    except ValueError:
        return f"entry {item.index} is not JSON"
    if not isinstance(doc, dict):
        return f"entry {item.index} is not a JSON object"
    if doc.get("index") != item.index:
        return f"the entry at {item.index} says it is entry {doc.get('index')} (moved or inserted)"
    if scope is not None and scope not in (doc.get("countries") or []):
        return f"entry {item.index} does not involve {scope}, yet was shown to its auditor"
    return None


def _witnessed(note: bytes, verifier: NoteVerifier, policy: WitnessPolicy) -> Checkpoint:
    """The checkpoint, once a quorum of the pinned policy's witnesses is found to have cosigned
    it (a checkpoint shown to this auditor only could not have been)."""
    try:
        return verify_witnessed(note, policy, verifier, now=int(time.time())).checkpoint
    except QuorumError as exc:
        raise AuditFailure("log.no_quorum", f"checkpoint refused: {exc}") from exc
    except CryptoError as exc:
        raise AuditFailure(
            "log.bad_checkpoint", f"the checkpoint does not verify under the pinned keys: {exc}"
        ) from exc


async def _fresh_checkpoint(
    hub: HubClient, verifier: NoteVerifier, policy: WitnessPolicy | None = None
) -> tuple[Checkpoint, str]:
    try:
        answer = await checkpoint(hub, fresh=True)
    except HubClientError as exc:
        if exc.code == "log.integrity":
            raise AuditFailure(
                "log.refused",
                "consistency failure: the hub refuses to sign a checkpoint because its stored log "
                "no longer extends the last one it signed",
            ) from exc
        raise
    try:
        signed = verify_checkpoint(answer.note, verifier)
    except CryptoError as exc:
        raise AuditFailure(
            "log.bad_checkpoint", f"the checkpoint does not verify under the pinned log key: {exc}"
        ) from exc
    if policy is not None:
        signed = _witnessed(answer.note, verifier, policy)
    if signed.size != answer.size or signed.root != answer.root:
        raise AuditFailure(
            "log.bad_checkpoint", "the hub's size and root differ from the checkpoint it signed"
        )
    return signed, answer.note.decode("utf-8")


async def _check_extends(hub: HubClient, older: Checkpoint, newer: Checkpoint, what: str) -> None:
    """Raise unless ``newer`` extends ``older``, a checkpoint this auditor saw before."""
    if newer.size < older.size:
        raise AuditFailure(
            "log.rollback",
            f"consistency failure: the hub's checkpoint has {newer.size} entries, fewer than the "
            f"{older.size} of the {what} (truncated or rolled back)",
        )
    if newer.size == older.size:
        if newer.root != older.root:
            raise AuditFailure(
                "log.fork",
                f"consistency failure: the hub signed two different trees of size {newer.size}, "
                f"the {what} and now (a forked view)",
            )
        return
    proof = await consistency_proof(hub, older.size, newer.size) if older.size else []
    try:
        verify_consistency(older.size, newer.size, proof, older.root, newer.root)
    except ProofError as exc:
        raise AuditFailure(
            "log.fork",
            f"consistency failure: checkpoint {newer.size} does not extend the {what} "
            f"(size {older.size}): a forked or rewritten log",
        ) from exc


async def _prefix_is_good(hub: HubClient, download: _Download, size: int, cp: Checkpoint) -> bool:
    """Whether our root of the first ``size`` entries is the signed tree's prefix root."""
    ours = download.root_at(size)
    if size == cp.size:
        return hmac.compare_digest(ours, cp.root)
    if size == 0:
        return ours == EMPTY_ROOT
    proof = await consistency_proof(hub, size, cp.size)
    try:
        verify_consistency(size, cp.size, proof, ours, cp.root)
    except ProofError:
        return False
    return True


async def _first_bad(hub: HubClient, download: _Download, cp: Checkpoint, hi: int) -> int:
    """The first wrong entry, by bisection on prefix sizes in ``(base, hi]``: the prefix of
    ``base`` entries is good, that of ``hi`` is not, and a prefix is good when its root, recomputed
    from the entries received, is consistent with the signed root (one consistency proof a step,
    O(log n) requests). A prefix holding a wrong entry cannot be consistent with the signed tree
    (that would be a SHA-256 collision), so "good" is monotone and the answer is exact."""
    lo = download.base.size
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if await _prefix_is_good(hub, download, mid, cp):
            lo = mid
        else:
            hi = mid
    return hi - 1


@dataclass
class _Run:
    hub: HubClient
    states: StateFile
    cp: Checkpoint
    note: str
    stored: LogState | None
    scope: str | None
    full: bool
    page_size: int
    max_entries: int | None
    hooks: ProgressHooks
    now: Callable[[], float]

    def save_verified(self, frontier: CompactRange | None) -> None:
        self.states.save(
            LogState(
                self.hub.base_url, self.cp.origin, self.scope, self.note, self.cp.size,
                self.cp.root, frontier, int(self.now()),
            )
        )  # fmt: skip

    def save_pending(self, pending: dict[str, Any]) -> None:
        pending = {**pending, "checkpoint": self.note}
        old = self.stored
        if old is None:
            state = LogState(
                self.hub.base_url, self.cp.origin, self.scope, None, 0, EMPTY_ROOT,
                CompactRange() if self.scope is None else None, int(self.now()), pending,
            )  # fmt: skip
        else:
            state = LogState(
                old.hub, old.origin, old.scope, old.checkpoint, old.size, old.root, old.frontier,
                old.verified_at, pending,
            )  # fmt: skip
        self.states.save(state)

    @property
    def verified_size(self) -> int:
        return 0 if self.stored is None or self.full else self.stored.size

    def pending(self, kind: str) -> dict[str, Any] | None:
        if self.full or self.stored is None or not self.stored.pending:
            return None
        return self.stored.pending if self.stored.pending.get("kind") == kind else None


def _take_page(download: _Download, found: list[LogEntry], page_end: int) -> int:
    """Add a page's entries (and a stand-in for each one missing before ``page_end``) to
    ``download``; the number of entries received."""
    received = 0
    good: list[bytes] = []  # consecutive entries without a problem, added as one run
    for item in found:
        problem = _entry_problem(item, None)
        if problem is None and item.index == download.end + len(good):
            good.append(leaf_hash(item.entry))
            received += 1
            continue
        download.add_good(good)
        good = []
        if item.index < download.end:
            download.reasons.setdefault(item.index, f"entry {item.index} was sent twice")
            download.mark_bad(item.index + 1)
            continue
        while download.end < item.index:
            download.add(_MISSING, f"entry {download.end} is missing (deleted)")
        download.add(leaf_hash(item.entry), problem)
        received += 1
    download.add_good(good)
    while download.end < page_end:
        download.add(_MISSING, f"entry {download.end} is missing (deleted)")
    return received


async def _download(run: _Run, base: CompactRange) -> tuple[_Download, int, bool]:
    """Read entries from ``base.size`` up to the checkpoint (or ``max_entries`` of them); stop at
    the first page where something is known to be wrong."""
    cp = run.cp
    download = _Download(base)
    if run.full and run.stored is not None and run.stored.size > base.size:
        download.check_at, download.check_root = run.stored.size, run.stored.root
    end = cp.size if run.max_entries is None else min(cp.size, base.size + run.max_entries)
    received = 0
    run.hooks.start(base.size, cp.size)
    pages = iter_entries(run.hub, base.size, end, run.page_size)
    async with contextlib.aclosing(pages):
        async for page_start, page_end, found in pages:
            received += _take_page(download, found, page_end)
            run.hooks.advance(page_end - page_start)
            if download.bad_prefix is not None:
                break  # the first bad index is before this point: no need to read further
            if page_end < cp.size:
                run.save_pending({"kind": "frontier", "frontier": _encode_range(download.running)})
    paused = download.bad_prefix is None and download.end < cp.size
    return download, received, paused


async def _audit_global(run: _Run, *, resume: bool = True) -> AuditResult:
    stored, cp = run.stored, run.cp
    base = CompactRange()
    if stored is not None and not run.full and stored.frontier is not None:
        base = stored.frontier
        if base.size != stored.size or base.root() != stored.root:
            raise LogStateError("the saved frontier does not match the saved checkpoint")
    verified = base
    pending = run.pending("frontier") if resume else None
    if pending is not None:
        candidate = _decode_range(pending.get("frontier"))
        if verified.size < candidate.size <= cp.size:
            base = candidate
    download, received, paused = await _download(run, base)
    result = AuditResult(
        cp, None, stored.size if stored and stored.checkpoint else None, base.size, download.end,
        received, paused=paused, resumed=base is not verified,
    )  # fmt: skip
    if paused:
        return result
    if download.bad_prefix is None and hmac.compare_digest(download.running.root(), cp.root):
        run.save_verified(download.running)
        return result
    if base is not verified and not await _prefix_is_good(run.hub, download, base.size, cp):
        # The fault is before where the unfinished run stopped: read again from the last
        # verified checkpoint's frontier.
        run.hooks.note("the resumed range does not match; reading again from the last checkpoint")
        return await _audit_global(run, resume=False)
    bad = await _first_bad(run.hub, download, cp, download.bad_prefix or download.end)
    raise AuditFailure(
        "log.bad_entry", f"first bad index {bad}: {download.describe(bad)}", index=bad
    )


async def _audit_scoped(run: _Run, scope: str) -> AuditResult:
    cp, hub = run.cp, run.hub
    start = run.verified_size
    pending = run.pending("next")
    if pending is not None:
        candidate = count_field(pending.get("next"), "next")
        if start < candidate <= count_field(pending.get("size", 0), "size") <= cp.size:
            start = candidate
    resumed = start != run.verified_size
    end = cp.size if run.max_entries is None else min(cp.size, start + run.max_entries)
    limit = asyncio.Semaphore(PROOF_CONCURRENCY)

    async def check(item: LogEntry) -> str | None:
        async with limit:
            answer = await inclusion_proof(hub, index=item.index, size=cp.size)
        try:
            merkle_verify_inclusion(
                leaf_hash(item.entry), item.index, cp.size, answer.proof, cp.root
            )
        except ProofError:
            return f"entry {item.index} is not in the signed log (its inclusion proof fails)"
        return None

    run.hooks.start(start, cp.size)
    received = 0
    previous = start - 1
    pages = iter_entries(hub, start, end, run.page_size)
    async with contextlib.aclosing(pages):
        async for page_start, page_end, found in pages:
            problems: list[tuple[int, str]] = []
            for item in found:
                if item.index <= previous:
                    problems.append((item.index, f"entry {item.index} was sent twice"))
                previous = max(previous, item.index)
                problem = _entry_problem(item, scope)
                if problem is not None:
                    problems.append((item.index, problem))
            results = await asyncio.gather(*(check(item) for item in found))
            problems += [(i.index, r) for i, r in zip(found, results, strict=True) if r is not None]
            received += len(found)
            run.hooks.advance(page_end - page_start)
            if problems:
                index, reason = min(problems)
                raise AuditFailure(
                    "log.bad_entry", f"first bad index {index}: {reason}", index=index
                )
            if page_end < cp.size:
                run.save_pending({"kind": "next", "next": page_end, "size": cp.size})
    stored = run.stored
    result = AuditResult(
        cp, scope, stored.size if stored and stored.checkpoint else None, start, end, received,
        paused=end < cp.size, resumed=resumed,
    )  # fmt: skip
    if not result.paused:
        run.save_verified(None)
    return result


def _saved_checkpoint(note: str, verifier: NoteVerifier) -> Checkpoint:
    try:
        return verify_checkpoint(note.encode("utf-8"), verifier)
    except CryptoError as exc:
        raise LogStateError(
            f"a checkpoint in the state file does not verify under the pinned log key: {exc}"
        ) from exc


async def audit(
    hub: HubClient,
    verifier: NoteVerifier,
    states: StateFile,
    *,
    scope: str | None,
    full: bool = False,
    page_size: int = MAX_PAGE,
    max_entries: int | None = None,
    hooks: ProgressHooks | None = None,
    now: Callable[[], float] = time.time,
    policy: WitnessPolicy | None = None,
) -> AuditResult:
    """One verification run of the log at ``hub`` (see the module docstring).

    ``scope`` None audits as a global auditor (every entry, root recomputed); a country audits as
    that country's auditor (its entries, each by inclusion proof). ``full`` reads every entry again
    from index 0, still checked against the saved checkpoint. ``max_entries`` stops after that many
    indexes and saves how far it got. Raises :class:`AuditFailure` when the log does not verify;
    the last verified checkpoint is then kept, so the next run finds the same fault. With a
    witness ``policy``, a checkpoint that a quorum of its witnesses has not cosigned is refused
    (``log.no_quorum``) before anything else is read.
    """
    cp, note = await _fresh_checkpoint(hub, verifier, policy)
    stored = states.load(hub.base_url, cp.origin)
    if stored is not None and stored.scope != scope:
        raise LogStateError("the saved state is of an auditor with another scope (use --state)")
    if stored is not None and stored.checkpoint is not None:
        seen = _saved_checkpoint(stored.checkpoint, verifier)
        if seen.size != stored.size or seen.root != stored.root:
            raise LogStateError("the saved checkpoint does not match the saved size and root")
        await _check_extends(hub, seen, cp, "checkpoint this auditor verified before")
    pending_note = (stored.pending or {}).get("checkpoint") if stored else None
    if isinstance(pending_note, str):
        earlier = _saved_checkpoint(pending_note, verifier)
        await _check_extends(hub, earlier, cp, "checkpoint of the unfinished run")
    run = _Run(
        hub, states, cp, note, stored, scope, full, page_size, max_entries,
        hooks or ProgressHooks(), now,
    )  # fmt: skip
    result = await _audit_global(run) if scope is None else await _audit_scoped(run, scope)
    result.note = note
    return result


def auditor_scope(directory_entry: api.Participant) -> str | None:
    """The country an auditor's entries are limited to (None: global), from its own directory
    entry, by the hub's rule: a WCO auditor without scope is global."""
    if directory_entry.role != "auditor":
        raise AuditFailure("log.not_auditor", "only an auditor can read the log's entries")
    if directory_entry.scope:
        return directory_entry.scope
    return None if directory_entry.country == "WCO" else directory_entry.country
