"""Backup while the hub runs, restore while it is stopped, and no rolled-back log served.

On SQLite and on PostgreSQL (pg_dump / pg_restore): ``pgs admin backup`` copies the database under
a running hub; restoring that copy while nothing newer was signed brings the hub back with its
messages. After more traffic (the hub signs a larger checkpoint, which an auditor pins and a
participant keeps as a file), restoring the old copy is a rollback: on SQLite it is refused before
anything is replaced; on PostgreSQL it is restored, reported, and ``pgs serve`` refuses to start.
An operator who has also lost the hub's high-water mark is stopped by ``--checkpoint`` with the
participant's copy; and if the hub serves the old log anyway, the auditor's pinned checkpoint
catches it in one line (these two on SQLite: they do not depend on the database).

The ``pgs`` commands run in-process (click's runner, in a worker thread) except ``pgs serve``.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from pgs_hub.crypto.keys import SigningKey
from pgs_hub.crypto.note import Checkpoint, sign_checkpoint
from pgs_hub.hub import home_lock
from pgs_hub.hub.cli import main
from pgs_hub.hub.home import write_home
from pgs_hub.hub.services.rollback import HIGH_WATER_FILE
from pgs_hub.protocols import api
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.harness import RunningHub, start_hub, wait_healthy
from tests.e2e.messages import example
from tests.e2e.test_audit_tools import AUDITOR, GH, NG, WCO, Ran, connection, enrol_world

EXIT_LOG_INVALID = 3


async def run(*args: str | Path) -> Ran:
    result = await asyncio.to_thread(
        CliRunner().invoke, main, [str(a) for a in args], catch_exceptions=False
    )
    return Ran(result.exit_code, result.stdout, result.stderr)


@dataclass(frozen=True)
class Home:
    home: Path
    database_url: str


def where(hub: RunningHub | Home) -> list[str | Path]:
    return ["--home", hub.home, "--database-url", hub.database_url]


async def send(hub: RunningHub) -> str:
    async with hub.client(NG) as ng:
        sealed, _ = await ng.send(
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH, WCO]
        )
    return sealed.header.mid


async def checkpoint_note(hub: RunningHub, who: str) -> tuple[int, str]:
    """A fresh checkpoint as a participant receives it (the hub signs it if the log grew)."""
    async with hub.client(who) as client:
        doc = await client.get("/v1/audit/checkpoint", api.Checkpoint)
    return doc.size, doc.checkpoint


def serve_refuses(hub: RunningHub | Home, *extra: str | Path) -> str:
    """Run ``pgs serve``, which must exit 1 at start-up; its output."""
    done = subprocess.run(  # noqa: S603 - our own server with test arguments
        [sys.executable, "-m", "pgs_hub", "serve", *map(str, where(hub)), "--port", "0",
         *map(str, extra)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stderr


async def restart(hub: RunningHub) -> None:
    port = int(hub.url.rsplit(":", 1)[1])
    hub.process = await start_hub(hub.home, hub.database_url, port)
    await wait_healthy(hub.url, hub.process, hub.log)


async def test_backup_restore_and_no_rolled_back_log(  # noqa: PLR0915 - one story, in order
    hub: RunningHub, tmp_path: Path
) -> None:
    sqlite = hub.database_url.startswith("sqlite")
    await enrol_world(hub)
    first = await send(hub)
    size1, _ = await checkpoint_note(hub, GH)
    mark = hub.home / HIGH_WATER_FILE
    assert f"\n{size1}\n" in mark.read_text()  # the mark follows what the hub signs
    copy = tmp_path / ("hub-copy.db" if sqlite else "hub-copy.dump")

    ran = await run("admin", "backup", copy, *where(hub))  # under the running hub
    assert ran.code == 0, ran.line()
    assert not copy.with_name(copy.name + ".partial").exists()

    # A restore under the running hub is refused: on SQLite the hub would go on writing to the
    # file it has open, no longer the database, and lose every message it accepts after.
    database = Path(hub.database_url.split("///", 1)[-1])
    before = database.stat().st_ino if sqlite else 0
    ran = await run("admin", "restore", copy, *where(hub))
    assert ran.code == 1, ran.line()
    assert f"a hub is running on {hub.home}" in ran.err
    assert "Nothing was replaced" in ran.err
    assert (database.stat().st_ino if sqlite else 0) == before
    second = await send(hub)  # still the database the hub serves
    async with hub.client(GH) as gh:
        assert (await gh.read(second)).header.mid == second

    # Restoring it at once: nothing newer was signed, the hub comes back with its messages.
    assert hub.stop() == 0
    ran = await run("admin", "restore", copy, *where(hub))
    assert ran.code == 0, ran.line()
    assert f"the audit log has {size1} entries" in ran.out
    await restart(hub)
    async with hub.client(GH) as gh:
        assert (await gh.read(first)).header.mid == first

    # More traffic; the hub signs a larger checkpoint, which an auditor pins and GH keeps.
    await send(hub)
    size2, note2 = await checkpoint_note(hub, GH)
    assert size2 > size1
    held = tmp_path / "held-by-gh.note"
    held.write_text(note2)
    state = tmp_path / "auditor-state.json"
    if sqlite:  # (what the auditor's tool does does not depend on the hub's database)
        ran = await run("audit", "verify", *connection(hub, AUDITOR), "--state", state)
        assert ran.code == 0, ran.line()
    assert hub.stop() == 0
    newest = database.read_bytes() if sqlite else b""

    # Restoring the old copy now is a rollback.
    ran = await run("admin", "restore", copy, *where(hub))
    assert ran.code == 1
    assert "[log.rolled_back]" in ran.err
    assert f"has {size1} entries" in ran.err
    assert f"checkpoint of {size2} entries" in ran.err
    if sqlite:
        assert "Nothing was replaced" in ran.err
        assert database.read_bytes() == newest  # ... and indeed nothing was
        # The home is lost too (no high-water mark): the restore goes through, with a warning,
        # and GH's copy of the checkpoint given to `pgs serve` stops the hub.
        mark.unlink()
        ran = await run("admin", "restore", copy, *where(hub))
        assert ran.code == 0, ran.line()
        assert "no checkpoint to check the log against" in ran.err
        refusal = serve_refuses(hub, "--checkpoint", held)
        assert str(held) in refusal
    else:
        assert "The backup WAS restored" in ran.err
        refusal = serve_refuses(hub)
        assert HIGH_WATER_FILE in refusal
    assert "[log.rolled_back]" in refusal
    assert "rolled back" in refusal
    if not sqlite:
        return

    # Served anyway (mark removed, no --checkpoint): the auditor's pinned checkpoint catches it.
    mark.unlink(missing_ok=True)
    await restart(hub)
    ran = await run("audit", "verify", *connection(hub, AUDITOR), "--state", state)
    assert ran.code == EXIT_LOG_INVALID, ran.line()
    assert f"fewer than the {size2}" in ran.line()
    assert "rolled back" in ran.line()
    assert len([line for line in ran.err.splitlines() if "rolled back" in line]) == 1


async def test_a_hub_does_not_start_while_its_database_is_being_restored(tmp_path: Path) -> None:
    hub = Home(tmp_path / "home", f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    write_home(hub.home, port=8443)
    with home_lock.restoring(hub.home) as alone:  # as `pgs admin restore` holds it
        assert alone
        refusal = serve_refuses(hub)
    assert f"the database of {hub.home} is being restored" in refusal


async def test_restore_refuses_what_is_not_a_backup_of_this_kind(tmp_path: Path) -> None:
    hub = Home(tmp_path / "home", f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    write_home(hub.home, port=8443)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database")
    ran = await run("admin", "restore", junk, *where(hub))
    assert (ran.code, "neither an SQLite database nor a pg_dump" in ran.err) == (1, True)
    dump = tmp_path / "x.dump"
    dump.write_bytes(b"PGDMP" + bytes(100))
    ran = await run("admin", "restore", dump, *where(hub))
    assert (ran.code, "is a postgresql backup" in ran.err) == (1, True)
    fake = tmp_path / "fake.db"
    fake.write_bytes(b"SQLite format 3\x00" + bytes(100))
    empty_state = tmp_path / "state.json"
    empty_state.write_text(json.dumps({"v": 1, "logs": {}}))
    ran = await run("admin", "restore", fake, *where(hub), "--checkpoint", empty_state)
    assert (ran.code, "holds no checkpoint of the log" in ran.err) == (1, True)
    # a checkpoint of this log's origin, signed by another key, proves nothing
    origin = tomllib.loads((hub.home / "config.toml").read_text())["log"]["origin"]
    forged = tmp_path / "forged.note"
    forged.write_bytes(
        sign_checkpoint(Checkpoint(origin, 10**6, bytes(32)), origin, SigningKey.generate())
    )
    ran = await run("admin", "restore", fake, *where(hub), "--checkpoint", forged)
    assert (ran.code, "not a checkpoint signed by this hub's log key" in ran.err) == (1, True)
