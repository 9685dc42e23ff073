"""The one pooled httpx client that the network adapters (RunPod, OpenAI-compatible)
share; the container opens it as a Resource and closes it at shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

USER_AGENT = "forge"


def make_http_client(seconds: float = 30.0) -> httpx.AsyncClient:
    """A client whose every request times out after ``seconds`` (connecting: 10 s)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(seconds, connect=min(seconds, 10.0)),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
    )


async def open_http_client(seconds: float = 30.0) -> AsyncIterator[httpx.AsyncClient]:
    """The shared client, closed when the application shuts down."""
    client = make_http_client(seconds)
    try:
        yield client
    finally:
        await client.aclose()
