"""Choosing the event bus and the rate limit store by settings, refusing a Redis URL that
is not one, and the container handing out the chosen adapters (Redis on the test server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from forge_adapters.memory import MemoryRateLimiter
from forge_adapters.redis_rate_limiter import RedisRateLimiter
from forge_http import build_container
from forge_http.container import ServiceSet, shutdown
from forge_http.settings import Settings, SettingsError, load_settings
from tests.http.conftest import make_settings

pytestmark = pytest.mark.anyio


def settings(**values: object) -> Settings:
    return load_settings(_env_file=None, **values)


def test_memory_by_default_redis_when_the_bus_or_the_url_says_so() -> None:
    default = settings()
    assert (default.event_bus, default.rate_limit_store) == ("memory", "memory")
    assert (default.rate_limit_auth_per_minute, default.rate_limit_runs_per_minute) == (20, 30)
    assert settings(event_bus="redis").rate_limit_store == "redis"
    on_redis = settings(redis_url="redis://cache:6379/2")
    assert (on_redis.event_bus, on_redis.rate_limit_store) == ("memory", "redis")


def test_a_redis_url_must_be_one_and_its_password_stays_hidden() -> None:
    with pytest.raises(SettingsError) as caught:
        settings(redis_url="http://cache:6379")
    assert str(caught.value) == (
        "invalid setting FORGE_REDIS_URL: must be a redis://, rediss:// or unix:// URL"
    )
    assert "hunter2" not in repr(settings(redis_url="redis://:hunter2@cache:6379/0"))


@pytest.mark.parametrize("value", [0, -1])
def test_a_rate_limit_below_one_is_refused(value: int) -> None:
    with pytest.raises(SettingsError, match="FORGE_RATE_LIMIT_AUTH_PER_MINUTE"):
        settings(rate_limit_auth_per_minute=value)


async def test_the_container_hands_out_the_chosen_limiter(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    for values, expected in [
        ({}, MemoryRateLimiter),
        ({"event_bus": "redis", "redis_url": redis_url}, RedisRateLimiter),
    ]:
        container = build_container(
            make_settings(tmp_path, database_url="memory://", redis_prefix=redis_prefix, **values)
        )
        services = await ServiceSet.resolve(container)
        try:
            assert type(services.limits.limiter) is expected
            await services.limits.check_auth("10.0.0.1", "ann@example.com")
        finally:
            await shutdown(container)
