"""Client processes that drive a hub (or the baseline) over loopback.

A :class:`ClientPool` starts ``N`` processes (``spawn``); each runs one asyncio loop with its own
aiohttp sessions and carries out the jobs the benchmark sends it, one at a time, over a pipe:

* :class:`Closed`: closed loop, ``concurrency`` requests in flight, for the highest throughput;
* :class:`Open`: open loop at a fixed rate; request ``i`` is *scheduled* at ``start + i / rate``
  and its latency is counted from that time, so a slow answer cannot hold back the next sends and
  hide its own delay (no coordinated omission);
* :class:`Listen` / :class:`Received` / :class:`HangUp`: WebSocket streams on ``/v1/stream``
  (signed requests, RFC 9421), kept open between jobs, that time every item they receive;
* :class:`Submit`: one submission, timed.

Times are ``time.monotonic_ns()``: ``CLOCK_MONOTONIC`` on Linux, one clock for every process of
the machine, so a receive time in one process minus a send time in another is a latency.
Submissions are ``POST /v1/envelopes`` with the envelope as body, as ``HubClient.submit`` sends
them: the envelope's own signature authenticates them, the request is not signed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final, Protocol

import aiohttp

from pgs_hub.hub import keystore
from pgs_hub.hub.auth.httpsig import sign_request

NS: Final = 1_000_000_000
JOSE: Final = {"Content-Type": "application/jose+json"}
SUBMIT: Final = "/v1/envelopes"
TIMEOUT: Final = aiohttp.ClientTimeout(total=120)

Progress = Callable[[int], None]


@dataclass
class Samples:
    """One row per request, in the order they finished (nanoseconds, ``monotonic_ns``)."""

    scheduled: list[int] = field(default_factory=list)  # open loop only
    start: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)
    status: list[int] = field(default_factory=list)  # HTTP status; 0 = no answer
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, start: int, end: int, status: int, scheduled: int | None = None) -> None:
        self.start.append(start)
        self.end.append(end)
        self.status.append(status)
        if scheduled is not None:
            self.scheduled.append(scheduled)

    def extend(self, other: Samples) -> None:
        for name in ("scheduled", "start", "end", "status"):
            getattr(self, name).extend(getattr(other, name))
        self.errors.update(other.errors)


@dataclass
class Streams:
    """A named set of WebSocket streams held open by one client process."""

    session: aiohttp.ClientSession
    sockets: list[aiohttp.ClientWebSocketResponse] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    received: list[tuple[str, int]] = field(default_factory=list)  # (mid, monotonic ns)
    taken: int = 0  # how many of ``received`` earlier Received jobs returned

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        await self.session.close()


@dataclass
class State:
    """What a client process keeps between jobs."""

    streams: dict[str, Streams] = field(default_factory=dict)

    async def close(self) -> None:
        for streams in self.streams.values():
            await streams.close()
        self.streams.clear()


class Job(Protocol):
    async def run(self, state: State, progress: Progress) -> Any: ...


# --- HTTP -----------------------------------------------------------------------------------------


async def sleep_until(at: int) -> None:
    delay = (at - time.monotonic_ns()) / NS
    if delay > 0:
        await asyncio.sleep(delay)


async def post(session: aiohttp.ClientSession, url: str, body: bytes, errors: Counter[str]) -> int:
    """POST one envelope; the HTTP status (0 when no answer came), errors counted by kind."""
    try:
        async with session.post(url, data=body, headers=JOSE) as resp:
            data = await resp.read()
            if resp.status >= 300:
                code = ""
                with contextlib.suppress(ValueError, AttributeError):
                    code = str(json.loads(data).get("code", ""))
                errors[f"HTTP {resp.status} {code}".strip()] += 1
            return resp.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        errors[type(exc).__name__] += 1
        return 0


def session(limit: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit), timeout=TIMEOUT)


async def warm(client: aiohttp.ClientSession, urls: Sequence[str], connections: int) -> None:
    """Open ``connections`` kept-alive connections (``GET /v1/health``) before the clock starts."""

    async def one(url: str) -> None:
        async with client.get(url + "/v1/health") as resp:
            await resp.read()

    await asyncio.gather(*(one(urls[n % len(urls)]) for n in range(connections)))


@contextlib.asynccontextmanager
async def reporting(progress: Progress, count: Callable[[], int]) -> Any:
    """Report ``count()`` every 0.2 s while the body runs."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(0.2)
            progress(count())

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        progress(count())


