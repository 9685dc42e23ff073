"""Reads from PostgreSQL in one round trip, decoded in C.

Through SQLAlchemy, a read took a pooled connection, BEGIN, the query, ROLLBACK (three
round trips) and SQLAlchemy's result processing of every value: about 1 ms of CPU for
a one-row lookup (docs/benchmarks.md, "PostgreSQL reads"). Here a read takes a raw
connection from the engine's own pool (``AsyncEngine.raw_connection``: a quarter of
the CPU of an ``AsyncConnection``) and sends the query on the asyncpg connection
underneath, outside any transaction: one statement in autocommit, which sees
everything committed before it, as the transaction did. SQLAlchemy began no
transaction on it, so handing it back to the pool sends nothing. PostgreSQL renders
the rows as one JSON array, which msgspec decodes straight into the dataclasses
(``json_plans``). asyncpg prepares each query shape once per connection.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

import asyncpg
import msgspec
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from forge_core.errors import InvalidInput, Unavailable

from .errors import translate_errors
from .json_plans import Plans

T = TypeVar("T")

# Errors after which the connection cannot be trusted: the pool must not hand it out.
_BROKEN = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError, TimeoutError)


class PgReads:
    """Whole records by equality filters, optionally ordered by (created_at, id) and paged."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._plans = Plans(engine.dialect)

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
        plan = self._plans.get(target, table, where, ordered)
        params = plan.params(where)
        if ordered:  # a negative limit is no limit, as on SQLite
            params += [None if limit < 0 else limit, offset]
        with translate_errors():  # the pool's errors: it could not connect
            pooled = await self._engine.raw_connection()
        try:
            text = await _fetch_text(pooled, plan.sql, params)
        finally:
            # Back to the pool; a connection beyond the pool's size is closed, which
            # asyncpg does awaiting, so the close runs where SQLAlchemy can await.
            await greenlet_spawn(pooled.close)
        try:
            return plan.decode(text)
        except msgspec.ValidationError as exc:
            raise Unavailable(f"a stored {table.name} row does not read back: {exc}") from exc


async def _fetch_text(pooled: PoolProxiedConnection, sql: str, params: list[Any]) -> str:
    driver: Any = pooled.driver_connection  # the asyncpg Connection
    try:
        text: str = await driver.fetchval(sql, *params)
    except _BROKEN as exc:
        pooled.invalidate(exc)  # terminates the socket; the pool makes a new one
        raise Unavailable("the database cannot answer now") from exc
    except asyncio.CancelledError:
        pooled.invalidate()  # a query may still be running on it
        raise
    except (asyncpg.DataError, OverflowError) as exc:
        raise InvalidInput("filter", "the database refused a value to look up") from exc
    except asyncpg.PostgresError as exc:
        raise Unavailable("the database cannot answer now") from exc
    return text
