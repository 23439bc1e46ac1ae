"""Copies of the hub's database, taken while it runs, and put back while it is stopped.

* SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database page by page
  into a new file while the hub keeps writing (WAL mode); the copy is one consistent snapshot.
* PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot, in a single transaction) and
  ``pg_restore --clean --if-exists --single-transaction`` (all or nothing). The connection
  settings go to them through the ``PG*`` environment variables, never on a command line.

Every copy is written to ``NAME.partial`` and renamed when complete, so an interrupted backup
never leaves a file that looks whole; running it again starts again (a snapshot cannot be
resumed). Nothing here knows of HTTP or of the audit log's rules.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import URL

from pgs_hub.hub.errors import ConfigError
from pgs_hub.hub.storage.engine import parse_url
from pgs_hub.hub.storage.part_files import PartFiles, folder_for

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
PAGES_PER_STEP = 256
Progress = Callable[[int, int], None]  # (done, total)


class BackupError(ConfigError):
    """A backup or restore could not be made; the message says why."""

    code = "backup.failed"


def kind_of(path: Path) -> str:
    """``"sqlite"`` or ``"postgresql"``, from a backup file's first bytes."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError.keyed(
            "config.backup.unreadable", path=path, reason=exc.strerror
        ) from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError.keyed("config.backup.unknown_kind", path=path)


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def _sqlite_path(url: URL) -> Path:
    return Path(str(url.database))


def _copy_sqlite(source: Path, target: Path, progress: Progress) -> None:
    partial = _partial(target)
    partial.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(
                    dst,
                    pages=PAGES_PER_STEP,
                    progress=lambda _status, remaining, total: progress(total - remaining, total),
                )
                _inline_parts(dst, PartFiles(folder_for(source)))
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            finally:
                dst.close()
        finally:
            src.close()
        partial.chmod(0o600)
        partial.replace(target)
    except (sqlite3.Error, OSError) as exc:  # OSError: a part's file could not be read
        partial.unlink(missing_ok=True)
        raise BackupError.keyed("config.backup.sqlite_failed", reason=exc) from None


def _pg_environment(url: URL) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for name, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value is not None:
            environment[name] = str(value)
    return environment


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError.keyed("config.backup.no_tool", name=name)
    return found


def _run_pg(arguments: list[str], url: URL, progress: Progress, total: int) -> None:
    """Run pg_dump or pg_restore with --verbose, counting the tables it reports as progress."""
    done = 0
    with subprocess.Popen(  # noqa: S603 - the PostgreSQL tools, arguments we build
        arguments,
        env=_pg_environment(url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None  # noqa: S101 - asked for above
        errors: list[str] = []
        for line in process.stderr:
            if re.search(r"(dumping contents of|processing data for) table", line):
                done += 1
                progress(min(done, total), total)
            elif "error" in line.lower():
                errors.append(line.strip())
        code = process.wait()
    if code != 0:
        detail = "; ".join(errors[-3:]) or f"exit code {code}"
        raise BackupError.keyed(
            "config.backup.tool_failed", name=Path(arguments[0]).name, reason=detail
        )
    progress(total, total)


def _inline_parts(copy: sqlite3.Connection, files: PartFiles) -> None:
    """Put the bytes of the parts kept as files into the copy's rows, so that a backup is one
    self-contained file (and a restored hub's rows name no file). A part whose file went with
    its upload while the copy was made is dropped with that upload, as the hub dropped it. A
    database from before parts were files (schema 0010 or older) has nothing to copy."""
    columns = {row[1] for row in copy.execute("PRAGMA table_info(upload_parts)")}
    if "file" not in columns:
        return
    named = copy.execute(
        "SELECT upload_id, position, file FROM upload_parts WHERE file IS NOT NULL"
    ).fetchall()
    gone: set[str] = set()
    for upload_id, position, file in named:
        try:
            data = files.read(upload_id, file, 0, files.size(upload_id, file))
        except (FileNotFoundError, ValueError):
            gone.add(upload_id)
            continue
        copy.execute(
            "UPDATE upload_parts SET data = ?, file = NULL WHERE upload_id = ? AND position = ?",
            (data, upload_id, position),
        )
    for upload_id in gone:
        copy.execute("DELETE FROM upload_parts WHERE upload_id = ?", (upload_id,))
        copy.execute("DELETE FROM uploads WHERE id = ?", (upload_id,))
    copy.commit()


def backup(database_url: str, target: Path, progress: Progress, tables: int) -> str:
    """Copy the database at ``database_url`` into the file ``target``; returns its kind."""
    url = parse_url(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError.keyed("cli.message.not_exist", path=source)
        _copy_sqlite(source, target, progress)
        return "sqlite"
    partial = _partial(target)
    partial.unlink(missing_ok=True)
    try:
        _run_pg(
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--verbose",
                "--file",
                str(partial),
            ],
            url,
            progress,
            tables,
        )
        partial.chmod(0o600)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return "postgresql"


def stage_sqlite(source: Path, database_url: str, progress: Progress) -> Path:
    """Copy an SQLite backup next to the hub's database, as ``hub.db.partial``, ready to be
    checked and then put in place with :func:`commit_sqlite`."""
    target = _sqlite_path(parse_url(database_url))
    staged = _partial(target)
    _copy_sqlite(source, staged, progress)
    return staged


def commit_sqlite(staged: Path, database_url: str) -> None:
    """Replace the hub's SQLite database by a staged copy (the hub must be stopped)."""
    target = _sqlite_path(parse_url(database_url))
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            target.with_name(target.name + suffix).unlink()
    staged.replace(target)
    PartFiles(folder_for(target)).remove_all()  # the staged copy's parts are all inline


def restore_postgresql(source: Path, database_url: str, progress: Progress, tables: int) -> None:
    """Replace the PostgreSQL database's tables by those of a pg_dump archive, in one
    transaction (the hub must be stopped: its connections would hold locks)."""
    url = parse_url(database_url)
    _run_pg(
        [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
         "--verbose", "--dbname", str(url.database), str(source)],
        url, progress, tables,
    )  # fmt: skip
