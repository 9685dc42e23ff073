"""The AuthStore port over dicts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID

from forge_core.entities import AuthSession, User
from forge_core.errors import AlreadyExists, NotFound


class MemoryAuthStore:
    def __init__(self) -> None:
        self._users: dict[UUID, User] = {}
        self._hashes: dict[UUID, str | None] = {}
        self._by_email: dict[str, UUID] = {}
        self._sessions: dict[UUID, AuthSession] = {}

    async def add_user(self, user: User, password_hash: str | None) -> None:
        email = user.email.lower()
        if email in self._by_email:
            raise AlreadyExists("a user with this email is already registered")
        self._users[user.id] = replace(user, email=email)
        self._hashes[user.id] = password_hash
        self._by_email[email] = user.id

    async def save_profile(self, user: User) -> None:
        existing = self._users.get(user.id)
        if existing is not None:
            self._by_email.pop(existing.email, None)
            user = replace(user, created_at=existing.created_at)
        self._users[user.id] = replace(user, email=user.email.lower())
        self._hashes.setdefault(user.id, None)
        self._by_email[user.email.lower()] = user.id

    async def get_user(self, user_id: UUID) -> User:
        if user_id not in self._users:
            raise NotFound("User", user_id)
        return self._users[user_id]

    async def find_login(self, email: str) -> tuple[User, str | None] | None:
        user_id = self._by_email.get(email.lower())
        if user_id is None:
            return None
        return self._users[user_id], self._hashes[user_id]

    async def add_session(self, session: AuthSession) -> None:
        self._sessions[session.id] = session

    async def get_session(self, session_id: UUID) -> AuthSession | None:
        return self._sessions.get(session_id)

    async def is_live(self, session_id: UUID) -> bool:
        session = self._sessions.get(session_id)
        return session is not None and session.revoked_at is None

    async def rotate_refresh(
        self, session_id: UUID, old_hash: str, new_hash: str, now: datetime
    ) -> bool:
        session = self._sessions.get(session_id)
        if session is None or session.revoked_at is not None:
            return False
        if session.refresh_token_hash != old_hash or session.expires_at <= now:
            return False
        self._sessions[session_id] = replace(session, refresh_token_hash=new_hash, updated_at=now)
        return True

    async def revoke_session(self, session_id: UUID, now: datetime) -> None:
        session = self._sessions.get(session_id)
        if session is not None and session.revoked_at is None:
            self._sessions[session_id] = replace(session, revoked_at=now, updated_at=now)
