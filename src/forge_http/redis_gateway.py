"""The Redis client the event bus and the rate limiter share, for the container."""

from __future__ import annotations

from collections.abc import AsyncIterator

from redis.asyncio import Redis

from forge_adapters.redis_rate_limiter import RedisRateLimiter
from forge_http.settings import Settings


async def open_redis(settings: Settings) -> AsyncIterator[Redis]:
    """One client (a connection pool) that connects on first use; closed at shutdown."""
    client = Redis.from_url(settings.redis_url.get_secret_value())
    try:
        yield client
    finally:
        await client.aclose()


def redis_rate_limiter(redis: Redis, settings: Settings) -> RedisRateLimiter:
    return RedisRateLimiter(redis, prefix=f"{settings.redis_prefix}rate:")