@dataclass(frozen=True)
class Closed:
    """Closed loop: ``concurrency`` lanes, each sending its next body as soon as the previous
    answer came, from ``start_at`` until ``seconds`` have passed or the bodies run out (``cycle``:
    go round them again, for the baseline, which stores nothing). Lane ``j`` talks to
    ``urls[j % len(urls)]``: the load is split evenly between several servers."""

    urls: tuple[str, ...]
    bodies: Sequence[bytes]
    concurrency: int
    start_at: int
    seconds: float
    cycle: bool = False

    async def run(self, state: State, progress: Progress) -> Samples:
        samples = Samples()
        bodies: Iterator[bytes] = itertools.cycle(self.bodies) if self.cycle else iter(self.bodies)
        async with session(self.concurrency) as client:
            await warm(client, self.urls, self.concurrency)
            await sleep_until(self.start_at)
            # From when this client could start: on a machine loaded far beyond its cores, a
            # client that got its job (megabytes of bodies) late would otherwise find its
            # deadline already past and send nothing.
            deadline = max(self.start_at, time.monotonic_ns()) + int(self.seconds * NS)

            async def lane(j: int) -> None:
                url = self.urls[j % len(self.urls)] + SUBMIT
                while time.monotonic_ns() < deadline:
                    body = next(bodies, None)
                    if body is None:
                        return
                    start = time.monotonic_ns()
                    status = await post(client, url, body, samples.errors)
                    samples.add(start, time.monotonic_ns(), status)

            async with reporting(progress, lambda: len(samples.end)):
                await asyncio.gather(*(lane(j) for j in range(self.concurrency)))
        return samples


@dataclass(frozen=True)
class Open:
    """Open loop: this process's share of a schedule at ``rate`` per second. Its body ``k`` is
    message ``first + k * stride`` of the whole run, scheduled at ``start_at + that / rate``."""

    urls: tuple[str, ...]
    bodies: Sequence[bytes]
    rate: float
    start_at: int
    first: int = 0
    stride: int = 1
    max_connections: int = 256

    async def run(self, state: State, progress: Progress) -> Samples:
        samples = Samples()
        async with session(self.max_connections) as client:
            await warm(client, self.urls, min(16, self.max_connections))

            async def one(n: int, body: bytes, scheduled: int) -> None:
                url = self.urls[n % len(self.urls)] + SUBMIT
                start = time.monotonic_ns()
                status = await post(client, url, body, samples.errors)
                samples.add(start, time.monotonic_ns(), status, scheduled)

            tasks = []
            async with reporting(progress, lambda: len(samples.end)):
                for k, body in enumerate(self.bodies):
                    n = self.first + k * self.stride
                    scheduled = self.start_at + int(n * NS / self.rate)
                    await sleep_until(scheduled)
                    tasks.append(asyncio.create_task(one(n, body, scheduled)))
                await asyncio.gather(*tasks)
        return samples


@dataclass(frozen=True)
class Submit:
    """One submission on a warm connection: (start, end, status)."""

    url: str
    body: bytes

    async def run(self, state: State, progress: Progress) -> tuple[int, int, int]:
        errors: Counter[str] = Counter()
        async with session(1) as client:
            await warm(client, (self.url,), 1)
            start = time.monotonic_ns()
            status = await post(client, self.url + SUBMIT, self.body, errors)
            end = time.monotonic_ns()
        if errors:
            raise RuntimeError(f"the submission failed: {dict(errors)}")
        return start, end, status


# --- WebSocket streams ----------------------------------------------------------------------------


async def connect(
    client: aiohttp.ClientSession, base: str, me: keystore.LocalParticipant
) -> aiohttp.ClientWebSocketResponse:
    """Open ``/v1/stream`` as ``me``: a signed request (RFC 9421), as ``HubClient.stream`` does."""
    url = f"{base}/v1/stream?after=0"
    headers = sign_request(
        method="GET", url=url, headers={}, body=None, key=me.signing, now=int(time.time())
    )
    return await client.ws_connect(url, headers=headers, heartbeat=None, autoping=True)


async def read(ws: aiohttp.ClientWebSocketResponse, sink: list[tuple[str, int]]) -> None:
    """Time every item as it arrives (the clock is read before anything else)."""
    async for msg in ws:
        now = time.monotonic_ns()
        if msg.type is aiohttp.WSMsgType.TEXT:
            sink.append((str(json.loads(msg.data).get("mid")), now))
        elif msg.type is not aiohttp.WSMsgType.BINARY:
            return


@dataclass(frozen=True)
class Listen:
    """Open one stream per key folder in ``folders`` (a folder may appear several times: several
    streams of one participant), ``concurrency`` handshakes at a time, and keep them open under
    ``name`` until :class:`HangUp`. A refused handshake is tried again, ``attempts`` times in
    all. Answers (streams opened, failed attempts by kind, seconds taken)."""

    name: str
    url: str
    folders: tuple[str, ...]
    concurrency: int = 32
    attempts: int = 3

    async def run(self, state: State, progress: Progress) -> tuple[int, dict[str, int], float]:
        if self.name in state.streams:
            raise RuntimeError(f"streams {self.name!r} are already open")
        streams = Streams(session(0))  # no limit: each open stream holds its connection
        state.streams[self.name] = streams
        keys = {f: keystore.load(Path(f), None) for f in set(self.folders)}
        gate = asyncio.Semaphore(self.concurrency)
        errors: Counter[str] = Counter()
        started = time.monotonic_ns()

        async def one(folder: str) -> None:
            for attempt in range(self.attempts):
                async with gate:
                    try:
                        ws = await connect(streams.session, self.url, keys[folder])
                    except (aiohttp.ClientError, TimeoutError) as exc:
                        status = getattr(exc, "status", None)
                        errors[f"{type(exc).__name__} {status or ''}".strip()] += 1
                    else:
                        streams.sockets.append(ws)
                        streams.readers.append(asyncio.create_task(read(ws, streams.received)))
                        return
                await asyncio.sleep(0.2 * 2**attempt)  # as HubClient.stream waits to reconnect

        async with reporting(progress, lambda: len(streams.sockets)):
            await asyncio.gather(*(one(f) for f in self.folders))
        return len(streams.sockets), dict(errors), (time.monotonic_ns() - started) / NS


