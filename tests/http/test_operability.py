"""Request ids, structured logs, /metrics and the dependency health."""

from __future__ import annotations

import io
import json
import logging
import shutil
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient, TestClient

from forge_http import build_container, create_app
from forge_http.access_log import AccessLog
from forge_http.log_config import RedactTokens, uvicorn_log_config
from forge_http.observability import JsonFormatter, RequestIdFilter
from tests.http.conftest import User, create, make_settings

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Any]


class Lines(logging.Handler):
    """Keeps each record as the JSON formatter writes it."""

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(RequestIdFilter())
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def forge_lines() -> Any:
    handler, logger = Lines(), logging.getLogger("forge.health")
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


async def test_a_request_id_is_echoed_or_made(client: Client) -> None:
    given = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/health")
    other = await client.get("/health")
    assert len(made.headers["x-request-id"]) == 32
    assert made.headers["x-request-id"] != other.headers["x-request-id"]
    # A header that could forge a log line is replaced, not echoed.
    forged = await client.get("/health", headers={"X-Request-ID": 'x" level=error'})
    assert forged.headers["x-request-id"] != 'x" level=error'


async def test_an_error_answer_carries_the_id_too(client: Client) -> None:
    response = await client.get("/sessions", headers={"X-Request-ID": "req-401"})
    assert response.status_code == 401
    assert response.headers["x-request-id"] == "req-401"


async def test_log_lines_written_while_handling_carry_the_request_id(
    tmp_path: Path, forge_lines: list[dict[str, Any]]
) -> None:
    # A health check that fails logs a line (from forge.health) inside the request.
    settings = make_settings(tmp_path, auth_backend="local", object_store="memory")
    container = build_container(settings)
    app = create_app(container)
    async with AsyncTestClient(app, base_url="http://testserver.local/api/v1") as client:
        app.state.health._checks["object_store"] = broken
        response = await client.get("/health", headers={"X-Request-ID": "trace-me"})
    assert response.json()["checks"]["object_store"] == "degraded"
    line = next(x for x in forge_lines if "object_store" in x["message"])
    assert line["request_id"] == "trace-me"
    assert line["logger"] == "forge.health" and line["level"] == "warning"
    assert set(line) >= {"time", "level", "logger", "message", "request_id"}


async def broken() -> None:
    raise OSError("disk gone")


def test_the_json_config_formats_every_handler_and_the_app_loggers() -> None:
    config = uvicorn_log_config("json")
    assert {f["()"] for f in config["formatters"].values()} == {
        "forge_http.observability.JsonFormatter"
    }
    for handler in config["handlers"].values():
        assert {"request_id", "redact_tokens"} <= set(handler["filters"])
    assert config["loggers"]["forge"]["handlers"] == ["default"]
    text = uvicorn_log_config("text")
    assert "%(request_id)s" in text["formatters"]["access"]["fmt"]


def test_an_access_line_as_json_keeps_tokens_out() -> None:
    # The handler the config describes, built by hand: dictConfig would reset the
    # process's logging for every later test.
    config = uvicorn_log_config("json")
    assert config["handlers"]["access"]["filters"] == ["request_id", "redact_tokens"]
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactTokens())
    handler.setFormatter(JsonFormatter())
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("1.2.3.4:5", "GET", "/api/v1/chat-socket/c?token=s3cret", "1.1", 101), None,
    )  # fmt: skip
    assert handler.filter(record)
    line = json.loads(handler.format(record))
    assert "s3cret" not in line["message"] and line["logger"] == "uvicorn.access"
    assert line["request_id"] == "-"  # outside a request


@pytest.mark.parametrize("log_format", ["json", "text"])
async def test_forge_serves_access_line_has_the_request_id_and_no_token(
    tmp_path: Path, log_format: str
) -> None:
    written = io.StringIO()
    app = create_app(
        build_container(make_settings(tmp_path, auth_backend="local", object_store="memory")),
        access_log=AccessLog(log_format, written),
    )
    async with AsyncTestClient(app) as client:
        headers = {"X-Request-ID": "line-1"}
        await client.get("/api/v1/sessions?token=s3cret&limit=2", headers=headers)
    [line] = written.getvalue().splitlines()
    message = json.loads(line)["message"] if log_format == "json" else line
    assert '"GET /api/v1/sessions?token=[redacted]&limit=2 HTTP/1.1" 401' in message
    assert "s3cret" not in line and "line-1" in line
    if log_format == "json":
        assert json.loads(line)["logger"] == "forge.access"


