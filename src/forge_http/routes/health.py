"""Liveness."""

from __future__ import annotations

from importlib.metadata import version

from litestar import get

from forge_http.dto import HealthOut
from forge_http.security import PUBLIC


@get("/health", opt=PUBLIC, tags=["health"], sync_to_thread=False)
def health() -> HealthOut:
    return HealthOut(status="ok", version=version("forge"))
