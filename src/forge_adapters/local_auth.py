"""Local accounts: argon2 password hashes, HS256 access JWTs, rotating refresh tokens.

An access token names its login (``sid``); logout revokes the login, so a token that is
still unexpired is refused afterwards. A refresh token is ``<login id>.<secret>``; only
the secret's SHA-256 is stored, and each refresh swaps it. Presenting an old refresh
token again (a replay) revokes the whole login.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from uuid import UUID, uuid4

import anyio.to_thread
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from forge_core.entities import AuthSession, Clock, User, utc_now
from forge_core.errors import InvalidInput, NotFound, Unauthenticated
from forge_core.ports import AuthStore, Principal, Tokens

ISSUER = "forge"
AUDIENCE = "forge"
BAD_CREDENTIALS = "Invalid email or password"
MIN_PASSWORD = 6
MAX_PASSWORD = 256
SECRET_FILE = "jwt_secret"
MAX_REMEMBERED_TOKENS = 10_000


def load_or_create_secret(data_dir: Path) -> str:
    """The signing secret kept in ``data_dir``; made on first run, readable by owner only."""
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class LocalAuthProvider:
    """The embedded AuthProvider."""

    def __init__(
        self,
        store: AuthStore,
        jwt_secret: str,
        *,
        hasher: PasswordHasher | None = None,
        clock: Clock = utc_now,
        access_ttl: timedelta = timedelta(hours=1),
        refresh_ttl: timedelta = timedelta(days=30),
    ) -> None:
        self._store = store
        self._secret = jwt_secret
        self._hasher = hasher or PasswordHasher()
        self._clock = clock
        self._access_ttl = access_ttl
        self._refresh_ttl = refresh_ttl
        self._verified: dict[str, tuple[UUID, UUID, str | None, int]] = {}
        # Verifying against this when the email is unknown keeps both failures equally slow.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    async def register(self, email: str, password: str, display_name: str | None) -> User:
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise InvalidInput(
                "password", f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long"
            )
        password_hash = await anyio.to_thread.run_sync(self._hasher.hash, password)
        now = self._clock()
        user = User(
            id=uuid4(),
            email=email.strip().lower(),
            display_name=display_name,
            created_at=now,
            updated_at=now,
        )
        await self._store.add_user(user, password_hash)
        return user

    async def login(self, email: str, password: str) -> Tokens:
        found = await self._store.find_login(email.strip().lower())
        user, password_hash = found if found else (None, None)
        if (
            not await anyio.to_thread.run_sync(
                self._verify, password_hash or self._dummy_hash, password
            )
            or user is None
        ):
            raise Unauthenticated(BAD_CREDENTIALS)
        now = self._clock()
        refresh_secret = secrets.token_urlsafe(32)
        session = AuthSession(
            id=uuid4(),
            user_id=user.id,
            refresh_token_hash=_digest(refresh_secret),
            expires_at=now + self._refresh_ttl,
            created_at=now,
            updated_at=now,
        )
        await self._store.add_session(session)
        return self._tokens(session, refresh_secret, user.email)

    async def refresh(self, refresh_token: str) -> Tokens:
        session_part, _, refresh_secret = refresh_token.partition(".")
        try:
            session_id = UUID(session_part)
        except ValueError:
            raise Unauthenticated("Invalid refresh token") from None
        session = await self._store.get_session(session_id)
        now = self._clock()
        if session is None or session.revoked_at is not None or session.expires_at <= now:
            raise Unauthenticated("Refresh token expired or revoked")
        new_secret = secrets.token_urlsafe(32)
        if not await self._store.rotate_refresh(
            session_id, _digest(refresh_secret), _digest(new_secret), now
        ):
            await self._store.revoke_session(session_id, now)  # a replayed token: end it all
            raise Unauthenticated("Refresh token already used; the login has been revoked")
        user = await self._user(session.user_id)
        rotated = replace(session, refresh_token_hash=_digest(new_secret))
        return self._tokens(rotated, new_secret, user.email)

    async def authenticate(self, access_token: str) -> Principal:
        user_id, session_id, email = self._verify_token(access_token)
        if not await self._store.is_live(session_id):
            raise Unauthenticated("This login has ended; log in again")
        return Principal(user_id=user_id, session_id=session_id, email=email)

    def _verify_token(self, token: str) -> tuple[UUID, UUID, str | None]:
        """The token's (user, login, email), checked once and then remembered until it
        expires: the signature of a given token string cannot change, only its login."""
        cached = self._verified.get(token)
        if cached is not None and cached[3] > self._clock().timestamp():
            return cached[0], cached[1], cached[2]
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                # exp is checked below, by this provider's clock (the one that set it)
                options={
                    "require": ["exp", "iat", "sub", "sid", "aud", "iss"],
                    "verify_exp": False,
                },
            )
            user_id, session_id = UUID(claims["sub"]), UUID(claims["sid"])
            expires = int(claims["exp"])
        except (jwt.InvalidTokenError, ValueError, TypeError):
            self._verified.pop(token, None)
            raise Unauthenticated("Invalid or expired access token") from None
        if expires <= self._clock().timestamp():
            self._verified.pop(token, None)
            raise Unauthenticated("Invalid or expired access token")
        if len(self._verified) >= MAX_REMEMBERED_TOKENS:
            self._verified.clear()
        self._verified[token] = (user_id, session_id, claims.get("email"), expires)
        return user_id, session_id, claims.get("email")

    async def profile(self, principal: Principal) -> User:
        return await self._user(principal.user_id)

    async def logout(self, principal: Principal) -> None:
        if principal.session_id is not None:
            await self._store.revoke_session(principal.session_id, self._clock())

    async def _user(self, user_id: UUID) -> User:
        try:
            return await self._store.get_user(user_id)
        except NotFound:
            raise Unauthenticated("The account no longer exists") from None

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _tokens(self, session: AuthSession, refresh_secret: str, email: str) -> Tokens:
        now = self._clock()
        claims = {
            "sub": str(session.user_id),
            "sid": str(session.id),
            "email": email,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": int(now.timestamp()),
            "exp": int((now + self._access_ttl).timestamp()),
        }
        return Tokens(
            access_token=jwt.encode(claims, self._secret, algorithm="HS256"),
            refresh_token=f"{session.id}.{refresh_secret}",
            user_id=session.user_id,
            expires_in=int(self._access_ttl.total_seconds()),
        )
