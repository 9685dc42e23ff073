"""Rate limits: the RateLimiter port (a counter per key in a fixed window) and the
``RateLimits`` use case that decides what is counted under which key.

Sign-in attempts (register, login, refresh) count per client address and per email,
so that neither one address trying many emails nor many addresses trying one email
gets far; starting inference runs counts per user. A refused request raises
RateLimited before anything is stored or submitted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from forge_core.errors import RateLimited

#: Every limit counts requests in a window of this many seconds.
WINDOW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Hit:
    """One request counted: whether it is within the limit, and (when it is not) how
    many seconds until the key's window ends."""

    allowed: bool
    retry_after: int = 0


class RateLimiter(Protocol):
    """Counters of requests per key in fixed windows, shared by every process that
    shares the adapter's store."""

    async def hit(self, key: str, limit: int, window: int) -> Hit:
        """Count one request under ``key``. The first request starts a window of
        ``window`` seconds; within it, the first ``limit`` requests are allowed and the
        rest are not, with ``retry_after`` (at least 1) the seconds left in the window.
        Raises Unavailable when the store cannot answer."""


def email_key(email: str) -> str:
    """An email as a key: case and spaces ignored, and hashed so the store holds no
    address in the clear."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


class RateLimits:
    """The product's limits, applied through a RateLimiter."""

    def __init__(
        self, limiter: RateLimiter, *, auth_per_minute: int = 20, runs_per_minute: int = 30
    ) -> None:
        if auth_per_minute < 1 or runs_per_minute < 1:
            raise ValueError("every limit must allow at least one request a minute")
        self.limiter = limiter
        self.auth_per_minute, self.runs_per_minute = auth_per_minute, runs_per_minute

    async def check_auth(self, address: str, email: str | None = None) -> None:
        """Count a sign-in attempt from ``address`` (and for ``email``, when the request
        names one). Raises RateLimited naming which limit it hit."""
        limit = self.auth_per_minute
        await self._check(f"auth:addr:{address}", limit, "from this address")
        if email is not None:
            await self._check(f"auth:email:{email_key(email)}", limit, "for this email")

    async def check_runs(self, user_id: UUID) -> None:
        """Count a run started by the user. Raises RateLimited."""
        limit = self.runs_per_minute
        hit = await self.limiter.hit(f"runs:user:{user_id}", limit, WINDOW_SECONDS)
        if not hit.allowed:
            raise RateLimited(
                f"too many runs started: at most {limit} a minute per user; "
                f"retry in {hit.retry_after} s",
                retry_after=hit.retry_after,
            )

    async def _check(self, key: str, limit: int, where: str) -> None:
        hit = await self.limiter.hit(key, limit, WINDOW_SECONDS)
        if not hit.allowed:
            raise RateLimited(
                f"too many sign-in attempts {where}: at most {limit} a minute; "
                f"retry in {hit.retry_after} s",
                retry_after=hit.retry_after,
            )
