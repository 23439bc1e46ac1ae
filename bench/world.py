"""The benchmark's world: participants with keys on disk, hub homes on SQLite or on a fresh
PostgreSQL database, enrolment through the admin API, envelopes sealed in advance, and the hub
processes themselves.

Who is who (``Cast``):

* ``members``: one NCP per WCO Member (``protocols.codelists.wco_members``), ``NG-NCP-BENCH``
  first. They are the only NCPs enrolled, so the built-in group ``ALL`` is exactly them.
* ``desks``: WCO desks the alerts are addressed to (1 or 3 of them). Being WCO staff they are in
  no region and not in ``ALL``, so the members' mailboxes stay empty until the broadcast.
* ``listeners``: WCO desks that stream over WebSocket while alerts are sent to them one each.
* ``broadcaster``: WCO programme staff who send the notice to ``ALL``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Final

import asyncpg
from sqlalchemy.engine import make_url

from bench import log_bench
from pgs_hub.crypto.keys import RecipientKey, SigningKey
from pgs_hub.hub import keystore
from pgs_hub.hub.client import HubClient
from pgs_hub.hub.client.errors import HubClientError
from pgs_hub.hub.enrolment import bootstrap_admin, certify
from pgs_hub.hub.home import CONFIG_FILE, POLICY_FILE, write_home
from pgs_hub.hub.storage.migrate import upgrade
from pgs_hub.protocols.codelists import wco_members
from pgs_hub.protocols.envelope import seal_message
from pgs_hub.protocols.messages._base import ContentModel
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import encode_message, parse_message

REPO: Final = Path(__file__).resolve().parents[1]
EXAMPLES: Final = REPO / "tests" / "vectors" / "messages"
ADMIN: Final = log_bench.ADMIN
SENDER: Final = "NG-NCP-BENCH"
BROADCASTER: Final = "WCO-PGS-BENCH"
ALERT_BYTES: Final = 2048  # the "2 KB alert": the content before encryption
POSTGRES_ADMIN_DSN: Final = os.environ.get(
    "PGS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)

IN_PROCESS: Final = 400  # up to this many envelopes, seal without a pool
Envelope = tuple[str, bytes]  # (message id, the exact envelope bytes)


# --- participants ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    members: tuple[str, ...]
    desks: tuple[str, ...]
    listeners: tuple[str, ...]
    broadcaster: str = BROADCASTER

    @classmethod
    def of(cls, *, members: int, listeners: int) -> Cast:
        codes = sorted(code for code in wco_members() if code != "NG")
        ids = [SENDER, *(f"{code}-NCP-BENCH" for code in codes)][: max(1, members)]
        return cls(
            members=tuple(ids),
            desks=tuple(f"WCO-BENCH-D{n}" for n in range(1, 4)),
            listeners=tuple(f"WCO-BENCH-L{n:02d}" for n in range(1, listeners + 1)),
        )

    @property
    def sender(self) -> str:
        return self.members[0]

    def roles(self) -> dict[str, str]:
        staff = (*self.desks, *self.listeners, self.broadcaster)
        return dict.fromkeys(self.members, "ncp") | dict.fromkeys(staff, "wco")


def make_keys(folder: Path, participants: Iterable[str]) -> dict[str, Path]:
    """A key folder per participant (what ``pgs keygen`` writes), without a passphrase."""
    found = {}
    for pid in participants:
        keystore.create(folder / pid, pid, None)
        found[pid] = folder / pid
    return found


@dataclass(frozen=True)
class Home:
    """A hub home as ``pgs init`` makes it, on one database, with its first admin."""

    path: Path
    database_url: str
    authority: SigningKey
    admin: keystore.LocalParticipant


async def make_home(path: Path, database_url: str) -> Home:
    authority = write_home(path, port=log_bench.free_port())
    log_bench.relax_rate_limit(path / POLICY_FILE)
    # ... and the submission limit of config.toml (counted in the database, shared by workers).
    with (path / CONFIG_FILE).open("a", encoding="utf-8") as config:
        config.write("\n[limits]\nsubmissions_per_minute = 1000000\n")
    await upgrade(database_url)
    admin = keystore.load(await bootstrap_admin(path, database_url, authority, ADMIN), None)
    return Home(path, database_url, authority, admin)


async def enrol(
    url: str,
    home: Home,
    people: Mapping[str, Path],
    roles: Mapping[str, str],
    progress: Callable[[int], None] = lambda _: None,
) -> None:
    """Certify every participant's keys with the home's authority (as the tests' harness does)
    and enrol them through the admin API, a few requests at a time."""
    done = 0
    gate = asyncio.Semaphore(16)
    async with HubClient(url, home.admin, authority=home.authority.public, timeout=60) as admin:

        async def one(pid: str) -> None:
            nonlocal done
            local = keystore.load(people[pid], None)
            certificate = certify(
                home.authority, pid, role=roles[pid],
                verify=local.signing.public, encrypt=local.decryption.public, now=int(time.time()),
            )  # fmt: skip
            async with gate:
                for attempt in range(5):
                    try:
                        await admin.enrol(certificate)
                        break
                    except HubClientError as exc:
                        # On a machine loaded far beyond its cores, 16 concurrent enrolments can
                        # wait out SQLite's 5 s busy timeout (503): set-up, not timed, so retry.
                        if exc.status != 503 or attempt == 4:
                            raise
                        await asyncio.sleep(1.0)
            done += 1
            progress(done)

        await asyncio.gather(*(one(pid) for pid in roles))


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for one run (as tests/conftest.py makes them), dropped after."""
    name = f"pgs_bench_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield (
                make_url(POSTGRES_ADMIN_DSN)
                .set(drivername="postgresql+asyncpg", database=name)
                .render_as_string(hide_password=False)
            )
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def postgres_version() -> str:
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        return str(await admin.fetchval("SHOW server_version"))
    finally:
        await admin.close()


