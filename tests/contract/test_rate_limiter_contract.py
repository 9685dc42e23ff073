"""The RateLimiter contract, for the memory adapter and the Redis one (the real server
at ``FORGE_TEST_REDIS_URL``): the first ``limit`` hits in a window pass, the rest are
refused with the seconds left, keys count apart; two Redis limiters (two replicas)
share their counts exactly, even when they hit at once."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import anyio
import pytest
from redis.asyncio import Redis

from forge_adapters.memory import MemoryRateLimiter
from forge_adapters.redis_rate_limiter import RedisRateLimiter
from forge_core.errors import Unavailable
from forge_core.rate_limits import Hit, RateLimiter

pytestmark = pytest.mark.anyio


async def hits(limiter: RateLimiter, key: str, count: int, limit: int = 3) -> list[Hit]:
    return [await limiter.hit(key, limit, 60) for _ in range(count)]


class RateLimiterContract:
    @pytest.fixture
    async def limiter(self) -> AsyncIterator[RateLimiter]:
        raise NotImplementedError
        yield

    async def test_the_first_hits_up_to_the_limit_pass_then_the_rest_wait(
        self, limiter: RateLimiter
    ) -> None:
        got = await hits(limiter, "auth:addr:10.0.0.1", 5)
        assert [hit.allowed for hit in got] == [True, True, True, False, False]
        assert all(1 <= hit.retry_after <= 60 for hit in got[3:])

    async def test_keys_count_apart(self, limiter: RateLimiter) -> None:
        await hits(limiter, "runs:user:a", 3)
        assert (await limiter.hit("runs:user:a", 3, 60)).allowed is False
        assert (await limiter.hit("runs:user:b", 3, 60)).allowed is True

    async def test_each_hit_is_checked_against_its_own_limit(self, limiter: RateLimiter) -> None:
        await hits(limiter, "k", 2, limit=5)
        assert (await limiter.hit("k", 2, 60)).allowed is False
        assert (await limiter.hit("k", 5, 60)).allowed is True


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestMemoryRateLimiter(RateLimiterContract):
    @pytest.fixture
    async def limiter(self) -> AsyncIterator[RateLimiter]:
        yield MemoryRateLimiter()

    async def test_a_new_window_starts_when_the_last_ends(self) -> None:
        clock = FakeClock()
        limiter = MemoryRateLimiter(clock)
        await hits(limiter, "k", 3)
        clock.now += 45
        refused = await limiter.hit("k", 3, 60)
        assert refused == Hit(allowed=False, retry_after=15)
        clock.now += 15
        assert (await limiter.hit("k", 3, 60)).allowed is True


class TestRedisRateLimiter(RateLimiterContract):
    @pytest.fixture
    async def limiter(self, redis_client: Redis, redis_prefix: str) -> AsyncIterator[RateLimiter]:
        yield RedisRateLimiter(redis_client, redis_prefix)

    async def test_every_key_expires_with_its_window(
        self, redis_client: Redis, redis_prefix: str
    ) -> None:
        await RedisRateLimiter(redis_client, redis_prefix).hit("k", 3, 60)
        assert 0 < await redis_client.pttl(f"{redis_prefix}k") <= 60_000

    async def test_a_key_that_lost_its_expiry_gets_one_again(
        self, redis_client: Redis, redis_prefix: str
    ) -> None:
        """A counter left without a TTL (PERSIST by hand, a crash between INCR and
        PEXPIRE in an older version) would refuse its caller forever: the next hit sets
        the window again, and the refusal says when it ends."""
        limiter, key = RedisRateLimiter(redis_client, redis_prefix), f"{redis_prefix}k"
        for _ in range(4):
            await limiter.hit("k", 3, 60)
        assert await redis_client.persist(key)
        assert await redis_client.pttl(key) == -1  # no expiry: it would never reset
        refused = await limiter.hit("k", 3, 60)
        assert 0 < await redis_client.pttl(key) <= 60_000
        assert refused == Hit(allowed=False, retry_after=60)

    async def test_two_replicas_share_their_counts_exactly(
        self, redis_url: str, redis_prefix: str
    ) -> None:
        allowed: list[bool] = []
        async with Redis.from_url(redis_url) as one, Redis.from_url(redis_url) as two:
            replicas = [RedisRateLimiter(one, redis_prefix), RedisRateLimiter(two, redis_prefix)]

            async def hit(limiter: RedisRateLimiter) -> None:
                allowed.append((await limiter.hit("auth:email:x", 20, 60)).allowed)

            async with anyio.create_task_group() as group:
                for n in range(50):  # at once, alternating between the replicas
                    group.start_soon(hit, replicas[n % 2])
        assert allowed.count(True) == 20 and len(allowed) == 50

    async def test_a_limiter_whose_redis_is_down_is_unavailable(self, redis_prefix: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        async with Redis.from_url(f"redis://127.0.0.1:{port}/0") as down:
            with pytest.raises(Unavailable):
                await RedisRateLimiter(down, redis_prefix).hit("k", 3, 60)
