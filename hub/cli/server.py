"""``pgs init``, ``pgs serve`` and ``pgs db``: set up and run a hub."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from pgs_hub.hub import home_lock
from pgs_hub.hub.cli.common import (
    err,
    fail,
    out,
    reported_errors,
    say,
    secret_from,
    server_tls,
)
from pgs_hub.hub.cli.errors import report
from pgs_hub.hub.errors import ConfigError
from pgs_hub.hub.home import (
    AUTHORITY_DIR,
    AUTHORITY_KEY_FILE,
    CONFIG_FILE,
    DATABASE_ENV,
    POLICY_FILE,
    HubConfig,
    default_home,
    load_config,
    refuse_existing,
    sqlite_url,
    write_home,
)

if TYPE_CHECKING:
    from aiohttp import web

HOME_OPTION = click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Hub home folder (default: $PGS_HOME, else ./pgs-home).",
)
DATABASE_OPTION = click.option(
    "--database-url",
    envvar="PGS_DATABASE_URL",
    help="SQLAlchemy URL, e.g. postgresql+asyncpg://user@host/db (default: the home's SQLite).",
)


@click.command()
@click.argument("home", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option("--port", type=click.IntRange(1, 65535), default=8443, show_default=True)
@click.option(
    "--admin", "admin_id", default="WCO-HUB-ADMIN", show_default=True, help="Id of the first admin."
)
@DATABASE_OPTION
@click.option(
    "--insecure-plain-keys",
    is_flag=True,
    help="Write keys that have no passphrase unencrypted (tests and throw-away demos only).",
)
def init(
    home: Path | None,
    port: int,
    admin_id: str,
    database_url: str | None,
    insecure_plain_keys: bool,
) -> None:
    """Create a hub home: configuration, policy, registry-authority key, hub keys, a migrated
    database and a first admin participant (its keys in HOME/admin/).

    Every private key is encrypted at rest: the authority key with $PGS_AUTHORITY_PASSPHRASE,
    the hub's keys with $PGS_HUB_PASSPHRASE (which `pgs serve` then needs), the admin's keys with
    $PGS_KEY_PASSPHRASE. Each variable may instead be NAME_FILE, naming a file that holds it;
    on a terminal, a missing one is asked for. Without a passphrase init refuses, unless
    --insecure-plain-keys."""
    from pgs_hub.hub import passphrases
    from pgs_hub.hub.enrolment import bootstrap_admin
    from pgs_hub.hub.services.database import upgrade

    home = home or default_home()
    with reported_errors():
        refuse_existing(home)  # said first: no passphrase is asked for in vain
    wanted = (
        (passphrases.AUTHORITY, say("cli.prompt.authority_key")),
        (passphrases.HUB, say("cli.prompt.hub_keys")),
        (passphrases.KEYS, say("cli.prompt.keys_of", id=admin_id)),
    )
    secrets = {
        name: secret_from(name, what, new=True, ask=not insecure_plain_keys)
        for name, what in wanted
    }
    missing = [name for name, secret in secrets.items() if secret is None]
    if missing and not insecure_plain_keys:
        fail(say("cli.init.refuse_plain", names=", ".join(f"${name}" for name in missing)))
    for name in missing:
        err.print(say("cli.init.plain_warning", name=name), markup=False)
    with reported_errors():
        url = database_url or sqlite_url(home)
        if database_url is not None:
            # A database elsewhere is reached and migrated before anything is written: one that
            # cannot be used leaves no half-made home behind (the home's own SQLite file can only
            # be made once the home exists).
            asyncio.run(upgrade(url))
        authority = write_home(
            home,
            port=port,
            authority_passphrase=secrets[passphrases.AUTHORITY],
            hub_passphrase=secrets[passphrases.HUB],
        )
        if database_url is None:
            asyncio.run(upgrade(url))
        admin_folder = asyncio.run(
            bootstrap_admin(
                home, url, authority, admin_id,
                passphrase=secrets[passphrases.KEYS], hub_passphrase=secrets[passphrases.HUB],
            )
        )  # fmt: skip
    out.print(say("cli.init.created", home=home), markup=False)
    authority_key = f"{home / AUTHORITY_DIR / AUTHORITY_KEY_FILE}  {say('cli.init.offline')}"
    rows = [
        (say("cli.init.configuration"), str(home / CONFIG_FILE)),
        (say("cli.init.policy"), str(home / POLICY_FILE)),
        (say("cli.init.authority_key"), authority_key),
        (say("cli.init.admin_keys"), str(admin_folder)),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        out.print(f"  {label:<{width}}  {value}", markup=False)
    out.print(say("cli.init.start", command=f"pgs serve --home {home}"), markup=False)


@click.group()
def db() -> None:
    """Database schema: upgrade to this version's schema, or show the current revision."""


