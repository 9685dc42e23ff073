"""The AuthStore port over SQL: users (with their password hashes) and logins."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Insert, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from forge_core.entities import AuthSession, User
from forge_core.errors import AlreadyExists, NotFound

from .engine import write_transaction
from .errors import translate_errors
from .json_reads import json_reads_for
from .tables import AUTH_SESSIONS, USERS

_USER_COLUMNS = [USERS.c[field.name] for field in fields(User)]
_SESSION_FIELDS = tuple(field.name for field in fields(AuthSession))
_TAKEN = "a user with this email is already registered"


@dataclass(frozen=True, slots=True)
class _Revocation:
    """The one column ``is_live`` reads (a whole login is ten times the JSON)."""

    revoked_at: datetime | None


def _user_values(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email.lower(),
        "display_name": user.display_name,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }


class SqlAuthStore:
    """Users and logins in SQL tables; see ``forge_core.ports.AuthStore``."""

    def __init__(self, engine: AsyncEngine, *, fast_reads: bool = True) -> None:
        """``fast_reads=False`` reads through SQLAlchemy only (the benchmarks' baseline)."""
        self._engine = engine
        self._fast_reads = json_reads_for(engine) if fast_reads else None

    async def add_user(self, user: User, password_hash: str | None) -> None:
        statement = insert(USERS).values(**_user_values(user), password_hash=password_hash)
        await self._insert(statement, _TAKEN)

    async def save_profile(self, user: User) -> None:
        """Insert the user, or update everything but ``created_at`` and the password hash."""
        values = _user_values(user)
        upsert = _dialect_insert(self._engine)(USERS).values(**values, password_hash=None)
        changes = {name: values[name] for name in ("email", "display_name", "updated_at")}
        await self._insert(
            upsert.on_conflict_do_update(index_elements=["id"], set_=changes), _TAKEN
        )

    async def get_user(self, user_id: UUID) -> User:
        with translate_errors():
            async with self._engine.connect() as conn:
                result = await conn.execute(select(*_USER_COLUMNS).where(USERS.c.id == user_id))
                row = result.mappings().first()
        if row is None:
            raise NotFound("User", user_id)
        return User(**row)

    async def find_login(self, email: str) -> tuple[User, str | None] | None:
        statement = select(*_USER_COLUMNS, USERS.c.password_hash)
        with translate_errors():
            async with self._engine.connect() as conn:
                result = await conn.execute(statement.where(USERS.c.email == email.lower()))
                row = result.mappings().first()
        if row is None:
            return None
        values = dict(row)
        password_hash = values.pop("password_hash")
        return User(**values), password_hash

    async def add_session(self, session: AuthSession) -> None:
        """Store a new login. Raises NotFound if its user is gone."""
        values = {name: getattr(session, name) for name in _SESSION_FIELDS}
        try:
            await self._insert(insert(AUTH_SESSIONS).values(values), "login already stored")
        except AlreadyExists:
            await self.get_user(session.user_id)
            raise

    async def get_session(self, session_id: UUID) -> AuthSession | None:
        if self._fast_reads is not None:  # every authenticated request asks this
            found = await self._fast_reads.fetch(AuthSession, AUTH_SESSIONS, {"id": session_id})
            return found[0] if found else None
        with translate_errors():
            async with self._engine.connect() as conn:
                statement = select(AUTH_SESSIONS).where(AUTH_SESSIONS.c.id == session_id)
                row = (await conn.execute(statement)).mappings().first()
        return None if row is None else AuthSession(**row)

    async def is_live(self, session_id: UUID) -> bool:
        if self._fast_reads is not None:  # every authenticated request asks this
            found = await self._fast_reads.fetch(_Revocation, AUTH_SESSIONS, {"id": session_id})
        else:
            with translate_errors():
                async with self._engine.connect() as conn:
                    statement = select(AUTH_SESSIONS.c.revoked_at)
                    result = await conn.execute(statement.where(AUTH_SESSIONS.c.id == session_id))
                    found = [_Revocation(row.revoked_at) for row in result]
        return bool(found) and found[0].revoked_at is None

    async def rotate_refresh(
        self, session_id: UUID, old_hash: str, new_hash: str, now: datetime
    ) -> bool:
        """One conditional UPDATE: two refreshes racing with one token, one wins."""
        table = AUTH_SESSIONS
        statement = (
            update(table)
            .where(table.c.id == session_id, table.c.revoked_at.is_(None))
            .where(table.c.refresh_token_hash == old_hash, table.c.expires_at > now)
            .values(refresh_token_hash=new_hash, updated_at=now)
        )
        return await self._changed(statement) == 1

    async def revoke_session(self, session_id: UUID, now: datetime) -> None:
        table = AUTH_SESSIONS
        statement = (
            update(table)
            .where(table.c.id == session_id, table.c.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now)
        )
        await self._changed(statement)

    async def _changed(self, statement: Any) -> int:
        with translate_errors():
            async with write_transaction(self._engine) as conn:
                return int((await conn.execute(statement)).rowcount)

    async def _insert(self, statement: Insert, taken: str) -> None:
        with translate_errors():
            try:
                async with write_transaction(self._engine) as conn:
                    await conn.execute(statement)
            except IntegrityError as exc:
                raise AlreadyExists(taken) from exc


def _dialect_insert(engine: AsyncEngine) -> Any:
    """The INSERT with ON CONFLICT of the engine's database."""
    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
