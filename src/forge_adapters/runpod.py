"""RunPod Serverless as an InferenceBackend, over one pooled ``httpx.AsyncClient``.

Routes (under ``{base_url}/{endpoint_id}``): ``POST /run`` and ``POST /runsync?wait=ms``
with ``{"input": {...}, "policy": {"executionTimeout", "ttl"}}`` (milliseconds),
``GET /status/{id}``, ``POST /cancel/{id}``, ``GET /health``.

Calls go through ``JsonApi``: every call has a timeout; 429s and 5xx are retried with
exponential backoff and jitter, honouring Retry-After; a request that may have reached
RunPod and then timed out is retried only where repeating it is harmless (status,
cancel, health), never a submission. No httpx exception escapes.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

from forge_adapters.json_api import JsonApi, RetryPolicy, Sleep
from forge_core.entities import JsonObject
from forge_core.errors import NotFound, Unavailable
from forge_core.inference import BackendHealth, JobInput, RunPolicy, RunState, RunStatus

DEFAULT_BASE_URL = "https://api.runpod.ai/v2"

STATUSES = {
    "IN_QUEUE": RunStatus.QUEUED,
    "IN_PROGRESS": RunStatus.IN_PROGRESS,
    "COMPLETED": RunStatus.COMPLETED,
    "FAILED": RunStatus.FAILED,
    "CANCELLED": RunStatus.CANCELLED,
    "TIMED_OUT": RunStatus.TIMED_OUT,
}
RUN_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}")  # no "." or ".." segments
WAIT_MS = (1_000, 300_000)  # what /runsync accepts
EXECUTION_TIMEOUT_MS = (5_000, 7 * 86_400_000)
TTL_MS = (10_000, 7 * 86_400_000)


@dataclass(frozen=True, slots=True)
class RunPodConfig:
    api_key: str = field(repr=False)
    endpoint_id: str
    base_url: str = DEFAULT_BASE_URL
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class RunPodBackend:
    def __init__(
        self,
        client: httpx.AsyncClient,
        config: RunPodConfig,
        *,
        sleep: Sleep = anyio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._api = JsonApi(
            client,
            f"{config.base_url.rstrip('/')}/{config.endpoint_id}",
            name="RunPod",
            headers={"Authorization": f"Bearer {config.api_key}"},
            key_setting="RUNPOD_API_KEY",
            policy=config.retry,
            sleep=sleep,
            jitter=jitter,
        )

    async def submit(self, job: JobInput, policy: RunPolicy | None = None) -> RunState:
        body = request_body(job, policy)
        return parse_state(await self._api.call("POST", "run", json=body, idempotent=False))

    async def run(self, job: JobInput, *, wait: float, policy: RunPolicy | None = None) -> RunState:
        wait_ms = min(max(int(wait * 1000), WAIT_MS[0]), WAIT_MS[1])
        body = await self._api.call(
            "POST",
            "runsync",
            json=request_body(job, policy),
            params={"wait": wait_ms},
            limit=self._api.policy.timeout + wait_ms / 1000,
            idempotent=False,
        )
        return parse_state(body)

    async def status(self, run_id: str) -> RunState:
        path = f"status/{checked(run_id)}"
        return parse_state(await self._api.call("GET", path, not_found=run_id))

    async def cancel(self, run_id: str) -> RunState:
        path = f"cancel/{checked(run_id)}"
        return parse_state(await self._api.call("POST", path, not_found=run_id))

    async def health(self) -> BackendHealth:
        body = await self._api.call("GET", "health")
        workers = body.get("workers")
        unhealthy = workers.get("unhealthy", 0) if isinstance(workers, dict) else 0
        return BackendHealth("runpod", not unhealthy, body)


def request_body(job: JobInput, policy: RunPolicy | None) -> JsonObject:
    body: JsonObject = {"input": job.to_payload()}
    if policy is not None:
        rules = {}
        if policy.execution_timeout is not None:
            rules["executionTimeout"] = _ms(policy.execution_timeout, EXECUTION_TIMEOUT_MS)
        if policy.ttl is not None:
            rules["ttl"] = _ms(policy.ttl, TTL_MS)
        body["policy"] = rules
    return body


def _ms(seconds: float, bounds: tuple[int, int]) -> int:
    return min(max(int(seconds * 1000), bounds[0]), bounds[1])


def checked(run_id: str) -> str:
    """A run id that is safe in a URL path; any other string names no run."""
    if not RUN_ID.fullmatch(run_id):
        raise NotFound("Run", run_id)
    return run_id


def parse_state(body: JsonObject) -> RunState:
    run_id, raw = body.get("id"), body.get("status")
    if not isinstance(run_id, str) or not run_id or raw not in STATUSES:
        raise Unavailable(f"RunPod answered a malformed run: id {run_id!r}, status {raw!r}")
    status = STATUSES[raw]
    error = readable_error(body.get("error"))
    if error is None and status is RunStatus.FAILED:
        error = "the RunPod worker failed without a message"
    if error is None and status is RunStatus.TIMED_OUT:
        error = "timed out on RunPod"
    return RunState(run_id, status, body.get("output"), error)


def readable_error(raw: Any) -> str | None:
    """A worker's error as one readable line: ``"ValueError: bad input"`` from RunPod's
    JSON-encoded ``{"error_type": "<class 'ValueError'>", "error_message": ...}``."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            decoded = json.loads(raw)
        except ValueError:
            return raw.strip()[:1000]
        if not isinstance(decoded, dict):
            return raw.strip()[:1000]
        raw = decoded
    if isinstance(raw, dict) and ("error_message" in raw or "error_type" in raw):
        kind = re.sub(r"^<class '(?:[\w.]+\.)?(\w+)'>$", r"\1", str(raw.get("error_type") or ""))
        message = str(raw.get("error_message") or "").strip()
        return (f"{kind}: {message}" if kind and message else kind or message)[:1000]
    return json.dumps(raw, default=str)[:1000]
