"""Runs in flight on one ``forge serve`` process against the fake RunPod.

    PYTHONPATH=src python benchmarks/runs_bench.py [--runs 200] [--min-delay 2] [--max-delay 40]

The fake RunPod (tests/fakes/runpod.py, a real local HTTP server in this process) gives
each job a run time drawn uniformly from [min-delay, max-delay] seconds. One ``forge
serve`` process (SQLite, the defaults) points at it by RUNPOD_BASE_URL. Users (50 runs
each, FORGE_MAX_RUNS_PER_USER=50) open one socket per chat (10 runs a chat), then POST
the runs. Two phases on the same server, back to back: a baseline of ``--baseline`` runs,
then ``--runs`` runs.

Measured:
- polling load: the fake notes every status request with the job's age; for each age
  bucket, status requests per run-second spent in that bucket (flat as runs age means
  the per-run cost does not grow), and the total status requests per second over time;
- delivery delay: from the moment the fake's job completes (its clock) to the moment
  the ``runpod.completed`` frame reaches the socket client (p50, p99, max), and the
  part of it after the poll that saw the job end (finalize, store and publish the
  event, send it).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.conftest import forge_server
from tests.fakes.runpod import FakeRunPod, Job

AGE_BUCKETS = (0, 1, 2, 5, 10, 20, 40, 80)
RUNS_PER_CHAT, RUNS_PER_USER = 10, 50
PROMPT = {"action": "process_requirements", "content": "Design a small quadcopter frame"}


@dataclass
class TimedRunPod(FakeRunPod):
    """The fake with a run time per job and a note of every status request."""

    min_delay: float = 2.0
    max_delay: float = 40.0
    polls: list[tuple[float, float, str]] = field(default_factory=list)  # when, age, job
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    seen_done: dict[str, float] = field(default_factory=dict)  # job: first poll saw it end

    def submit(self, body: Any) -> Job:
        job = super().submit(body)
        job.run_delay = self.rng.uniform(self.min_delay, self.max_delay)
        return job

    def state(self, job: Job) -> dict[str, Any] | None:
        now = self.clock()
        self.polls.append((now, now - job.submitted, job.id))
        shown = super().state(job)
        if shown and shown["status"] not in ("IN_QUEUE", "IN_PROGRESS"):
            self.seen_done.setdefault(job.id, now)
        return shown


@dataclass
class Phase:
    delays: list[float] = field(default_factory=list)
    after_poll: list[float] = field(default_factory=list)  # from the poll that saw it end
    started: float = 0.0
    ended: float = 0.0


async def listen(url: str, fake: TimedRunPod, expected: int, phase: Phase) -> None:
    async with connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await ws.recv()) == {"type": "pong"}
        ready.release()
        seen = 0
        while seen < expected:
            frame = json.loads(await ws.recv())
            if frame["type"] in ("runpod.completed", "runpod.failed"):
                received = time.monotonic()
                job = fake.jobs[frame["runpod_id"]]
                phase.delays.append(received - job.finished_at())
                phase.after_poll.append(received - fake.seen_done[job.id])
                seen += 1


ready = asyncio.Semaphore(0)


async def user(api: httpx.AsyncClient, email: str) -> str:
    body = {"email": email, "password": "secret-pass"}
    await api.post("/auth/register", json=body)
    token = (await api.post("/auth/login", json=body)).json()["access_token"]
    return str(token)


async def phase(base: str, fake: TimedRunPod, runs: int, tag: str) -> Phase:
    result = Phase()
    chats: list[tuple[str, str]] = []  # (token, chat id)
    async with httpx.AsyncClient(base_url=f"{base}/api/v1", timeout=60) as api:
        for u in range(max(1, -(-runs // RUNS_PER_USER))):
            token = await user(api, f"{tag}-{u}@example.com")
            auth = {"Authorization": f"Bearer {token}"}
            session = (await api.post("/sessions", json={"name": tag}, headers=auth)).json()
            for _ in range(min(RUNS_PER_USER, runs - u * RUNS_PER_USER) // RUNS_PER_CHAT or 1):
                chat = await api.post("/chats", json={"session_id": session["id"]}, headers=auth)
                chats.append((token, chat.json()["id"]))
        per_chat = [RUNS_PER_CHAT] * len(chats)
        per_chat[-1] = runs - RUNS_PER_CHAT * (len(chats) - 1)
        ws_base = base.replace("http://", "ws://")
        listeners = [
            asyncio.create_task(
                listen(f"{ws_base}/api/v1/chat-socket/{chat}?token={token}", fake, n, result)
            )
            for (token, chat), n in zip(chats, per_chat, strict=True)
        ]
        for _ in listeners:
            await ready.acquire()
        result.started = time.monotonic()
        for (token, chat), n in zip(chats, per_chat, strict=True):
            for _ in range(n):
                answer = await api.post(
                    f"/chats/{chat}/runpod",
                    json=PROMPT,
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert answer.status_code == 202, answer.text
        await asyncio.gather(*listeners)
        result.ended = time.monotonic()
    return result


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load_by_age(fake: TimedRunPod, start: float, end: float) -> list[tuple[str, int, float]]:
    """Per age bucket: (bucket, status requests, requests per run-second)."""
    counts: dict[int, int] = defaultdict(int)
    lives: dict[str, float] = defaultdict(float)  # a job's age at its last poll
    for when, age, job_id in fake.polls:
        if start <= when <= end:
            counts[bucket(age)] += 1
            lives[job_id] = max(lives[job_id], age)
    exposure: dict[int, float] = defaultdict(float)
    for life in lives.values():
        for i, (lo, hi) in enumerate(itertools.pairwise(AGE_BUCKETS)):
            exposure[i] += max(0.0, min(life, hi) - lo)
    return [
        (f"{AGE_BUCKETS[i]}-{AGE_BUCKETS[i + 1]} s", counts[i], counts[i] / exposure[i])
        for i in sorted(exposure)
        if exposure[i] > 0
    ]


def bucket(age: float) -> int:
    for i, hi in enumerate(AGE_BUCKETS[1:]):
        if age < hi:
            return i
    return len(AGE_BUCKETS) - 2


def load_over_time(fake: TimedRunPod, start: float, end: float, step: float = 5.0) -> list[float]:
    slots = [0] * (int((end - start) // step) + 1)
    for when, _, _ in fake.polls:
        if start <= when <= end:
            slots[int((when - start) // step)] += 1
    return [n / step for n in slots]


def report(name: str, fake: TimedRunPod, result: Phase) -> None:
    d = result.delays
    print(f"\n== {name}: {len(d)} runs, {result.ended - result.started:.1f} s")
    print(
        f"completion -> socket event: p50 {quantile(d, 0.5) * 1000:.0f} ms, "
        f"p99 {quantile(d, 0.99) * 1000:.0f} ms, max {max(d) * 1000:.0f} ms, "
        f"mean {statistics.mean(d) * 1000:.0f} ms"
    )
    a = result.after_poll
    print(
        f"poll that saw it end -> socket event: p50 {quantile(a, 0.5) * 1000:.1f} ms, "
        f"p99 {quantile(a, 0.99) * 1000:.1f} ms, max {max(a) * 1000:.1f} ms"
    )
    print("status polls by run age: bucket, requests, requests per run-second")
    for label, count, rate in load_by_age(fake, result.started, result.ended):
        print(f"  {label:>9}: {count:6d}  {rate:.3f}/s")
    rates = load_over_time(fake, result.started, result.ended)
    print("status requests/s per 5 s window:", " ".join(f"{r:.0f}" for r in rates))


SRC = Path(__file__).resolve().parent.parent / "src"


async def main(args: argparse.Namespace) -> None:
    fake = TimedRunPod(min_delay=args.min_delay, max_delay=args.max_delay)
    with fake.running(), tempfile.TemporaryDirectory() as workdir:
        env = {
            "RUNPOD_BASE_URL": fake.base_url,
            "RUNPOD_ENDPOINT_ID": fake.endpoint_id,
            "RUNPOD_API_KEY": fake.api_key,
            "FORGE_MAX_RUNS_PER_USER": str(RUNS_PER_USER),
            # Many users sign up and start runs at once from here: no rate limit applies.
            "FORGE_RATE_LIMIT_AUTH_PER_MINUTE": "1000000",
            "FORGE_RATE_LIMIT_RUNS_PER_MINUTE": "1000000",
            "FORGE_LOG_LEVEL": "warning",
            "PYTHONPATH": str(SRC),
        }
        with forge_server(Path(workdir), env) as base:
            baseline = await phase(base, fake, args.baseline, "base")
            loaded = await phase(base, fake, args.runs, "load")
        report(f"baseline ({args.baseline} in flight)", fake, baseline)
        report(f"load ({args.runs} in flight)", fake, loaded)
    print(f"\nthreads alive at the end: {threading.active_count()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--baseline", type=int, default=10)
    parser.add_argument("--min-delay", type=float, default=2.0)
    parser.add_argument("--max-delay", type=float, default=40.0)
    asyncio.run(main(parser.parse_args()))
