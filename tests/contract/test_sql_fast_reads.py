"""The fast read paths (rows rendered as JSON by the database, decoded by msgspec) give
back exactly what SQLAlchemy's own reads give, on SQLite and PostgreSQL, for the values
whose encodings differ: microseconds, other offsets, unicode and escapes, JSON numbers,
UUID lists, enums and NULLs."""

from __future__ import annotations

import logging
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import anyio
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from forge_adapters.sql import SqlAuthStore, SqlRepository, create_engine
from forge_core.entities import AuthSession, JobStatus, OwnedEntity, Session, User

from .records import T0, Tree, make_tree

pytestmark = pytest.mark.anyio

ODD = datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=5, minutes=45)))
TEXT = 'ünï "quoted" back\\slash\nnew line\ttab \u2028 \x01 😀 中文'
JSON: dict[str, Any] = {
    TEXT: [TEXT, None, True, 0, -1, 2**70, 2.5, 0.1 + 0.2, {"nested": {}}, []],
    "": "",
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> AsyncEngine:
    found: AsyncEngine = request.getfixturevalue(f"{request.param}_engine")
    return found


def odd_tree(owner: User) -> Tree:
    """One record of each kind, with every awkward value the columns can hold."""
    tree = make_tree(owner.id, ODD)
    return Tree(
        replace(tree.session, name=TEXT, metadata_json=JSON),
        replace(tree.chat, title=None),
        replace(tree.message, content=TEXT, tokens=2**31 - 1, metadata_json=None),
        replace(
            tree.job,
            status=JobStatus.RUNNING,
            spec=JSON,
            started_at=T0.astimezone(timezone(timedelta(hours=-9, minutes=-30))),
            error="",
        ),
        replace(tree.asset, uri="file:///ü/😀.stl"),
        replace(
            tree.meta,
            part_name=None,
            position_json={"x": -1.5e-7, "y": 12345.678},
            image_paths_json=[TEXT, 1, None],
            is_composite_of=[uuid4(), uuid4()],
            used_for_json=[TEXT, ""],
        ),
    )


def assert_utc(record: Any) -> None:
    for field in fields(record):
        value = getattr(record, field.name)
        if isinstance(value, datetime):
            assert value.tzinfo is UTC, field.name


async def _owner(engine: AsyncEngine) -> User:
    user = User(id=uuid4(), email=f"{uuid4()}@example.com", created_at=T0, updated_at=T0)
    await SqlAuthStore(engine).add_user(user, None)
    return user


async def test_records_read_the_same_on_both_paths(engine: AsyncEngine) -> None:
    fast, slow = SqlRepository(engine), SqlRepository(engine, fast_reads=False)
    owner = await _owner(engine)
    tree = odd_tree(owner)
    for record in tree.records():
        await fast.add(record)
    for record in tree.records():
        kind: type[OwnedEntity] = type(record)
        found = await fast.get(kind, record.id, owner.id)
        assert found == await slow.get(kind, record.id, owner.id) == record
        assert await fast.list(kind, owner.id) == await slow.list(kind, owner.id) == [record]
        assert_utc(found)
    job = await fast.get(type(tree.job), tree.job.id, owner.id)
    assert type(job.status) is JobStatus and job.completed_at is None
    meta = await fast.get(type(tree.meta), tree.meta.id, owner.id)
    assert meta.is_composite_of == tree.meta.is_composite_of
    assert meta.position_json == {"x": -1.5e-7, "y": 12345.678}


async def test_logins_read_the_same_on_both_paths(engine: AsyncEngine) -> None:
    fast, slow = SqlAuthStore(engine), SqlAuthStore(engine, fast_reads=False)
    owner = await _owner(engine)
    login = AuthSession(
        id=uuid4(),
        user_id=owner.id,
        refresh_token_hash=None,
        expires_at=ODD,
        revoked_at=datetime(2024, 2, 29, 0, 0, 0, 1, tzinfo=UTC),
        created_at=T0,
        updated_at=ODD,
    )
    await fast.add_session(login)
    found = await fast.get_session(login.id)
    assert found == await slow.get_session(login.id) == login
    assert found is not None
    assert_utc(found)
    assert await fast.get_session(uuid4()) is None


@pytest.mark.postgres
async def test_postgres_reads_are_utc_whatever_the_session_time_zone(
    postgres_engine: AsyncEngine,
) -> None:
    """PostgreSQL's own JSON of a timestamptz follows the session's TimeZone."""
    settings = {"server_settings": {"timezone": "America/St_Johns"}}
    engine = create_engine(postgres_engine.url.render_as_string(False), connect_args=settings)
    try:
        repo, owner = SqlRepository(engine), await _owner(engine)
        tree = odd_tree(owner)
        await repo.add(tree.session)
        await repo.add(tree.chat)
        for found in [await repo.get(type(tree.chat), tree.chat.id, owner.id)] + await repo.list(
            type(tree.session), owner.id
        ):
            assert_utc(found)
            assert found.created_at == ODD
            assert found.created_at.microsecond == ODD.microsecond
    finally:
        await engine.dispose()


async def test_pages_are_ordered_and_complete(engine: AsyncEngine) -> None:
    repo, owner = SqlRepository(engine), await _owner(engine)
    sessions = [
        replace(make_tree(owner.id).session, created_at=T0 + timedelta(microseconds=n // 2))
        for n in range(7)
    ]
    for session in sessions:
        await repo.add(session)
    expected = sorted(sessions, key=lambda s: (s.created_at, str(s.id)))
    slow = SqlRepository(engine, fast_reads=False)
    assert await repo.list(type(sessions[0]), owner.id, limit=7) == expected
    assert await repo.list(type(sessions[0]), owner.id, limit=3, offset=2) == expected[2:5]
    assert await repo.list(type(sessions[0]), owner.id, offset=5) == expected[5:]
    assert await repo.list(type(sessions[0]), owner.id) == await slow.list(
        type(sessions[0]), owner.id
    )


async def test_sqlite_pages_keep_their_order_where_no_index_gives_it(
    sqlite_engine: AsyncEngine,
) -> None:
    """SQLite joins a page's rows into one JSON array with ``group_concat``, which must
    keep the subquery's order. The owner index hands rows over already in order, so
    without it (rows stored newest first) the order comes from the ORDER BY alone."""
    async with sqlite_engine.begin() as conn:
        await conn.exec_driver_sql("DROP INDEX ix_sessions_owner_order")
    repo, owner = SqlRepository(sqlite_engine), await _owner(sqlite_engine)
    sessions = [
        replace(make_tree(owner.id).session, created_at=T0 + timedelta(seconds=n)) for n in range(6)
    ]
    for session in reversed(sessions):
        await repo.add(session)
    assert await repo.list(Session, owner.id) == sessions
    assert await repo.list(Session, owner.id, limit=3, offset=1) == sessions[1:4]


@pytest.mark.postgres
async def test_reads_beyond_the_pool_size_close_their_connections(
    postgres_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """A connection beyond the pool's size is closed when handed back, which asyncpg
    does awaiting: it must not fail (and leave the connection open) on the way."""
    url = postgres_engine.url.render_as_string(False)
    engine = create_engine(url, pool_size=1, max_overflow=4)
    try:
        repo, owner = SqlRepository(engine), await _owner(engine)
        with caplog.at_level(logging.WARNING, logger="sqlalchemy.pool"):
            for _ in range(3):
                async with anyio.create_task_group() as group:
                    for _ in range(5):
                        group.start_soon(repo.list, Session, owner.id)
        assert [r.getMessage() for r in caplog.records if r.name.startswith("sqlalchemy")] == []
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
