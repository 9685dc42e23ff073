"""What the SQL adapter promises beyond the ports: URLs, SQLite pragmas, migrations that
match the models, and vendor errors translated at the boundary."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import StaticPool

from forge_adapters.sql import SqlAuthStore, SqlRepository, create_engine, migrate, normalize_url
from forge_adapters.sql.catalog_table import include_name
from forge_adapters.sql.tables import metadata
from forge_core.entities import Asset, AssetMeta, AuthSession, Session, User
from forge_core.errors import AlreadyExists, InvalidInput, NotFound, Unavailable

from .records import T0, add_tree, make_tree

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/forge", "postgresql+asyncpg://u:p@db:5432/forge"),
        ("postgresql://u@db/forge", "postgresql+asyncpg://u@db/forge"),
        ("postgresql://db/f?sslmode=require", "postgresql+asyncpg://db/f?ssl=require"),
        ("postgresql+asyncpg://db/forge", "postgresql+asyncpg://db/forge"),
        ("sqlite:///forge.db", "sqlite+aiosqlite:///forge.db"),
        ("sqlite:////abs/forge.db", "sqlite+aiosqlite:////abs/forge.db"),
        ("sqlite+aiosqlite:///forge.db", "sqlite+aiosqlite:///forge.db"),
    ],
)
def test_normalize_url_picks_async_drivers(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


async def test_sqlite_engine_makes_its_folder_and_sets_pragmas(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/new/folder/forge.db")
    try:
        async with engine.connect() as conn:
            values = {
                name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            }
    finally:
        await engine.dispose()
    expected = {"journal_mode": "wal", "busy_timeout": 5000, "foreign_keys": 1, "synchronous": 1}
    assert values == expected
    assert (tmp_path / "new" / "folder" / "forge.db").is_file()


async def test_a_sqlite_connection_back_in_the_pool_is_rolled_back_only_if_it_must(
    tmp_path: Path,
) -> None:
    """The pool skips its rollback after a commit (a hand-off to aiosqlite's thread saved),
    but a connection handed back with a transaction open still ends it."""
    engine = create_engine(f"sqlite:///{tmp_path}/forge.db", poolclass=StaticPool)
    rollbacks = 0
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
            driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        rollback = driver.rollback

        async def counted() -> None:
            nonlocal rollbacks
            rollbacks += 1
            await rollback()

        driver.rollback = counted
        async with engine.begin() as conn:
            await conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert rollbacks == 0  # committed: nothing to roll back
        async with engine.connect() as conn:  # a transaction SQLAlchemy does not know of
            await driver.execute("BEGIN IMMEDIATE")  # holds SQLite's write lock
            await driver.execute("INSERT INTO t VALUES (2)")
        assert rollbacks == 1 and not driver.in_transaction
        async with engine.begin() as conn:  # the write lock is free, the row is gone
            await conn.exec_driver_sql("INSERT INTO t VALUES (3)")
        async with engine.connect() as conn:
            rows = (await conn.exec_driver_sql("SELECT n FROM t")).scalars().all()
        assert rows == [1, 3]
    finally:
        await engine.dispose()


def _drift(connection: Connection) -> list[Any]:
    # The catalog's full-text index lives outside the models (see catalog_table).
    context = MigrationContext.configure(connection, opts={"include_name": include_name})
    return compare_metadata(context, metadata)


async def _assert_matches_models(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert await conn.run_sync(_drift) == []
        assert (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).all()


async def test_migrations_match_the_models_on_sqlite(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/fresh.db")
    try:
        await migrate(engine)
        await migrate(engine)  # a second run has nothing to do
        await _assert_matches_models(engine)
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_migrations_match_the_models_on_postgres(migrated_postgres_url: str) -> None:
    engine = create_engine(migrated_postgres_url)
    try:
        await migrate(engine)
        await _assert_matches_models(engine)
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> AsyncEngine:
    found: AsyncEngine = request.getfixturevalue(f"{request.param}_engine")
    return found


async def _owner(engine: AsyncEngine) -> User:
    user = User(id=uuid4(), email=f"{uuid4()}@example.com", created_at=T0, updated_at=T0)
    await SqlAuthStore(engine).add_user(user, None)
    return user


async def test_taken_id_is_already_exists(engine: AsyncEngine) -> None:
    repo, owner = SqlRepository(engine), await _owner(engine)
    tree = await add_tree(repo, owner.id)
    with pytest.raises(AlreadyExists):
        await repo.add(replace(tree.session, name="again"))
    assert await repo.get(Session, tree.session.id, owner.id) == tree.session


async def test_references_to_missing_rows_are_not_found(engine: AsyncEngine) -> None:
    repo, owner = SqlRepository(engine), await _owner(engine)
    stranger = uuid4()
    with pytest.raises(NotFound, match="User"):
        await repo.add(make_tree(stranger).session)
    tree = await add_tree(repo, owner.id)
    ghost = uuid4()
    with pytest.raises(NotFound) as caught:
        await repo.add(replace(tree.meta, id=uuid4(), component_of=ghost))
    assert (caught.value.kind, caught.value.object_id) == ("Asset", ghost)
    with pytest.raises(NotFound, match="User"):
        login = AuthSession(
            id=uuid4(),
            user_id=stranger,
            refresh_token_hash=None,
            expires_at=T0,
            created_at=T0,
            updated_at=T0,
        )
        await SqlAuthStore(engine).add_session(login)


async def test_update_to_a_missing_parent_is_not_found(engine: AsyncEngine) -> None:
    repo, owner = SqlRepository(engine), await _owner(engine)
    tree = await add_tree(repo, owner.id)
    with pytest.raises(NotFound, match="Job"):
        await repo.update(replace(tree.asset, job_id=uuid4()), expected_updated_at=T0)
    assert await repo.get(Asset, tree.asset.id, owner.id) == tree.asset


async def test_naive_datetimes_are_refused(engine: AsyncEngine) -> None:
    repo, owner = SqlRepository(engine), await _owner(engine)
    session = make_tree(owner.id).session
    with pytest.raises(InvalidInput):
        await repo.add(replace(session, created_at=datetime(2024, 1, 1)))
    assert await repo.list(Session, owner.id) == []


async def test_other_offsets_come_back_as_the_same_instant_in_utc(engine: AsyncEngine) -> None:
    repo, owner = SqlRepository(engine), await _owner(engine)
    local = datetime(2024, 1, 1, 9, 30, 0, 5, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))
    session = replace(make_tree(owner.id).session, created_at=local, updated_at=local)
    await repo.add(session)
    found = await repo.get(Session, session.id, owner.id)
    assert found.created_at == local
    assert found.created_at.tzinfo is UTC
    await repo.update(replace(found, name="b"), expected_updated_at=local.astimezone(UTC))


async def test_where_on_an_unknown_field_is_invalid_input(engine: AsyncEngine) -> None:
    repo, owner = SqlRepository(engine), await _owner(engine)
    with pytest.raises(InvalidInput):
        await repo.list(AssetMeta, owner.id, where={"nope": uuid4()})


async def test_unreachable_postgres_is_unavailable() -> None:
    engine = create_engine("postgresql://postgres@127.0.0.1:1/none")
    try:
        with pytest.raises(Unavailable):
            await SqlRepository(engine).get(Session, uuid4(), uuid4())
        with pytest.raises(Unavailable):
            await SqlAuthStore(engine).find_login("a@example.com")
        with pytest.raises(Unavailable):
            await migrate(engine)
    finally:
        await engine.dispose()


async def test_unopenable_sqlite_file_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "forge.db").mkdir()
    engine = create_engine(f"sqlite:///{tmp_path}/forge.db")
    try:
        with pytest.raises(Unavailable):
            await SqlRepository(engine).list(Session, uuid4())
    finally:
        await engine.dispose()
