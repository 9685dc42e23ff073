"""The PostgreSQL pool each replica opens, sized by settings; SQLite keeps its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from forge_http import build_container
from forge_http.container import shutdown
from forge_http.settings import SettingsError, load_settings
from tests.http.conftest import make_settings

pytestmark = pytest.mark.anyio


def test_the_pool_defaults_and_bounds() -> None:
    default = load_settings(_env_file=None)
    assert (default.database_pool_size, default.database_max_overflow) == (15, 0)
    with pytest.raises(SettingsError, match="FORGE_DATABASE_POOL_SIZE"):
        load_settings(_env_file=None, database_pool_size=0)
    with pytest.raises(SettingsError, match="FORGE_DATABASE_MAX_OVERFLOW"):
        load_settings(_env_file=None, database_max_overflow=-1)


async def test_a_postgresql_engine_gets_the_pool_the_settings_size(
    tmp_path: Path, postgres_url: str
) -> None:
    container = build_container(
        make_settings(
            tmp_path, database_url=postgres_url, database_pool_size=3, database_max_overflow=1
        )
    )
    try:
        engine = await container.gateways.engine()
        held = [await engine.connect() for _ in range(4)]  # the pool and its overflow
        try:
            for conn in held:
                assert await conn.scalar(text("select 1")) == 1
            assert (engine.pool.size(), engine.pool.overflow()) == (3, 1)
        finally:
            for conn in held:
                await conn.close()
    finally:
        await shutdown(container)


async def test_sqlite_keeps_its_own_pool(tmp_path: Path) -> None:
    container = build_container(
        make_settings(tmp_path, database_url=f"sqlite:///{tmp_path}/forge.db", database_pool_size=3)
    )
    try:
        engine = await container.gateways.engine()
        async with engine.connect() as conn:
            assert await conn.scalar(text("select 1")) == 1
    finally:
        await shutdown(container)
