"""GoTrue (Supabase Auth) on the wire: one place that sends, retries and maps errors.

Every request carries the ``apikey`` header that Supabase's gateway requires, and asks
for the dated error format (``X-Supabase-Api-Version``). Answers in any of GoTrue's three
error shapes are read:

    {"code": 400, "error_code": "invalid_credentials", "msg": "..."}      (default)
    {"code": "invalid_credentials", "message": "..."}                     (2024-01-01)
    {"error": "invalid_grant", "error_description": "..."}                (older paths)

and turned into ``forge_core.errors`` here, once: no httpx exception leaves this package.
Gateway errors (502, 503, 504) and refused connections are retried with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import anyio
import httpx

from forge_core.errors import (
    AlreadyExists,
    ForgeError,
    InvalidInput,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger(__name__)

API_VERSION = "2024-01-01"
RETRY_STATUSES = frozenset({502, 503, 504})
DEFAULT_RETRY_AFTER = 60

UNAUTHENTICATED = frozenset(
    {
        "invalid_credentials",
        "invalid_grant",
        "refresh_token_not_found",
        "refresh_token_already_used",
        "session_not_found",
        "session_expired",
        "bad_jwt",
        "no_authorization",
        "user_not_found",
        "user_banned",
    }
)
NOT_CONFIRMED = frozenset({"email_not_confirmed", "phone_not_confirmed"})
REFUSED = frozenset({"signup_disabled", "email_provider_disabled", "provider_disabled"})
TAKEN = frozenset({"user_already_exists", "email_exists", "phone_exists"})
RATE_LIMITED = frozenset(
    {"over_request_rate_limit", "over_email_send_rate_limit", "over_sms_send_rate_limit"}
)
BAD_EMAIL = frozenset({"email_address_invalid", "email_address_not_authorized"})


def http_client(timeout: float = 10.0) -> httpx.AsyncClient:
    """The pooled client every Supabase call shares (connect errors retried by httpx)."""
    return httpx.AsyncClient(
        transport=httpx.AsyncHTTPTransport(retries=2),
        timeout=httpx.Timeout(timeout, connect=5.0),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )


async def send(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    attempts: int = 3,
    backoff: float = 0.25,
) -> httpx.Response:
    """One request, retried on 502/503/504; the last answer is returned whatever it is.
    Raises Unavailable when Supabase cannot be reached or does not answer in time."""
    for attempt in range(attempts):
        try:
            response = await http.request(method, url, headers=headers, params=params, json=json)
        except httpx.TimeoutException as exc:
            raise Unavailable("Supabase did not answer in time; try again later") from exc
        except httpx.HTTPError as exc:
            raise Unavailable("Supabase cannot be reached; try again later") from exc
        if response.status_code not in RETRY_STATUSES or attempt == attempts - 1:
            return response
        log.warning("Supabase answered %s to %s; retrying", response.status_code, method)
        await anyio.sleep(backoff * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def read_error(body: Any) -> tuple[str | None, str]:
    """(error code, message) from any of GoTrue's error shapes."""
    if not isinstance(body, dict):
        return None, ""
    code = body.get("error_code")
    if code is None and isinstance(body.get("code"), str):
        code = body["code"]
    if code is None and isinstance(body.get("error"), str):
        code = body["error"]
    message = body.get("msg") or body.get("message") or body.get("error_description") or ""
    return (str(code) if code is not None else None), str(message)


def to_error(status: int, body: Any, retry_after: str | None = None) -> ForgeError:
    """The forge error for one of Supabase's error answers."""
    code, message = read_error(body)
    message = message or f"Supabase Auth refused the request ({status})"
    if code in RATE_LIMITED or status == 429:
        return RateLimited(message, _seconds(retry_after))
    if status >= 500:
        return Unavailable(f"Supabase Auth is unavailable ({status}); try again later")
    if code == "weak_password":
        return InvalidInput("password", _with_reasons(message, body))
    if code in TAKEN:
        return AlreadyExists(message)
    if code in NOT_CONFIRMED:
        return PermissionDenied(
            f"{message}: confirm the address with the link Supabase sent, then log in"
        )
    if code in REFUSED:
        return PermissionDenied(message)
    if code in UNAUTHENTICATED:
        return Unauthenticated(message)
    if code in BAD_EMAIL:
        return InvalidInput("email", message)
    if status == 401 and code is None:  # the gateway: a missing or wrong apikey
        return Unavailable("Supabase refused this server's API key; check SUPABASE_ANON_KEY")
    if status in (401, 403):
        return Unauthenticated(message)
    return ForgeError(message)


def _with_reasons(message: str, body: Any) -> str:
    details = body.get("weak_password") if isinstance(body, dict) else None
    reasons = details.get("reasons") if isinstance(details, dict) else None
    if isinstance(reasons, list) and reasons:
        return f"{message} (reasons: {', '.join(str(r) for r in reasons)})"
    return message


def _seconds(value: str | None) -> int:
    try:
        return max(1, int(value)) if value is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER


class GoTrue:
    """Calls to ``{url}/auth/v1`` with the project's API key."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        api_key: str,
        *,
        attempts: int = 3,
        backoff: float = 0.25,
    ) -> None:
        self._http = http
        self.base = url.rstrip("/") + "/auth/v1"
        self._api_key = api_key
        self._attempts = attempts
        self._backoff = backoff

    def __repr__(self) -> str:
        return f"GoTrue({self.base!r})"  # never the key

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        token: str | None = None,
    ) -> Any:
        """The decoded JSON answer (None for an empty one), or the mapped forge error."""
        headers = {"apikey": self._api_key, "X-Supabase-Api-Version": API_VERSION}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = await send(
            self._http,
            method,
            self.base + path,
            headers=headers,
            params=params,
            json=json,
            attempts=self._attempts,
            backoff=self._backoff,
        )
        body = _json(response)
        if response.status_code >= 400:
            raise to_error(response.status_code, body, response.headers.get("retry-after"))
        if body is None and response.content:
            raise Unavailable("Supabase Auth answered something that is not JSON")
        return body


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
