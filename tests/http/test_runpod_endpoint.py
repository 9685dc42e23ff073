"""``POST /chats/{chat_id}/runpod``: the seed's bodies, queued and ``sync`` answers, the
stored messages, and the refusals (unknown action, another user's chat, the per-user
limit), over the app with its run supervisor, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from forge_adapters.memory import MemoryInferenceBackend
from forge_core.inference import RunStatus, Turn
from forge_http import build_container, create_app
from forge_http.supervisor import MAX_PAUSE, MIN_PAUSE, pause
from tests.http.conftest import (
    FAST_HASHER,
    User,
    create,
    empty_postgres,
    make_settings,
    sign_up,
    snapshot,
)

pytestmark = pytest.mark.anyio

REQUIREMENTS = {
    "model_type": "drone",
    "primary_function": "A small quadcopter frame for hobby use",
    "description_natural_language": "A compact central body with four arms equally spaced...",
    "standard_components": [{"name": "Flight controller", "search_term": "stack 20x20 mm"}],
    "custom_description": "Use 3 mm thick arms, 160 mm motor-to-motor...",
}
SEED_BODIES = [
    {
        "action": "process_requirements",
        "content": "Design a small quadcopter frame",
        "history": [{"role": "user", "content": "I need a lightweight drone"}],
    },
    {"action": "generate_scad", "content": "Generate SCAD", "requirements_json": REQUIREMENTS},
    {"action": "process_scad", "content": "Generate SCAD", "requirements_json": REQUIREMENTS},
]
HEALTH = {"action": "health", "sync": True}

Client = AsyncTestClient[Any]
MakeClient = Callable[..., AbstractAsyncContextManager[Client]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str:
    """These run on both databases: each has its own RunStore adapter."""
    return str(request.param)


@pytest.fixture
def make_client(tmp_path: Path, database_url: str) -> MakeClient:
    """An app on an empty database, with the default (template) backend unless one is
    given, and settings overridden as asked."""

    @asynccontextmanager
    async def make(backend: Any = None, **overrides: Any) -> AsyncIterator[Client]:
        if database_url.startswith("postgres"):
            await empty_postgres(database_url)
        settings = make_settings(
            tmp_path, database_url=database_url, auth_backend="local", **overrides
        )
        container = build_container(settings)
        container.gateways.password_hasher.override(providers.Object(FAST_HASHER))
        if backend is not None:
            container.gateways.inference.override(providers.Object(backend))
        app = create_app(container)
        async with AsyncTestClient(app, base_url="http://testserver.local/api/v1") as client:
            yield client

    return make


@pytest.fixture
async def client(make_client: MakeClient) -> AsyncIterator[Client]:
    async with make_client() as client:
        yield client


async def new_chat(client: Client, user: User) -> str:
    session = await create(client, user, "/sessions", {"name": "Design Session 1"})
    chat = await create(client, user, "/chats", {"session_id": session["id"], "title": "Drone"})
    return str(chat["id"])


async def start(
    client: Client, user: User, chat_id: str, body: dict[str, Any], **headers: str
) -> Any:
    return await client.post(
        f"/chats/{chat_id}/runpod", json=body, headers={**user.headers, **headers}
    )


async def messages(client: Client, user: User, chat_id: str) -> list[dict[str, Any]]:
    response = await client.get("/messages", params={"chat_id": chat_id}, headers=user.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


async def wait_for_assistants(
    client: Client, user: User, chat_id: str, count: int
) -> list[dict[str, Any]]:
    """Poll the API (bounded) until the chat holds ``count`` assistant messages."""
    with anyio.fail_after(10):
        while True:
            found = [m for m in await messages(client, user, chat_id) if m["role"] == "assistant"]
            if len(found) >= count:
                return found
            await anyio.sleep(0.05)


@pytest.mark.parametrize("body", SEED_BODIES, ids=[b["action"] for b in SEED_BODIES])
async def test_seed_bodies_are_queued_then_answered(client: Client, body: dict[str, Any]) -> None:
    alice = await sign_up(client, "alice@example.com")
    chat_id = await new_chat(client, alice)
    response = await start(client, alice, chat_id, body)
    assert response.status_code == 202, response.text
    queued = response.json()
    assert set(queued) == {"chat_id", "runpod_id", "message_id", "status"}
    assert queued["chat_id"] == chat_id and queued["status"] == "queued"
    assert queued["runpod_id"]
    [reply] = await wait_for_assistants(client, alice, chat_id, 1)
    stored = await messages(client, alice, chat_id)
    assert (stored[0]["role"], stored[0]["id"]) == ("user", queued["message_id"])
    assert stored[0]["content"] == body["content"]
    assert reply["content"]
    if body["action"] == "process_requirements":
        assert reply["metadata_json"]["requirements_json"]["model_type"] == "drone"
    else:
        assert "motor_to_motor = 160" in reply["content"]


async def test_sync_answers_with_the_assistant_message(client: Client) -> None:
    alice = await sign_up(client, "alice@example.com")
    chat_id = await new_chat(client, alice)
    response = await start(client, alice, chat_id, {**SEED_BODIES[1], "sync": True})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"chat_id", "runpod_id", "status", "message", "output", "error"}
    assert body["status"] == "completed" and body["error"] is None
    message = body["message"]
    assert message["role"] == "assistant" and "motor_to_motor = 160" in message["content"]
    assert isinstance(body["output"], dict)
    stored = await messages(client, alice, chat_id)
    assert [(m["role"], m["id"]) for m in stored][-1] == ("assistant", message["id"])
    assert [m["role"] for m in stored] == ["user", "assistant"]


async def test_health_sync_works_and_stores_no_message(client: Client) -> None:
    alice = await sign_up(client, "alice@example.com")
    chat_id = await new_chat(client, alice)
    response = await start(client, alice, chat_id, HEALTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "completed" and body["message"] is None
    assert body["output"]["status"] == "healthy"
    assert await messages(client, alice, chat_id) == []


async def test_health_queued_has_no_message_id(client: Client) -> None:
    alice = await sign_up(client, "alice@example.com")
    chat_id = await new_chat(client, alice)
    response = await start(client, alice, chat_id, {"action": "health"})
    assert response.status_code == 202, response.text
    assert response.json()["message_id"] is None


async def test_history_is_sent_as_given_or_loaded_from_the_chat(make_client: MakeClient) -> None:
    backend = MemoryInferenceBackend()
    async with make_client(backend) as client:
        alice = await sign_up(client, "alice@example.com")
        chat_id = await new_chat(client, alice)
        await create(
            client, alice, "/messages", {"chat_id": chat_id, "role": "user", "content": "Hi"}
        )
        omitted = {"action": "process_requirements", "content": "A drone", "sync": True}
        assert (await start(client, alice, chat_id, omitted)).status_code == 200
        given = {**SEED_BODIES[0], "sync": True}
        assert (await start(client, alice, chat_id, given)).status_code == 200
    loaded, sent = backend.submitted
    assert loaded.prompt == "A drone" and loaded.history == (Turn("user", "Hi"),)
    assert sent.history == (Turn("user", "I need a lightweight drone"),)


async def test_process_scad_is_sent_as_generate_scad(make_client: MakeClient) -> None:
    backend = MemoryInferenceBackend()
    async with make_client(backend) as client:
        alice = await sign_up(client, "alice@example.com")
        chat_id = await new_chat(client, alice)
        response = await start(client, alice, chat_id, {**SEED_BODIES[2], "sync": True})
        assert response.status_code == 200, response.text
    [job] = backend.submitted
    assert job.to_payload()["action"] == "generate_scad"
    assert job.requirements_json == REQUIREMENTS
    assert response.json()["output"]["echo"]["action"] == "generate_scad"


async def test_unknown_action_is_422_listing_the_supported_ones(client: Client) -> None:
    alice = await sign_up(client, "alice@example.com")
    chat_id = await new_chat(client, alice)
    before = await snapshot(client, alice)
    response = await start(client, alice, chat_id, {"action": "render", "content": "x"})
    assert response.status_code == 422
    assert "process_requirements, generate_scad, process_scad, health" in response.json()["detail"]
    assert await snapshot(client, alice) == before


async def test_another_users_chat_is_404_and_nothing_is_stored(make_client: MakeClient) -> None:
    backend = MemoryInferenceBackend()
    async with make_client(backend) as client:
        alice = await sign_up(client, "alice@example.com")
        bob = await sign_up(client, "bob@example.com")
        chat_id = await new_chat(client, alice)
        before = await snapshot(client, alice), await snapshot(client, bob)
        for body in [*SEED_BODIES, HEALTH]:
            response = await start(client, bob, chat_id, body)
            assert response.status_code == 404, response.text
        assert (await snapshot(client, alice), await snapshot(client, bob)) == before
    assert backend.submitted == []


async def test_runs_beyond_the_per_user_limit_are_429(make_client: MakeClient) -> None:
    backend = MemoryInferenceBackend(hold=True)
    async with make_client(backend, max_runs_per_user=2) as client:
        alice = await sign_up(client, "alice@example.com")
        bob = await sign_up(client, "bob@example.com")
        chat_id = await new_chat(client, alice)
        started = [await start(client, alice, chat_id, SEED_BODIES[0]) for _ in range(2)]
        assert [r.status_code for r in started] == [202, 202]
        before = await snapshot(client, alice)
        refused = await start(client, alice, chat_id, SEED_BODIES[0])
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) >= 1
        assert await snapshot(client, alice) == before
        assert len(backend.submitted) == 2
        bobs_chat = await new_chat(client, bob)  # the limit is per user
        assert (await start(client, bob, bobs_chat, SEED_BODIES[0])).status_code == 202
        # One of Alice's runs ends: she may start another.
        backend.advance(started[0].json()["runpod_id"], RunStatus.COMPLETED, "done")
        await wait_for_assistants(client, alice, chat_id, 1)
        assert (await start(client, alice, chat_id, SEED_BODIES[0])).status_code == 202


async def test_an_idempotency_key_answers_the_same_run(make_client: MakeClient) -> None:
    backend = MemoryInferenceBackend(hold=True)
    async with make_client(backend) as client:
        alice = await sign_up(client, "alice@example.com")
        chat_id = await new_chat(client, alice)
        first = await start(client, alice, chat_id, SEED_BODIES[0], **{"Idempotency-Key": "k1"})
        again = await start(client, alice, chat_id, SEED_BODIES[0], **{"Idempotency-Key": "k1"})
        assert first.status_code == again.status_code == 202, again.text
        assert first.json() == again.json()
        other = await start(client, alice, chat_id, SEED_BODIES[0], **{"Idempotency-Key": "k2"})
        assert other.json()["runpod_id"] != first.json()["runpod_id"]
        assert len(backend.submitted) == 2
        assert len(await messages(client, alice, chat_id)) == 2


async def test_an_idempotency_key_sent_with_another_request_is_a_422(
    make_client: MakeClient,
) -> None:
    backend = MemoryInferenceBackend(hold=True)
    async with make_client(backend) as client:
        alice = await sign_up(client, "alice@example.com")
        chat_id = await new_chat(client, alice)
        key = {"Idempotency-Key": "k1"}
        first = await start(client, alice, chat_id, SEED_BODIES[0], **key)
        assert first.status_code == 202, first.text
        before = await snapshot(client, alice)
        changed = {**SEED_BODIES[0], "content": SEED_BODIES[0]["content"] + " in red"}
        for body in (changed, SEED_BODIES[1], {**SEED_BODIES[0], "sync": True}):
            reused = await start(client, alice, chat_id, body, **key)
            assert reused.status_code == 422, reused.text
            assert reused.json()["detail"] == "Idempotency-Key was used with a different request"
        # The same request spelled otherwise (keys reordered, a default said) is the same.
        respelled = dict(reversed(list(SEED_BODIES[0].items()))) | {"sync": False}
        again = await start(client, alice, chat_id, respelled, **key)
        assert again.status_code == 202 and again.json() == first.json()
        assert len(backend.submitted) == 1
        assert await snapshot(client, alice) == before


async def test_the_supervisor_sleeps_until_the_next_run_is_due_within_bounds() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert pause(None, now) == MAX_PAUSE
    assert pause(now + timedelta(seconds=0.1), now) == pytest.approx(0.1)
    assert pause(now - timedelta(seconds=5), now) == MIN_PAUSE
    assert pause(now + timedelta(hours=1), now) == MAX_PAUSE


async def test_runs_work_on_the_memory_database(tmp_path: Path) -> None:
    """memory://: the run store shares the repository that holds the chats."""
    settings = make_settings(tmp_path, database_url="memory://", auth_backend="local")
    container = build_container(settings)
    container.gateways.password_hasher.override(providers.Object(FAST_HASHER))
    app = create_app(container)
    async with AsyncTestClient(app, base_url="http://testserver.local/api/v1") as client:
        alice = await sign_up(client, "alice@example.com")
        chat_id = await new_chat(client, alice)
        response = await start(client, alice, chat_id, {**SEED_BODIES[0], "sync": True})
        assert response.status_code == 200, response.text
        assert response.json()["message"]["role"] == "assistant"
