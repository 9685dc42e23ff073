"""Fixtures for the whole suite: the async backend, a PostgreSQL database, Redis, a fake
RunPod.

PostgreSQL tests (marked ``postgres``) use ``postgres_url``: a fresh database made for
this test session on the server at ``FORGE_TEST_POSTGRES_URL`` and dropped at the end.
An unreachable server skips them, or fails them when ``FORGE_REQUIRE_POSTGRES=1`` (CI).
Redis tests use ``redis_url`` (``FORGE_TEST_REDIS_URL``) and a ``redis_prefix`` of their
own for channels and keys, so parallel runs on one Redis never meet; an unreachable
Redis skips them, or fails them when ``FORGE_REQUIRE_REDIS=1`` (CI).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from forge_adapters.http_client import make_http_client
from tests.fakes.runpod import FakeRunPod

pytest_plugins = [
    "tests.fakes.fixtures",  # the fake GoTrue (Supabase Auth)
    "tests.fakes.s3",  # a real S3-compatible server (moto) on 127.0.0.1
]

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
E2E = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``nox`` runs the suite on several workers), the tests that
    start ``forge serve`` processes share one worker and run one after another: each
    server takes a core while it starts, and their waits are sized for one at a time.
    Everything else is isolated already (a PostgreSQL database per worker, a Redis
    prefix per test, free ports, ``tmp_path``, the metrics registry per process)."""
    for item in items:
        if item.path.is_relative_to(E2E) or item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.xdist_group("forge-serve"))


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def _admin_engine(url: str) -> AsyncEngine:
    """An engine on the server's maintenance database, outside transactions."""
    parsed = make_url(url).set(drivername="postgresql+asyncpg")
    return create_async_engine(
        parsed, isolation_level="AUTOCOMMIT", poolclass=NullPool, connect_args={"timeout": 5}
    )


@pytest.fixture(scope="session")
async def postgres_url(anyio_backend: str) -> AsyncIterator[str]:
    """The URL of an empty database of its own for this test session."""
    server = os.environ.get("FORGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    name = f"forge_test_{secrets.token_hex(6)}"
    admin = _admin_engine(server)
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except (OSError, SQLAlchemyError) as exc:
        await admin.dispose()
        reason = f"PostgreSQL not reachable at {make_url(server)!r}: {exc}"
        if os.environ.get("FORGE_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()


@pytest.fixture(scope="session")
async def redis_url(anyio_backend: str) -> str:
    """The test Redis, checked once per session."""
    url = os.environ.get("FORGE_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    client = Redis.from_url(url, socket_connect_timeout=5)
    try:
        await client.ping()
    except (OSError, RedisError) as exc:
        reason = f"Redis not reachable at {url!r}: {exc}"
        if os.environ.get("FORGE_REQUIRE_REDIS") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    finally:
        await client.aclose()
    return url


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A channel and key prefix of this test's own; its keys are removed after."""
    prefix = f"forge-test-{secrets.token_hex(6)}:"
    yield prefix
    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    """A client (its own connection pool) on the test Redis, closed after the test."""
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def fake_runpod() -> Iterator[FakeRunPod]:
    """A fake RunPod endpoint on a local port (see tests/fakes/runpod.py)."""
    with FakeRunPod().running() as fake:
        yield fake


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    """A pooled client like the one the container shares, closed after the test."""
    async with make_http_client(5.0) as client:
        yield client
