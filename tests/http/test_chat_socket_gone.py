"""A chat socket that closes under a send (the client left, or the server is stopping:
on SIGTERM uvicorn closes every socket with 1012) ends its handler quietly, whether the
send was a replayed event or a live one: the handler returns, tries no close (Litestar
would send 4500 for an error escaping it) and logs no error.

The socket here is the app driven straight through ASGI, as uvicorn drives it: after the
close, ``receive`` answers ``websocket.disconnect`` with 1012 and ``send`` raises
uvicorn's ``ClientDisconnected``."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient
from uvicorn.protocols.utils import ClientDisconnected

from forge_http import build_container, create_app
from tests.http.conftest import FAST_HASHER, make_settings

PROMPT = {"action": "process_requirements", "content": "a frame"}
WAIT = 15.0


class ClosingSocket:
    """One ASGI WebSocket connection whose peer is gone from the ``fail_at``-th frame
    the app sends (counting from 1); ``frames`` are the frames the app read, in turn."""

    def __init__(self, fail_at: int, frames: tuple[str, ...] = ()) -> None:
        self.fail_at, self.frames = fail_at, list(frames)
        self.sent: list[dict[str, Any]] = []
        self.gone = anyio.Event()

    async def receive(self) -> dict[str, Any]:
        if not self.sent:
            return {"type": "websocket.connect"}
        if self.frames:
            return {"type": "websocket.receive", "text": self.frames.pop(0)}
        await self.gone.wait()
        return {"type": "websocket.disconnect", "code": 1012}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        if self.gone.is_set():
            raise ClientDisconnected
        if message["type"] == "websocket.send" and self.texts() == self.fail_at:
            self.gone.set()
            raise ClientDisconnected

    def texts(self) -> int:
        return sum(1 for m in self.sent if m["type"] == "websocket.send")

    async def serve(self, app: Litestar, token: str, chat_id: str, since: int) -> None:
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": "ws",
            "server": ("testserver", 80),
            "client": ("127.0.0.1", 50000),
            "root_path": "",
            "path": f"/api/v1/chat-socket/{chat_id}",
            "raw_path": f"/api/v1/chat-socket/{chat_id}".encode(),
            "query_string": f"token={token}&since={since}".encode(),
            "headers": [],
            "subprotocols": [],
            "state": {},
        }
        with anyio.fail_after(WAIT):
            await app(scope, self.receive, self.send)  # type: ignore[arg-type]


def signed_in(client: TestClient[Any]) -> tuple[str, str, dict[str, str]]:
    body = {"email": "gone@example.com", "password": "secret"}
    assert client.post("/api/v1/auth/register", json=body).status_code == 201
    token = client.post("/api/v1/auth/login", json=body).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    session = client.post("/api/v1/sessions", json={"name": "S"}, headers=headers)
    chat = client.post("/api/v1/chats", json={"session_id": session.json()["id"]}, headers=headers)
    return token, str(chat.json()["id"]), headers


@contextmanager
def running_app(tmp_path: Path) -> Iterator[tuple[Litestar, TestClient[Any]]]:
    """The app, started by a test client; its loop is the client's portal."""
    container = build_container(make_settings(tmp_path, auth_backend="local"))
    container.gateways.password_hasher.override(providers.Object(FAST_HASHER))
    app = create_app(container)
    with TestClient(app) as client:
        yield app, client


def test_a_socket_gone_during_the_replay_ends_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running_app(tmp_path) as (app, client):
        token, chat_id, headers = signed_in(client)
        posted = client.post(f"/api/v1/chats/{chat_id}/runpod", json=PROMPT, headers=headers)
        assert posted.status_code == 202
        socket = ClosingSocket(fail_at=1)
        client.blocking_portal.call(socket.serve, app, token, chat_id, 0)
    assert [m["type"] for m in socket.sent] == ["websocket.accept", "websocket.send"]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_socket_gone_under_a_live_event_ends_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running_app(tmp_path) as (app, client):
        token, chat_id, headers = signed_in(client)
        socket = ClosingSocket(fail_at=2, frames=(json.dumps({"type": "ping"}),))
        served = client.blocking_portal.start_task_soon(socket.serve, app, token, chat_id, 0)
        deadline = time.monotonic() + WAIT
        while socket.texts() < 1 and time.monotonic() < deadline:
            time.sleep(0.01)  # until the pong: the socket follows the chat
        posted = client.post(f"/api/v1/chats/{chat_id}/runpod", json=PROMPT, headers=headers)
        assert posted.status_code == 202
        served.result(timeout=WAIT)
    assert [m["type"] for m in socket.sent] == ["websocket.accept"] + ["websocket.send"] * 2
    assert json.loads(socket.sent[1]["text"]) == {"type": "pong"}
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
