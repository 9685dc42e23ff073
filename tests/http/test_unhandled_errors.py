"""A bug is a 500 that the server log explains: once, with its traceback and request id."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from forge_adapters.memory import MemoryRepository
from forge_http import build_container, create_app
from forge_http.observability import JsonFormatter, RequestIdFilter
from tests.http.conftest import make_settings, sign_up

pytestmark = pytest.mark.anyio


class BuggyRepository(MemoryRepository):
    """A store with a bug: listing raises what no handler expects."""

    async def list(self, *args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("a bug in the listing")


class Records(logging.Handler):
    """Every record any logger writes, as the JSON formatter writes it."""

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(RequestIdFilter())
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@contextmanager
def log_lines() -> Iterator[list[dict[str, Any]]]:
    """Lines from the root logger and Litestar's (which does not propagate), added once
    the app has started: with FORGE_LOG_LEVEL=debug, Litestar configures logging then."""
    handler = Records()
    loggers = [logging.getLogger(), logging.getLogger("litestar")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


@pytest.mark.parametrize("log_level", ["info", "debug"])
async def test_an_unhandled_error_is_logged_once_with_traceback_and_request_id(
    tmp_path: Path, log_level: str
) -> None:
    settings = make_settings(tmp_path, database_url="memory://", log_level=log_level)
    container = build_container(settings)
    container.gateways.repository.override(providers.Singleton(BuggyRepository))
    app = create_app(container)
    async with AsyncTestClient(app, base_url="http://testserver.local/api/v1") as client:
        alice = await sign_up(client, "alice@example.com")
        with log_lines() as lines:
            response = await client.get(
                "/sessions", headers={**alice.headers, "X-Request-ID": "bug-report-1"}
            )
    assert response.status_code == 500
    assert response.json() == {"status_code": 500, "detail": "Internal Server Error"}
    assert "a bug in the listing" not in response.text
    with_traceback = [line for line in lines if "exc" in line]
    assert len(with_traceback) == 1, with_traceback
    line = with_traceback[0]
    assert line["request_id"] == "bug-report-1"
    assert line["level"] == "error"
    assert "GET /api/v1/sessions" in line["message"]
    assert "ZeroDivisionError: a bug in the listing" in line["exc"]
    assert "Traceback" in line["exc"] and "BuggyRepository" not in line["message"]
