"""The AuthStore contract: every adapter passes the same suite (memory, SQLite,
PostgreSQL). A new adapter is done when a subclass of ``AuthStoreContract`` passes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from forge_adapters.memory import MemoryAuthStore
from forge_adapters.sql import SqlAuthStore
from forge_core.entities import AuthSession, User
from forge_core.errors import AlreadyExists, NotFound
from forge_core.ports import AuthStore

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
LATER = T0 + timedelta(minutes=5)


def make_user(email: str = "Ada@Example.com", **changes: object) -> User:
    user = User(id=uuid4(), email=email, display_name="Ada", created_at=T0, updated_at=T0)
    return replace(user, **changes)


def make_login(user_id: UUID, **changes: object) -> AuthSession:
    login = AuthSession(
        id=uuid4(),
        user_id=user_id,
        refresh_token_hash="hash-1",
        expires_at=T0 + timedelta(days=30),
        created_at=T0,
        updated_at=T0,
    )
    return replace(login, **changes)


class AuthStoreContract:
    """Subclasses provide ``auth_store``."""

    @pytest.fixture
    def auth_store(self) -> AuthStore:
        raise NotImplementedError

    @pytest.fixture
    async def user(self, auth_store: AuthStore) -> User:
        user = make_user()
        await auth_store.add_user(user, "argon2-hash")
        return replace(user, email="ada@example.com")

    async def test_added_user_reads_back_with_lower_case_email(
        self, auth_store: AuthStore, user: User
    ) -> None:
        assert await auth_store.get_user(user.id) == user

    async def test_unknown_user_is_not_found(self, auth_store: AuthStore) -> None:
        missing = uuid4()
        with pytest.raises(NotFound) as caught:
            await auth_store.get_user(missing)
        assert (caught.value.kind, caught.value.object_id) == ("User", missing)

    async def test_email_is_unique_whatever_its_case(
        self, auth_store: AuthStore, user: User
    ) -> None:
        with pytest.raises(AlreadyExists):
            await auth_store.add_user(make_user("ADA@example.COM"), None)
        assert await auth_store.find_login("ada@example.com") == (user, "argon2-hash")

    async def test_find_login_ignores_case(self, auth_store: AuthStore, user: User) -> None:
        assert await auth_store.find_login("ADA@EXAMPLE.COM") == (user, "argon2-hash")
        assert await auth_store.find_login("nobody@example.com") is None

    async def test_save_profile_creates_a_user_without_password(
        self, auth_store: AuthStore
    ) -> None:
        user = make_user("Ext@Example.com")
        await auth_store.save_profile(user)
        assert await auth_store.find_login("ext@example.com") == (
            replace(user, email="ext@example.com"),
            None,
        )

    async def test_save_profile_updates_but_keeps_created_at_and_hash(
        self, auth_store: AuthStore, user: User
    ) -> None:
        changed = replace(
            user, email="Ada.L@example.com", display_name=None, created_at=LATER, updated_at=LATER
        )
        await auth_store.save_profile(changed)
        expected = replace(changed, email="ada.l@example.com", created_at=T0)
        assert await auth_store.get_user(user.id) == expected
        assert await auth_store.find_login("ada.l@example.com") == (expected, "argon2-hash")
        assert await auth_store.find_login("ada@example.com") is None

    async def test_login_reads_back(self, auth_store: AuthStore, user: User) -> None:
        login = make_login(user.id)
        await auth_store.add_session(login)
        assert await auth_store.get_session(login.id) == login
        assert await auth_store.get_session(uuid4()) is None

    async def test_a_login_is_live_until_revoked(self, auth_store: AuthStore, user: User) -> None:
        login = make_login(user.id)
        await auth_store.add_session(login)
        assert await auth_store.is_live(login.id)
        assert not await auth_store.is_live(uuid4())
        await auth_store.revoke_session(login.id, LATER)
        assert not await auth_store.is_live(login.id)

    async def test_rotate_refresh_swaps_the_hash_once(
        self, auth_store: AuthStore, user: User
    ) -> None:
        login = make_login(user.id)
        await auth_store.add_session(login)
        assert await auth_store.rotate_refresh(login.id, "hash-1", "hash-2", LATER)
        assert not await auth_store.rotate_refresh(login.id, "hash-1", "hash-3", LATER)
        expected = replace(login, refresh_token_hash="hash-2", updated_at=LATER)
        assert await auth_store.get_session(login.id) == expected

    async def test_rotate_refresh_refuses_unknown_revoked_and_expired_logins(
        self, auth_store: AuthStore, user: User
    ) -> None:
        expired = make_login(user.id, expires_at=LATER)
        revoked = make_login(user.id, revoked_at=T0)
        for login in (expired, revoked):
            await auth_store.add_session(login)
            assert not await auth_store.rotate_refresh(login.id, "hash-1", "hash-2", LATER)
            assert await auth_store.get_session(login.id) == login
        assert not await auth_store.rotate_refresh(uuid4(), "hash-1", "hash-2", LATER)

    async def test_revoke_marks_the_login_once(self, auth_store: AuthStore, user: User) -> None:
        login = make_login(user.id)
        await auth_store.add_session(login)
        await auth_store.revoke_session(login.id, LATER)
        revoked = replace(login, revoked_at=LATER, updated_at=LATER)
        assert await auth_store.get_session(login.id) == revoked
        await auth_store.revoke_session(login.id, LATER + timedelta(hours=1))
        assert await auth_store.get_session(login.id) == revoked
        await auth_store.revoke_session(uuid4(), LATER)


class TestMemoryAuthStore(AuthStoreContract):
    @pytest.fixture
    def auth_store(self) -> AuthStore:
        return MemoryAuthStore()


class TestSqliteAuthStore(AuthStoreContract):
    @pytest.fixture
    def auth_store(self, sqlite_engine: AsyncEngine) -> AuthStore:
        return SqlAuthStore(sqlite_engine)


class TestSqliteAuthStoreThroughSqlAlchemy(AuthStoreContract):
    """The store with its fast reads off: the path the benchmarks compare against."""

    @pytest.fixture
    def auth_store(self, sqlite_engine: AsyncEngine) -> AuthStore:
        return SqlAuthStore(sqlite_engine, fast_reads=False)


@pytest.mark.postgres
class TestPostgresAuthStore(AuthStoreContract):
    @pytest.fixture
    def auth_store(self, postgres_engine: AsyncEngine) -> AuthStore:
        return SqlAuthStore(postgres_engine)
