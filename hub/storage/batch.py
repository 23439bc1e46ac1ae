"""A transaction's statements run as a *plan*: on SQLite on the event loop, COMMIT in a thread.

A plan is a generator: it yields :class:`Steps` (SQLAlchemy Core statements, each with its rows
of parameters) and is sent back their results, so it can decide what to write from what it read
(the tree size, the submission counts) without returning to the event loop in between. The same
plan runs on both databases (:func:`run`):

* **SQLite**: the plan, its statements included, runs on the event loop itself, each step with the
  ``sqlite3`` module directly (many rows as multi-row ``INSERT`` statements), and so does ``BEGIN
  IMMEDIATE`` (busy timeout 0 while it waits; while another connection holds the write lock it
  is tried again every few milliseconds, the loop free in between:
  :meth:`sqlite_driver.Connection.begin_waiting`, as for every writing transaction). Only the
  ``COMMIT`` (its ``fsync``) goes to the connection's thread (``aiosqlite``), and the ``BEGIN`` too
  when the thread still has work queued. Why not the whole plan in the thread, as the third round of
  issue 17 had it (one hand-off instead of one per statement): ``sqlite3`` gives the GIL up around
  every statement it runs and must take it back from the loop, which holds it while it parses and
  verifies other requests; each taking back waited up to the switch interval (5 ms). Measured: 26
  small statements and a commit took 0.46 ms wall and 0.26 ms CPU in a thread of their own, 100 ms
  wall and 2.7 ms CPU beside one busy Python thread; in the hub at half load, a group commit's plan
  of about 15 statements spent 7-14 ms in the thread for 2.5 ms of CPU. On the loop the same plan
  costs its CPU only (about 0.6-1.5 ms for a batch at half load) and the commit is one hand-off. The
  statements are compiled by SQLAlchemy once for the dialect and cached.
* **PostgreSQL** (asyncpg, no driver thread): each step is executed with
  :meth:`AsyncConnection.execute`: one round trip to the server per step, so a plan keeps them
  few. Many rows of a plain ``insert(table)`` are one ``INSERT ... SELECT * FROM unnest(...)``
  (:func:`_unnest`), other statements of many rows asyncpg's ``executemany``. The reads of a
  :class:`Steps` marked ``one_statement`` are sent as one ``SELECT`` of arrays, one per read
  (they then see one snapshot: a lock they must see the effects of goes in an earlier
  :class:`Steps`); a SAVEPOINT that succeeded is not released (``COMMIT`` or the enclosing
  transaction's end does it), which saves its round trip.

A :class:`Steps` with ``savepoint=True`` runs in a SAVEPOINT: if one of its statements breaks a
constraint (:class:`~sqlalchemy.exc.IntegrityError`) or changes fewer rows than a step expects
(:class:`RowsMismatch`), everything of it is rolled back to the SAVEPOINT and the plan is sent
that exception instead of results (the transaction goes on). Any other error ends the plan and
is raised, as SQLAlchemy raises it (``sqlite3`` errors are wrapped in SQLAlchemy's exception
classes, so the API edge maps them as it maps every database error).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias, TypeVar

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.interfaces import Compiled
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable, Insert
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import Select, TextualSelect

from pgs_hub.hub.storage import sqlite_driver

_SAVEPOINT: Final = "pgs_plan"
SQLITE_BEGIN: Final = sqlite_driver.IMMEDIATE  # what hub.storage.engine begins writing ones with


@dataclass(frozen=True)
class Step:
    """One statement run once per row of ``rows`` (``[{}]``: once, without parameters).

    ``returns``: the statement returns rows and the plan wants them (its result is the list of
    row tuples, of every execution in order); otherwise its result is the number of rows changed.
    ``expect``: that many rows must change, otherwise :class:`RowsMismatch` (only for a step of
    one row, in a SAVEPOINT)."""

    statement: Executable
    rows: Sequence[Mapping[str, Any]] = ({},)
    returns: bool = False
    expect: int | None = None


@dataclass(frozen=True)
class Steps:
    """``one_statement``: the steps are reads (``SELECT``, one row of parameters each, distinct
    parameter names) that PostgreSQL may answer in one statement and one snapshot."""

    steps: Sequence[Step]
    savepoint: bool = False
    one_statement: bool = False


class RowsMismatch(Exception):
    """A step of a SAVEPOINT changed another number of rows than it expected."""


Result: TypeAlias = "list[Any] | Exception"
R = TypeVar("R")
Plan: TypeAlias = Generator[Steps, Result, R]


@dataclass
class _Compiled:
    sql: str
    names: tuple[str, ...]
    defaults: dict[str, Any]
    processors: Mapping[str, Any] = field(default_factory=dict)
    values: str | None = None  # a plain INSERT's "(?, ?, ...)", repeated for many rows


_cache: dict[tuple[int, str, tuple[str, ...]], tuple[Executable, _Compiled]] = {}


def _compiled(statement: Executable, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
    key = (id(statement), dialect.name, keys)
    found = _cache.get(key)
    if found is not None and found[0] is statement:
        return found[1]
    compiled: Compiled = statement.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
    names = tuple(getattr(compiled, "positiontup", None) or ())
    binds = getattr(compiled, "binds", {})
    defaults = {name: binds[name].effective_value for name in names if name not in keys}
    processors = getattr(compiled, "_bind_processors", {})
    sql = compiled.string
    values = None
    if isinstance(statement, Insert):  # a plain one: nothing after its placeholders
        _, marker, tail = sql.rpartition(" VALUES ")
        if marker and tail == "(" + ", ".join("?" * len(names)) + ")":
            values = tail
    entry = _Compiled(sql, names, defaults, processors, values)
    _cache[key] = (statement, entry)  # keeps the statement alive, so its id stays its own
    return entry


def _positional(compiled: _Compiled, row: Mapping[str, Any]) -> tuple[Any, ...]:
    values = []
    for name in compiled.names:
        value = row[name] if name in row else compiled.defaults[name]
        processor = compiled.processors.get(name)
        values.append(value if processor is None or value is None else processor(value))
    return tuple(values)


@dataclass(frozen=True)
class _Target:
    """What a plan run in the driver's thread needs of the SQLAlchemy connection: its dialect,
    and its ``before_cursor_execute`` listeners (tests and instrumentation that watch every
    statement see the plan's too; they are called in the driver's thread)."""

    dialect: Dialect
    connection: Connection
    listeners: Any

    @classmethod
    def of(cls, conn: AsyncConnection) -> _Target:
        sync = conn.sync_connection
        if sync is None:  # pragma: no cover - a started connection has one
            raise RuntimeError("the connection is not started")
        listeners = sync.dispatch.before_cursor_execute
        return cls(conn.dialect, sync, listeners if listeners else None)

    def observe(self, cursor: Any, sql: str, parameters: Any, *, many: bool = False) -> None:
        if self.listeners is not None:
            self.listeners(self.connection, cursor, sql, parameters, None, many)


def _sqlite_step(db: sqlite3.Connection, target: _Target, step: Step) -> Any:
    keys = tuple(step.rows[0]) if step.rows else ()
    compiled = _compiled(step.statement, target.dialect, keys)
    rows = [_positional(compiled, row) for row in step.rows]
    cursor = db.cursor()
    try:
        try:
            if step.returns:
                found: list[Any] = []
                for row in rows:
                    target.observe(cursor, compiled.sql, row)
                    cursor.execute(compiled.sql, row)
                    found.extend(cursor.fetchall())
                return found
            if len(rows) == 1:
                target.observe(cursor, compiled.sql, rows[0])
                cursor.execute(compiled.sql, rows[0])
            elif compiled.values is not None:
                _insert_many(db, target, cursor, compiled, rows)
            else:
                target.observe(cursor, compiled.sql, rows, many=True)
                cursor.executemany(compiled.sql, rows)
        except sqlite3.Error as error:
            raise sa_exc.DBAPIError.instance(
                compiled.sql,
                None,
                error,
                sqlite3.Error,
                hide_parameters=True,
                dialect=target.dialect,
            ) from error
        if step.expect is not None and cursor.rowcount != step.expect:
            raise RowsMismatch
        return cursor.rowcount
    finally:
        cursor.close()


def _insert_many(
    db: sqlite3.Connection,
    target: _Target,
    cursor: sqlite3.Cursor,
    compiled: _Compiled,
    rows: list[tuple[Any, ...]],
) -> None:
    """An INSERT of many rows as few multi-row statements (``VALUES (...), (...)``): the
    ``sqlite3`` module releases and takes back the GIL around every statement it steps, once per
    row with ``executemany``, and each taking back waits for the event loop's thread to give the
    GIL up (up to the switch interval, 5 ms, when it is busy)."""
    width = max(1, len(compiled.names))
    per_statement = max(1, min(500, db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width))
    head, values = compiled.sql[: -len(compiled.values or "")], compiled.values or ""
    for first in range(0, len(rows), per_statement):
        chunk = rows[first : first + per_statement]
        flat = [value for row in chunk for value in row]
        sql = head + ", ".join([values] * len(chunk))
        target.observe(cursor, sql, flat)
        cursor.execute(sql, flat)


def _sqlite_steps(db: sqlite3.Connection, target: _Target, request: Steps) -> Result:
    if not request.savepoint:
        return [_sqlite_step(db, target, step) for step in request.steps]
    db.execute(f"SAVEPOINT {_SAVEPOINT}")
    try:
        results = [_sqlite_step(db, target, step) for step in request.steps]
    except (sa_exc.IntegrityError, RowsMismatch) as refused:
        db.execute(f"ROLLBACK TO {_SAVEPOINT}")
        db.execute(f"RELEASE {_SAVEPOINT}")
        return refused
    db.execute(f"RELEASE {_SAVEPOINT}")
    return results


def _run_plan(db: sqlite3.Connection, target: _Target, plan: Plan[R]) -> R:
    result: Result | None = None
    try:
        while True:
            request = plan.send(result)  # type: ignore[arg-type]  # None starts the generator
            result = _sqlite_steps(db, target, request)
    except StopIteration as done:
        value: R = done.value
        return value
    finally:
        plan.close()


_unnest_cache: dict[tuple[int, tuple[str, ...]], tuple[Executable, TextClause | None]] = {}


def _unnest(statement: Executable, keys: tuple[str, ...], dialect: Dialect) -> TextClause | None:
    """A plain ``insert(table)`` of columns ``keys`` as ``INSERT ... SELECT * FROM unnest(...)``
    of one array per column (PostgreSQL); None for any other statement. asyncpg's executemany
    has the server execute the statement once per row (about 50 us each; 2 ms for a batch's
    40 deliveries, under the stream lock): this is one execution, and one prepared statement
    whatever the number of rows."""
    key = (id(statement), keys)
    found = _unnest_cache.get(key)
    if found is not None and found[0] is statement:
        return found[1]
    unnest: TextClause | None = None
    table = getattr(statement, "table", None)
    if (
        isinstance(statement, Insert)
        and isinstance(table, Table)
        and statement.compare(insert(table))
        and all(k in table.c for k in keys)
    ):
        quote = dialect.identifier_preparer.quote
        arrays = ", ".join(
            f"CAST(:p{n} AS {table.c[k].type.compile(dialect=dialect)}[])"
            for n, k in enumerate(keys)
        )
        unnest = text(
            f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "  # noqa: S608 - names of the schema
            f"({', '.join(quote(k) for k in keys)}) SELECT * FROM unnest({arrays})"
        )
    _unnest_cache[key] = (statement, unnest)  # keeps the statement alive, so its id stays its own
    return unnest


async def _execute(conn: AsyncConnection, step: Step) -> Any:
    if step.returns:
        found: list[Any] = []
        for row in step.rows:
            found.extend(tuple(r) for r in await conn.execute(step.statement, dict(row)))
        return found
    if len(step.rows) > 1 and conn.dialect.name == "postgresql":
        keys = tuple(step.rows[0])
        unnest = _unnest(step.statement, keys, conn.dialect)
        if unnest is not None and all(tuple(row) == keys for row in step.rows):
            columns = {f"p{n}": [row[k] for row in step.rows] for n, k in enumerate(keys)}
            return (await conn.execute(unnest, columns)).rowcount
    rows = [dict(row) for row in step.rows]
    result = await conn.execute(step.statement, rows[0] if len(rows) == 1 else rows)
    if step.expect is not None and result.rowcount != step.expect:
        raise RowsMismatch
    return result.rowcount


_folded_cache: dict[tuple[int, ...], tuple[Sequence[Executable], Executable]] = {}


def _folded(statements: Sequence[Executable]) -> Executable:
    """``SELECT ARRAY(SELECT ROW(q.*) FROM (statement) q), ...``: the rows of every statement,
    in one statement (built once per tuple of statements)."""
    key = tuple(id(statement) for statement in statements)
    found = _folded_cache.get(key)
    if found is not None and all(a is b for a, b in zip(found[0], statements, strict=True)):
        return found[1]
    columns = []
    for n, statement in enumerate(statements):
        if not isinstance(statement, Select | TextualSelect):
            raise TypeError("only reads (SELECT) can share a statement")
        rows = statement.subquery(f"pgs_q{n}")
        columns.append(func.array(select(func.row(*rows.c)).scalar_subquery()))
    folded = select(*columns)
    _folded_cache[key] = (tuple(statements), folded)  # keeps them alive, so their ids stay theirs
    return folded


async def _execute_folded(conn: AsyncConnection, steps: Sequence[Step]) -> list[Any]:
    parameters: dict[str, Any] = {}
    for step in steps:
        if (
            not step.returns
            or len(step.rows) != 1
            or not parameters.keys().isdisjoint(step.rows[0])
        ):
            raise ValueError("one_statement: reads of one row each, with distinct parameters")
        parameters.update(step.rows[0])
    found = (await conn.execute(_folded([step.statement for step in steps]), parameters)).one()
    return [[tuple(row) for row in rows] for rows in found]


async def _run_awaiting(conn: AsyncConnection, plan: Plan[R]) -> R:
    result: Result | None = None
    try:
        while True:
            try:
                request = plan.send(result)  # type: ignore[arg-type]
            except StopIteration as done:
                value: R = done.value
                return value
            if (
                request.one_statement
                and len(request.steps) > 1
                and not request.savepoint
                and conn.dialect.name == "postgresql"
            ):
                result = await _execute_folded(conn, request.steps)
            elif not request.savepoint:
                result = [await _execute(conn, step) for step in request.steps]
            else:
                result = await _in_savepoint(conn, request.steps)
    finally:
        plan.close()


async def _in_savepoint(conn: AsyncConnection, steps: Sequence[Step]) -> Result:
    """``steps`` in a SAVEPOINT, left open when they succeed: releasing it would only cost a
    round trip (its changes are the transaction's either way, and a later one nests in it)."""
    await conn.exec_driver_sql(f"SAVEPOINT {_SAVEPOINT}")
    try:
        return [await _execute(conn, step) for step in steps]
    except (sa_exc.IntegrityError, RowsMismatch) as refused:
        await conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        await conn.exec_driver_sql(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        return refused


async def _begin_waiting(driver: sqlite_driver.Connection, target: _Target) -> None:
    """``BEGIN IMMEDIATE`` on the event loop, at once or once the write lock is free (tried again
    every few milliseconds, the loop free in between, up to the busy timeout:
    :meth:`sqlite_driver.Connection.begin_waiting`); each try is shown to SQLAlchemy's statement
    listeners. A connection whose thread still has work queued (a read's rollback, from the
    pool's previous user) begins in the thread, after it."""
    if not driver.at_rest:
        await driver.run_in_thread(_sqlite_statement, target, SQLITE_BEGIN)
        return
    try:
        await driver.begin_waiting(before=lambda sql: target.observe(None, sql, ()))
    except sqlite3.Error as error:
        raise sa_exc.DBAPIError.instance(
            SQLITE_BEGIN, None, error, sqlite3.Error, hide_parameters=True, dialect=target.dialect
        ) from error


def _rollback(db: sqlite3.Connection) -> None:
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")


def _commit(db: sqlite3.Connection, target: _Target) -> None:
    """In the driver's thread: ``COMMIT`` (its ``fsync`` blocks no one there); rolled back if it
    fails, and the error raised."""
    try:
        _sqlite_statement(db, target, "COMMIT")
    except BaseException:
        _rollback(db)
        raise


async def _sqlite_transaction(
    driver: sqlite_driver.Connection, target: _Target, plan: Plan[R]
) -> R:
    await _begin_waiting(driver, target)
    # Nothing else uses the connection until the COMMIT below: the plan runs on the loop.
    db = driver.sqlite3_connection
    try:
        result = _run_plan(db, target, plan)
    except BaseException:
        _rollback(db)  # a WAL transaction's rollback writes nothing: no reason to hand it off
        raise
    await driver.run_in_thread(_commit, target)
    return result


def _sqlite_statement(db: sqlite3.Connection, target: _Target, sql: str) -> None:
    cursor = db.cursor()
    try:
        target.observe(cursor, sql, ())
        cursor.execute(sql)
    except sqlite3.Error as error:
        raise sa_exc.DBAPIError.instance(
            sql, None, error, sqlite3.Error, hide_parameters=True, dialect=target.dialect
        ) from error
    finally:
        cursor.close()


async def transaction(engine: AsyncEngine, plan: Callable[[str], Plan[R]]) -> R:
    """Run ``plan(dialect name)`` in a transaction of its own, on a connection of the pool; its
    return value, once committed (see :func:`transaction_on`)."""
    async with engine.connect() as conn:
        return await transaction_on(conn, plan)


async def transaction_on(conn: AsyncConnection, plan: Callable[[str], Plan[R]]) -> R:
    """Run ``plan(dialect name)`` in a transaction of its own on ``conn`` (none begun); its
    return value, once committed.

    On SQLite, ``BEGIN IMMEDIATE`` (as :mod:`hub.storage.engine` begins every writing
    transaction) and the plan run on the event loop, and ``COMMIT`` in the driver's thread (see
    the module docs): one hand-off, and no statement waiting for the GIL. If anything fails, the
    transaction is rolled back and the error raised."""
    if conn.dialect.name == "sqlite":
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        if isinstance(driver, sqlite_driver.Connection):
            result: R = await _sqlite_transaction(driver, _Target.of(conn), plan(conn.dialect.name))
            # The COMMIT ran in the thread, past SQLAlchemy: tell its ``commit`` listeners
            # (the serving hub's WAL checkpointer, hub.storage.checkpoint) as it would.
            sync = conn.sync_connection
            if sync is not None:
                sync.dispatch.commit(sync)
            return result
    async with conn.begin():
        return await _run_awaiting(conn, plan(conn.dialect.name))


async def run(conn: AsyncConnection, plan: Plan[R]) -> R:
    """Run ``plan`` in ``conn``'s transaction (begun already); its return value."""
    if conn.dialect.name == "sqlite":
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        if isinstance(driver, sqlite_driver.Connection):
            return await driver.run_in_thread(_run_plan, _Target.of(conn), plan)
    return await _run_awaiting(conn, plan)
