"""The seed's "minimal client wrapper": ``supabase_anon`` and ``supabase_service``.

Each is a ``SupabaseClient`` bound to one key (the anon key for client-level calls, the
service role key for server-level ones) that calls any path of the project, PostgREST
(``/rest/v1/...``), Storage or Auth, on the pooled client that the auth adapter uses::

    if supabase_anon:
        resp = await supabase_anon.request("GET", "/rest/v1/some_table", params={"select": "*"})
        rows = resp.json()

A request carries ``apikey: <key>`` and ``Authorization: Bearer <key>``, or the user's
token when ``token=`` is given (so that row-level security sees the user). Gateway errors
(502, 503, 504) are retried; any other answer is returned as it is. Transport failures
raise ``forge_core.errors.Unavailable``; no httpx type leaves this module.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from forge_core.errors import InvalidInput

from .gotrue import send


@dataclass(frozen=True, slots=True)
class SupabaseResponse:
    """An answer from Supabase: status, headers (lower-case names) and body."""

    status_code: int
    headers: Mapping[str, str] = field(repr=False)
    content: bytes = field(repr=False)

    @property
    def ok(self) -> bool:
        return self.status_code < 400

    def json(self) -> Any:
        return jsonlib.loads(self.content) if self.content else None


class SupabaseClient:
    """Requests to ``{SUPABASE_URL}{path}`` with one of the project's keys."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        key: str,
        *,
        attempts: int = 3,
        backoff: float = 0.25,
    ) -> None:
        self._http = http
        self.url = url.rstrip("/")
        self._key = key
        self._attempts = attempts
        self._backoff = backoff

    def __repr__(self) -> str:
        return f"SupabaseClient({self.url!r})"  # never the key

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
    ) -> SupabaseResponse:
        """Send one request; ``path`` is relative to the project URL (``/rest/v1/...``).
        Raises InvalidInput for a path that would leave the project, Unavailable when
        Supabase cannot be reached."""
        if not path.startswith("/") or path.startswith("//"):
            raise InvalidInput("path", "must start with '/' and stay on the Supabase project")
        sent = {**(headers or {}), "apikey": self._key}
        sent["Authorization"] = f"Bearer {token or self._key}"
        response = await send(
            self._http,
            method.upper(),
            self.url + path,
            headers=sent,
            params=params,
            json=json,
            attempts=self._attempts,
            backoff=self._backoff,
        )
        return SupabaseResponse(
            status_code=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            content=response.content,
        )
