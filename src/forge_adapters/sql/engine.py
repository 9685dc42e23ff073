"""Engines and migrations: the only place that knows about URLs, drivers and pragmas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import anyio
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import PoolResetState, StaticPool

from .errors import translate_errors

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

_ASYNC_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)


def normalize_url(url: str) -> str:
    """The URL with an async driver: ``postgres://`` and ``postgresql://`` become
    ``postgresql+asyncpg://``, ``sqlite:///`` becomes ``sqlite+aiosqlite:///``; a
    libpq-style ``sslmode`` becomes asyncpg's ``ssl``. Other URLs are left as they are."""
    parsed = make_url(url)
    parsed = parsed.set(drivername=_ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername))
    if parsed.drivername == "postgresql+asyncpg" and "sslmode" in parsed.query:
        query = dict(parsed.query)
        query.setdefault("ssl", query.pop("sslmode"))
        parsed = parsed.set(query=query)
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str, **engine_kwargs: Any) -> AsyncEngine:
    """An async engine for ``url`` (normalized first). On PostgreSQL its pool keeps up to
    ``POOL_SIZE`` connections open, unless ``engine_kwargs`` say otherwise. On SQLite
    every connection gets WAL, a 5 s busy timeout, foreign keys and
    ``synchronous=NORMAL``, and the database file's folder is made if it is missing;
    ``:memory:`` databases share one connection."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite":
        _keep_connections(engine_kwargs)
        return create_async_engine(parsed, **engine_kwargs)
    database = parsed.database or ""
    if database in ("", ":memory:"):
        engine_kwargs.setdefault("poolclass", StaticPool)
    elif not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine_kwargs.setdefault("pool_reset_on_return", None)  # _sqlite_reset does it
    engine = create_async_engine(parsed, **engine_kwargs)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    event.listen(engine.sync_engine, "reset", _sqlite_reset)
    return engine


# SQLAlchemy's default pool keeps 5 connections and opens up to 10 more for bursts,
# closing each as it comes back while 5 wait idle. Under load (more requests than
# connections) that closed and reopened a connection for one checkout in ten, each
# costing a TCP and TLS handshake and the driver's set-up. The same 15 connections at
# most, kept once opened, cost none of that.
POOL_SIZE = 15


def _keep_connections(engine_kwargs: dict[str, Any]) -> None:
    if engine_kwargs.get("poolclass") is None:
        engine_kwargs.setdefault("pool_size", POOL_SIZE)
        engine_kwargs.setdefault("max_overflow", 0)


_SQLITE_WRITERS: WeakKeyDictionary[Engine, anyio.Lock] = WeakKeyDictionary()


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A write transaction. SQLite takes one writer at a time, and a writer that finds
    the file locked polls it in sleeps (busy_timeout), which under load gave writes a
    p99 near a second; so this process's SQLite writers queue on a lock instead."""
    if engine.dialect.name != "sqlite":
        async with engine.begin() as conn:
            yield conn
        return
    lock = _SQLITE_WRITERS.setdefault(engine.sync_engine, anyio.Lock())
    async with lock, engine.begin() as conn:
        yield conn


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
    """A connection back in the pool is rolled back only if a transaction is open. The
    pool's own reset rolls back every time, and through aiosqlite each call is a hand-off
    to its thread: after a committed write, a fifth one for nothing."""
    if state.asyncio_safe and dbapi_connection.driver_connection.in_transaction:
        dbapi_connection.rollback()


def alembic_config() -> Config:
    """Alembic's configuration, built in code: no alembic.ini is needed at run time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


async def migrate(engine_or_url: AsyncEngine | str, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (the newest by default), in one transaction
    where the database allows it. Raises Unavailable if the database cannot be reached."""
    if isinstance(engine_or_url, str):
        engine = create_engine(engine_or_url)
        try:
            await migrate(engine, revision)
        finally:
            await engine.dispose()
        return
    with translate_errors():
        async with engine_or_url.begin() as connection:
            await connection.run_sync(_upgrade, revision)


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
