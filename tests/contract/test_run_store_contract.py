"""The RunStore contract: every adapter passes the same suite (memory, SQLite,
PostgreSQL). A new adapter is done when a subclass of ``RunStoreContract`` passes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import anyio
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from forge_adapters.memory import (
    MemoryAuthStore,
    MemoryEventLog,
    MemoryRepository,
    MemoryRunStore,
)
from forge_adapters.sql import SqlAuthStore, SqlEventLog, SqlRepository, SqlRunStore
from forge_core.entities import (
    Chat,
    EventDraft,
    InferenceRun,
    Message,
    RunStatus,
    Session,
    User,
)
from forge_core.errors import AlreadyExists, InvalidInput, InvalidTransition, NotFound
from forge_core.ports import AuthStore, EventLog, Repository, RunStore

from .records import T0, at

pytestmark = pytest.mark.anyio


@dataclass
class Stores:
    runs: RunStore
    repo: Repository
    auth: AuthStore
    log: EventLog


@dataclass
class Owner:
    id: UUID
    session: Session
    chat: Chat
    prompt: Message


def make_run(owner: Owner, when: float = 0, **changes: Any) -> InferenceRun:
    run = InferenceRun(
        id=uuid4(),
        user_id=owner.id,
        chat_id=owner.chat.id,
        action="generate_scad",
        prompt="a 160 mm frame",
        deadline=at(when) + timedelta(hours=2),
        user_message_id=owner.prompt.id,
        created_at=at(when),
        updated_at=at(when),
    )
    return replace(run, **changes)


def reply(run: InferenceRun, content: str = "cube(10);") -> Message:
    return Message(
        id=uuid4(),
        user_id=run.user_id,
        chat_id=run.chat_id,
        role="assistant",
        content=content,
        created_at=at(60),
        updated_at=at(60),
    )


class RunStoreContract:
    """Subclasses provide ``stores``: a RunStore over the Repository and AuthStore that
    hold its chats, messages and users, and the EventLog its finalize appends to."""

    @pytest.fixture
    def stores(self) -> Stores:
        raise NotImplementedError

    async def _owner(self, stores: Stores, email: str) -> Owner:
        user = User(id=uuid4(), email=email, created_at=T0, updated_at=T0)
        await stores.auth.add_user(user, None)
        stamps: dict[str, Any] = {"user_id": user.id, "created_at": T0, "updated_at": T0}
        session = Session(id=uuid4(), name="Quadcopter", **stamps)
        chat = Chat(id=uuid4(), session_id=session.id, **stamps)
        prompt = Message(id=uuid4(), chat_id=chat.id, role="user", content="frame", **stamps)
        for record in (session, chat, prompt):
            await stores.repo.add(record)
        return Owner(user.id, session, chat, prompt)

    @pytest.fixture
    async def owner(self, stores: Stores) -> Owner:
        return await self._owner(stores, "owner@example.com")

    @pytest.fixture
    async def other(self, stores: Stores) -> Owner:
        return await self._owner(stores, "other@example.com")

    @pytest.fixture
    def runs(self, stores: Stores) -> RunStore:
        return stores.runs

    async def test_added_run_reads_back_equal(self, runs: RunStore, owner: Owner) -> None:
        run = make_run(
            owner, backend_run_id="rp-1", idempotency_key="k1", request_hash="ab" * 32, error=None
        )
        await runs.add(run)
        assert await runs.get(owner.id, run.id) == run
        assert (await runs.find_by_idempotency_key(owner.id, "k1")) == run
        health = make_run(owner, action="health", user_message_id=None)
        await runs.add(health)
        assert await runs.get(owner.id, health.id) == health

    async def test_another_users_run_is_not_found(
        self, runs: RunStore, owner: Owner, other: Owner
    ) -> None:
        run = make_run(owner, idempotency_key="k")
        await runs.add(run)
        with pytest.raises(NotFound):
            await runs.get(other.id, run.id)
        with pytest.raises(NotFound):
            await runs.get(owner.id, uuid4())
        assert await runs.find_by_idempotency_key(other.id, "k") is None
        assert await runs.count_unfinished(other.id) == 0
        assert (
            await runs.set_status(
                replace(run, user_id=other.id), RunStatus.IN_PROGRESS, RunStatus.QUEUED
            )
            is None
        )
        assert await runs.get(owner.id, run.id) == run

    async def test_a_run_needs_its_owners_chat(
        self, runs: RunStore, owner: Owner, other: Owner
    ) -> None:
        with pytest.raises(NotFound):
            await runs.add(make_run(owner, chat_id=uuid4()))
        with pytest.raises(NotFound):
            await runs.add(make_run(owner, chat_id=other.chat.id, user_message_id=None))
        assert await runs.list_unfinished() == []

    async def test_idempotency_keys_are_unique_per_user(
        self, runs: RunStore, owner: Owner, other: Owner
    ) -> None:
        first = make_run(owner, idempotency_key="same")
        await runs.add(first)
        with pytest.raises(AlreadyExists):
            await runs.add(make_run(owner, idempotency_key="same"))
        with pytest.raises(AlreadyExists):
            await runs.add(first)
        await runs.add(make_run(other, idempotency_key="same"))  # another user's key space
        await runs.add(make_run(owner))  # no key: never clashes
        await runs.add(make_run(owner))
        assert await runs.find_by_idempotency_key(owner.id, "same") == first
        assert await runs.find_by_idempotency_key(owner.id, "other") is None
        assert await runs.count_unfinished(owner.id) == 3

    async def test_list_unfinished_is_every_users_oldest_first(
        self, runs: RunStore, owner: Owner, other: Owner
    ) -> None:
        late, early, mid = make_run(owner, 30), make_run(other, 10), make_run(owner, 20)
        done = make_run(owner, 5)
        for run in (late, early, mid, done):
            await runs.add(run)
        assert await runs.finalize(done, None, RunStatus.FAILED, "boom") is not None
        assert await runs.list_unfinished() == [early, mid, late]
        assert await runs.list_unfinished(limit=2) == [early, mid]
        assert await runs.count_unfinished(owner.id) == 2

    async def test_runs_by_status_counts_every_owner(
        self, runs: RunStore, owner: Owner, other: Owner
    ) -> None:
        assert await runs.runs_by_status() == {}
        queued, moving, done = make_run(owner), make_run(other), make_run(other)
        for run in (queued, moving, done):
            await runs.add(run)
        await runs.set_status(moving, RunStatus.IN_PROGRESS, RunStatus.QUEUED)
        await runs.finalize(done, None, RunStatus.FAILED, "boom")
        assert await runs.runs_by_status() == {"queued": 1, "in_progress": 1, "failed": 1}

    async def test_set_status_is_compare_and_set(self, runs: RunStore, owner: Owner) -> None:
        run = make_run(owner)
        await runs.add(run)
        moved = await runs.set_status(
            run, RunStatus.IN_PROGRESS, RunStatus.QUEUED, backend_run_id="rp-7"
        )
        assert moved is not None
        assert (moved.status, moved.backend_run_id) == (RunStatus.IN_PROGRESS, "rp-7")
        assert moved.updated_at > run.updated_at
        assert await runs.get(owner.id, run.id) == moved
        assert await runs.set_status(run, RunStatus.IN_PROGRESS, RunStatus.QUEUED) is None
        with pytest.raises(InvalidTransition, match="from 'in_progress' to 'queued'"):
            await runs.set_status(moved, RunStatus.QUEUED, RunStatus.IN_PROGRESS)
        assert await runs.get(owner.id, run.id) == moved

    async def test_finalize_stores_the_message_and_the_end(
        self, stores: Stores, runs: RunStore, owner: Owner
    ) -> None:
        run = make_run(owner)
        await runs.add(run)
        message = reply(run)
        finalized = await runs.finalize(run, message, RunStatus.COMPLETED)
        assert finalized is not None and finalized.event is None
        done = finalized.run
        assert (done.status, done.result_message_id, done.error) == (
            RunStatus.COMPLETED,
            message.id,
            None,
        )
        assert await runs.get(owner.id, run.id) == done
        assert await stores.repo.get(Message, message.id, owner.id) == message
        assert await runs.count_unfinished(owner.id) == 0
        assert await runs.finalize(run, reply(run), RunStatus.FAILED, "late") is None
        assert await runs.get(owner.id, run.id) == done
        assert len(await stores.repo.list(Message, owner.id)) == 2  # prompt and reply
        assert await stores.log.since(owner.id, owner.chat.id, 0) == []

    async def test_finalize_refuses_what_is_never_right(
        self, runs: RunStore, owner: Owner, other: Owner
    ) -> None:
        run = make_run(owner)
        await runs.add(run)
        with pytest.raises(InvalidTransition):
            await runs.finalize(run, None, RunStatus.IN_PROGRESS)
        with pytest.raises(InvalidInput):
            await runs.finalize(run, replace(reply(run), chat_id=other.chat.id), RunStatus.FAILED)
        assert await runs.get(owner.id, run.id) == run

    async def test_finalize_stores_its_event_as_the_chats_next(
        self, stores: Stores, runs: RunStore, owner: Owner
    ) -> None:
        run = make_run(owner, backend_run_id="rp-1")
        await runs.add(run)
        first = await stores.log.append(owner.id, owner.chat.id, "runpod.queued", {}, at(1))
        data = {"runpod_id": "rp-1", "status": "FAILED", "error": "boom"}
        finalized = await runs.finalize(
            run, None, RunStatus.FAILED, "boom", event=EventDraft("runpod.failed", data)
        )
        assert finalized is not None and finalized.event is not None
        end, done = finalized.event, finalized.run
        assert (end.chat_id, end.user_id, end.seq) == (owner.chat.id, owner.id, 2)
        assert (end.type, end.data, end.created_at) == ("runpod.failed", data, done.updated_at)
        assert await stores.log.since(owner.id, owner.chat.id, 0) == [first, end]
        assert await runs.get(owner.id, run.id) == done

    async def test_a_lost_finalize_stores_no_event_and_no_message(
        self, stores: Stores, runs: RunStore, owner: Owner
    ) -> None:
        run = make_run(owner)
        await runs.add(run)
        won = await runs.finalize(run, None, RunStatus.TIMED_OUT, "timed out")
        assert won is not None
        late = EventDraft("runpod.completed", {"message": "late"})
        assert await runs.finalize(run, reply(run), RunStatus.COMPLETED, event=late) is None
        assert await stores.log.since(owner.id, owner.chat.id, 0) == []
        assert [m.role for m in await stores.repo.list(Message, owner.id)] == ["user"]
        assert await runs.get(owner.id, run.id) == won.run
        assert await stores.log.append(owner.id, owner.chat.id, "next", {}, at(2)) is not None
        assert [e.seq for e in await stores.log.since(owner.id, owner.chat.id, 0)] == [1]

    async def test_racing_finalizers_store_exactly_one_message_and_event(
        self, stores: Stores, runs: RunStore, owner: Owner
    ) -> None:
        run = make_run(owner)
        await runs.add(run)
        winners: list[InferenceRun] = []

        async def finalize(n: int) -> None:
            message = reply(run, f"answer {n}")
            draft = EventDraft("runpod.completed", {"message_id": str(message.id)})
            done = await runs.finalize(run, message, RunStatus.COMPLETED, event=draft)
            if done is not None:
                winners.append(done.run)

        async def append(n: int) -> None:  # other events on the chat meanwhile
            await stores.log.append(owner.id, owner.chat.id, "note", {"n": n}, at(60))

        async with anyio.create_task_group() as group:
            for n in range(10):
                group.start_soon(finalize, n)
                group.start_soon(append, n)
        assert len(winners) == 1
        replies = [m for m in await stores.repo.list(Message, owner.id) if m.role == "assistant"]
        assert [m.id for m in replies] == [winners[0].result_message_id]
        assert await runs.get(owner.id, run.id) == winners[0]
        events = await stores.log.since(owner.id, owner.chat.id, 0)
        assert [e.seq for e in events] == list(range(1, 12))
        [end] = [e for e in events if e.type == "runpod.completed"]
        assert end.data == {"message_id": str(winners[0].result_message_id)}

    async def test_deleting_a_chat_or_session_deletes_its_runs(
        self, stores: Stores, runs: RunStore, owner: Owner
    ) -> None:
        in_chat = make_run(owner, idempotency_key="k")
        await runs.add(in_chat)
        await stores.repo.delete(Chat, owner.chat.id, owner.id)
        with pytest.raises(NotFound):
            await runs.get(owner.id, in_chat.id)
        assert await runs.find_by_idempotency_key(owner.id, "k") is None
        assert await runs.finalize(in_chat, None, RunStatus.CANCELLED) is None
        end = EventDraft("runpod.failed", {"status": "CANCELLED"})
        assert await runs.finalize(in_chat, None, RunStatus.CANCELLED, event=end) is None
        assert await stores.log.since(owner.id, owner.chat.id, 0) == []
        assert await runs.set_status(in_chat, RunStatus.FAILED, RunStatus.QUEUED) is None
        chat = Chat(
            id=uuid4(), user_id=owner.id, session_id=owner.session.id, created_at=T0, updated_at=T0
        )
        await stores.repo.add(chat)
        in_session = make_run(owner, chat_id=chat.id, user_message_id=None)
        await runs.add(in_session)
        await stores.repo.delete(Session, owner.session.id, owner.id)
        assert await runs.list_unfinished() == []
        assert await runs.count_unfinished(owner.id) == 0

    async def test_a_deleted_message_leaves_the_run_without_it(
        self, stores: Stores, runs: RunStore, owner: Owner
    ) -> None:
        run = make_run(owner)
        await runs.add(run)
        finalized = await runs.finalize(run, reply(run), RunStatus.COMPLETED)
        assert finalized is not None
        done = finalized.run
        assert done.result_message_id is not None
        await stores.repo.delete(Message, done.result_message_id, owner.id)
        await stores.repo.delete(Message, owner.prompt.id, owner.id)
        kept = await runs.get(owner.id, run.id)
        assert (kept.user_message_id, kept.result_message_id) == (None, None)


class TestMemoryRunStore(RunStoreContract):
    @pytest.fixture
    def stores(self) -> Stores:
        repo = MemoryRepository()
        log = MemoryEventLog(repo)
        return Stores(MemoryRunStore(repo, log), repo, MemoryAuthStore(), log)


def sql_stores(engine: AsyncEngine) -> Stores:
    return Stores(
        SqlRunStore(engine), SqlRepository(engine), SqlAuthStore(engine), SqlEventLog(engine)
    )


class TestSqliteRunStore(RunStoreContract):
    @pytest.fixture
    def stores(self, sqlite_engine: AsyncEngine) -> Stores:
        return sql_stores(sqlite_engine)


@pytest.mark.postgres
class TestPostgresRunStore(RunStoreContract):
    @pytest.fixture
    def stores(self, postgres_engine: AsyncEngine) -> Stores:
        return sql_stores(postgres_engine)