async def test_metrics_has_requests_by_route_status_and_latency(
    client: Client, alice: User
) -> None:
    session = await create(client, alice, "/sessions", {"name": "m"})
    await client.get(f"/sessions/{session['id']}", headers=alice.headers)
    response = await client.get("http://testserver.local/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    await client.get("/sessions")  # no token: 401
    await client.get("/no/such/path")
    text = (await client.get("http://testserver.local/metrics")).text

    def count(route: str, status: str) -> bool:
        labels = f'{{method="GET",route="{route}",status="{status}"}}'
        return any(
            line.startswith(f"forge_http_requests_total{labels} ") for line in text.splitlines()
        )

    assert count("/api/v1/sessions/{session_id}", "200")
    assert count("/api/v1/sessions", "401")
    assert count("unmatched", "404")
    assert 'forge_http_request_duration_seconds_bucket{le="0.001",method="GET"' in text
    assert session["id"] not in text  # labelled by template, not by id
    assert "forge_open_sockets " in text
    assert 'forge_jobs{status="running"} 0.0' in text
    assert 'forge_runs{status="queued"} 0.0' in text


async def test_jobs_and_runs_by_state_are_counted_at_scrape(client: Client, alice: User) -> None:
    session = await create(client, alice, "/sessions", {"name": "m"})
    for _ in range(2):
        await create(client, alice, "/jobs", {"session_id": session["id"], "prompt": "a cube"})
    text = (await client.get("http://testserver.local/metrics")).text
    assert 'forge_jobs{status="pending"} 2.0' in text
    assert 'forge_jobs{status="running"} 0.0' in text


async def test_metrics_token_when_set(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, metrics_token="m" * 20, object_store="memory")
    async with AsyncTestClient(create_app(build_container(settings))) as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = await client.get("/metrics", headers={"Authorization": f"Bearer {'m' * 20}"})
        assert ok.status_code == 200 and "forge_open_sockets" in ok.text


async def test_health_reports_each_dependency_and_no_settings(client: Client) -> None:
    body = (await client.get("/health")).json()
    assert body["status"] == "ok" and body["version"]
    assert body["checks"] == {
        "database": "ok",
        "object_store": "ok",
        "inference_backend": "ok",
        "renderer": "ok",
    }
    assert body["renderer"] == {"engine": "manifold", "version": version("openscad-evaluator")}
    text = json.dumps(body)
    for secret in ("sqlite", "forge.db", "test-secret", "forge-data", "objects", "http"):
        assert secret not in text


async def test_health_names_openscad_when_it_is_chosen(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, object_store="memory", renderer="openscad")
    async with AsyncTestClient(create_app(build_container(settings))) as client:
        body = (await client.get("/api/v1/health")).json()
    if shutil.which("openscad") is None:  # the answer says so, and the check is degraded
        assert body["renderer"] is None and body["checks"]["renderer"] == "degraded"
    else:
        assert body["renderer"]["engine"] == "openscad"
        assert body["renderer"]["version"][:4].isdigit()  # "2021.01"


async def test_health_is_degraded_when_a_check_fails(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, object_store="memory")
    app = create_app(build_container(settings))
    async with AsyncTestClient(app, base_url="http://testserver.local/api/v1") as client:
        app.state.health._checks["database"] = broken
        body = (await client.get("/health")).json()
    assert body["status"] == "degraded" and body["checks"]["database"] == "degraded"
    assert "disk gone" not in json.dumps(body)


async def test_health_checks_redis_where_it_is_used(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    settings = make_settings(
        tmp_path,
        object_store="memory",
        event_bus="redis",
        redis_url=redis_url,
        redis_prefix=redis_prefix,
    )
    app = create_app(build_container(settings))
    async with AsyncTestClient(app, base_url="http://testserver.local/api/v1") as client:
        body = (await client.get("/health")).json()
    assert body["checks"]["redis"] == "ok" and body["status"] == "ok"
    assert redis_url not in json.dumps(body)


async def test_health_is_degraded_when_redis_does_not_answer(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        object_store="memory",
        rate_limit_store="redis",
        redis_url="redis://127.0.0.1:1/0",
    )
    app = create_app(build_container(settings))
    async with AsyncTestClient(app, base_url="http://testserver.local/api/v1") as client:
        body = (await client.get("/health")).json()
    assert body["status"] == "degraded" and body["checks"]["redis"] == "degraded"
    assert body["checks"]["database"] == "ok"


def open_sockets(client: TestClient[Any]) -> float:
    text = client.get("/metrics").text
    return float(
        next(x for x in text.splitlines() if x.startswith("forge_open_sockets ")).split()[1]
    )


def test_open_sockets_are_counted(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, auth_backend="local", object_store="memory")
    with TestClient(
        create_app(build_container(settings)), base_url="http://testserver.local"
    ) as client:
        body = {"email": "s@example.com", "password": "secret"}
        client.post("/api/v1/auth/register", json=body)
        token = client.post("/api/v1/auth/login", json=body).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        session = client.post("/api/v1/sessions", json={"name": "s"}, headers=headers).json()
        chat = client.post("/api/v1/chats", json={"session_id": session["id"]}, headers=headers)
        path = f"/api/v1/chat-socket/{chat.json()['id']}?token={token}"
        before = open_sockets(client)
        with client.websocket_connect(path) as first, client.websocket_connect(path) as second:
            for ws in (first, second):
                ws.send_json({"type": "ping"})
                assert ws.receive_json(timeout=15) == {"type": "pong"}  # streaming by now
            assert open_sockets(client) == before + 2
        for _ in range(200):  # the handlers finish just after the client closes
            if open_sockets(client) == before:
                break
        assert open_sockets(client) == before
