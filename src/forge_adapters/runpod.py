"""RunPod Serverless as an InferenceBackend, over one pooled ``httpx.AsyncClient``.

Routes (under ``{base_url}/{endpoint_id}``): ``POST /run`` and ``POST /runsync?wait=ms``
with ``{"input": {...}, "policy": {"executionTimeout", "ttl"}}`` (milliseconds),
``GET /status/{id}``, ``POST /cancel/{id}``, ``GET /health``.

Every call has a timeout. A 429 or a 5xx is retried with exponential backoff and jitter,
waiting at least the answer's Retry-After; so is a connection that could not be made.
A request that may have reached RunPod and timed out is retried only where repeating it
is harmless (status, cancel, health), never a submission. Every httpx failure becomes a
``forge_core.errors`` error here, once; nothing of httpx escapes.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
import httpx

from forge_core.entities import JsonObject, utc_now
from forge_core.errors import ForgeError, NotFound, RateLimited, Unavailable
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
RUN_ID = re.compile(r"[A-Za-z0-9_.-]{1,200}")
WAIT_MS = (1_000, 300_000)  # what /runsync accepts
EXECUTION_TIMEOUT_MS = (5_000, 7 * 86_400_000)
TTL_MS = (10_000, 7 * 86_400_000)


@dataclass(frozen=True, slots=True)
class RunPodConfig:
    api_key: str
    endpoint_id: str
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 30.0  # seconds, for every call (plus the wait of /runsync)
    max_retries: int = 4
    backoff: float = 0.5  # the first retry's delay, doubled for each next one
    max_delay: float = 30.0  # longest wait between tries; a longer Retry-After gives up


class RunPodBackend:
    def __init__(
        self,
        client: httpx.AsyncClient,
        config: RunPodConfig,
        *,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._client = client
        self._config = config
        self._root = f"{config.base_url.rstrip('/')}/{config.endpoint_id}"
        self._headers = {"Authorization": f"Bearer {config.api_key}"}
        self._sleep = sleep
        self._jitter = jitter

    async def submit(self, job: JobInput, policy: RunPolicy | None = None) -> RunState:
        body = await self._call("POST", "run", json=request_body(job, policy), idempotent=False)
        return parse_state(body)

    async def run(self, job: JobInput, *, wait: float, policy: RunPolicy | None = None) -> RunState:
        wait_ms = min(max(int(wait * 1000), WAIT_MS[0]), WAIT_MS[1])
        body = await self._call(
            "POST",
            "runsync",
            json=request_body(job, policy),
            params={"wait": wait_ms},
            limit=self._config.timeout + wait_ms / 1000,
            idempotent=False,
        )
        return parse_state(body)

    async def status(self, run_id: str) -> RunState:
        return parse_state(await self._call("GET", f"status/{checked(run_id)}", run_id=run_id))

    async def cancel(self, run_id: str) -> RunState:
        return parse_state(await self._call("POST", f"cancel/{checked(run_id)}", run_id=run_id))

    async def health(self) -> BackendHealth:
        body = await self._call("GET", "health")
        workers = body.get("workers")
        unhealthy = workers.get("unhealthy", 0) if isinstance(workers, dict) else 0
        return BackendHealth("runpod", not unhealthy, body)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: JsonObject | None = None,
        params: dict[str, Any] | None = None,
        limit: float | None = None,
        idempotent: bool = True,
        run_id: str | None = None,
    ) -> JsonObject:
        limit = limit or self._config.timeout
        for attempt in range(self._config.max_retries + 1):
            try:
                response = await self._client.request(
                    method,
                    f"{self._root}/{path}",
                    json=json,
                    params=params,
                    headers=self._headers,
                    timeout=limit,
                )
            except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
                failure: ForgeError = transport_failure(exc, path, limit)
                failure.__cause__ = exc
                # A connection never made sent nothing: trying again is always harmless.
                retry = idempotent or isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                wait = None
            else:
                if response.is_success:
                    return parse_body(response)
                if response.status_code == 404 and run_id is not None:
                    raise NotFound("Run", run_id)
                failure, retry, wait = status_failure(response)
            delay = self._delay(attempt, wait) if retry else None
            if delay is None or attempt == self._config.max_retries:
                raise failure
            await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Exponential backoff with jitter (half fixed, half random), at least Retry-After;
        None when Retry-After asks for longer than ``max_delay``."""
        if retry_after is not None and retry_after > self._config.max_delay:
            return None
        base = min(self._config.max_delay, self._config.backoff * 2**attempt)
        delay = base / 2 + self._jitter() * base / 2
        return max(delay, retry_after or 0.0)


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


def parse_body(response: httpx.Response) -> JsonObject:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise Unavailable(f"RunPod answered a malformed body ({response.status_code})")
    return body


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


def transport_failure(exc: Exception, path: str, limit: float) -> ForgeError:
    route = path.split("/")[0]
    if isinstance(exc, httpx.TimeoutException):
        return Unavailable(f"RunPod did not answer /{route} within {limit:g} s")
    return Unavailable(f"RunPod cannot be reached for /{route}: {type(exc).__name__}")


def status_failure(response: httpx.Response) -> tuple[ForgeError, bool, float | None]:
    """The error an unsuccessful answer means, whether to retry, and its Retry-After."""
    code = response.status_code
    wait = retry_after(response.headers.get("Retry-After"))
    if code == 429:
        return RateLimited("RunPod is rate limiting requests", math.ceil(wait or 1)), True, wait
    if code >= 500:
        return Unavailable(f"RunPod failed to answer ({code})"), True, wait
    if code in (401, 403):
        return (
            Unavailable(f"RunPod refused the API key ({code}); check RUNPOD_API_KEY"),
            False,
            None,
        )
    return Unavailable(f"RunPod refused the request ({code}): {response.text[:200]}"), False, None


def retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, from either of its forms (seconds, or an HTTP date)."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - utc_now()).total_seconds(), 0.0)
