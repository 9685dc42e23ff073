"""Which fast read path an engine gets: see ``sqlite_reads`` and ``pg_reads``."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy import Table, event
from sqlalchemy.ext.asyncio import AsyncEngine

from .pg_reads import PgReads
from .sqlite_reads import SqliteReads

T = TypeVar("T")


class JsonReads(Protocol):
    async def fetch(
        self,
        target: type[T],
        table: Table,
        where: dict[str, Any],
        *,
        ordered: bool = False,
        limit: int = -1,
        offset: int = 0,
    ) -> list[T]:
        """The records of ``table`` whose columns equal ``where``, as ``target``s; if
        ``ordered``, by (created_at, id), ``limit`` (negative: all) from ``offset``.
        Raises Unavailable if the database cannot answer, InvalidInput for a filter it
        refuses."""
        ...


def json_reads_for(engine: AsyncEngine) -> JsonReads | None:
    """The engine's fast reader: PostgreSQL through asyncpg, a SQLite file on its own
    connection (closed with the engine); None for other databases and for in-memory
    SQLite (whose data only its own connection sees)."""
    url = engine.url
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "asyncpg":
        return PgReads(engine)
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        return None
    reads = SqliteReads(database, engine.dialect)
    event.listen(engine.sync_engine, "engine_disposed", reads.close)
    return reads
