"""``WS /chat-socket/{chat_id}``: refusals closed with 4401/4404/4400 before any event,
queued then completed for the template backend and the fake RunPod, every socket gets
every event, ``?since`` replays what was missed, and client frames (ping, malformed,
runpod.request). Litestar's sync test client runs the app and its sockets on one loop;
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient, WebSocketTestSession

from forge_core.entities import ChatEvent
from forge_core.errors import Unavailable
from forge_http import build_container, create_app
from tests.fakes.event_bus import RecordingBus
from tests.fakes.runpod import FakeRunPod
from tests.http.conftest import FAST_HASHER, empty_postgres, make_settings

Client = TestClient[Any]
MakeClient = Callable[..., AbstractContextManager[Client]]
PROMPT = {
    "action": "process_requirements",
    "content": "Design a small quadcopter frame",
    "history": [{"role": "user", "content": "I need a lightweight drone"}],
}
WAIT = 15.0  # seconds a test waits for one frame before it fails


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def fresh_database_url(database_url: str, anyio_backend: str) -> str:
    if database_url.startswith("postgres"):
        await empty_postgres(database_url)
    return database_url


@pytest.fixture
def make_client(tmp_path: Path, fresh_database_url: str) -> MakeClient:
    @contextmanager
    def make(bus: Any = None, **overrides: Any) -> Iterator[Client]:
        settings = make_settings(
            tmp_path, database_url=fresh_database_url, auth_backend="local", **overrides
        )
        container = build_container(settings)
        container.gateways.password_hasher.override(providers.Object(FAST_HASHER))
        if bus is not None:
            container.gateways.event_bus.override(providers.Object(bus))
        with TestClient(create_app(container), base_url="http://testserver.local") as client:
            yield client

    return make


@pytest.fixture
def client(make_client: MakeClient) -> Iterator[Client]:
    with make_client() as client:
        yield client


class Person:
    def __init__(self, client: Client, email: str) -> None:
        body = {"email": email, "password": "secret"}
        assert client.post("/api/v1/auth/register", json=body).status_code == 201
        login = client.post("/api/v1/auth/login", json=body).json()
        self.client, self.token = client, login["access_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(f"/api/v1{path}", json=body, headers=self.headers)

    def new_chat(self) -> str:
        session = self.post("/sessions", {"name": "Drone"}).json()
        return str(self.post("/chats", {"session_id": session["id"]}).json()["id"])

    def socket(self, chat_id: str, **params: str) -> WebSocketTestSession:
        query = "&".join(f"{k}={v}" for k, v in {"token": self.token, **params}.items())
        return self.client.websocket_connect(f"/api/v1/chat-socket/{chat_id}?{query}")

    def messages(self, chat_id: str) -> list[dict[str, Any]]:
        found = self.client.get(
            "/api/v1/messages", params={"chat_id": chat_id}, headers=self.headers
        )
        return list(found.json())


def until(ws: WebSocketTestSession, kind: str) -> list[dict[str, Any]]:
    """The frames received up to and including the first of type ``kind``."""
    frames: list[dict[str, Any]] = []
    while not frames or frames[-1]["type"] != kind:
        frames.append(ws.receive_json(timeout=WAIT))
    return frames


def closed_with(ws_factory: Callable[[], WebSocketTestSession]) -> WebSocketDisconnect:
    with pytest.raises(WebSocketDisconnect) as caught, ws_factory() as ws:
        ws.receive_json(timeout=WAIT)  # the close comes first: no event before it
    return caught.value


def test_a_bad_or_missing_token_closes_4401_before_any_event(client: Client) -> None:
    alice = Person(client, "alice@example.com")
    chat_id = alice.new_chat()
    path = f"/api/v1/chat-socket/{chat_id}"
    bad = closed_with(lambda: client.websocket_connect(f"{path}?token=not-a-token"))
    missing = closed_with(lambda: client.websocket_connect(path))
    assert (bad.code, missing.code) == (4401, 4401)
    assert missing.detail == "Missing token: open the socket with ?token=<access_token>"


def test_a_chat_not_the_callers_closes_4404(client: Client) -> None:
    alice, bob = Person(client, "alice@example.com"), Person(client, "bob@example.com")
    chat_id = alice.new_chat()
    assert closed_with(lambda: bob.socket(chat_id)).code == 4404
    missing = "00000000-0000-4000-8000-000000000000"
    assert closed_with(lambda: alice.socket(missing)).code == 4404


@pytest.mark.parametrize("since", ["-1", "abc", "1.5", "9" * 30])
def test_a_bad_since_closes_4400_naming_it(client: Client, since: str) -> None:
    alice = Person(client, "alice@example.com")
    refused = closed_with(lambda: alice.socket(alice.new_chat(), since=since))
    assert refused.code == 4400 and "since" in refused.detail


def test_two_sockets_see_queued_then_completed_with_the_stored_message(client: Client) -> None:
    alice = Person(client, "alice@example.com")
    chat_id = alice.new_chat()
    with alice.socket(chat_id) as first, alice.socket(chat_id) as second:
        first.send_json({"type": "ping"})
        assert first.receive_json(timeout=WAIT) == {"type": "pong"}  # subscribed by now
        second.send_json({"type": "ping"})
        assert second.receive_json(timeout=WAIT) == {"type": "pong"}
        queued = alice.post(f"/chats/{chat_id}/runpod", PROMPT).json()
        seen = until(first, "runpod.completed")
        assert until(second, "runpod.completed") == seen
    assert seen[0] == {
        "type": "runpod.queued",
        "chat_id": chat_id,
        "seq": 1,
        "runpod_id": queued["runpod_id"],
        "message_id": queued["message_id"],
        "status": "queued",
    }
    assert [frame["seq"] for frame in seen] == list(range(1, len(seen) + 1))
    completed = seen[-1]
    [_, reply] = alice.messages(chat_id)
    assert completed["message"] == reply and reply["role"] == "assistant"
    assert completed["output"]["requirements_json"]["model_type"] == "drone"
    assert completed["runpod_id"] == queued["runpod_id"]


def test_since_replays_exactly_the_missed_events(client: Client) -> None:
    alice = Person(client, "alice@example.com")
    chat_id = alice.new_chat()
    with alice.socket(chat_id) as live:
        alice.post(f"/chats/{chat_id}/runpod", {**PROMPT, "sync": True})
        everything = until(live, "runpod.completed")
    with alice.socket(chat_id, since="0") as replay:
        assert until(replay, "runpod.completed") == everything
    with alice.socket(chat_id, since="1") as replay:
        assert until(replay, "runpod.completed") == everything[1:]
    with alice.socket(chat_id, since=str(len(everything))) as caught_up:
        caught_up.send_json({"type": "ping"})
        assert caught_up.receive_json(timeout=WAIT) == {"type": "pong"}  # nothing replayed


def test_a_runpod_request_frame_does_what_the_post_does(client: Client) -> None:
    alice = Person(client, "alice@example.com")
    chat_id = alice.new_chat()
    with alice.socket(chat_id) as ws:
        ws.send_json({"type": "runpod.request", "payload": PROMPT})
        frames = until(ws, "runpod.completed")
    [question, reply] = alice.messages(chat_id)
    assert frames[0]["type"] == "runpod.queued"
    assert frames[0]["message_id"] == question["id"]
    assert question["content"] == PROMPT["content"]
    assert frames[-1]["message"] == reply


@pytest.mark.parametrize(
    ("frame", "named"),
    [
        ("{not json", "not JSON"),
        ('{"type": "dance"}', "type"),
        ("[1, 2]", "type"),
        ('{"type": "runpod.request"}', "payload"),
        ('{"type": "runpod.request", "payload": {"action": "fly"}}', "process_requirements"),
        ('{"type": "runpod.request", "payload": {"action": "health", "owner": 1}}', "owner"),
        # Nested past the limit of 64 levels: checked, or too deep for the decoder.
        (
            '{"type": "runpod.request", "payload": {"action": "health", "metadata_json": '
            + '{"a": ' * 70
            + "1"
            + "}" * 72,
            "payload",
        ),
        ('{"type": "runpod.request", "payload": ' + "[" * 99_999 + "]" * 99_999 + "}", "payload"),
    ],
    ids=lambda value: value[:60] if isinstance(value, str) else value,
)
def test_a_bad_frame_gets_an_error_and_the_socket_stays_open(
    client: Client, frame: str, named: str
) -> None:
    alice = Person(client, "alice@example.com")
    chat_id = alice.new_chat()
    with alice.socket(chat_id) as ws:
        ws.send_text(frame)
        error = ws.receive_json(timeout=WAIT)
        ws.send_json({"type": "ping"})
        assert ws.receive_json(timeout=WAIT) == {"type": "pong"}
    assert error["type"] == "error" and error["chat_id"] == chat_id
    assert named in error["detail"] and 400 <= error["status_code"] < 500
    assert alice.messages(chat_id) == []  # nothing stored


class LossyBus(RecordingBus):
    """A bus that fails to publish the events numbered in ``lose``."""

    def __init__(self, lose: set[int]) -> None:
        super().__init__()
        self.lose = lose

    async def publish(self, event: ChatEvent) -> None:
        if event.seq in self.lose:
            raise Unavailable("the bus dropped it")
        await super().publish(event)


def test_an_event_the_bus_lost_is_filled_in_from_the_log(make_client: MakeClient) -> None:
    with make_client(bus=LossyBus(lose={1})) as client:
        alice = Person(client, "alice@example.com")
        chat_id = alice.new_chat()
        with alice.socket(chat_id) as ws:
            ws.send_json({"type": "runpod.request", "payload": {"action": "health"}})
            frames = [ws.receive_json(timeout=WAIT) for _ in range(2)]
    # runpod.queued never reached the bus; runpod.completed (seq 2) showed the gap.
    assert [(f["seq"], f["type"]) for f in frames] == [
        (1, "runpod.queued"),
        (2, "runpod.completed"),
    ]


@contextmanager
def on_runpod(make_client: MakeClient, fake: FakeRunPod, **overrides: Any) -> Iterator[Client]:
    """An app whose backend is the fake RunPod."""
    with make_client(
        inference_backend="runpod",
        runpod_base_url=fake.base_url,
        runpod_endpoint_id=fake.endpoint_id,
        runpod_api_key=fake.api_key,
        **overrides,
    ) as client:
        yield client


def test_the_fake_runpod_run_is_queued_in_progress_then_completed(make_client: MakeClient) -> None:
    with (
        FakeRunPod(queue_delay=0.3, run_delay=0.6).running() as fake,
        on_runpod(make_client, fake) as client,
    ):
        alice = Person(client, "alice@example.com")
        chat_id = alice.new_chat()
        with alice.socket(chat_id) as ws:
            ws.send_json({"type": "runpod.request", "payload": PROMPT})
            frames = until(ws, "runpod.completed")
        [_, reply] = alice.messages(chat_id)
    assert [f["type"] for f in frames] == ["runpod.queued", "runpod.status", "runpod.completed"]
    assert frames[1]["status"] == "IN_PROGRESS"
    assert frames[2]["output"] == fake.jobs[frames[0]["runpod_id"]].result[1]  # type: ignore[index]
    assert frames[2]["message"] == reply
    assert reply["content"] == "process_requirements: Design a small quadcopter frame"


def broken_worker(job_input: dict[str, Any]) -> Any:
    raise RuntimeError("CUDA out of memory")


@pytest.mark.parametrize(
    ("fake_settings", "status", "error"),
    [
        ({"worker": broken_worker}, "FAILED", "CUDA out of memory"),
        ({"result_ttl": 0.0, "run_delay": 0.0}, "FAILED", "no longer available"),
    ],
    ids=["worker-error", "expired-result"],
)
def test_faults_from_the_fake_end_as_runpod_failed(
    make_client: MakeClient, fake_settings: dict[str, Any], status: str, error: str
) -> None:
    with FakeRunPod(**fake_settings).running() as fake, on_runpod(make_client, fake) as client:
        alice = Person(client, "alice@example.com")
        chat_id = alice.new_chat()
        with alice.socket(chat_id) as ws:
            ws.send_json({"type": "runpod.request", "payload": PROMPT})
            failed = until(ws, "runpod.failed")[-1]
        assert [m["role"] for m in alice.messages(chat_id)] == ["user"]
    assert failed["status"] == status and error in failed["error"]


def test_status_errors_are_retried_and_the_run_completes(make_client: MakeClient) -> None:
    with FakeRunPod(run_delay=0.2).running() as fake, on_runpod(make_client, fake) as client:
        fake.inject("status", route="status", status=503, times=2)
        fake.inject("status", route="status", status=429, retry_after="0", times=1)
        alice = Person(client, "alice@example.com")
        chat_id = alice.new_chat()
        with alice.socket(chat_id) as ws:
            ws.send_json({"type": "runpod.request", "payload": PROMPT})
            assert until(ws, "runpod.completed")[-1]["message"]["role"] == "assistant"


def test_a_refused_submission_is_an_error_frame_not_a_500(make_client: MakeClient) -> None:
    with (
        FakeRunPod().running() as fake,
        on_runpod(make_client, fake, inference_max_retries=0) as client,
    ):
        fake.inject("status", route="run", status=500, times=2)
        alice = Person(client, "alice@example.com")
        chat_id = alice.new_chat()
        posted = alice.post(f"/chats/{chat_id}/runpod", PROMPT)
        with alice.socket(chat_id) as ws:
            ws.send_json({"type": "runpod.request", "payload": PROMPT})
            refused = ws.receive_json(timeout=WAIT)
        assert alice.messages(chat_id) == []
    assert posted.status_code == 503
    assert (refused["type"], refused["status_code"]) == ("error", 503)


def test_a_request_frame_beyond_the_limit_is_refused_with_429(make_client: MakeClient) -> None:
    with (
        FakeRunPod(run_delay=30).running() as fake,
        on_runpod(make_client, fake, max_runs_per_user=1) as client,
    ):
        alice = Person(client, "alice@example.com")
        with alice.socket(alice.new_chat()) as ws:
            ws.send_json({"type": "runpod.request", "payload": PROMPT})
            assert ws.receive_json(timeout=WAIT)["type"] == "runpod.queued"
            ws.send_json({"type": "runpod.request", "payload": PROMPT})
            refused = ws.receive_json(timeout=WAIT)
    assert (refused["type"], refused["status_code"]) == ("error", 429)
    assert "at most 1 runs" in refused["detail"]
