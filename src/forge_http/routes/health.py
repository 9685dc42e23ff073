"""Liveness and each dependency's status: ``status`` is ``ok``, or ``degraded`` if any
check is (the answer stays 200: the process itself is alive)."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from litestar import Request, get

from forge_http.dto import HealthOut
from forge_http.openapi import PublicOperation
from forge_http.security import PUBLIC


@get("/health", opt=PUBLIC, operation_class=PublicOperation, tags=["health"])
async def health(request: Request[Any, Any, Any]) -> HealthOut:
    checks = await request.app.state.health.report()
    status = "ok" if all(v == "ok" for v in checks.values()) else "degraded"
    return HealthOut(status=status, version=version("forge"), checks=checks)