# --- message contents and sealing -----------------------------------------------------------------


def alert_content(size: int = ALERT_BYTES) -> bytes:
    """The example alert of the test vectors, its narrative cut or lengthened so that the encoded
    content is exactly ``size`` bytes."""
    doc = json.loads((EXAMPLES / "alert.json").read_text(encoding="utf-8"))
    text = (str(doc["narrative"]) + " ") * 8
    length = len(text) // 8
    for _ in range(50):
        doc["narrative"] = text[:length].strip()
        encoded = encode_message(parse_message(MessageKind.ALERT, doc))
        if len(encoded) == size:
            return encoded
        length -= len(encoded) - size
    raise RuntimeError(f"cannot make an alert of exactly {size} bytes")


def notice_content() -> bytes:
    doc = json.loads((EXAMPLES / "notice.json").read_text(encoding="utf-8"))
    return encode_message(parse_message(MessageKind.NOTICE, doc))


@dataclass(frozen=True)
class SealJob:
    """``count`` envelopes from one sender to the same recipients, each with its own id."""

    sender: Path
    recipients: tuple[tuple[str, Path], ...]  # participant id, key folder
    kind: str
    content: bytes
    count: int
    tlp: str = "AMBER"
    group: str | None = None


@functools.cache
def _signer(folder: Path) -> keystore.LocalParticipant:
    return keystore.load(folder, None)


@functools.cache
def _recipient(pid: str, folder: Path) -> RecipientKey:
    return keystore.load_public(folder / keystore.PUBLIC_FILE, pid).encrypt


@functools.cache
def _content(kind: str, content: bytes) -> ContentModel:
    return parse_message(MessageKind(kind), json.loads(content))


def seal(job: SealJob) -> list[Envelope]:
    """Seal ``job`` (in a pool process: keys and content are parsed once per process)."""
    me = _signer(job.sender)
    recipients = [(pid, _recipient(pid, folder)) for pid, folder in job.recipients]
    content = _content(job.kind, job.content)
    sealed = []
    for _ in range(job.count):
        message = seal_message(
            sender_id=me.id, signer=me.signing, recipients=recipients,
            kind=MessageKind(job.kind), content=content, tlp=Tlp(job.tlp),
            now=int(time.time()), group=job.group,
        )  # fmt: skip
        sealed.append((message.header.mid, message.raw))
    return sealed


class Sealer:
    """Seals envelopes in a pool of processes, started when first needed and kept for the run
    (between the parts, never while one is timed). A few hundred envelopes are sealed in threads
    here instead: faster than starting the pool."""

    def __init__(self, processes: int, chunk: int = 250) -> None:
        self._processes = processes
        self._chunk = chunk
        self._pool: ProcessPoolExecutor | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    async def seal(
        self, jobs: Sequence[SealJob], progress: Callable[[int], None] = lambda _: None
    ) -> list[list[Envelope]]:
        """The envelopes of each job, in order."""
        loop = asyncio.get_running_loop()
        pieces: list[tuple[int, SealJob]] = []
        for n, job in enumerate(jobs):
            for first in range(0, job.count, self._chunk):
                size = min(self._chunk, job.count - first)
                pieces.append((n, replace(job, count=size)))
        if self._pool is None and sum(job.count for job in jobs) > IN_PROCESS:
            context = get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self._processes, mp_context=context)
        pool = self._pool if sum(job.count for job in jobs) > IN_PROCESS else None
        futures = [loop.run_in_executor(pool, seal, piece) for _, piece in pieces]
        found: list[list[Envelope]] = [[] for _ in jobs]
        done = 0
        for (n, _), future in zip(pieces, futures, strict=True):
            sealed = await future
            found[n].extend(sealed)
            done += len(sealed)
            progress(done)
        return found


# --- hub processes --------------------------------------------------------------------------------