@db.command("upgrade")
@HOME_OPTION
@DATABASE_OPTION
def db_upgrade(home: Path | None, database_url: str | None) -> None:
    """Apply every pending migration."""
    from pgs_hub.hub.services.database import head_revision, redact, upgrade

    home = home or default_home()
    with reported_errors():
        url = database_url or load_config(home).database_url
        asyncio.run(upgrade(url))
    out.print(f"{redact(url)} is at revision {head_revision()}")


@db.command("current")
@HOME_OPTION
@DATABASE_OPTION
def db_current(home: Path | None, database_url: str | None) -> None:
    """Show the database's schema revision and the one this version needs."""
    from pgs_hub.hub.services.database import current_revision, head_revision

    home = home or default_home()
    with reported_errors():
        url = database_url or load_config(home).database_url
        current = asyncio.run(current_revision(url))
    current = current or say("cli.db.empty")
    out.print(say("cli.db.current", current=current, needed=head_revision()), markup=False)


WORKERS_HELP = (
    "Hub processes sharing the port (SO_REUSEPORT), for more throughput and more open streams "
    "than one process holds. PostgreSQL only: the workers wake each other's streams through "
    "LISTEN/NOTIFY and write one audit log in one order. About one per CPU core; a worker that "
    "dies is started again."
)
SHUTDOWN_TIMEOUT_SECONDS = 10.0
# How long the workers may take to stop before they are killed.
STOP_DEADLINE_SECONDS = 3 * SHUTDOWN_TIMEOUT_SECONDS


@click.command()
@HOME_OPTION
@click.option("--host", help="Address to listen on (default: from config.toml).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: from config.toml).")
@DATABASE_OPTION
@click.option("--tls-cert", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--tls-key", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--workers", type=click.IntRange(1, 256), default=1, show_default=True, help=WORKERS_HELP
)
@click.option("--worker-index", type=click.IntRange(0), hidden=True)  # set by the supervisor
@click.option("--worker-of", type=click.IntRange(1), hidden=True)  # the supervisor's pid
@click.option("--ready-fd", type=click.IntRange(0), hidden=True)  # tells the supervisor "ready"
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help=(
        "A checkpoint that clients or witnesses hold (signed note, or a `pgs audit verify` state "
        "file): refuse to start unless the stored audit log extends it. Repeatable."
    ),
)
def serve(
    home: Path | None,
    host: str | None,
    port: int | None,
    database_url: str | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    workers: int,
    worker_index: int | None,
    worker_of: int | None,
    ready_fd: int | None,
    checkpoints: tuple[Path, ...],
) -> None:
    """Run the hub until Ctrl-C or SIGTERM, then stop cleanly (connections closed, database
    flushed). Refuses to start on an outdated database schema.

    With --workers N, this process supervises N hub processes on the same port and database:
    it passes SIGTERM, SIGINT and SIGHUP (policy reload) on to them and exits when they have
    stopped."""
    from aiohttp import web

    from pgs_hub.hub.server.app import create_app
    from pgs_hub.hub.server.loop import new_event_loop

    home = home or default_home()
    with reported_errors():
        config = load_config(home, database_url=database_url)
    with home_lock.serving(home) as served:  # held until the hub has stopped
        if not served:
            fail(say("cli.serve.restoring", home=home))
        cert = tls_cert or config.tls_cert
        key = tls_key or config.tls_key
        context = server_tls(cert, key)
        scheme = "https" if context else "http"
        listen_host = host or config.host
        listen_port = config.port if port is None else port
        worker = worker_of is not None
        prefix = f"[worker {worker_index or 0}] " if worker else ""
        logging.basicConfig(
            level=logging.INFO, format=f"%(asctime)s %(levelname)s {prefix}%(name)s %(message)s"
        )
        _access_log_as_json_lines()
        if workers > 1 and not worker:
            _supervise(config, home, listen_host, listen_port, (cert, key), checkpoints, workers)
        hub_secret = _hub_passphrase(config.hub_key_dir, interactive=not worker)
        app = create_app(
            config, hub_passphrase=hub_secret, checkpoints=checkpoints, shares_port=worker
        )
        if worker_of is not None:
            app.cleanup_ctx.append(_worker_duties(worker_of, ready_fd))
        try:
            web.run_app(
                app,
                loop=new_event_loop(),  # uvloop when installed (hub.server.loop)
                host=listen_host,
                port=listen_port,
                ssl_context=context,
                shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS,
                # Also the bound on reading a request head (slow-header clients): see HubConfig.
                keepalive_timeout=config.header_timeout_seconds,
                access_log=None,
                reuse_port=True if worker else None,
                print=None
                if worker
                else lambda _: out.print(
                    say("hub.demo.listening", url=f"{scheme}://{listen_host}:{listen_port}"),
                    markup=False,
                ),
            )
        except ConfigError as exc:
            report(exc)  # translated where the catalog knows the code


