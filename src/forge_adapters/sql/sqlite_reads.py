"""Reads from a SQLite file on the event loop's own thread, decoded in C.

A read in a local SQLite file is a B-tree lookup of a few microseconds; going through
aiosqlite costs five thread hand-offs per query plus SQLAlchemy's async machinery, and
converting each value in Python (UUIDs, datetimes, JSON) costs more than the lookup
(docs/benchmarks.md has the figures). So, for SQLite files only:

- reads run synchronously on one read-only connection in autocommit mode. In WAL mode
  readers never wait for writers, and each statement sees everything committed before
  it. Writes stay on the async engine.
- SQLite renders each row as a JSON object (``json_object``) in the shape of the target
  dataclass, and msgspec decodes the rows straight into those dataclasses: UUIDs from
  SQLAlchemy's hex text, datetimes from their RFC 3339 text (coltypes), JSON columns
  embedded as JSON.

Filters are bound with SQLAlchemy's own bind processors, so both paths store and look up
values identically; the contract suite runs the same checks against both.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import fields
from typing import Any, Generic, TypeVar

import msgspec
from sqlalchemy import JSON, Table, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from forge_core.errors import InvalidInput, Unavailable

T = TypeVar("T")
Processor = Callable[[Any], Any] | None


class SqliteReads:
    """Whole records by equality filters, optionally ordered by (created_at, id) and paged."""

    def __init__(self, path: str, dialect: Dialect) -> None:
        self._path = path
        self._dialect = dialect
        self._connection: sqlite3.Connection | None = None
        self._plans: dict[tuple[type[Any], str, tuple[str, ...], bool], _Plan[Any]] = {}

    def fetch(
        self,
        target: type[T],
        table: Table,
        where: dict[str, Any],
        *,
        ordered: bool = False,
        limit: int = -1,
        offset: int = 0,
    ) -> list[T]:
        key = (target, table.name, tuple(where), ordered)
        plan: _Plan[T] | None = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _Plan(target, table, tuple(where), ordered, self._dialect)
        binds = zip(plan.binds, where.values(), strict=True)
        params = [bind(value) if bind else value for bind, value in binds]
        if ordered:
            params += [limit, offset]
        try:
            rows = self._connect().execute(plan.sql, params).fetchall()
            return plan.decode(b"[" + b",".join(row[0] for row in rows) + b"]")
        except sqlite3.Error as exc:
            raise Unavailable("the database cannot answer now") from exc
        except OverflowError as exc:
            raise InvalidInput("filter", "a number is too large to look up") from exc
        except msgspec.ValidationError as exc:
            raise Unavailable(f"a stored {table.name} row does not read back: {exc}") from exc

    def close(self, *_: object) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA busy_timeout=5000")
            connection.execute("PRAGMA query_only=ON")
            connection.text_factory = bytes  # the JSON rows go to msgspec as they are
            self._connection = connection
        return self._connection


class _Plan(Generic[T]):
    """One query shape: its SQL, how to bind its filters, how to decode its rows."""

    def __init__(
        self, target: type[T], table: Table, where: tuple[str, ...], ordered: bool, dialect: Dialect
    ) -> None:
        pairs = ", ".join(f"'{f.name}', {_as_json(table, f.name)}" for f in fields(target))
        conditions = " AND ".join(f'"{name}" = ?' for name in where) or "1"
        self.sql = f'SELECT json_object({pairs}) FROM "{table.name}" WHERE {conditions}'
        if ordered:
            self.sql += ' ORDER BY "created_at", "id" LIMIT ? OFFSET ?'
        self.binds: list[Processor] = [
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in where
        ]
        self.decode = msgspec.json.Decoder(list[target]).decode  # type: ignore[valid-type]


def _as_json(table: Table, name: str) -> str:
    """The column as a JSON value of what the dataclass field holds: JSON columns are
    embedded as JSON; the rest (UUID hex, RFC 3339 datetimes, text) as they are stored."""
    column = table.c[name]
    impl = getattr(column.type, "impl", column.type)
    return f'json("{name}")' if isinstance(impl, JSON) else f'"{name}"'


def sqlite_reads_for(engine: AsyncEngine) -> SqliteReads | None:
    """A reader for the engine's SQLite file, closed with the engine; None for other
    databases and for in-memory SQLite (whose data only its own connection sees)."""
    url = engine.url
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        return None
    reads = SqliteReads(database, engine.dialect)
    event.listen(engine.sync_engine, "engine_disposed", reads.close)
    return reads
