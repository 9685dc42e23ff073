"""Rate limits over HTTP and the socket: register, login and refresh per client address
and per email, runs per user (the POST and the socket's runpod.request frame), each
answered 429 with Retry-After (a frame's ``retry_after``) and a detail naming the limit,
leaving stored data as it was; and two replicas on one Redis sharing the counts and the
chat events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient
from litestar.types import Receive, Scope, Send

from forge_adapters.memory import MemoryInferenceBackend
from forge_http import build_container, create_app
from tests.http.conftest import FAST_HASHER, make_settings

Client = TestClient[Any]
MakeClient = Callable[..., AbstractContextManager[Client]]
PROMPT = {"action": "process_requirements", "content": "Design a small quadcopter frame"}


def addressed(app: Litestar) -> Litestar:
    """The app, taking the client's address from ``X-Test-Client`` as uvicorn takes it
    from ``X-Forwarded-For`` behind a trusted proxy."""
    inner = app.asgi_handler

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        address = dict(scope.get("headers", [])).get(b"x-test-client")
        if address is not None:
            scope["client"] = (address.decode(), 50000)
        await inner(scope, receive, send)

    app.asgi_handler = handler
    return app


@pytest.fixture
def make_client(tmp_path: Path) -> MakeClient:
    @contextmanager
    def make(
        auth: int = 3, runs: int = 2, backend: Any = None, **overrides: Any
    ) -> Iterator[Client]:
        settings = make_settings(
            tmp_path,
            auth_backend="local",
            rate_limit_auth_per_minute=auth,
            rate_limit_runs_per_minute=runs,
            **overrides,
        )
        container = build_container(settings)
        container.gateways.password_hasher.override(providers.Object(FAST_HASHER))
        if backend is not None:
            container.gateways.inference.override(providers.Object(backend))
        app = addressed(create_app(container))
        with TestClient(app, base_url="http://testserver.local/api/v1") as client:
            yield client

    return make


@pytest.fixture
def client(make_client: MakeClient) -> Iterator[Client]:
    with make_client() as client:
        yield client


def call(client: Client, path: str, body: dict[str, Any], address: str = "10.0.0.1") -> Any:
    return client.post(path, json=body, headers={"X-Test-Client": address})


def register(client: Client, email: str, address: str = "10.0.0.1") -> Any:
    return call(client, "/auth/register", {"email": email, "password": "secret"}, address)


def login(client: Client, email: str, address: str = "10.0.0.1") -> Any:
    return call(client, "/auth/login", {"email": email, "password": "secret"}, address)


def assert_limited(response: Any, says: str) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert says in response.json()["detail"]


def test_sign_in_attempts_are_limited_per_address(client: Client) -> None:
    assert register(client, "ann@example.com").status_code == 201
    assert login(client, "ann@example.com").status_code == 200
    assert login(client, "nobody@example.com").status_code == 401
    assert_limited(login(client, "ann@example.com"), "from this address")
    assert login(client, "ann@example.com", address="10.0.0.2").status_code == 200


def test_sign_in_attempts_are_limited_per_email_from_any_address(client: Client) -> None:
    assert register(client, "ann@example.com", "10.0.0.1").status_code == 201
    assert login(client, "ann@example.com", "10.0.0.2").status_code == 200
    assert login(client, "ANN@example.com", "10.0.0.3").status_code == 200
    assert_limited(login(client, "ann@example.com", "10.0.0.4"), "for this email")
    assert register(client, "bob@example.com", "10.0.0.4").status_code == 201


def test_a_refused_register_stores_nothing(client: Client) -> None:
    for n in range(3):
        assert register(client, f"user{n}@example.com").status_code == 201
    assert_limited(register(client, "late@example.com"), "from this address")
    assert login(client, "late@example.com", "10.0.0.2").status_code == 401
    assert register(client, "late@example.com", "10.0.0.2").status_code == 201


def test_refresh_is_limited_per_address(client: Client) -> None:
    register(client, "ann@example.com")
    token = login(client, "ann@example.com").json()["refresh_token"]
    refreshed = call(client, "/auth/refresh", {"refresh_token": token})
    assert refreshed.status_code == 200
    refused = call(client, "/auth/refresh", {"refresh_token": refreshed.json()["refresh_token"]})
    assert_limited(refused, "from this address")


class Person:
    def __init__(self, client: Client, email: str, address: str) -> None:
        assert register(client, email, address).status_code == 201
        token = login(client, email, address).json()["access_token"]
        self.client, self.token = client, token
        self.headers = {"Authorization": f"Bearer {token}", "X-Test-Client": address}

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(path, json=body, headers=self.headers)

    def new_chat(self) -> str:
        session = self.post("/sessions", {"name": "Design Session 1"}).json()
        return str(self.post("/chats", {"session_id": session["id"], "title": "x"}).json()["id"])

    def messages(self, chat_id: str) -> list[Any]:
        found = self.client.get("/messages", params={"chat_id": chat_id}, headers=self.headers)
        return list(found.json())


def test_runs_are_limited_per_user_on_the_post_and_the_socket(make_client: MakeClient) -> None:
    with make_client(auth=100, runs=2) as client:
        alice = Person(client, "alice@example.com", "10.0.0.1")
        bob = Person(client, "bob@example.com", "10.0.0.1")
        chat = alice.new_chat()
        for _ in range(2):
            assert alice.post(f"/chats/{chat}/runpod", PROMPT).status_code == 202
        stored = alice.messages(chat)
        assert_limited(alice.post(f"/chats/{chat}/runpod", PROMPT), "runs started")
        with client.websocket_connect(
            f"/api/v1/chat-socket/{chat}?token={alice.token}&since=999"
        ) as ws:
            ws.send_json({"type": "runpod.request", "payload": PROMPT})
            frame = ws.receive_json(timeout=15)
        assert frame["type"] == "error" and frame["status_code"] == 429
        assert frame["retry_after"] >= 1 and "runs started" in frame["detail"]
        questions = [m for m in alice.messages(chat) if m["role"] == "user"]
        assert len(questions) == 2 and questions == [m for m in stored if m["role"] == "user"]
        assert bob.post(f"/chats/{bob.new_chat()}/runpod", PROMPT).status_code == 202


def test_two_replicas_on_one_redis_share_limits_and_events(
    make_client: MakeClient, redis_url: str, redis_prefix: str
) -> None:
    # One held backend: the run stays queued, so its only event is A's runpod.queued,
    # which B's socket can only have heard through Redis (there is no gap to replay).
    backend = MemoryInferenceBackend(hold=True)
    shared = {
        "event_bus": "redis",
        "redis_url": redis_url,
        "redis_prefix": redis_prefix,
        "backend": backend,
    }
    with make_client(auth=3, **shared) as replica_a, make_client(auth=3, **shared) as replica_b:
        assert register(replica_a, "ann@example.com").status_code == 201
        assert login(replica_b, "ann@example.com").status_code == 200
        assert login(replica_a, "ann@example.com", "10.0.0.2").status_code == 200
        assert_limited(login(replica_b, "ann@example.com", "10.0.0.3"), "for this email")

        bob = Person(replica_a, "bob@example.com", "10.0.0.9")
        chat = bob.new_chat()
        with replica_b.websocket_connect(f"/api/v1/chat-socket/{chat}?token={bob.token}") as ws:
            assert bob.post(f"/chats/{chat}/runpod", PROMPT).status_code == 202
            frame = ws.receive_json(timeout=15)  # live from replica A, through Redis
        assert frame["type"] == "runpod.queued" and frame["seq"] == 1
