"""``forge serve`` pointed at the fake RunPod: a queued run completes and its assistant
message is stored; a run in flight survives a SIGKILL of the server, finishing once (in
the next process, once the dead one's lease lapses), with one assistant message and no
second submission; and a server stopped gracefully releases its runs at once."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import forge_process
from tests.fakes.runpod import FakeRunPod

pytestmark = pytest.mark.e2e

PROMPT = {
    "action": "process_requirements",
    "content": "Design a small quadcopter frame",
    "history": [{"role": "user", "content": "I need a lightweight drone"}],
}


@contextmanager
def serve(
    workdir: Path, fake: FakeRunPod, **settings: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``forge serve`` on the fake RunPod, with more ``FORGE_*`` settings; yields its API
    root and the process (so a test may kill it); stopped with SIGTERM after, unless it
    is gone already."""
    env = {
        "RUNPOD_BASE_URL": fake.base_url,
        "RUNPOD_ENDPOINT_ID": fake.endpoint_id,
        "RUNPOD_API_KEY": fake.api_key,
    }
    env.update({f"FORGE_{name.upper()}": value for name, value in settings.items()})
    with forge_process(workdir, env) as server:
        yield server.api, server.process


def sign_in(api: httpx.Client) -> str:
    """Register (or log in again, after a restart) and open a chat; the chat's id."""
    credentials = {"email": "demo@example.com", "password": "secret"}
    api.post("/auth/register", json=credentials)
    login = api.post("/auth/login", json=credentials)
    assert login.status_code == 200, login.text
    api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    session = api.post("/sessions", json={"name": "Drone"}).json()
    return str(api.post("/chats", json={"session_id": session["id"]}).json()["id"])


def assistants(
    api: httpx.Client, chat_id: str, count: int = 1, within: float = 30
) -> list[dict[str, Any]]:
    """The chat's assistant messages, once there are ``count`` (polled, at most
    ``within`` seconds)."""
    deadline = time.monotonic() + within
    while True:
        found = api.get("/messages", params={"chat_id": chat_id}).json()
        replies = [m for m in found if m["role"] == "assistant"]
        if len(replies) >= count or time.monotonic() > deadline:
            return replies
        time.sleep(0.1)


def test_a_queued_run_completes_and_its_message_is_stored(tmp_path: Path) -> None:
    with (
        FakeRunPod(queue_delay=0.2, run_delay=0.3).running() as fake,
        serve(tmp_path, fake) as (base, _),
        httpx.Client(base_url=base, timeout=10) as api,
    ):
        chat_id = sign_in(api)
        queued = api.post(f"/chats/{chat_id}/runpod", json=PROMPT)
        assert queued.status_code == 202, queued.text
        assert queued.json()["status"] == "queued"
        [reply] = assistants(api, chat_id)
        assert reply["content"] == "process_requirements: Design a small quadcopter frame"
        assert fake.count("run") == 1
        job = fake.jobs[queued.json()["runpod_id"]]
        assert job.input["history"] == PROMPT["history"]


def test_a_run_in_flight_survives_a_sigkill(tmp_path: Path) -> None:
    # A short lease: the next process takes the dead one's run over after it lapses.
    with FakeRunPod(run_delay=3.0).running() as fake:
        with (
            serve(tmp_path, fake, lease_seconds="3") as (base, process),
            httpx.Client(base_url=base) as api,
        ):
            chat_id = sign_in(api)
            queued = api.post(f"/chats/{chat_id}/runpod", json=PROMPT)
            assert queued.status_code == 202, queued.text
            time.sleep(1.0)  # claimed and polled by this process: its lease is held
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        assert fake.count("run") == 1
        with (
            serve(tmp_path, fake, lease_seconds="3") as (base, _),
            httpx.Client(base_url=base) as api,
        ):
            sign_in(api)
            [reply] = assistants(api, chat_id)
            assert reply["content"].startswith("process_requirements")
            time.sleep(1.0)  # a second finalize, if there were one, would show by now
            assert len(assistants(api, chat_id)) == 1
        assert fake.count("run") == 1


def test_a_gracefully_stopped_servers_runs_are_taken_over_at_once(tmp_path: Path) -> None:
    # The default 30 s lease: only a released lease lets the next process finish the run
    # within 15 s (the run itself takes 3 s).
    with FakeRunPod(run_delay=3.0).running() as fake:
        with serve(tmp_path, fake) as (base, process), httpx.Client(base_url=base) as api:
            chat_id = sign_in(api)
            queued = api.post(f"/chats/{chat_id}/runpod", json=PROMPT)
            assert queued.status_code == 202, queued.text
            time.sleep(1.0)  # claimed and polled by this process
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)  # uvicorn shuts down, then re-raises the signal
        with serve(tmp_path, fake) as (base, _), httpx.Client(base_url=base) as api:
            sign_in(api)
            [reply] = assistants(api, chat_id, within=15)
            assert reply["content"].startswith("process_requirements")
        assert fake.count("run") == 1