def serve_has_workers() -> bool:
    """Whether this version of ``pgs serve`` takes ``--workers N``."""
    done = subprocess.run(
        [sys.executable, "-m", "pgs_hub", "serve", "--help"],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    return "--workers" in done.stdout


@dataclass
class Process:
    """A server process of the run (a hub or the baseline), in its own session so that a Ctrl-C
    at the terminal reaches only the benchmark, which then stops it with SIGTERM."""

    name: str
    url: str
    popen: subprocess.Popen[bytes]
    log: Path
    exit_status: int | None = None

    def stop(self) -> int:
        """SIGTERM, then wait (SIGKILL after 30 s); the exit status."""
        if self.exit_status is None:
            if self.popen.poll() is None:
                self.popen.send_signal(signal.SIGTERM)
            try:
                self.exit_status = self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.exit_status = self.popen.wait()
        return self.exit_status

    def rss_bytes(self) -> int:
        """Resident memory of the process and all its descendants (``--workers`` children)."""
        return sum(_rss(pid) for pid in _tree(self.popen.pid))

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the process and its live descendants, all
        threads included (aiosqlite's). Unlike the wall clock, it hardly moves when other work
        shares the machine: the hub's CPU per accepted envelope is the figure to compare between
        runs on a busy machine."""
        return sum(_cpu(pid) for pid in _tree(self.popen.pid))

    def loop_seconds(self) -> float | None:
        """Time the process's main thread (the hub's event loop) has spent on a CPU so far, in
        seconds, from ``/proc/PID/task/PID/schedstat``; None where the kernel does not say.
        Over a run, its share of the wall clock is how busy the loop was: the hub's limit is
        that one thread, whatever the CPU of the process as a whole (bench/README.md)."""
        with contextlib.suppress(OSError, IndexError, ValueError):
            pid = self.popen.pid
            return int(Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()[0]) / 1e9
        return None

    async def wait_healthy(self) -> None:
        await log_bench.wait_healthy(self.url, self.popen, self.log)


def _tree(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                queue.extend(int(c) for c in (task / "children").read_text().split())
    return found


def _cpu(pid: int) -> float:
    with contextlib.suppress(OSError, IndexError, ValueError):
        # Fields 14 and 15 of /proc/PID/stat (utime, stime), after the parenthesised name.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _rss(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def split_cpus(cpus: Iterable[int]) -> tuple[frozenset[int], frozenset[int]]:
    """``--pin``: (the servers' CPU, the clients' CPUs): the first CPU of ``cpus`` for the
    server under test, the others for the load, as a load generator on a machine of its own
    would be. Needs two CPUs at least."""
    ordered = sorted(cpus)
    if len(ordered) < 2:  # one for the server, one for the load at least
        raise ValueError("pinning needs two CPUs at least: one for the server, one for the load")
    return frozenset(ordered[:1]), frozenset(ordered[1:])


def pin(pid: int, cpus: Iterable[int]) -> None:
    """Every thread of process ``pid`` on ``cpus`` (``sched_setaffinity`` sets one thread; the
    threads and processes it starts later inherit it)."""
    wanted = set(cpus)
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
            os.sched_setaffinity(int(task.name), wanted)


@dataclass
class Processes:
    """Every server process started by the run, stopped on every exit path. With
    ``server_cpus`` (``--pin``), each server is pinned to those CPUs as it starts."""

    started: list[Process] = field(default_factory=list)
    server_cpus: frozenset[int] | None = None

    def start(
        self, name: str, argv: Sequence[str], port: int, log: Path, *, pinned: bool = True
    ) -> Process:
        with log.open("ab") as sink:
            popen = subprocess.Popen(  # noqa: S603 - our own servers, our arguments
                [sys.executable, *argv],
                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True, cwd=REPO,
            )  # fmt: skip
        if pinned and self.server_cpus is not None:
            pin(popen.pid, self.server_cpus)  # before the interpreter has started any thread
        process = Process(name, f"http://127.0.0.1:{port}", popen, log)
        self.started.append(process)
        return process

    def hub(
        self, home: Home, port: int, *, workers: int | None = None, pinned: bool = True
    ) -> Process:
        """A hub; ``pinned=False`` leaves it to the scheduler even under ``--pin`` (part 6: two
        workers on one pinned CPU would measure nothing)."""
        argv = [
            "-m", "pgs_hub", "serve", "--home", str(home.path), "--port", str(port),
            "--database-url", home.database_url,
        ]  # fmt: skip
        if workers is not None:
            argv += ["--workers", str(workers)]
        log = home.path / "hub.log"
        return self.start(f"hub {home.path.name}", argv, port, log, pinned=pinned)

    def baseline(self, folder: Path, port: int) -> Process:
        argv = ["-m", "bench.baseline", "--port", str(port), "--folder", str(folder)]
        return self.start("baseline", argv, port, folder / "baseline.log")

    def stop_all(self) -> None:
        for process in self.started:
            process.stop()
