"""``forge serve`` on the fake RunPod, with real WebSocket clients (``websockets``): two
sockets see queued then completed for a POST and for a ``sync`` POST, the assistant
message is stored as the event shows it, ``?since`` replays, and a bad token is closed
with 4401; the server's log never shows the token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.e2e.test_runpod_flow import PROMPT, serve, sign_in
from tests.fakes.runpod import FakeRunPod

pytestmark = pytest.mark.e2e
WAIT = 20.0


def socket_url(api: httpx.Client, chat_id: str, **params: str) -> str:
    token = api.headers["Authorization"].removeprefix("Bearer ")
    query = "&".join(f"{k}={v}" for k, v in {"token": token, **params}.items())
    root = str(api.base_url).replace("http://", "ws://").rstrip("/")
    return f"{root}/chat-socket/{chat_id}?{query}"


@contextmanager
def subscribed(url: str) -> Iterator[ClientConnection]:
    """A socket that has answered a ping, so it is subscribed to the chat's events."""
    with connect(url, open_timeout=WAIT) as ws:
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=WAIT)) == {"type": "pong"}
        yield ws


def until(ws: ClientConnection, kind: str) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while not frames or frames[-1]["type"] != kind:
        frames.append(json.loads(ws.recv(timeout=WAIT)))
    return frames


def test_two_sockets_see_the_post_and_the_sync_post_and_since_replays(tmp_path: Path) -> None:
    with (
        FakeRunPod(queue_delay=0.2, run_delay=0.3).running() as fake,
        serve(tmp_path, fake) as (base, _),
        httpx.Client(base_url=base, timeout=30) as api,
    ):
        chat_id = sign_in(api)
        url = socket_url(api, chat_id)
        with subscribed(url) as first, subscribed(url) as second:
            queued = api.post(f"/chats/{chat_id}/runpod", json=PROMPT).json()
            seen = until(first, "runpod.completed")
            assert until(second, "runpod.completed") == seen
            answered = api.post(f"/chats/{chat_id}/runpod", json={**PROMPT, "sync": True})
            synced = until(first, "runpod.completed")
            assert until(second, "runpod.completed") == synced
        with connect(socket_url(api, chat_id, since="1"), open_timeout=WAIT) as late:
            replayed = until(late, "runpod.completed")
            replayed += until(late, "runpod.completed")
        stored = api.get("/messages", params={"chat_id": chat_id}).json()
        token = api.headers["Authorization"].removeprefix("Bearer ")
    logs = "".join(path.read_text() for path in tmp_path.glob("serve-*.log"))
    assert "chat-socket" in logs and "token=[redacted]" in logs
    assert token not in logs  # the socket's URL is logged without its token
    assert [f["type"] for f in seen] == ["runpod.queued", "runpod.status", "runpod.completed"]
    assert seen[0]["runpod_id"] == queued["runpod_id"]
    assert seen[0]["message_id"] == queued["message_id"]
    assert seen[-1]["message"] == stored[1] and stored[1]["role"] == "assistant"
    assert answered.status_code == 200
    assert synced[-1]["message"] == answered.json()["message"] == stored[3]
    everything = seen + synced
    assert [f["seq"] for f in everything] == list(range(1, len(everything) + 1))
    assert replayed == everything[1:]
    assert fake.count("run") == 2


def test_a_bad_token_is_closed_with_4401(tmp_path: Path) -> None:
    with (
        FakeRunPod().running() as fake,
        serve(tmp_path, fake) as (base, _),
        httpx.Client(base_url=base, timeout=30) as api,
    ):
        chat_id = sign_in(api)
        url = socket_url(api, chat_id).split("?")[0] + "?token=forged"
        with pytest.raises(ConnectionClosed) as caught, connect(url, open_timeout=WAIT) as ws:
            ws.recv(timeout=WAIT)
    assert caught.value.rcvd is not None and caught.value.rcvd.code == 4401
