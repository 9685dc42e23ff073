"""The EventLog contract: every adapter passes the same suite (memory, SQLite,
PostgreSQL). A new adapter is done when a subclass of ``EventLogContract`` passes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import anyio
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from forge_adapters.memory import MemoryAuthStore, MemoryEventLog, MemoryRepository
from forge_adapters.sql import SqlAuthStore, SqlEventLog, SqlRepository
from forge_core.entities import Chat, Session, User
from forge_core.errors import NotFound
from forge_core.ports import AuthStore, EventLog, Repository

from .records import T0, at

pytestmark = pytest.mark.anyio


@dataclass
class Stores:
    log: EventLog
    repo: Repository
    auth: AuthStore


@dataclass
class Owner:
    id: UUID
    session: Session
    chat: Chat


class EventLogContract:
    """Subclasses provide ``stores``: an EventLog over the Repository and AuthStore that
    hold its chats and users."""

    @pytest.fixture
    def stores(self) -> Stores:
        raise NotImplementedError

    async def _owner(self, stores: Stores, email: str) -> Owner:
        user = User(id=uuid4(), email=email, created_at=T0, updated_at=T0)
        await stores.auth.add_user(user, None)
        stamps: dict[str, Any] = {"user_id": user.id, "created_at": T0, "updated_at": T0}
        session = Session(id=uuid4(), name="Quadcopter", **stamps)
        chat = Chat(id=uuid4(), session_id=session.id, **stamps)
        for record in (session, chat):
            await stores.repo.add(record)
        return Owner(user.id, session, chat)

    async def _chat(self, stores: Stores, owner: Owner) -> Chat:
        stamps: dict[str, Any] = {"user_id": owner.id, "created_at": T0, "updated_at": T0}
        chat = Chat(id=uuid4(), session_id=owner.session.id, **stamps)
        await stores.repo.add(chat)
        return chat

    @pytest.fixture
    async def owner(self, stores: Stores) -> Owner:
        return await self._owner(stores, "owner@example.com")

    async def test_events_are_numbered_from_one_and_read_back_in_order(
        self, stores: Stores, owner: Owner
    ) -> None:
        data = {"runpod_id": "rp-1", "nested": {"list": [1, "two", None]}, "ok": True}
        first = await stores.log.append(owner.id, owner.chat.id, "runpod.queued", data, at(1))
        second = await stores.log.append(owner.id, owner.chat.id, "runpod.status", {}, at(2))
        assert (first.seq, second.seq) == (1, 2)
        events = await stores.log.since(owner.id, owner.chat.id, 0)
        assert events == [first, second]
        assert events[0].data == data and events[0].created_at == at(1)
        assert events[0].type == "runpod.queued" and events[0].user_id == owner.id

    async def test_since_returns_what_follows_and_honours_the_limit(
        self, stores: Stores, owner: Owner
    ) -> None:
        for n in range(5):
            await stores.log.append(owner.id, owner.chat.id, "e", {"n": n}, at(n))
        after_two = await stores.log.since(owner.id, owner.chat.id, 2)
        assert [e.seq for e in after_two] == [3, 4, 5]
        limited = await stores.log.since(owner.id, owner.chat.id, 1, limit=2)
        assert [e.seq for e in limited] == [2, 3]
        assert await stores.log.since(owner.id, owner.chat.id, 5) == []

    async def test_each_chat_numbers_its_own_events(self, stores: Stores, owner: Owner) -> None:
        other = await self._chat(stores, owner)
        await stores.log.append(owner.id, owner.chat.id, "e", {}, at(1))
        await stores.log.append(owner.id, owner.chat.id, "e", {}, at(2))
        event = await stores.log.append(owner.id, other.id, "e", {}, at(3))
        assert event.seq == 1
        assert [e.chat_id for e in await stores.log.since(owner.id, other.id, 0)] == [other.id]

    async def test_concurrent_appends_get_every_number_once(
        self, stores: Stores, owner: Owner
    ) -> None:
        async with anyio.create_task_group() as group:
            for n in range(40):
                group.start_soon(stores.log.append, owner.id, owner.chat.id, "e", {"n": n}, at(n))
        events = await stores.log.since(owner.id, owner.chat.id, 0)
        assert [e.seq for e in events] == list(range(1, 41))
        assert sorted(e.data["n"] for e in events) == list(range(40))

    async def test_another_users_chat_is_not_found_and_shows_nothing(
        self, stores: Stores, owner: Owner
    ) -> None:
        await stores.log.append(owner.id, owner.chat.id, "e", {}, at(1))
        intruder = await self._owner(stores, "intruder@example.com")
        with pytest.raises(NotFound):
            await stores.log.append(intruder.id, owner.chat.id, "e", {}, at(2))
        assert await stores.log.since(intruder.id, owner.chat.id, 0) == []
        assert [e.seq for e in await stores.log.since(owner.id, owner.chat.id, 0)] == [1]

    async def test_a_missing_chat_is_not_found(self, stores: Stores, owner: Owner) -> None:
        with pytest.raises(NotFound):
            await stores.log.append(owner.id, uuid4(), "e", {}, at(1))

    async def test_events_go_with_their_chat(self, stores: Stores, owner: Owner) -> None:
        await stores.log.append(owner.id, owner.chat.id, "e", {}, at(1))
        await stores.repo.delete(Chat, owner.chat.id, owner.id)
        assert await stores.log.since(owner.id, owner.chat.id, 0) == []
        with pytest.raises(NotFound):
            await stores.log.append(owner.id, owner.chat.id, "e", {}, at(2))

    async def test_events_go_with_their_session(self, stores: Stores, owner: Owner) -> None:
        await stores.log.append(owner.id, owner.chat.id, "e", {}, at(1))
        await stores.repo.delete(Session, owner.session.id, owner.id)
        assert await stores.log.since(owner.id, owner.chat.id, 0) == []


class TestMemoryEventLog(EventLogContract):
    @pytest.fixture
    def stores(self) -> Stores:
        repo = MemoryRepository()
        return Stores(MemoryEventLog(repo), repo, MemoryAuthStore())


class TestSqliteEventLog(EventLogContract):
    @pytest.fixture
    def stores(self, sqlite_engine: AsyncEngine) -> Stores:
        engine = sqlite_engine
        return Stores(SqlEventLog(engine), SqlRepository(engine), SqlAuthStore(engine))


@pytest.mark.postgres
class TestPostgresEventLog(EventLogContract):
    @pytest.fixture
    def stores(self, postgres_engine: AsyncEngine) -> Stores:
        engine = postgres_engine
        return Stores(SqlEventLog(engine), SqlRepository(engine), SqlAuthStore(engine))
