"""Two ``forge serve`` replicas on one PostgreSQL database and one Redis: a socket on one
sees the runs started through the other; a SIGKILLed replica's runs are finished by the
other, each exactly once and never polled by both at a time; a SIGTERM lets the requests
in flight finish and closes sockets with 1012; and the rate limits count across both."""

from __future__ import annotations

import secrets
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from websockets.sync.client import connect

from forge_adapters.sql import migrate
from forge_adapters.sql.tables import metadata
from forge_http.cli import GRACE_SECONDS
from forge_http.settings import Settings
from tests.conftest import _admin_engine
from tests.e2e.conftest import Server
from tests.e2e.replicas import (
    WAIT,
    Cluster,
    client,
    event_log,
    frames_until,
    frames_until_closed,
    lock_waiters,
    log_problems,
    new_chat,
    polled_by,
    refuses_connections,
    sign_in,
    socket_url,
    subscribed,
    table_locked,
    until,
    wait_for_replies,
)
from tests.fakes.runpod import FakeRunPod

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
PROMPT = {"action": "process_requirements", "content": "a small quadcopter frame"}


@pytest.fixture(scope="module")
async def database_url(postgres_url: str) -> AsyncIterator[str]:
    """A database of this module's own on the test server, migrated, dropped after."""
    name = f"forge_replicas_{secrets.token_hex(6)}"
    admin = _admin_engine(postgres_url)
    async with admin.connect() as conn:
        await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    try:
        await migrate(url)
        yield url
    finally:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()


@pytest.fixture
async def emptied(database_url: str) -> str:
    """The module's database with no rows left by an earlier test."""
    engine = _admin_engine(database_url)
    tables = ", ".join(table.name for table in metadata.sorted_tables)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(f"TRUNCATE {tables} CASCADE")
    finally:
        await engine.dispose()
    return database_url


@pytest.fixture
def fake() -> Iterator[FakeRunPod]:
    with FakeRunPod(queue_delay=0.2, run_delay=0.5).running() as fake:
        yield fake


@pytest.fixture
def cluster(
    tmp_path: Path, emptied: str, redis_url: str, redis_prefix: str, fake: FakeRunPod
) -> Cluster:
    return Cluster(tmp_path, emptied, redis_url, redis_prefix, fake)


def start_run(server: Server, token: str, chat_id: str, **fields: Any) -> httpx.Response:
    with client(server, token) as api:
        return api.post(f"/chats/{chat_id}/runpod", json={**PROMPT, **fields})


def test_a_socket_on_b_sees_a_run_started_through_a(cluster: Cluster) -> None:
    with cluster.replicas("a", "b") as (a, b):
        token = sign_in(a, "socket@example.com")
        with client(a, token) as api:
            chat_id = new_chat(api)
        with subscribed(socket_url(b, token, chat_id)) as on_b:
            queued = start_run(a, token, chat_id)
            assert queued.status_code == 202, queued.text
            seen = frames_until(on_b, "runpod.completed")
        with connect(socket_url(b, token, chat_id, since=1), open_timeout=WAIT) as late:
            replayed = frames_until(late, "runpod.completed")
    assert seen[0]["type"] == "runpod.queued"  # then its status, unless polled too late
    assert {f["runpod_id"] for f in seen} == {queued.json()["runpod_id"]}
    assert [f["seq"] for f in seen] == list(range(1, len(seen) + 1))
    assert seen[-1]["message"]["content"] == f"process_requirements: {PROMPT['content']}"
    assert replayed == seen[1:]
    assert log_problems(a) == log_problems(b) == []


RUNS, DONE_FIRST, CHATS = 100, 30, 10
HELD = 600.0  # a run_delay that lasts until the test lets the jobs go
ENDS = ("runpod.completed", "runpod.failed")


