"""Verifying Supabase access tokens without a call to Supabase per request.

- ES256 / RS256: against the project's JWKS (``/auth/v1/.well-known/jwks.json``), kept
  10 minutes; a ``kid`` not in it triggers a refetch, at most once a minute. Only EC and
  RSA keys are taken from the JWKS, each for its own algorithm: a token's ``alg`` must be
  its key's, so an HS256 token can never be checked against a public key.
- HS256: with ``SUPABASE_JWT_SECRET`` (projects still on the legacy secret).
- Neither possible (HS256 and no secret): ``GET /auth/v1/user`` asks Supabase, and the
  answer is kept a short while under the token's SHA-256.
- Anything else (``alg: none`` included) is refused.

Every token must carry ``sub``, ``session_id``, ``exp``, ``aud`` and ``iss``; ``aud`` must
be the configured audience and ``iss`` ``{SUPABASE_URL}/auth/v1``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import anyio
import jwt

from forge_core.errors import Unauthenticated, Unavailable

from .gotrue import GoTrue

log = logging.getLogger(__name__)

ASYMMETRIC = {"EC": "ES256", "RSA": "RS256"}
JWKS_PATH = "/.well-known/jwks.json"
REQUIRED = ["exp", "sub", "aud", "iss", "session_id"]
INVALID = "Invalid or expired access token"
MAX_CACHED = 10_000


@dataclass(frozen=True, slots=True)
class Claims:
    """What a verified token says about its caller."""

    user_id: UUID
    session_id: UUID
    email: str | None
    display_name: str | None
    expires_at: int


def parse_jwks(body: Any) -> dict[str | None, jwt.PyJWK]:
    """The JWKS's asymmetric signing keys by ``kid``; symmetric and unusable keys skipped."""
    keys: dict[str | None, jwt.PyJWK] = {}
    items = body.get("keys") if isinstance(body, dict) else None
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("kty") not in ASYMMETRIC:
            continue
        algorithm = ASYMMETRIC[item["kty"]]
        if item.get("alg", algorithm) != algorithm:
            continue
        try:
            keys[item.get("kid")] = jwt.PyJWK(item, algorithm=algorithm)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            log.warning("skipping an unusable key in the Supabase JWKS")
    return keys