def _supervise(
    config: HubConfig,
    home: Path,
    listen_host: str,
    listen_port: int,
    tls: tuple[Path | None, Path | None],
    checkpoints: tuple[Path, ...],
    workers: int,
) -> NoReturn:
    """``pgs serve --workers N``: the supervisor of N worker processes, until they stop."""
    from pgs_hub.hub.services.database import parse_url

    cert, key = tls
    scheme = "https" if cert is not None else "http"
    try:
        backend = parse_url(config.database_url).get_backend_name()
    except ConfigError as exc:
        report(exc)  # translated where the catalog knows the code
    if backend != "postgresql":
        fail(say("cli.serve.workers_postgres"))
    if listen_port == 0:
        fail(say("cli.serve.workers_port"))
    if not hasattr(socket, "SO_REUSEPORT"):
        fail(say("cli.serve.workers_reuseport"))
    arguments = ["--home", str(home), "--host", listen_host, "--port", str(listen_port)]
    if cert is not None and key is not None:
        arguments += ["--tls-cert", str(cert), "--tls-key", str(key)]
    for path in checkpoints:
        arguments += ["--checkpoint", str(path)]
    hub_secret = _hub_passphrase(config.hub_key_dir, interactive=True)
    url = f"{scheme}://{listen_host}:{listen_port}"
    out.print(say("cli.serve.listening_workers", url=url, workers=workers), markup=False)
    sys.exit(_Supervisor(arguments, config.database_url, hub_secret).run(workers))


def _access_log_as_json_lines() -> None:
    """The access log (hub.server.observe) goes to stderr as bare JSON lines, one per request,
    for log shippers; the hub's other messages keep their human format."""
    access = logging.getLogger("pgs.access")
    if not access.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.propagate = False


def _hub_passphrase(folder: Path, *, interactive: bool) -> bytes | None:
    """``$PGS_HUB_PASSPHRASE`` (or ``_FILE``); asked on a terminal only if a hub key is
    encrypted and neither is set."""
    from pgs_hub.hub import passphrases

    with reported_errors():
        secret = passphrases.from_environment(passphrases.HUB)
    encrypted = any(passphrases.is_encrypted(path.read_bytes()) for path in folder.glob("*.pem"))
    if secret is None and encrypted and interactive:
        secret = secret_from(passphrases.HUB, say("cli.prompt.hub_keys"), new=False)
    return secret