@pytest.mark.skipif(
    "lease_seconds" not in Settings.model_fields,
    reason="needs leases on runs (FORGE_LEASE_SECONDS): without them every replica polls "
    "every run, so two replicas poll each run in turn",
)
def test_a_sigkilled_replicas_runs_finish_once_and_are_never_polled_by_both(
    cluster: Cluster,
) -> None:
    """30 runs end, 70 are in flight on both replicas when the one that polls more of
    them is killed, just as it sees the first of half its runs end; the fake lets every
    job end then. Each run ends once (one message, one end event, one submission), also
    those the victim was ending as it died, and no run is polled by both replicas in
    turn: the killed one's polls of a run all come before the survivor's first."""
    fake = cluster.fake
    limits = {"FORGE_MAX_RUNS_PER_USER": "1000", "FORGE_RATE_LIMIT_RUNS_PER_MINUTE": "1000"}
    with cluster.replicas("a", "b", **limits) as (a, b):
        token = sign_in(b, "killed@example.com")
        with client(b, token) as api:
            chats = [new_chat(api) for _ in range(CHATS)]
        plan = [("ab"[i % 2], chats[i % CHATS], f"run {i}") for i in range(RUNS)]
        fake.run_delay = 1.0
        jobs = start_runs({"a": a, "b": b}, token, plan[:DONE_FIRST])
        wait_for_replies(b, token, chats, DONE_FIRST)
        fake.run_delay = HELD
        held = start_runs({"a": a, "b": b}, token, plan[DONE_FIRST:])
        until(lambda: all(fake.polls(job) for job in held))  # each one has its poller
        victim = max("ab", key=lambda name: sum(polled_by(fake, job) == [name] for job in held))
        survivor = {"a": b, "b": a}[victim]
        killed = {"a": a, "b": b}[victim].process
        # Half the victim's runs end now; it is killed as soon as it sees one of them end,
        # while it finalizes and reports them (the other half it still holds).
        mine = [job for job in held if polled_by(fake, job) == [victim]]
        ending, since = mine[: len(mine) // 2], time.monotonic()
        fake.finish_soon(0.0, only=ending)
        until(lambda: any(call.at > since for job in ending for call in fake.polls(job)))
        killed.send_signal(signal.SIGKILL)
        assert killed.wait(timeout=WAIT) == -signal.SIGKILL
        fake.finish_soon(0.5)
        replies = wait_for_replies(survivor, token, chats, RUNS)
        time.sleep(1.0)  # a second finalize, if there were one, would show by now
        replies = wait_for_replies(survivor, token, chats, RUNS)
        logs = [f for chat in chats for f in event_log(survivor, token, chat)]
        problems = log_problems(survivor)
    expected = [f"process_requirements: {content}" for _, _, content in plan]
    assert sorted(m["content"] for m in replies) == sorted(expected)
    ends = Counter(f["runpod_id"] for f in logs if f["type"] in ENDS)
    assert ends == Counter(jobs + held)
    assert [f for f in logs if f["type"] == "runpod.failed"] == []
    assert fake.count("run") == RUNS  # none submitted twice
    assert_never_polled_by_both(fake, jobs + held, victim, "ab".replace(victim, ""))
    assert problems == []


def start_runs(
    replicas: dict[str, Server], token: str, plan: list[tuple[str, str, str]]
) -> list[str]:
    """Start each run of the plan (replica, chat, prompt), a few at a time; their jobs."""

    def start(step: tuple[str, str, str]) -> str:
        answer = start_run(replicas[step[0]], token, step[1], content=step[2])
        assert answer.status_code == 202, answer.text
        return str(answer.json()["runpod_id"])

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(start, plan))


def assert_never_polled_by_both(
    fake: FakeRunPod, jobs: list[str], killed: str, survivor: str
) -> None:
    turns = {job: polled_by(fake, job) for job in jobs}
    shared = {
        job: t for job, t in turns.items() if t not in ([killed], [survivor], [killed, survivor])
    }
    some = dict(list(shared.items())[:3])
    assert not shared, f"{len(shared)} runs polled by both replicas in turn, as {some}"
    assert [killed, survivor] in turns.values(), "no run of the killed replica was taken over"


