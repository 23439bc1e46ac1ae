"""The witness's state: for each log origin, the latest checkpoint it cosigned (SQLite file).

The size is stored as decimal text (tree sizes go up to 2**64 - 1, beyond SQLite's integers).
:meth:`WitnessStore.advance` reads and replaces the row in one transaction under the store's lock,
so two concurrent requests can never roll the recorded tree back (the race the spec describes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cosigned ("
    " origin TEXT PRIMARY KEY, size TEXT NOT NULL, root BLOB NOT NULL,"
    " note BLOB NOT NULL, updated_at INTEGER NOT NULL)",
    # Signed checkpoints that contradict the cosigned one (a fork): evidence against the log.
    "CREATE TABLE IF NOT EXISTS evidence ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL, reason TEXT NOT NULL,"
    " old_size TEXT NOT NULL, note BLOB NOT NULL, received_at INTEGER NOT NULL)",
)
MAX_EVIDENCE = 1000


@dataclass(frozen=True)
class Cosigned:
    origin: str
    size: int
    root: bytes


class WitnessStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> WitnessStore:
        engine = create_async_engine(f"sqlite+aiosqlite:///{path.resolve()}")
        async with engine.begin() as conn:
            for statement in SCHEMA:
                await conn.execute(text(statement))
        return cls(engine)

    async def close(self) -> None:
        await self.engine.dispose()

    async def latest(self, origin: str) -> Cosigned | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT size, root FROM cosigned WHERE origin = :o"), {"o": origin}
                )
            ).first()
        return None if row is None else Cosigned(origin, int(row.size), bytes(row.root))

    async def advance(
        self,
        origin: str,
        check: Callable[[Cosigned | None], Awaitable[None]],
        *,
        size: int,
        root: bytes,
        note: bytes,
        now: int,
    ) -> None:
        """Under the lock and in one transaction: read the recorded checkpoint, let ``check``
        raise if the new one may not follow it, then record the new one."""
        async with self._lock, self.engine.begin() as conn:
            row = (
                await conn.execute(
                    text("SELECT size, root FROM cosigned WHERE origin = :o"), {"o": origin}
                )
            ).first()
            await check(None if row is None else Cosigned(origin, int(row.size), bytes(row.root)))
            await conn.execute(
                text(
                    "INSERT INTO cosigned (origin, size, root, note, updated_at)"
                    " VALUES (:o, :s, :r, :n, :t) ON CONFLICT (origin) DO UPDATE SET"
                    " size = excluded.size, root = excluded.root, note = excluded.note,"
                    " updated_at = excluded.updated_at"
                ),
                {"o": origin, "s": str(size), "r": root, "n": note, "t": now},
            )

    async def keep_evidence(
        self, origin: str, reason: str, note: bytes, *, old_size: int, now: int
    ) -> None:
        """Keep a refused checkpoint that contradicts the cosigned one (the newest 1000)."""
        async with self._lock, self.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO evidence (origin, reason, old_size, note, received_at)"
                    " VALUES (:o, :r, :s, :n, :t)"
                ),
                {"o": origin, "r": reason, "s": str(old_size), "n": note, "t": now},
            )
            await conn.execute(
                text("DELETE FROM evidence WHERE id <= (SELECT max(id) FROM evidence) - :keep"),
                {"keep": MAX_EVIDENCE},
            )

    async def evidence(self) -> list[tuple[str, str, bytes]]:
        """(origin, reason, signed note) of the kept evidence, oldest first."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(text("SELECT origin, reason, note FROM evidence ORDER BY id"))
            return [(str(r.origin), str(r.reason), bytes(r.note)) for r in rows]