def _worker_duties(
    supervisor: int, ready_fd: int | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    """What a worker owes its supervisor: word that it is ready (a byte on ``ready_fd``, once the
    hub has started: policy loaded, database checked), and stopping by itself (SIGTERM to itself)
    if the supervisor dies, since nobody would ever stop it then."""
    log = logging.getLogger("pgs.serve")

    async def duties(_app: web.Application) -> AsyncIterator[None]:
        async def watch() -> None:
            while os.getppid() == supervisor:
                await asyncio.sleep(1.0)
            log.error("the supervising process %d is gone: stopping", supervisor)
            os.kill(os.getpid(), signal.SIGTERM)

        if ready_fd is not None:
            with contextlib.suppress(OSError):
                os.write(ready_fd, b"+")
                os.close(ready_fd)
        task = asyncio.create_task(watch())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return duties


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen[bytes]
    ready_fd: int | None  # the read end of its "ready" pipe, until it has said so (or died)
    ready: bool = False
    reload_pending: bool = False  # a SIGHUP came while it was starting


class _Supervisor:
    """Runs N workers until they have all stopped (see :meth:`run`)."""

    def __init__(
        self, arguments: list[str], database_url: str, hub_passphrase: bytes | None = None
    ) -> None:
        from pgs_hub.hub import passphrases
        from pgs_hub.hub.services.metrics import MULTIPROC_ENV

        self.arguments = arguments
        # The workers' metrics, summed by whichever one answers /metrics (hub.services.metrics).
        self.metrics_dir = tempfile.mkdtemp(prefix="pgs-metrics-")
        self.environment = {
            **os.environ,
            DATABASE_ENV: database_url,
            MULTIPROC_ENV: self.metrics_dir,
        }
        if hub_passphrase is not None:  # never on a command line; the environment is private
            self.environment[passphrases.HUB] = hub_passphrase.decode("utf-8", "surrogateescape")
        self.workers: dict[int, _Worker] = {}
        self.stopping = False
        self.failed = False
        self.stop_by = math.inf
        self.log = logging.getLogger("pgs.serve")

    def run(self, count: int) -> int:
        """Start ``count`` workers and supervise them; the exit code for ``pgs serve``.

        Each worker is ``pgs serve`` again with the same options (the database URL in the
        environment, never on a command line that ``ps`` shows), in its own process group: Ctrl-C
        reaches it once, through here. SIGHUP goes to the workers that are ready, and to the
        others once they are (a starting worker has no handler yet, and the signal would end it).
        A worker that dies is started again; one that dies before it was ever ready stops the hub
        (a bad configuration, an outdated schema or a taken port would stop the next one too).
        """
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self.on_signal)
        try:
            for index in range(count):
                self.start(index)
            while self.workers:
                waiting = {w.ready_fd: w for w in self.workers.values() if w.ready_fd is not None}
                readable, _, _ = select.select(list(waiting), [], [], 0.2)
                for fd in readable:
                    self.heard_from(waiting[fd])
                for w in list(self.workers.values()):
                    self.check(w)
        finally:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)
        return 1 if self.failed else 0

    def start(self, index: int) -> None:
        ready_read, ready_write = os.pipe()
        try:
            process = subprocess.Popen(  # noqa: S603 - this program, our own arguments
                [sys.executable, "-m", "pgs_hub", "serve", *self.arguments,
                 "--worker-index", str(index), "--worker-of", str(os.getpid()),
                 "--ready-fd", str(ready_write)],
                env=self.environment, process_group=0, pass_fds=(ready_write,),
            )  # fmt: skip
        finally:
            os.close(ready_write)
        self.workers[index] = _Worker(index, process, ready_read)
        self.log.info("worker %d started with pid %d", index, process.pid)
        if self.stopping:  # a stop signal came while it was starting
            process.send_signal(signal.SIGTERM)

    def on_signal(self, signum: int, _frame: object) -> None:
        if signum != signal.SIGHUP:
            self.stop_all(signum)
            return
        for w in list(self.workers.values()):
            if not w.ready:
                w.reload_pending = True
            elif w.process.poll() is None:
                w.process.send_signal(signum)

    def stop_all(self, signum: int) -> None:
        if not self.stopping:
            self.stopping, self.stop_by = True, time.monotonic() + STOP_DEADLINE_SECONDS
        for w in list(self.workers.values()):
            if w.process.poll() is None:
                w.process.send_signal(signum)

    def heard_from(self, w: _Worker) -> None:
        if w.ready_fd is None:
            return
        w.ready = os.read(w.ready_fd, 1) == b"+"  # nothing: it died first
        self.forget_ready_fd(w)
        if w.ready and w.reload_pending and not self.stopping:
            w.process.send_signal(signal.SIGHUP)

    @staticmethod
    def forget_ready_fd(w: _Worker) -> None:
        if w.ready_fd is not None:
            os.close(w.ready_fd)
            w.ready_fd = None

    def check(self, w: _Worker) -> None:
        code = w.process.poll()
        if code is None:
            if time.monotonic() > self.stop_by:
                self.log.error("worker %d (pid %d) did not stop: killed", w.index, w.process.pid)
                w.process.kill()
                self.failed = True
            return
        del self.workers[w.index]
        self.forget_ready_fd(w)
        from pgs_hub.hub.services.metrics import worker_died

        worker_died(self.metrics_dir, w.process.pid)
        if self.stopping:
            # A worker stopped by the signal itself (before it could handle it) is fine too.
            if code not in (0, -signal.SIGTERM, -signal.SIGINT):
                self.log.error("worker %d stopped with exit code %d", w.index, code)
                self.failed = True
            return
        self.log.error("worker %d (pid %d) exited with code %d", w.index, w.process.pid, code)
        if w.ready:
            self.start(w.index)
        else:
            self.log.error("worker %d failed before it was ready: stopping the hub", w.index)
            self.failed = True
            self.stop_all(signal.SIGTERM)
