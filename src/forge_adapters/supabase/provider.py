"""Accounts and tokens kept by Supabase Auth; see ``forge_core.ports.AuthProvider``.

Register, login and refresh go to GoTrue. Access tokens are verified here (``tokens``),
without a call per request. The user id is Supabase's ``sub``; the first authenticated
request creates the local profile (email, display name from ``user_metadata``) and a
later one with other values updates it, so that owned records can point at it.

Logout ends the login upstream (``POST /logout``) and records the token's ``session_id``
as revoked in the AuthStore: every access token of that login, still unexpired, is
refused from then on. A ``session_id`` unknown to the store is a live login.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from forge_core.entities import AuthSession, Clock, User, utc_now
from forge_core.errors import (
    AlreadyExists,
    ForgeError,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)
from forge_core.ports import AuthStore, Principal, Tokens

from .gotrue import GoTrue
from .tokens import MAX_CACHED, Claims, TokenVerifier

log = logging.getLogger(__name__)

ENDED = "This login has ended; log in again"


class SupabaseAuthProvider:
    """The AuthProvider over Supabase Auth (GoTrue)."""

    def __init__(
        self,
        gotrue: GoTrue,
        verifier: TokenVerifier,
        store: AuthStore,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._gotrue = gotrue
        self._verifier = verifier
        self._store = store
        self._clock = clock
        self._profiles: dict[UUID, tuple[str, str | None]] = {}
        self._tokens: dict[UUID, str] = {}  # a login's last token, for the upstream logout

    async def register(self, email: str, password: str, display_name: str | None) -> User:
        data = {"display_name": display_name} if display_name is not None else {}
        body = await self._gotrue.call(
            "POST", "/signup", json={"email": email, "password": password, "data": data}
        )
        # Confirmation off: a session with the user in it. On: the bare user.
        user = body.get("user") if isinstance(body, dict) and "access_token" in body else body
        if not isinstance(user, dict):
            raise _unexpected()
        if user.get("identities") == []:  # GoTrue's answer to a repeated signup
            raise AlreadyExists("User already registered")
        return _user(user, self._clock())

    async def login(self, email: str, password: str) -> Tokens:
        body = await self._gotrue.call(
            "POST",
            "/token",
            params={"grant_type": "password"},
            json={"email": email, "password": password},
        )
        return _tokens(body)

    async def refresh(self, refresh_token: str) -> Tokens:
        body = await self._gotrue.call(
            "POST",
            "/token",
            params={"grant_type": "refresh_token"},
            json={"refresh_token": refresh_token},
        )
        return _tokens(body)

    async def authenticate(self, access_token: str) -> Principal:
        claims = await self._verifier.verify(access_token)
        login = await self._store.get_session(claims.session_id)
        if login is not None and login.revoked_at is not None:
            raise Unauthenticated(ENDED)
        await self._keep_profile(claims)
        if self._tokens.get(claims.session_id) != access_token:
            _bounded(self._tokens)[claims.session_id] = access_token
        return Principal(user_id=claims.user_id, session_id=claims.session_id, email=claims.email)

    async def profile(self, principal: Principal) -> User:
        try:
            return await self._store.get_user(principal.user_id)
        except NotFound:
            raise Unauthenticated("The account no longer exists") from None

    async def logout(self, principal: Principal) -> None:
        if principal.session_id is None:
            return
        now = self._clock()
        await self._revoke(principal.user_id, principal.session_id, now)
        token = self._tokens.pop(principal.session_id, None)
        if token is None:
            return
        try:  # the login is refused here already; upstream, its refresh tokens end too
            await self._gotrue.call("POST", "/logout", token=token)
        except ForgeError as exc:
            log.warning(
                "Supabase logout not confirmed (%s); the login is revoked here anyway",
                type(exc).__name__,
            )

    async def _revoke(self, user_id: UUID, session_id: UUID, now: datetime) -> None:
        if await self._store.get_session(session_id) is None:
            record = AuthSession(
                id=session_id,
                user_id=user_id,
                refresh_token_hash=None,
                expires_at=now,
                revoked_at=now,
                created_at=now,
                updated_at=now,
            )
            try:
                await self._store.add_session(record)
                return
            except AlreadyExists:  # a concurrent logout stored it first
                pass
        await self._store.revoke_session(session_id, now)

    async def _keep_profile(self, claims: Claims) -> None:
        email = (claims.email or f"{claims.user_id}@users.supabase.invalid").lower()
        wanted = (email, claims.display_name)
        if self._profiles.get(claims.user_id) == wanted:
            return
        now = self._clock()
        user = User(
            id=claims.user_id,
            email=email,
            display_name=claims.display_name,
            created_at=now,
            updated_at=now,
        )
        try:
            await self._store.save_profile(user)
        except AlreadyExists:
            raise PermissionDenied("This email belongs to another account on this server") from None
        _bounded(self._profiles)[claims.user_id] = wanted


def _bounded(cache: dict[Any, Any]) -> dict[Any, Any]:
    if len(cache) >= MAX_CACHED:
        cache.clear()
    return cache


def _unexpected() -> Unavailable:
    return Unavailable("Supabase Auth answered an unexpected body")


def _user(body: dict[str, Any], now: datetime) -> User:
    metadata = body.get("user_metadata")
    name = metadata.get("display_name") if isinstance(metadata, dict) else None
    try:
        created = datetime.fromisoformat(str(body.get("created_at")))
    except ValueError:
        created = now
    try:
        return User(
            id=UUID(str(body["id"])),
            email=str(body["email"]),
            display_name=name if isinstance(name, str) else None,
            created_at=created,
            updated_at=created,
        )
    except (KeyError, ValueError):
        raise _unexpected() from None


def _tokens(body: Any) -> Tokens:
    try:
        return Tokens(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]),
            user_id=UUID(str(body["user"]["id"])),
            expires_in=int(body["expires_in"]),
            token_type=str(body.get("token_type", "bearer")).lower(),
        )
    except (KeyError, TypeError, ValueError):
        raise _unexpected() from None
