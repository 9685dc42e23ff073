"""Calls to a JSON-over-HTTP service through the shared ``httpx.AsyncClient``, with the
retry rules the network adapters (RunPod, OpenAI-compatible servers) share.

Every call has a timeout. A 429 or a 5xx is retried with exponential backoff and jitter,
waiting at least the answer's Retry-After (a longer Retry-After than ``max_delay`` gives
up at once); so is a connection that could not be made, which sent nothing. A request
that may have arrived and then timed out or lost its connection is retried only when
the caller says repeating it is harmless. Every httpx failure becomes a
``forge_core.errors`` error here, once: Unavailable, RateLimited or NotFound.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
import httpx

from forge_core.entities import JsonObject, utc_now
from forge_core.errors import ForgeError, NotFound, RateLimited, Unavailable

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    timeout: float = 30.0  # seconds, for every call
    max_retries: int = 4
    backoff: float = 0.5  # the first retry's delay, doubled for each next one
    max_delay: float = 30.0  # the longest wait between tries


class JsonApi:
    def __init__(
        self,
        client: httpx.AsyncClient,
        root: str,
        *,
        name: str,
        headers: dict[str, str] | None = None,
        key_setting: str = "its API key",
        policy: RetryPolicy | None = None,
        sleep: Sleep = anyio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._client = client
        self._root = root.rstrip("/")
        self._name = name
        self._headers = headers or {}
        self._key_setting = key_setting
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._jitter = jitter

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: JsonObject | None = None,
        params: dict[str, Any] | None = None,
        limit: float | None = None,
        idempotent: bool = True,
        not_found: str | None = None,
    ) -> JsonObject:
        """The JSON object answered. A 404 is NotFound("Run", not_found) when given."""
        limit = limit or self.policy.timeout
        for attempt in range(self.policy.max_retries + 1):
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
                failure: ForgeError = self._transport_failure(exc, path, limit)
                failure.__cause__ = exc
                never_sent = httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
                retry, wait = idempotent or isinstance(exc, never_sent), None
            else:
                if response.is_success:
                    return self._body(response)
                if response.status_code == 404 and not_found is not None:
                    raise NotFound("Run", not_found)
                failure, retry, wait = self._status_failure(response)
            delay = self._delay(attempt, wait) if retry else None
            if delay is None or attempt == self.policy.max_retries:
                raise failure
            await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Exponential backoff with jitter (half fixed, half random), at least Retry-After;
        None when Retry-After asks for longer than ``max_delay``."""
        if retry_after is not None and retry_after > self.policy.max_delay:
            return None
        base = min(self.policy.max_delay, self.policy.backoff * 2.0**attempt)
        delay = base / 2 + self._jitter() * base / 2
        return max(delay, retry_after or 0.0)

    def _body(self, response: httpx.Response) -> JsonObject:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise Unavailable(f"{self._name} answered a malformed body ({response.status_code})")
        return body

    def _transport_failure(self, exc: Exception, path: str, limit: float) -> ForgeError:
        route = path.split("/")[0]
        if isinstance(exc, httpx.TimeoutException):
            return Unavailable(f"{self._name} did not answer /{route} within {limit:g} s")
        return Unavailable(f"{self._name} cannot be reached for /{route}: {type(exc).__name__}")

    def _status_failure(self, response: httpx.Response) -> tuple[ForgeError, bool, float | None]:
        """The error an unsuccessful answer means, whether to retry, and its Retry-After."""
        code, name = response.status_code, self._name
        wait = retry_after(response.headers.get("Retry-After"))
        if code == 429:
            return (
                RateLimited(f"{name} is rate limiting requests", math.ceil(wait or 1)),
                True,
                wait,
            )
        if code >= 500:
            return Unavailable(f"{name} failed to answer ({code})"), True, wait
        if code in (401, 403):
            detail = f"{name} refused the API key ({code}); check {self._key_setting}"
            return Unavailable(detail), False, None
        return (
            Unavailable(f"{name} refused the request ({code}): {response.text[:200]}"),
            False,
            None,
        )


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
