"""The hub's side of c2sp.org/tlog-witness: each configured witness cosigns each new checkpoint.

A *round* submits one signed checkpoint to every witness in parallel, in the background: a
submission never waits for it. For each witness it sends ``old <size>`` (the size the witness
last cosigned, as far as this process knows; 0 at first), the consistency proof from that size,
and the checkpoint note. A 409 answer carries the witness's size: the request is made again from
there (bounded: :data:`ATTEMPTS`). A 5xx answer or a network error is tried again after a short
pause, within the same bound. A cosignature is kept only after it verifies under the witness's
configured key; a 422 (the checkpoint is not consistent with what the witness saw: a forked or
rewritten log) or 403/404 is logged and not retried.

Readers of the checkpoint (``GET /v1/audit/checkpoint``) get the hub's note followed by the
cosignature lines collected for its size; when a round for it is still running they wait for it,
up to ``[witnessing] wait_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from pgs_hub.crypto.errors import CryptoError
from pgs_hub.crypto.merkle import consistency_plan
from pgs_hub.crypto.note import NoteVerifier
from pgs_hub.crypto.witness import (
    CosignerVerifier,
    cosignature_lines,
    encode_add_checkpoint,
    open_cosigned,
    parse_cosigner_key,
)
from pgs_hub.hub.storage import log

if TYPE_CHECKING:
    from pgs_hub.hub.services.context import HubContext

log_ = logging.getLogger("pgs.hub.witness")

ATTEMPTS = 4  # requests per witness and round (a 409 resync, a retry after a 5xx, ...)
RETRY_PAUSE = 0.5  # seconds before asking again after a 5xx or a network error
REQUEST_TIMEOUT = 10.0
MAX_ANSWER_BYTES = 64 * 1024
SIZE_CONTENT_TYPE = "text/x.tlog.size"
ANSWERS_METRIC = "pgs_witness_answers_total"
RETRY_ROUND_SECONDS = 20.0  # a checkpoint's round is run again at most this often (missing ones)


@dataclass
class WitnessEndpoint:
    url: str  # the submission prefix
    verifier: CosignerVerifier
    known_size: int = 0  # what the witness last cosigned, as far as this process knows


class WitnessRefused(Exception):
    """A witness will not cosign this checkpoint (its answer says why)."""


class WitnessAhead(WitnessRefused):
    """The witness already cosigned a larger tree of this log (another hub process submitted a
    newer checkpoint first): nothing is wrong, this one is simply old."""


@dataclass
class Witnessing:
    """The configured witnesses and the rounds in flight (one per checkpoint size)."""

    endpoints: list[WitnessEndpoint]
    wait_seconds: float = 5.0
    ssl_context: ssl.SSLContext | None = None  # for https witnesses with a private CA
    _rounds: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    _started: dict[int, float] = field(default_factory=dict)
    _session: aiohttp.ClientSession | None = None

    @classmethod
    def from_config(
        cls, witnesses: tuple[tuple[str, str], ...], wait: float, ca: Path | None = None
    ) -> Witnessing:
        context = ssl.create_default_context(cafile=str(ca)) if ca is not None else None
        endpoints = [WitnessEndpoint(url, parse_cosigner_key(key)) for url, key in witnesses]
        return cls(endpoints, wait, context)

    async def close(self) -> None:
        for task in self._rounds.values():
            task.cancel()
        for task in list(self._rounds.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._rounds.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(ssl=self.ssl_context or True)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
            )
        return self._session

    def kick(self, ctx: HubContext, size: int) -> asyncio.Task[None]:
        """Start the round for the checkpoint of ``size`` unless one is running or one ended less
        than :data:`RETRY_ROUND_SECONDS` ago (a witness that is down is not asked on every read).
        Never waits."""
        now = asyncio.get_running_loop().time()
        task = self._rounds.get(size)
        if task is not None and (
            not task.done() or now - self._started[size] < RETRY_ROUND_SECONDS
        ):
            return task
        task = asyncio.ensure_future(self._round(ctx, size))
        self._rounds[size], self._started[size] = task, now
        for old in [s for s, t in self._rounds.items() if t.done() and s < size]:
            del self._rounds[old], self._started[old]
        return task

    async def wait_for(self, ctx: HubContext, size: int) -> None:
        """Wait (at most ``wait_seconds``) for the running round on ``size``, starting one if it is
        due; a round that already ended is not waited for again."""
        task = self.kick(ctx, size)
        if task.done():
            return
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(task), self.wait_seconds)

    async def _round(self, ctx: HubContext, size: int) -> None:
        """Ask every witness that has not cosigned the checkpoint of ``size``. A round runs in the
        background: whatever goes wrong is logged (the next housekeeping tick tries again)."""
        try:
            async with ctx.reader.connect() as conn:
                row = await log.checkpoint_at(conn, size)
                have = await log.cosignatures(conn, size)
            if row is None:
                return
            missing = [e for e in self.endpoints if e.verifier.name not in have]
            await asyncio.gather(*(self._witness(ctx, e, row) for e in missing))
        except (SQLAlchemyError, OSError) as exc:  # the database is briefly away
            log_.warning("witness round for checkpoint %d stopped: %s", size, type(exc).__name__)

    async def _witness(
        self, ctx: HubContext, endpoint: WitnessEndpoint, row: log.CheckpointRow
    ) -> None:
        name = endpoint.verifier.name
        try:
            line = await self._submit(ctx, endpoint, row)
        except WitnessAhead as exc:
            log_.info("witness %s skipped checkpoint %d: %s", endpoint.url, row.size, exc)
            ctx.metrics.inc(ANSWERS_METRIC, witness=name, outcome="ahead")
            return
        except WitnessRefused as exc:
            log_.warning("witness %s refused checkpoint %d: %s", endpoint.url, row.size, exc)
            ctx.metrics.inc(ANSWERS_METRIC, witness=name, outcome="refused")
            return
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log_.warning(
                "witness %s unreachable for checkpoint %d: %s",
                endpoint.url,
                row.size,
                type(exc).__name__,
            )
            ctx.metrics.inc(ANSWERS_METRIC, witness=name, outcome="unreachable")
            return
        try:
            async with ctx.engine.begin() as conn:
                await log.save_cosignature(
                    conn, size=row.size, witness=name, line=line, at=ctx.now()
                )
        except IntegrityError:  # another hub process stored this witness's cosignature first
            return
        ctx.metrics.inc(ANSWERS_METRIC, witness=name, outcome="cosigned")

    async def _proof(self, ctx: HubContext, old: int, new: int) -> list[bytes]:
        plan = consistency_plan(old, new)
        async with ctx.reader.connect() as conn:
            return plan.assemble(await log.nodes(conn, plan.nodes))

    async def _submit(
        self, ctx: HubContext, endpoint: WitnessEndpoint, row: log.CheckpointRow
    ) -> str:
        """One witness's cosignature line for ``row``, verified; raises if it gives none."""
        note = row.note.encode("utf-8")
        old = min(endpoint.known_size, row.size)
        last_error: Exception | None = None
        for _ in range(ATTEMPTS):
            body = encode_add_checkpoint(
                old, await self._proof(ctx, old, row.size) if old else [], note
            )
            try:
                async with self._http().post(f"{endpoint.url}/add-checkpoint", data=body) as resp:
                    answer = await _read_capped(resp, MAX_ANSWER_BYTES)
                    status, content_type = resp.status, resp.content_type
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                last_error = exc
                await asyncio.sleep(RETRY_PAUSE)
                continue
            if status == 200:
                log_key = NoteVerifier.for_key(ctx.log_origin, ctx.log_key.public)
                line = _verified_line(endpoint, log_key, note, answer)
                endpoint.known_size = row.size
                return line
            if status == 409 and content_type == SIZE_CONTENT_TYPE:
                theirs = _size(answer)
                if theirs is None or theirs == old:
                    raise WitnessRefused("the checkpoint conflicts with the one it cosigned")
                if theirs > row.size:
                    endpoint.known_size = theirs
                    raise WitnessAhead(f"it has already cosigned a larger tree ({theirs})")
                old = theirs
                continue
            if status >= 500:
                last_error = WitnessRefused(f"HTTP {status}")
                await asyncio.sleep(RETRY_PAUSE)
                continue
            reason = {
                422: "the checkpoint is not consistent with the log it saw (a fork?)",
                403: "it does not trust the log key",
                404: "it does not know this log",
            }
            raise WitnessRefused(reason.get(status, f"HTTP {status}"))  # fmt: skip
        if last_error is None or isinstance(last_error, WitnessRefused):
            raise WitnessRefused(f"no cosignature after {ATTEMPTS} attempts ({last_error})")
        raise last_error  # the network: the witness is unreachable


def _verified_line(
    endpoint: WitnessEndpoint, log_key: NoteVerifier, note: bytes, answer: bytes
) -> str:
    """The witness's own cosignature line among those it answered, once it verifies."""
    if len(answer) > MAX_ANSWER_BYTES:
        raise WitnessRefused("its answer is too long")
    try:
        lines = cosignature_lines(answer)
    except CryptoError as exc:
        raise WitnessRefused(f"its answer is not signature lines ({exc})") from exc
    verifier = endpoint.verifier
    for line in lines:
        try:
            opened = open_cosigned(note + line.encode("utf-8"), [log_key], [verifier])
        except CryptoError:
            continue
        if verifier.name in opened.cosigned:
            return line
    raise WitnessRefused("no cosignature in its answer verifies under its configured key")


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> bytes:
    """The answer's body, at most ``cap`` + 1 bytes of it (more is refused by the caller)."""
    chunks: list[bytes] = []
    size = 0
    while size <= cap and (chunk := await resp.content.read(cap + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _size(answer: bytes) -> int | None:
    text = answer.decode("ascii", "replace")
    if not text.endswith("\n") or not text[:-1].isdigit() or len(text) > 21:
        return None
    return int(text[:-1])
