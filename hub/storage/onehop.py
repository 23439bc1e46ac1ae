"""Short reads in one trip through the SQLite driver's thread.

Through SQLAlchemy's aiosqlite adapter, one ``SELECT`` is four hand-offs to the connection's
thread and back (a cursor, the statement, the rows, closing the cursor), each a wake-up of the
thread and of the event loop and a trip of the GIL between them: about 0.1-0.25 ms each on a busy
2-core machine, several times what an indexed look-up in SQLite itself costs. :func:`fetch_all`
runs the same compiled statement with aiosqlite's ``execute_fetchall`` on the same connection
(so in the caller's transaction, if it has one): one hand-off. On any other database it is
``conn.execute`` as usual. For hot, small reads only (an inclusion proof): the statement must not
need SQLAlchemy's processing of parameters or results (plain integers, text and bytes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler

_compiled: dict[tuple[int, str], tuple[Executable, SQLCompiler]] = {}


def _compile(statement: Executable, conn: AsyncConnection) -> SQLCompiler:
    key = (id(statement), conn.dialect.name)
    found = _compiled.get(key)
    if found is None or found[0] is not statement:
        compiled = statement.compile(dialect=conn.dialect)  # type: ignore[attr-defined]
        assert isinstance(compiled, SQLCompiler)  # noqa: S101 - a SELECT compiles to one
        _compiled[key] = found = (statement, compiled)  # the statement kept: its id stays its own
    return found[1]


async def fetch_all(
    conn: AsyncConnection, statement: Executable, params: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """The rows of ``statement`` (a cached statement object: compiled once per dialect)."""
    if conn.dialect.driver != "aiosqlite":
        return (await conn.execute(statement, params)).all()
    compiled = _compile(statement, conn)
    defaults = compiled.params
    order = compiled.positiontup or ()
    values = tuple(params[name] if name in params else defaults[name] for name in order)
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None  # noqa: S101 - a checked-out connection has its driver connection
    return list(await driver.execute_fetchall(compiled.string, values))