SYNC_RUNS, LIST_CALLS = 4, 6


def test_a_sigterm_lets_the_requests_in_flight_finish(cluster: Cluster) -> None:
    """Requests in flight when SIGTERM comes get their normal answers: ``sync`` runs that
    wait for their result, and list calls held by a lock on their table (so they are
    surely in flight); the chat socket is closed with 1012, no new connection is taken,
    the process exits 0; the client reconnects to the other replica and misses nothing."""
    cluster.fake.run_delay = HELD  # until the test lets the jobs go, after the signal
    with cluster.replicas("a", "b") as (a, b), ThreadPoolExecutor(SYNC_RUNS + LIST_CALLS) as pool:
        token = sign_in(a, "sigterm@example.com")
        with client(a, token) as api:
            chat_id = new_chat(api)
        with subscribed(socket_url(a, token, chat_id)) as on_a:
            syncs = [pool.submit(start_run, a, token, chat_id, sync=True) for _ in range(SYNC_RUNS)]
            until(lambda: cluster.fake.count("run") == SYNC_RUNS)
            with table_locked(cluster.database_url, "sessions"):
                lists = [pool.submit(list_sessions, a, token) for _ in range(LIST_CALLS)]
                until(lambda: lock_waiters(cluster.database_url) >= LIST_CALLS)
                a.process.send_signal(signal.SIGTERM)
                seen_on_a, closed = frames_until_closed(on_a)
                until(lambda: refuses_connections(a))
                assert a.process.poll() is None  # still finishing what it holds
            cluster.fake.finish_soon()
        answers = [future.result(timeout=GRACE_SECONDS) for future in syncs + lists]
        assert a.process.wait(timeout=GRACE_SECONDS) == 0
        last = seen_on_a[-1]["seq"] if seen_on_a else 0
        with connect(socket_url(b, token, chat_id, since=last), open_timeout=WAIT) as on_b:
            seen_on_b = frames_until(on_b, "runpod.completed", SYNC_RUNS)
    assert closed == 1012
    assert [r.status_code for r in answers] == [200] * (SYNC_RUNS + LIST_CALLS)
    assert {r.json()["status"] for r in answers[:SYNC_RUNS]} == {"completed"}
    assert all(len(r.json()) == 1 for r in answers[SYNC_RUNS:])  # the one session
    seqs = [f["seq"] for f in seen_on_a + seen_on_b]
    assert seqs == list(range(1, len(seqs) + 1))  # every event once, in order
    assert log_problems(a) == log_problems(b) == []


def list_sessions(server: Server, token: str) -> httpx.Response:
    with client(server, token) as api:
        return api.get("/sessions")


def test_rate_limits_count_across_both_replicas(cluster: Cluster) -> None:
    limits = {
        "FORGE_RATE_LIMIT_AUTH_PER_MINUTE": "5",
        "FORGE_RATE_LIMIT_RUNS_PER_MINUTE": "5",
        "FORGE_MAX_RUNS_PER_USER": "100",
    }
    with cluster.replicas("a", "b", **limits) as (a, b):
        token = sign_in(a, "limits@example.com")  # two sign-in attempts of five
        credentials = {"email": "limits@example.com", "password": "secret-password"}
        logins = [
            httpx.post(f"{server.api}/auth/login", json=credentials, timeout=WAIT)
            for server in (b, a, b, a, b)
        ]
        with client(a, token) as api:
            chat_id = new_chat(api)
        runs = [start_run(server, token, chat_id) for server in (a, b, a, b, a, b, a)]
    assert [r.status_code for r in logins] == [200, 200, 200, 429, 429]
    assert [r.status_code for r in runs] == [202] * 5 + [429, 429]
    for refused in logins[3:] + runs[5:]:
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert all("too many runs started" in r.json()["detail"] for r in runs[5:])
    assert cluster.fake.count("run") == 5  # a refused run is never submitted
