"""A fake RunPod Serverless endpoint: a real HTTP server on a local port, written from
RunPod's documented wire format, for the adapter's tests and for ``forge serve``.

Routes, under ``/v2/{endpoint_id}`` and with ``Authorization: Bearer <api key>``:
``POST /run`` and ``POST /runsync?wait=<ms>`` take ``{"input": {...}, "policy":
{"executionTimeout": ms, "ttl": ms}}``; ``GET /status/{id}``; ``POST /cancel/{id}``;
``GET /health``. A job is IN_QUEUE for ``queue_delay`` seconds, IN_PROGRESS for
``run_delay``, then COMPLETED with the worker's output, or FAILED with the error the
RunPod Python worker sends (a JSON-encoded string with error_type and error_message), or
TIMED_OUT past its policy's executionTimeout. A finished job's result is kept
``result_ttl`` seconds, then its status is 404. Jobs keep time by ``clock``
(``time.monotonic`` unless a test steps its own).

Faults are queued per route with ``inject``: an HTTP status (429 with Retry-After, 5xx),
a slow answer, a malformed body, or a dropped connection.

Every request is logged in ``calls`` (route, job id, caller, arrival time). RunPod has one
URL; so that a test can tell its clients apart (two replicas of one service), each may be
given its own door, ``base_url_for(name)``: the same routes under ``/as/{name}/v2``,
logged with that caller.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.server import serve

Worker = Callable[[dict[str, Any]], Any]


def echo_worker(job_input: dict[str, Any]) -> Any:
    """The default worker: a message about the job, and the job itself."""
    action = job_input.get("action")
    if action == "health":
        return {"status": "healthy"}
    return {
        "status": "success",
        "content": f"{action}: {job_input.get('prompt', '')}",
        "input": job_input,
    }


@dataclass
class Job:
    id: str
    input: dict[str, Any]
    policy: dict[str, Any]
    submitted: float
    queue_delay: float
    run_delay: float
    cancelled_at: float | None = None
    result: tuple[str, Any] | None = None  # ("output" | "error", value), once worked

    def started(self) -> float:
        return self.submitted + self.queue_delay

    def finished_at(self) -> float:
        if self.cancelled_at is not None:
            return self.cancelled_at
        limit = self.policy.get("executionTimeout")
        run = self.run_delay if limit is None else min(self.run_delay, limit / 1000)
        return self.started() + run

    def timed_out(self) -> bool:
        limit = self.policy.get("executionTimeout")
        return limit is not None and self.run_delay > limit / 1000


@dataclass(frozen=True)
class Call:
    """One request as the fake saw it: ``at`` is ``time.monotonic()`` on arrival."""

    method: str
    route: str
    job_id: str | None
    caller: str | None
    at: float


@dataclass
class Fault:
    route: str | None
    kind: str  # "status" | "slow" | "malformed" | "drop"
    status: int = 500
    retry_after: str | None = None
    seconds: float = 0.0


@dataclass
class FakeRunPod:
    api_key: str = "fake-runpod-key"
    endpoint_id: str = "fake-endpoint"
    queue_delay: float = 0.0
    run_delay: float = 0.0
    result_ttl: float = 1800.0
    worker: Worker = echo_worker
    clock: Callable[[], float] = time.monotonic  # the jobs' time; tests may step it by hand
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, route)
    jobs: dict[str, Job] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v2"

    def base_url_for(self, caller: str) -> str:
        """The base URL of a door of the caller's own (letters, digits, '-')."""
        return self.base_url.removesuffix("/v2") + f"/as/{caller}/v2"

    def finish_soon(self, seconds: float = 0.0, only: Collection[str] | None = None) -> None:
        """End every job (or those in ``only``) still queued or running ``seconds`` from
        now: a test's way to hold jobs for as long as it needs (a long ``run_delay``),
        then let them go."""
        with self._lock:
            now = self.clock()
            for job in self.jobs.values():
                if only is not None and job.id not in only:
                    continue
                if job.cancelled_at is None and now < job.finished_at():
                    job.run_delay = max(0.0, now + seconds - job.started())

    def polls(self, job_id: str) -> list[Call]:
        """The status requests for one job, in the order they arrived."""
        with self._lock:
            return [c for c in self.calls if c.route == "status" and c.job_id == job_id]

    def inject(
        self,
        kind: str,
        *,
        route: str | None = None,
        times: int = 1,
        status: int = 500,
        retry_after: str | None = None,
        seconds: float = 0.0,
    ) -> None:
        """Answer the next ``times`` requests (to ``route``, or any) with a fault."""
        with self._lock:
            self._faults += [Fault(route, kind, status, retry_after, seconds)] * times

    def count(self, route: str) -> int:
        return sum(1 for _, r in self.requests if r == route)

    @contextmanager
    def running(self) -> Iterator[FakeRunPod]:
        fake = self

        class Handler(RunPodHandler):
            runpod = fake

        with serve(Handler) as self._server:
            yield self

    # The endpoint's behaviour, called by the handler with the lock held.

    def take_fault(self, route: str) -> Fault | None:
        for i, fault in enumerate(self._faults):
            if fault.route in (None, route):
                return self._faults.pop(i)
        return None

    def submit(self, body: Any) -> Job:
        if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
            raise BadRequest("'input' is required and must be an object")
        policy = body.get("policy") or {}
        job = Job(
            f"{uuid.uuid4()}-u1",
            body["input"],
            policy,
            self.clock(),
            self.queue_delay,
            self.run_delay,
        )
        self.jobs[job.id] = job
        return job

    def state(self, job: Job) -> dict[str, Any] | None:
        """The job as /status shows it; None once its result has expired."""
        now = self.clock()
        if job.cancelled_at is not None:
            return {"id": job.id, "status": "CANCELLED"}
        if now < job.started():
            return {"id": job.id, "status": "IN_QUEUE"}
        if now < job.finished_at():
            return {"id": job.id, "status": "IN_PROGRESS", "delayTime": ms(job.queue_delay)}
        if now > job.finished_at() + self.result_ttl:
            return None
        timing = {
            "delayTime": ms(job.queue_delay),
            "executionTime": ms(job.finished_at() - job.started()),
        }
        if job.timed_out():
            return {"id": job.id, "status": "TIMED_OUT", **timing}
        if job.result is None:
            job.result = work(self.worker, job.input)
        kind, value = job.result
        status = "COMPLETED" if kind == "output" else "FAILED"
        return {"id": job.id, "status": status, kind: value, "workerId": "fake-worker", **timing}

    def health(self) -> dict[str, Any]:
        counts = {"completed": 0, "failed": 0, "inProgress": 0, "inQueue": 0, "retried": 0}
        names = {
            "COMPLETED": "completed",
            "FAILED": "failed",
            "IN_PROGRESS": "inProgress",
            "IN_QUEUE": "inQueue",
        }
        for job in self.jobs.values():
            shown = self.state(job)
            if shown and shown["status"] in names:
                counts[names[shown["status"]]] += 1
        workers = {
            "idle": 1,
            "initializing": 0,
            "ready": 1,
            "running": counts["inProgress"],
            "throttled": 0,
            "unhealthy": 0,
        }
        return {"jobs": counts, "workers": workers}