@dataclass(frozen=True)
class Received:
    """Wait until ``count`` more items have arrived on streams ``name``, or ``timeout`` seconds
    have passed, or nothing has come for ``quiet`` seconds since the first; answer the items that
    came as (mid, receive time)."""

    name: str
    count: int
    timeout: float
    quiet: float = 10.0

    async def run(self, state: State, progress: Progress) -> list[tuple[str, int]]:
        streams = state.streams[self.name]
        target = streams.taken + self.count
        deadline = time.monotonic() + self.timeout
        seen, last = streams.taken, float("inf")
        async with reporting(progress, lambda: len(streams.received) - streams.taken):
            while len(streams.received) < target and time.monotonic() < deadline:
                if len(streams.received) > seen:
                    seen, last = len(streams.received), time.monotonic()
                elif time.monotonic() - last > self.quiet:
                    break
                await asyncio.sleep(0.005)
        found = streams.received[streams.taken :]
        streams.taken += len(found)
        return found


@dataclass(frozen=True)
class HangUp:
    """Close the streams ``name``; answers how many were still open."""

    name: str

    async def run(self, state: State, progress: Progress) -> int:
        streams = state.streams.pop(self.name)
        still_open = sum(not ws.closed for ws in streams.sockets)
        await streams.close()
        return still_open


# --- the processes --------------------------------------------------------------------------------


def worker_main(conn: Connection) -> None:
    """A client process: carry out jobs until told to stop (``None``). Ctrl-C is for the parent,
    which stops the clients itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(_serve(conn))


async def _serve(conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    state = State()

    def progress(count: int) -> None:
        conn.send(("progress", count))

    try:
        while True:
            job = await loop.run_in_executor(None, conn.recv)
            if job is None:
                return
            try:
                answer = ("result", await job.run(state, progress))
            except Exception as exc:  # noqa: BLE001 - reported to the parent, which stops the run
                answer = ("error", f"{type(exc).__name__}: {exc}")
            conn.send(answer)
    finally:
        await state.close()


class ClientError(RuntimeError):
    """A client process failed a job or died."""


class ClientPool:
    """``size`` client processes, each with its own pipe. Use as a context manager."""

    def __init__(self, size: int, cpus: frozenset[int] | None = None) -> None:
        """``cpus``: the CPUs the clients run on (``--pin``); by default, any."""
        context = get_context("spawn")
        self._pipes: list[Connection] = []
        self._processes = []
        for n in range(size):
            parent, child = context.Pipe()
            process = context.Process(
                target=worker_main, args=(child,), name=f"bench-client-{n}", daemon=True
            )
            process.start()
            if cpus is not None and process.pid is not None:
                os.sched_setaffinity(process.pid, cpus)  # its threads, started later, inherit
            child.close()
            self._pipes.append(parent)
            self._processes.append(process)

    @property
    def size(self) -> int:
        return len(self._pipes)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes if p.pid is not None]

    def __enter__(self) -> ClientPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def run(
        self,
        jobs: Mapping[int, Job],
        progress: Progress | None = None,
        *,
        timeout: float = 600,
        counted: Sequence[int] | None = None,
    ) -> dict[int, Any]:
        """Give each client its job; wait for every answer, reporting the progress summed over
        the ``counted`` clients (default: all)."""
        for n, job in jobs.items():
            self._pipes[n].send(job)
        answers: dict[int, Any] = {}
        counts = dict.fromkeys(jobs, 0)
        deadline = time.monotonic() + timeout
        while len(answers) < len(jobs):
            for n in jobs:
                while n not in answers and self._pipes[n].poll():
                    kind, value = self._pipes[n].recv()
                    if kind == "progress":
                        counts[n] = value if counted is None or n in counted else 0
                        if progress is not None:
                            progress(sum(counts.values()))
                    elif kind == "error":
                        raise ClientError(f"client {n}: {value}")
                    else:
                        answers[n] = value
                if n not in answers and not self._processes[n].is_alive():
                    raise ClientError(f"client {n} died ({self._processes[n].exitcode})")
            if time.monotonic() > deadline:
                raise ClientError(f"the clients did not answer in {timeout:.0f} s")
            await asyncio.sleep(0.01)
        return answers

    def close(self) -> None:
        for pipe in self._pipes:
            with contextlib.suppress(OSError):
                pipe.send(None)
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
