"""Engines for the SQL adapters' contract tests: a migrated SQLite file per test (copied
from one migrated template), and PostgreSQL migrated once, emptied before each test."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from forge_adapters.sql import create_engine, migrate
from forge_adapters.sql.tables import metadata


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "forge.db"
    await migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
async def sqlite_engine(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    path = tmp_path / "forge.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def migrated_postgres_url(postgres_url: str) -> str:
    await migrate(postgres_url)
    return postgres_url


@pytest.fixture
async def postgres_engine(migrated_postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_postgres_url)
    tables = ", ".join(table.name for table in metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f"TRUNCATE {tables} CASCADE")
    yield engine
    await engine.dispose()