def work(worker: Worker, job_input: dict[str, Any]) -> tuple[str, Any]:
    """Run the worker as the RunPod Python worker does: its return is the output; what it
    raises is a JSON-encoded error string."""
    try:
        return ("output", worker(job_input))
    except Exception as exc:
        error = {
            "error_type": str(type(exc)),
            "error_message": str(exc),
            "error_traceback": traceback.format_exc(),
            "hostname": "fake-worker",
            "worker_id": "fake-worker",
            "runpod_version": "1.7.0",
        }
        return ("error", json.dumps(error))


def ms(seconds: float) -> int:
    return int(seconds * 1000)


class BadRequest(Exception):
    pass


class RunPodHandler(BaseHTTPRequestHandler):
    runpod: FakeRunPod
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.route("GET")

    def do_POST(self) -> None:
        self.route("POST")

    def route(self, method: str) -> None:
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        caller = None
        if len(parts) > 2 and parts[0] == "as":  # a test's door: see FakeRunPod.base_url_for
            caller, parts = parts[1], parts[2:]
        body = self.read_body()
        fake = self.runpod
        if len(parts) < 3 or parts[0] != "v2" or parts[1] != fake.endpoint_id:
            return self.answer(404, {"error": "endpoint not found"})
        name, rest = parts[2], parts[3:]
        job_id = rest[0] if rest else None
        with fake._lock:
            fake.requests.append((method, name))
            fake.calls.append(Call(method, name, job_id, caller, time.monotonic()))
            fault = fake.take_fault(name)
        if fault is not None and self.apply(fault):
            return None
        if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
            return self.answer(401, {"error": "Unauthorized"})
        try:
            self.dispatch(method, name, rest, body, parse_qs(url.query))
        except BadRequest as exc:
            self.answer(400, {"error": str(exc)})
        return None

    def apply(self, fault: Fault) -> bool:
        """Act out a fault; True when it answered (or dropped) the request itself."""
        if fault.kind == "slow":
            time.sleep(fault.seconds)
            return False
        if fault.kind == "drop":
            self.close_connection = True
            self.connection.close()
            return True
        if fault.kind == "malformed":
            self.answer(200, raw=b'{"id": "oops", "status": ')
            return True
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        self.answer(fault.status, {"error": f"injected {fault.status}"}, headers=headers)
        return True

    def dispatch(
        self, method: str, name: str, rest: list[str], body: Any, query: dict[str, list[str]]
    ) -> None:
        fake = self.runpod
        if (method, name, len(rest)) == ("POST", "run", 0):
            with fake._lock:
                job = fake.submit(body)
            return self.answer(200, {"id": job.id, "status": "IN_QUEUE"})
        if (method, name, len(rest)) == ("POST", "runsync", 0):
            return self.runsync(body, int(query.get("wait", ["90000"])[0]))
        if (method, name, len(rest)) == ("GET", "status", 1):
            with fake._lock:
                job = fake.jobs.get(rest[0])
                shown = fake.state(job) if job else None
            return (
                self.answer(200, shown)
                if shown
                else self.answer(404, {"error": "request does not exist"})
            )
        if (method, name, len(rest)) == ("POST", "cancel", 1):
            with fake._lock:
                job = fake.jobs.get(rest[0])
                shown = fake.state(job) if job else None
                if job and shown and shown["status"] in ("IN_QUEUE", "IN_PROGRESS"):
                    job.cancelled_at = fake.clock()
                    shown = {"id": job.id, "status": "CANCELLED"}
            return (
                self.answer(200, shown)
                if shown
                else self.answer(404, {"error": "request does not exist"})
            )
        if (method, name, len(rest)) == ("GET", "health", 0):
            with fake._lock:
                report = fake.health()
            return self.answer(200, report)
        return self.answer(404, {"error": "not found"})

    def runsync(self, body: Any, wait_ms: int) -> None:
        fake = self.runpod
        with fake._lock:
            job = fake.submit(body)
        deadline = time.monotonic() + min(max(wait_ms, 1000), 300_000) / 1000
        while True:
            with fake._lock:
                shown = fake.state(job)
            assert shown is not None
            if shown["status"] not in ("IN_QUEUE", "IN_PROGRESS") or time.monotonic() >= deadline:
                return self.answer(200, shown)
            time.sleep(0.01)

    def read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def answer(
        self,
        status: int,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
