"""Alembic environment for forge's SQL adapter.

``forge_adapters.sql.migrate`` hands in an open connection (``config.attributes``);
the alembic CLI (``alembic -c src/forge_adapters/sql/alembic.ini ...``) gets the URL
from ``-x url=...``, ``FORGE_DATABASE_URL`` or ``sqlalchemy.url`` and runs on an
async engine.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from forge_adapters.sql import tables
from forge_adapters.sql.catalog_table import include_name
from forge_adapters.sql.coltypes import Json
from forge_adapters.sql.engine import create_engine, normalize_url

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
target_metadata = tables.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render forge's column types as the plain types under them (JSON as JSONB on
    PostgreSQL), so migrations never import adapter code that may change later."""
    if type_ != "type" or not isinstance(obj, TypeDecorator):
        return False
    if isinstance(obj, Json):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        jsonb = "postgresql.JSONB(none_as_null=True)"
        return f"sa.JSON(none_as_null=True).with_variant({jsonb}, 'postgresql')"
    return f"sa.{obj.impl!r}"


def database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    url = url or os.environ.get("FORGE_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: pass -x url=... or set FORGE_DATABASE_URL")
    return normalize_url(url)


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine = create_engine(database_url(), poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def run_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif isinstance(given := config.attributes.get("connection"), Connection):
    run_on(given)
else:
    asyncio.run(run_online())
