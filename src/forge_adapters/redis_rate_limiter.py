"""The RateLimiter port on Redis: one counter per key and window, shared by every
replica on the same Redis. A hit is one Lua script (INCR, PEXPIRE on the first hit,
PTTL), so concurrent hits from several replicas count exactly and a key never stays
without its expiry."""

from __future__ import annotations

import math

from redis.asyncio import Redis
from redis.exceptions import RedisError

from forge_core.errors import Unavailable
from forge_core.rate_limits import Hit

_HIT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class RedisRateLimiter:
    """Fixed windows per key in Redis, under ``prefix`` (one per deployment)."""

    def __init__(self, redis: Redis, prefix: str = "forge:rate:") -> None:
        self.redis, self.prefix = redis, prefix
        self._script = redis.register_script(_HIT)

    async def hit(self, key: str, limit: int, window: int) -> Hit:
        try:
            count, ttl_ms = await self._script(keys=[self.prefix + key], args=[window * 1000])
        except RedisError as exc:
            raise Unavailable("the rate limiter's Redis cannot answer now") from exc
        if int(count) <= limit:
            return Hit(allowed=True)
        return Hit(allowed=False, retry_after=max(1, math.ceil(int(ttl_ms) / 1000)))
