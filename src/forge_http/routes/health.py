"""Liveness and each dependency's status: ``status`` is ``ok``, or ``degraded`` if any
check is (the answer stays 200: the process itself is alive)."""

from __future__ import annotations

from functools import cache
from importlib.metadata import version
from typing import Any

from litestar import Request, get

from forge_http.dto import HealthOut
from forge_http.openapi import PublicOperation
from forge_http.security import PUBLIC


@cache
def forge_version() -> str:
    """The installed package's version, read from its metadata once (a read costs ~0.6 ms,
    and health is polled as a latency probe)."""
    return version("forge")


@get("/health", opt=PUBLIC, operation_class=PublicOperation, tags=["health"])
async def health(request: Request[Any, Any, Any]) -> HealthOut:
    checks = await request.app.state.health.report()
    status = "ok" if all(v == "ok" for v in checks.values()) else "degraded"
    return HealthOut(status=status, version=forge_version(), checks=checks)
