"""Fixtures for the fake GoTrue: one server per test session, emptied before each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from forge_adapters.memory import MemoryAuthStore
from forge_adapters.supabase import GoTrue, SupabaseAuthProvider, TokenVerifier
from tests.fakes.gotrue import FakeGoTrue


@pytest.fixture(scope="session")
def gotrue_server() -> Iterator[FakeGoTrue]:
    fake = FakeGoTrue().start()
    yield fake
    fake.stop()


@pytest.fixture
def gotrue(gotrue_server: FakeGoTrue) -> FakeGoTrue:
    gotrue_server.reset()
    return gotrue_server


@pytest.fixture
async def supabase_http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


def supabase_provider(
    fake: FakeGoTrue,
    http: httpx.AsyncClient,
    *,
    store: MemoryAuthStore | None = None,
    jwt_secret: str | None = None,
) -> SupabaseAuthProvider:
    """The adapter against ``fake``, retrying quickly, over a memory store."""
    gotrue = GoTrue(http, fake.url, fake.anon_key, attempts=3, backoff=0.001)
    verifier = TokenVerifier(gotrue, jwt_secret=jwt_secret)
    return SupabaseAuthProvider(gotrue, verifier, store or MemoryAuthStore())
