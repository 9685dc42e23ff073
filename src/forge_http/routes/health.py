"""Liveness and each dependency's status: ``status`` is ``ok``, or ``degraded`` if any
check is (the answer stays 200: the process itself is alive)."""

from __future__ import annotations

from functools import cache
from importlib.metadata import version
from typing import Any

from litestar import Request, get

from forge_core.errors import Unavailable
from forge_core.ports import Renderer
from forge_http.dto import HealthOut, RendererOut
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
    renderer = await renderer_info(request.app.state.renderer)
    return HealthOut(status=status, version=forge_version(), checks=checks, renderer=renderer)


async def renderer_info(renderer: Renderer) -> RendererOut | None:
    """The engine and its version, or None where it is not installed."""
    try:
        info = await renderer.about()
    except Unavailable:
        return None
    return RendererOut(engine=info.engine, version=info.version)