class TokenVerifier:
    """Checks access tokens; see the module docstring for how."""

    def __init__(
        self,
        gotrue: GoTrue,
        *,
        audience: str = "authenticated",
        jwt_secret: str | None = None,
        clock: Callable[[], float] = time.time,
        jwks_ttl: float = 600.0,
        refetch_gap: float = 60.0,
        user_cache_ttl: float = 30.0,
    ) -> None:
        self._gotrue = gotrue
        self._audience = audience
        self.issuer = gotrue.base
        self._secret = jwt_secret
        self._clock = clock
        self._jwks_ttl = jwks_ttl
        self._refetch_gap = refetch_gap
        self._user_cache_ttl = user_cache_ttl
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._loaded_at: float | None = None
        self._tried_at: float | None = None
        self._lock = anyio.Lock()
        self._asked: dict[str, tuple[Claims, float]] = {}
        self._verified: dict[str, Claims] = {}

    async def verify(self, token: str) -> Claims:
        """The token's claims. Raises Unauthenticated, or Unavailable when the keys
        cannot be fetched."""
        cached = self._verified.get(token)  # a signature checked once stays checked
        if cached is not None and cached.expires_at > self._clock():
            return cached
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthenticated(INVALID) from None
        algorithm = header.get("alg")
        if algorithm in ASYMMETRIC.values():
            key = await self._signing_key(header.get("kid"))
            if key is None or key.algorithm_name != algorithm:
                raise Unauthenticated(INVALID)
            return self._decode(token, key.key, algorithm)
        if algorithm == "HS256" and self._secret is not None:
            return self._decode(token, self._secret, "HS256")
        if algorithm == "HS256":
            return await self._ask_supabase(token)
        raise Unauthenticated(INVALID)

    def _decode(self, token: str, key: Any, algorithm: str) -> Claims:
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self.issuer,
                options={"require": REQUIRED, "verify_exp": False},  # by our clock, below
            )
        except jwt.InvalidTokenError:
            raise Unauthenticated(INVALID) from None
        self._check_exp(payload)
        claims = _claims(payload, payload)
        _remember(self._verified, token, claims)
        return claims

    async def _signing_key(self, kid: str | None) -> jwt.PyJWK | None:
        key = self._fresh_key(kid)
        if key is not None:
            return key
        async with self._lock:
            key = self._fresh_key(kid)  # another request may have fetched meanwhile
            if key is None and self._may_fetch():
                await self._fetch()
            return self._keys.get(kid)

    def _fresh_key(self, kid: str | None) -> jwt.PyJWK | None:
        if self._loaded_at is None or self._clock() - self._loaded_at >= self._jwks_ttl:
            return None
        return self._keys.get(kid)

    def _may_fetch(self) -> bool:
        return self._tried_at is None or self._clock() - self._tried_at >= self._refetch_gap

    async def _fetch(self) -> None:
        self._tried_at = self._clock()
        try:
            body = await self._gotrue.call("GET", JWKS_PATH)
        except Unavailable:
            if not self._keys:
                raise
            log.warning("Supabase JWKS could not be refreshed; keeping the keys we have")
            return
        except Unauthenticated:  # a gateway that will not serve it: no keys, not a 401
            raise Unavailable("Supabase refused to serve its signing keys") from None
        self._keys = parse_jwks(body)
        self._loaded_at = self._tried_at

    async def _ask_supabase(self, token: str) -> Claims:
        digest = hashlib.sha256(token.encode()).hexdigest()
        now = self._clock()
        cached = self._asked.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        payload = self._unverified(token)  # cheap refusals before a network call
        user = await self._gotrue.call("GET", "/user", token=token)
        if not isinstance(user, dict) or user.get("id") != payload["sub"]:
            raise Unauthenticated(INVALID)
        claims = _claims(payload, {**payload, **user})
        _remember(self._asked, digest, (claims, min(now + self._user_cache_ttl, claims.expires_at)))
        return claims

    def _unverified(self, token: str) -> dict[str, Any]:
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                options={
                    "verify_signature": False,
                    "verify_exp": False,  # by our clock, below
                    "verify_aud": True,
                    "verify_iss": True,
                    "require": REQUIRED,
                },
                audience=self._audience,
                issuer=self.issuer,
            )
        except jwt.InvalidTokenError:
            raise Unauthenticated(INVALID) from None
        self._check_exp(payload)
        return payload

    def _check_exp(self, payload: dict[str, Any]) -> None:
        """Refuse a token at or past its ``exp`` by this verifier's clock, the one its
        caches use, so a cached and an uncached verification agree on when it ends."""
        try:
            expired = int(payload["exp"]) <= self._clock()
        except (KeyError, ValueError, TypeError):
            expired = True
        if expired:
            raise Unauthenticated(INVALID)


def _remember(cache: dict[str, Any], key: str, value: Any) -> None:
    if len(cache) >= MAX_CACHED:
        cache.clear()
    cache[key] = value


def _claims(token: dict[str, Any], profile: dict[str, Any]) -> Claims:
    """Claims from a verified token; the email and name from ``profile`` (the token's
    own claims, or the user object Supabase answered)."""
    metadata = profile.get("user_metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    name = metadata.get("display_name") or metadata.get("full_name") or metadata.get("name")
    email = profile.get("email")
    try:
        return Claims(
            user_id=UUID(str(token["sub"])),
            session_id=UUID(str(token["session_id"])),
            email=email if isinstance(email, str) and email else None,
            display_name=name if isinstance(name, str) else None,
            expires_at=int(token["exp"]),
        )
    except (ValueError, TypeError, KeyError):
        raise Unauthenticated(INVALID) from None
