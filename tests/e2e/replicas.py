"""Several ``forge serve`` replicas on one PostgreSQL database and one Redis, each on a
door of its own of one fake RunPod (so the fake can tell which replica polled a job);
and the clients the replica tests drive them with."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.e2e.conftest import Server, forge_processes
from tests.fakes.runpod import FakeRunPod

WAIT = 30.0  # seconds a client waits for an answer: generous, for a loaded machine
LEASE_SECONDS = 5  # short, so a killed replica's runs are taken over soon


@dataclass
class Cluster:
    """What the replicas share: the database, Redis (bus and rate limits), the fake
    RunPod, the signing secret and the data folder."""

    workdir: Path
    database_url: str
    redis_url: str
    redis_prefix: str
    fake: FakeRunPod
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def env(self, name: str, extra: dict[str, str]) -> dict[str, str]:
        return {
            "FORGE_DATABASE_URL": self.database_url,
            "FORGE_EVENT_BUS": "redis",
            "FORGE_REDIS_URL": self.redis_url,
            "FORGE_REDIS_PREFIX": self.redis_prefix,
            "FORGE_JWT_SECRET": self.secret,
            "FORGE_DATA_DIR": str(self.workdir / "data"),
            "FORGE_LEASE_SECONDS": str(LEASE_SECONDS),
            "RUNPOD_BASE_URL": self.fake.base_url_for(name),
            "RUNPOD_ENDPOINT_ID": self.fake.endpoint_id,
            "RUNPOD_API_KEY": self.fake.api_key,
            **extra,
        }

    @contextmanager
    def replicas(self, *names: str, **extra: str) -> Iterator[tuple[Server, ...]]:
        """One ``forge serve`` per name (its RunPod door), with ``extra`` settings."""
        with forge_processes(self.workdir, [self.env(name, extra) for name in names]) as servers:
            yield servers


def sign_in(server: Server, email: str) -> str:
    """Register ``email`` through ``server`` and log in; the access token."""
    credentials = {"email": email, "password": "secret-password"}
    registered = httpx.post(f"{server.api}/auth/register", json=credentials, timeout=WAIT)
    assert registered.status_code == 201, registered.text
    login = httpx.post(f"{server.api}/auth/login", json=credentials, timeout=WAIT)
    assert login.status_code == 200, login.text
    return str(login.json()["access_token"])


def client(server: Server, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.api, headers={"Authorization": f"Bearer {token}"}, timeout=WAIT
    )


def new_chat(api: httpx.Client) -> str:
    session = api.post("/sessions", json={"name": "Replicas"})
    assert session.status_code == 201, session.text
    chat = api.post("/chats", json={"session_id": session.json()["id"]})
    assert chat.status_code == 201, chat.text
    return str(chat.json()["id"])


def socket_url(server: Server, token: str, chat_id: str, since: int | None = None) -> str:
    query = f"token={token}" + (f"&since={since}" if since is not None else "")
    return f"{server.api.replace('http://', 'ws://')}/chat-socket/{chat_id}?{query}"


@contextmanager
def subscribed(url: str) -> Iterator[ClientConnection]:
    """A socket that has answered a ping, so it is subscribed to the chat's events."""
    with connect(url, open_timeout=WAIT) as ws:
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=WAIT)) == {"type": "pong"}
        yield ws


def frames_until(ws: ClientConnection, kind: str, count: int = 1) -> list[dict[str, Any]]:
    """The frames received until the ``count``-th of type ``kind``, that one included."""
    frames: list[dict[str, Any]] = []
    while sum(1 for f in frames if f["type"] == kind) < count:
        frames.append(json.loads(ws.recv(timeout=WAIT)))
    return frames


def event_log(server: Server, token: str, chat_id: str) -> list[dict[str, Any]]:
    """Every stored event of the chat, replayed by a socket: a ping is read only once
    the replay is sent, so its pong ends the log."""
    with connect(socket_url(server, token, chat_id, since=0), open_timeout=WAIT) as ws:
        ws.send(json.dumps({"type": "ping"}))
        frames = frames_until(ws, "pong")
    return frames[:-1]


def asyncpg_url(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def lock_waiters(database_url: str) -> int:
    """Queries of the database waiting for a lock now."""

    async def count() -> int:
        conn = await asyncpg.connect(asyncpg_url(database_url), timeout=WAIT)
        try:
            query = (
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return int(await conn.fetchval(query))
        finally:
            await conn.close()

    return asyncio.run(count())


@contextmanager
def table_locked(database_url: str, table: str) -> Iterator[None]:
    """Hold an exclusive lock on ``table`` for the block (from a thread of its own), so
    that every query of it waits: requests that are surely in flight, for as long as a
    test wants."""
    held, release = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    async def hold() -> None:
        conn = await asyncpg.connect(asyncpg_url(database_url), timeout=WAIT)
        try:
            async with conn.transaction():
                await conn.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
                held.set()
                await asyncio.to_thread(release.wait)
        finally:
            await conn.close()

    def run() -> None:
        try:
            asyncio.run(hold())
        except BaseException as exc:  # reported to the test below
            failure.append(exc)
            held.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    held.wait(WAIT)
    if failure:
        raise failure[0]
    try:
        yield
    finally:
        release.set()
        thread.join(WAIT)


def log_problems(server: Server) -> list[str]:
    """The lines of a replica's log that report an error or a traceback."""
    problems = []
    for line in server.log.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            problems.append(line)  # every line is JSON unless something bypassed logging
            continue
        if record.get("level") in ("error", "critical") or "exc" in record:
            problems.append(line)
    return problems


def polled_by(fake: FakeRunPod, job: str) -> list[str | None]:
    """The replicas that polled the job, in turn: ["a", "b"] when a polled it, then b
    took over; polls that interleave show as a longer list."""
    turns: list[str | None] = []
    for call in fake.polls(job):
        if not turns or turns[-1] != call.caller:
            turns.append(call.caller)
    return turns


def wait_for_replies(
    server: Server, token: str, chats: list[str], count: int
) -> list[dict[str, Any]]:
    """The assistant messages of the chats, once there are ``count`` (or the deadline)."""
    deadline = time.monotonic() + 120
    with client(server, token) as api:
        while True:
            replies = [
                message
                for chat in chats
                for message in api.get("/messages", params={"chat_id": chat}).json()
                if message["role"] == "assistant"
            ]
            if len(replies) >= count or time.monotonic() > deadline:
                return replies
            time.sleep(0.5)


def frames_until_closed(ws: ClientConnection) -> tuple[list[dict[str, Any]], int | None]:
    """The frames a socket gets until the server closes it, and the close code."""
    frames: list[dict[str, Any]] = []
    try:
        while True:
            frames.append(json.loads(ws.recv(timeout=WAIT)))
    except ConnectionClosed as closed:
        return frames, closed.rcvd.code if closed.rcvd else None


def refuses_connections(server: Server) -> bool:
    """Whether a new connection to the server is refused."""
    try:
        httpx.get(f"{server.api}/health", timeout=WAIT)
    except httpx.ConnectError:
        return True
    return False


def until(condition: Callable[[], bool]) -> None:
    """Wait for the condition, checked every 50 ms, for at most WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.05)
