"""An access token past its ``exp`` is refused, by the verifier's own (injected) clock,
whether or not its verification is cached: local JWTs, and Supabase tokens on each of
the three paths (JWKS, the HS256 secret, asking ``GET /user``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from argon2 import PasswordHasher

from forge_adapters.local_auth import LocalAuthProvider
from forge_adapters.memory import MemoryAuthStore
from forge_adapters.supabase import GoTrue, TokenVerifier
from forge_core.errors import Unauthenticated
from tests.fakes.fixtures import supabase_provider
from tests.fakes.gotrue import FakeGoTrue

pytestmark = pytest.mark.anyio

TTL = timedelta(minutes=5)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def timestamp(self) -> float:
        return self.now.timestamp()


async def test_a_local_token_past_exp_is_refused_even_when_cached() -> None:
    clock, store = Clock(), MemoryAuthStore()
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    secret = "expiry-secret-" + "x" * 32
    provider = LocalAuthProvider(store, secret, hasher=hasher, clock=clock, access_ttl=TTL)
    await provider.register("ada@example.com", "secret", None)
    token = (await provider.login("ada@example.com", "secret")).access_token
    await provider.authenticate(token)  # verified, and remembered

    clock.now += TTL - timedelta(seconds=1)
    assert (await provider.authenticate(token)).email == "ada@example.com"
    clock.now += timedelta(seconds=1)  # exactly exp: no longer valid
    with pytest.raises(Unauthenticated, match="expired"):
        await provider.authenticate(token)

    fresh = LocalAuthProvider(store, secret, hasher=hasher, clock=clock)  # nothing cached
    with pytest.raises(Unauthenticated, match="expired"):
        await fresh.authenticate(token)


CLAIMS = {
    "sub": "7d3f6a52-3b1e-4a0c-9f57-2f6c1d9e8b10",
    "session_id": "0c8f3b9e-6a51-4a7d-8c1e-5b2d9f4e7a36",
    "aud": "authenticated",
}


def verifier_for(fake: FakeGoTrue, http: httpx.AsyncClient, clock: Any, **kw: Any) -> Any:
    wire = GoTrue(http, fake.url, fake.anon_key, backoff=0.001)
    return TokenVerifier(wire, clock=clock, **kw)


async def expires_by_the_clock(
    fake: FakeGoTrue, http: httpx.AsyncClient, token: str | None = None, **kw: Any
) -> tuple[int, int]:
    """Verify a token twice (so it is cached), move the clock to its exp, and check that
    both the verifier that cached it and a fresh one refuse it. Answers how often the
    fake was asked for the user before and after the clock moved."""
    token = token or fake.sign({**CLAIMS, "iss": fake.issuer, "exp": int(time.time()) + 60})
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    now = [exp - 1.0]
    cached = verifier_for(fake, http, lambda: now[0], **kw)
    for _ in range(2):
        assert (await cached.verify(token)).expires_at == exp
    asked = fake.count("/user")
    now[0] = exp
    with pytest.raises(Unauthenticated, match="expired"):
        await cached.verify(token)
    with pytest.raises(Unauthenticated, match="expired"):
        await verifier_for(fake, http, lambda: now[0], **kw).verify(token)
    return asked, fake.count("/user")


async def test_a_supabase_jwks_token_past_exp_is_refused_even_when_cached(
    gotrue: FakeGoTrue, supabase_http: httpx.AsyncClient
) -> None:
    await expires_by_the_clock(gotrue, supabase_http)


@pytest.fixture
def legacy() -> Iterator[FakeGoTrue]:
    fake = FakeGoTrue(hs256_secret="legacy-secret-" + "s" * 32).start()
    yield fake
    fake.stop()


async def test_a_supabase_hs256_token_past_exp_is_refused_even_when_cached(
    legacy: FakeGoTrue, supabase_http: httpx.AsyncClient
) -> None:
    await expires_by_the_clock(legacy, supabase_http, jwt_secret=legacy.hs256_secret)


async def test_a_token_supabase_vouched_for_is_refused_past_exp_without_asking_again(
    legacy: FakeGoTrue, supabase_http: httpx.AsyncClient
) -> None:
    provider = supabase_provider(legacy, supabase_http)
    await provider.register("ada@example.com", "secret", None)
    token = (await provider.login("ada@example.com", "secret")).access_token
    before, after = await expires_by_the_clock(legacy, supabase_http, token)
    assert before == 1 and after == before  # refused here, not by Supabase
