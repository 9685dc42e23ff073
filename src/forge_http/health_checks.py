"""``GET /api/v1/health``'s dependency checks: cheap, each time-boxed, cached a second.

Each check is one small call through a port (a lookup of a record that can't exist,
an ``exists`` of a key that isn't there); it answers ``ok`` or ``degraded`` and nothing
else, so no URL, key or path leaks. The health route is also a latency probe, hence the
short timeouts and the cache: a burst of probes costs one round of checks.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import anyio

from forge_core.entities import Session
from forge_core.errors import NotFound
from forge_core.ports import ObjectStore, Renderer, Repository

log = logging.getLogger("forge.health")

Check = Callable[[], Awaitable[object]]
NOBODY = UUID(int=0)
PROBE_KEY = "health/probe"


class HealthChecks:
    def __init__(
        self,
        checks: dict[str, Check],
        timeout: float = 0.5,
        ttl: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._checks, self._timeout, self._ttl, self._clock = checks, timeout, ttl, clock
        self._last: tuple[float, dict[str, str]] | None = None

    async def report(self) -> dict[str, str]:
        """Each dependency's status, at most ``ttl`` seconds old."""
        now = self._clock()
        if self._last is not None and now - self._last[0] < self._ttl:
            return self._last[1]
        results: dict[str, str] = {}
        async with anyio.create_task_group() as group:
            for name, check in self._checks.items():
                group.start_soon(self._run, name, check, results)
        report = {name: results[name] for name in self._checks}
        self._last = (now, report)
        return report

    async def _run(self, name: str, check: Check, results: dict[str, str]) -> None:
        try:
            with anyio.fail_after(self._timeout):
                await check()
            results[name] = "ok"
        except Exception as exc:  # any failure is "degraded"; the log says why
            log.warning("health check %s failed: %s", name, type(exc).__name__)
            results[name] = "degraded"


def database_check(repo: Repository) -> Check:
    async def check() -> None:
        try:
            await repo.get(Session, NOBODY, NOBODY)
        except NotFound:
            return  # the database answered

    return check


def object_store_check(store: ObjectStore) -> Check:
    async def check() -> None:
        await store.exists(PROBE_KEY)

    return check


def backend_check(backend: object) -> Check:
    """The backend is configured and built; calling it would cost a remote request."""

    async def check() -> None:
        if backend is None:
            raise RuntimeError("no inference backend")

    return check


def renderer_check(renderer: Renderer) -> Check:
    """The render engine is installed (its version is known without rendering)."""

    async def check() -> None:
        await renderer.about()

    return check


def redis_check(redis: Any) -> Check:
    """Redis answers a PING (only where the bus or the rate limits use it)."""

    async def check() -> None:
        await redis.ping()

    return check


async def resolved(provider: Any) -> Any:
    """A provider's value; one that depends on an async Resource answers a future."""
    value = provider()
    return await value if inspect.isawaitable(value) else value


async def resolve_checks(gateways: Any) -> HealthChecks:
    """The checks over the container's gateways (resolved as the services are)."""
    checks = {
        "database": database_check(await resolved(gateways.repository)),
        "object_store": object_store_check(await resolved(gateways.object_store)),
        "inference_backend": backend_check(await resolved(gateways.inference)),
        "renderer": renderer_check(await resolved(gateways.renderer)),
    }
    settings = gateways.core.settings()
    if "redis" in (settings.event_bus, settings.rate_limit_store):
        checks["redis"] = redis_check(await resolved(gateways.redis))
    return HealthChecks(checks)
