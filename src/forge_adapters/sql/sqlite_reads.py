"""Reads from a SQLite file on the event loop's own thread, decoded in C.

A read in a local SQLite file is a B-tree lookup of a few microseconds; going through
aiosqlite costs five thread hand-offs per query plus SQLAlchemy's async machinery, and
converting each value in Python (UUIDs, datetimes, JSON) costs more than the lookup
(docs/benchmarks.md has the figures). So, for SQLite files only:

- reads run synchronously on one read-only connection in autocommit mode. In WAL mode
  readers never wait for writers, and each statement sees everything committed before
  it. Writes stay on the async engine.
- SQLite renders the rows as one JSON array, which msgspec decodes straight into the
  dataclasses (``json_plans``).
"""

from __future__ import annotations

import sqlite3
from typing import Any, TypeVar

import msgspec
from sqlalchemy import Table
from sqlalchemy.engine import Dialect

from forge_core.errors import InvalidInput, Unavailable

from .json_plans import Plans

T = TypeVar("T")


class SqliteReads:
    """Whole records by equality filters, optionally ordered by (created_at, id) and paged."""

    def __init__(self, path: str, dialect: Dialect) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._plans = Plans(dialect)

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
        """Runs on the event loop's thread: the lookup is shorter than a hand-off."""
        plan = self._plans.get(target, table, where, ordered)
        params = plan.params(where)
        if ordered:
            params += [limit, offset]
        try:
            (records,) = self._connect().execute(plan.sql, params).fetchone()
            return plan.decode(records)
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
