"""``pgs admin backup`` and ``pgs admin restore``: a copy of the database taken while the hub runs,
put back while it is stopped, and checked against the checkpoints the hub signed before it is
served again (hub.storage.backup, hub.services.rollback)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from pgs_hub.hub import home_lock
from pgs_hub.hub.cli.common import err, fail, out, reported_errors, say
from pgs_hub.hub.cli.server import DATABASE_OPTION, HOME_OPTION
from pgs_hub.hub.home import HubConfig, default_home, load_config

CHECKPOINT_OPTION = click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help=(
        "A checkpoint that clients or witnesses hold (a signed checkpoint note, or a "
        "`pgs audit verify` state file); the restored log must extend it. Repeatable."
    ),
)


@contextmanager
def _progress(what: str) -> Iterator[Callable[[int, int], None]]:
    with Progress(
        TextColumn(what), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
        console=err, transient=False,
    ) as bar:  # fmt: skip
        task = bar.add_task(what, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, 1))

        yield update


def _table_count() -> int:
    from pgs_hub.hub.services.backup import table_count

    return table_count()


@click.command()
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@HOME_OPTION
@DATABASE_OPTION
def backup(target: Path, home: Path | None, database_url: str | None) -> None:
    """Copy the hub's database to TARGET while the hub runs: SQLite's online backup, or
    pg_dump (custom format) for PostgreSQL. One consistent snapshot; written to TARGET.partial
    and renamed when complete. Keys and config.toml are not in it: back up the home too."""
    from pgs_hub.hub.services import backup as store

    home = home or default_home()
    with reported_errors():
        url = database_url or load_config(home).database_url
        if target.exists():
            fail(say("cli.backup.exists", path=target))
        started = time.monotonic()
        with _progress(say("cli.backup.progress_backup")) as update:
            kind = store.backup(url, target, update, _table_count())
    from pgs_hub.hub.i18n import resolve
    from pgs_hub.hub.i18n_measures import duration, size

    lang = resolve(None)
    said = size(target.stat().st_size, lang)
    took = duration(time.monotonic() - started, lang, precise=True)
    out.print(
        say("cli.backup.written", kind=kind, path=target, size=said, duration=took), markup=False
    )


@click.command()
@click.argument("source", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@HOME_OPTION
@DATABASE_OPTION
@CHECKPOINT_OPTION
def restore(
    source: Path, home: Path | None, database_url: str | None, checkpoints: tuple[Path, ...]
) -> None:
    """Put the backup SOURCE in place of the hub's database (stop the hub first).

    The restored audit log must extend the latest checkpoint this hub signed (its high-water
    mark, HOME/log-high-water.note) and every --checkpoint given: a backup older than what
    clients have seen is a rolled-back log, which the hub refuses to serve. On SQLite such a
    backup is refused before anything is replaced; on PostgreSQL it is restored (one
    transaction) and reported, and `pgs serve` then refuses to start on it."""
    home = home or default_home()
    with reported_errors():
        config = load_config(home, database_url=database_url)
    with home_lock.restoring(home) as alone:  # no hub serves the home meanwhile
        if not alone:
            fail(say("cli.backup.hub_running", home=home))
        _restore(source, home, config, checkpoints)


def _restore(source: Path, home: Path, config: HubConfig, checkpoints: tuple[Path, ...]) -> None:
    """The restore itself, with the home held (:mod:`hub.home_lock`)."""
    from pgs_hub.crypto.note import parse_verifier_key
    from pgs_hub.hub.services import backup as store
    from pgs_hub.hub.services import rollback
    from pgs_hub.hub.services.database import open_engine, parse_url

    with reported_errors():
        url = config.database_url
        kind = store.kind_of(source)
        backend = parse_url(url).get_backend_name()
        if kind != backend:
            fail(say("cli.backup.wrong_kind", path=source, kind=kind, backend=backend))
        verifier = parse_verifier_key(config.log_verifier_key)
        held = rollback.held_checkpoints(home, verifier, list(checkpoints))

        async def check(database: str) -> int:
            engine = open_engine(database)
            try:
                return await rollback.check_not_rolled_back(engine, held)
            finally:
                await engine.dispose()

        if kind == "sqlite":
            with _progress(say("cli.backup.progress_restore")) as update:
                staged = store.stage_sqlite(source, url, update)
            try:
                size = asyncio.run(check(f"sqlite+aiosqlite:///{staged}"))
            except rollback.LogRolledBack as exc:
                staged.unlink(missing_ok=True)
                fail(say("cli.backup.nothing_replaced", code=exc.code, reason=exc))
            store.commit_sqlite(staged, url)
        else:
            with _progress(say("cli.backup.progress_restore")) as update:
                store.restore_postgresql(source, url, update, _table_count())
            try:
                size = asyncio.run(check(url))
            except rollback.LogRolledBack as exc:
                fail(say("cli.backup.restored_anyway", code=exc.code, reason=exc))
    out.print(say("cli.backup.restored", path=source, size=size), markup=False)
    if held:
        largest = max(h.checkpoint.size for h in held)
        out.print("  " + say("cli.backup.extends", n=len(held), size=largest), markup=False)
    else:
        err.print(say("cli.backup.no_checkpoint"), markup=False)
    out.print(say("cli.backup.next"), markup=False)
