"""The Repository contract: every adapter passes the same suite (memory, SQLite,
PostgreSQL). A new adapter is done when a subclass of ``RepositoryContract`` passes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from forge_adapters.memory import MemoryAuthStore, MemoryRepository
from forge_adapters.sql import SqlAuthStore, SqlRepository
from forge_core.entities import (
    Asset,
    AssetMeta,
    Chat,
    Job,
    JobStatus,
    Message,
    Session,
    User,
)
from forge_core.errors import AlreadyExists, NotFound, StaleObject
from forge_core.ports import AuthStore, Repository

from .records import T0, add_tree, assert_gone, assert_kept, at, make_tree

pytestmark = pytest.mark.anyio


class RepositoryContract:
    """Subclasses provide ``stores``: a Repository and the AuthStore its users live in."""

    @pytest.fixture
    def stores(self) -> tuple[Repository, AuthStore]:
        raise NotImplementedError

    @pytest.fixture
    def repo(self, stores: tuple[Repository, AuthStore]) -> Repository:
        return stores[0]

    async def _user(self, auth_store: AuthStore, email: str) -> UUID:
        user = User(id=uuid4(), email=email, created_at=T0, updated_at=T0)
        await auth_store.add_user(user, None)
        return user.id

    @pytest.fixture
    async def owner(self, stores: tuple[Repository, AuthStore]) -> UUID:
        return await self._user(stores[1], "owner@example.com")

    @pytest.fixture
    async def other(self, stores: tuple[Repository, AuthStore]) -> UUID:
        return await self._user(stores[1], "other@example.com")

    async def test_added_records_read_back_equal(self, repo: Repository, owner: UUID) -> None:
        tree = await add_tree(repo, owner)
        await assert_kept(repo, owner, *tree.records())

    async def test_missing_record_is_not_found(self, repo: Repository, owner: UUID) -> None:
        missing = uuid4()
        with pytest.raises(NotFound) as caught:
            await repo.get(Session, missing, owner)
        assert (caught.value.kind, caught.value.object_id) == ("Session", missing)

    async def test_another_owner_sees_nothing(
        self, repo: Repository, owner: UUID, other: UUID
    ) -> None:
        tree = await add_tree(repo, owner)
        await assert_gone(repo, other, *tree.records())
        assert await repo.list(Chat, other) == []
        assert await repo.count_owned(Session, [tree.session.id], other) == 0
        with pytest.raises(NotFound):
            await repo.update(replace(tree.chat, user_id=other), expected_updated_at=T0)
        with pytest.raises(NotFound):
            await repo.delete(Session, tree.session.id, other)
        await assert_kept(repo, owner, *tree.records())

    async def test_list_is_oldest_first_then_by_id(self, repo: Repository, owner: UUID) -> None:
        sessions = [
            Session(id=uuid4(), user_id=owner, name=f"s{i}", created_at=at(i % 3), updated_at=T0)
            for i in range(9)
        ]
        for session in reversed(sessions):
            await repo.add(session)
        expected = sorted(sessions, key=lambda s: (s.created_at, s.id))
        assert await repo.list(Session, owner) == expected
        assert await repo.list(Session, owner, limit=4) == expected[:4]
        assert await repo.list(Session, owner, limit=4, offset=4) == expected[4:8]
        assert await repo.list(Session, owner, offset=8) == expected[8:]
        assert await repo.list(Session, owner, offset=9) == []

    async def test_list_filters_by_parent_and_owner(
        self, repo: Repository, owner: UUID, other: UUID
    ) -> None:
        first, second = await add_tree(repo, owner), await add_tree(repo, owner, at(1))
        theirs = await add_tree(repo, other)
        assert await repo.list(Chat, owner) == [first.chat, second.chat]
        assert await repo.list(Chat, owner, where={"session_id": second.session.id}) == [
            second.chat
        ]
        assert await repo.list(Chat, owner, where={"session_id": theirs.session.id}) == []
        assert await repo.list(Chat, other) == [theirs.chat]

    async def test_count_owned_counts_distinct_owned_ids(
        self, repo: Repository, owner: UUID, other: UUID
    ) -> None:
        mine, theirs = await add_tree(repo, owner), await add_tree(repo, other)
        ids = [mine.asset.id, mine.asset.id, theirs.asset.id, uuid4()]
        assert await repo.count_owned(Asset, ids, owner) == 1
        assert await repo.count_owned(Asset, [], owner) == 0

    async def test_update_replaces_the_record(self, repo: Repository, owner: UUID) -> None:
        tree = await add_tree(repo, owner)
        changed = replace(
            tree.job,
            status=JobStatus.RUNNING,
            spec={"mm": [1, 2]},
            started_at=at(5),
            updated_at=at(5),
        )
        await repo.update(changed, expected_updated_at=T0)
        assert await repo.get(Job, tree.job.id, owner) == changed

    async def test_update_of_a_changed_record_is_stale(self, repo: Repository, owner: UUID) -> None:
        tree = await add_tree(repo, owner)
        first = replace(tree.session, name="first", updated_at=at(1))
        await repo.update(first, expected_updated_at=T0)
        with pytest.raises(StaleObject):
            await repo.update(replace(tree.session, name="late"), expected_updated_at=T0)
        assert await repo.get(Session, tree.session.id, owner) == first

    async def test_update_of_a_missing_record_is_not_found(
        self, repo: Repository, owner: UUID
    ) -> None:
        session = make_tree(owner).session
        with pytest.raises(NotFound):
            await repo.update(session, expected_updated_at=T0)

    async def test_delete_of_a_missing_record_is_not_found(
        self, repo: Repository, owner: UUID
    ) -> None:
        with pytest.raises(NotFound):
            await repo.delete(Message, uuid4(), owner)

    async def test_delete_session_takes_everything_under_it(
        self, repo: Repository, owner: UUID
    ) -> None:
        doomed, kept = await add_tree(repo, owner), await add_tree(repo, owner)
        await repo.delete(Session, doomed.session.id, owner)
        await assert_gone(repo, owner, *doomed.records())
        await assert_kept(repo, owner, *kept.records())

    async def test_delete_chat_takes_its_messages(self, repo: Repository, owner: UUID) -> None:
        tree = await add_tree(repo, owner)
        await repo.delete(Chat, tree.chat.id, owner)
        await assert_gone(repo, owner, tree.chat, tree.message)
        await assert_kept(repo, owner, tree.session, tree.job, tree.asset, tree.meta)

    async def test_delete_job_takes_its_assets_and_meta(
        self, repo: Repository, owner: UUID
    ) -> None:
        tree = await add_tree(repo, owner)
        await repo.delete(Job, tree.job.id, owner)
        await assert_gone(repo, owner, tree.job, tree.asset, tree.meta)
        await assert_kept(repo, owner, tree.session, tree.chat, tree.message)

    async def test_delete_asset_takes_its_meta_and_unlinks_components(
        self, repo: Repository, owner: UUID
    ) -> None:
        tree = await add_tree(repo, owner)
        other_asset = replace(tree.asset, id=uuid4())
        part = replace(tree.meta, id=uuid4(), asset_id=other_asset.id, component_of=tree.asset.id)
        await repo.add(other_asset)
        await repo.add(part)
        await repo.delete(Asset, tree.asset.id, owner)
        await assert_gone(repo, owner, tree.asset, tree.meta)
        assert await repo.get(AssetMeta, part.id, owner) == replace(part, component_of=None)

    @pytest.mark.parametrize("kind", [Chat, Message, Job, Asset, AssetMeta])
    async def test_add_under_a_missing_parent_is_not_found(
        self, repo: Repository, owner: UUID, kind: type[Any]
    ) -> None:
        tree = make_tree(owner)
        record = next(r for r in tree.records() if type(r) is kind)
        with pytest.raises(NotFound) as caught:
            await repo.add(record)
        parent = {Chat: tree.session, Message: tree.chat, Job: tree.session}.get(kind)
        parent = parent or (tree.job if kind is Asset else tree.asset)
        assert (caught.value.kind, caught.value.object_id) == (type(parent).__name__, parent.id)
        assert await repo.list(kind, owner) == []

    @pytest.mark.parametrize("kind", [Session, Chat, Message, Job, Asset, AssetMeta])
    async def test_adding_a_taken_id_is_refused_and_keeps_the_record(
        self, repo: Repository, owner: UUID, other: UUID, kind: type[Any]
    ) -> None:
        tree = await add_tree(repo, owner)
        record = next(r for r in tree.records() if type(r) is kind)
        for clash in (replace(record, updated_at=at(60)), replace(record, user_id=other)):
            with pytest.raises(AlreadyExists, match=f"{kind.__name__} {record.id} already"):
                await repo.add(clash)
        assert await repo.get(kind, record.id, owner) == record
        with pytest.raises(NotFound):
            await repo.get(kind, record.id, other)

    async def test_json_and_uuid_lists_round_trip(self, repo: Repository, owner: UUID) -> None:
        tree = await add_tree(repo, owner)
        meta = replace(
            tree.meta,
            id=uuid4(),
            position_json={"x": 1.5, "nested": {"list": [1, None, True, "é"]}},
            image_paths_json=[{"face_direction": [0, 0, 0, 1], "image_src": ""}],
            material_json={},
            is_composite_of=[uuid4(), uuid4()],
            used_for_json=["engine coupling", ""],
        )
        await repo.add(meta)
        found = await repo.get(AssetMeta, meta.id, owner)
        assert found == meta
        assert all(isinstance(i, UUID) for i in found.is_composite_of or [])
        assert (await repo.get(AssetMeta, tree.meta.id, owner)).is_composite_of is None

    async def test_datetimes_round_trip_as_aware_utc(self, repo: Repository, owner: UUID) -> None:
        tree = await add_tree(repo, owner, when=datetime(2031, 12, 31, 23, 59, 59, 999999, UTC))
        job = replace(tree.job, id=uuid4(), started_at=at(0.000001), completed_at=None)
        await repo.add(job)
        found = await repo.get(Job, job.id, owner)
        assert found == job
        assert found.status is JobStatus.PENDING
        for value in (found.created_at, found.updated_at, found.started_at):
            assert value is not None and value.utcoffset() == timedelta(0)

    async def test_running_jobs_of_every_owner_oldest_first(
        self, repo: Repository, owner: UUID, other: UUID
    ) -> None:
        assert await repo.running_jobs() == []
        trees = [await add_tree(repo, user, at(minutes)) for user, minutes in
                 ((other, 2), (owner, 1), (owner, 3))]  # fmt: skip
        for tree in trees:
            extra = replace(tree.job, id=uuid4(), status=JobStatus.SUCCEEDED)
            await repo.add(extra)  # finished jobs are not listed
            await repo.add(replace(tree.job, id=uuid4(), status=JobStatus.PENDING))
            await repo.update(
                replace(tree.job, status=JobStatus.RUNNING, started_at=T0, spec={"a": 1}),
                expected_updated_at=tree.job.updated_at,
            )
        running = await repo.running_jobs()
        assert [j.id for j in running] == [trees[i].job.id for i in (1, 0, 2)]
        assert all(j.status is JobStatus.RUNNING and j.spec == {"a": 1} for j in running)
        assert [j.id for j in await repo.running_jobs(limit=1)] == [trees[1].job.id]

    async def test_jobs_by_status_counts_every_owner(
        self, repo: Repository, owner: UUID, other: UUID
    ) -> None:
        assert await repo.jobs_by_status() == {}
        mine, theirs = await add_tree(repo, owner, T0), await add_tree(repo, other, T0)
        for status in (JobStatus.PENDING, JobStatus.FAILED, JobStatus.FAILED):
            await repo.add(replace(theirs.job, id=uuid4(), status=status))
        await repo.update(
            replace(mine.job, status=JobStatus.RUNNING, started_at=T0),
            expected_updated_at=mine.job.updated_at,
        )
        assert await repo.jobs_by_status() == {"pending": 2, "running": 1, "failed": 2}


class TestMemoryRepository(RepositoryContract):
    @pytest.fixture
    def stores(self) -> tuple[Repository, AuthStore]:
        return MemoryRepository(), MemoryAuthStore()


class TestSqliteRepository(RepositoryContract):
    @pytest.fixture
    def stores(self, sqlite_engine: AsyncEngine) -> tuple[Repository, AuthStore]:
        return SqlRepository(sqlite_engine), SqlAuthStore(sqlite_engine)


@pytest.mark.postgres
class TestPostgresRepository(RepositoryContract):
    @pytest.fixture
    def stores(self, postgres_engine: AsyncEngine) -> tuple[Repository, AuthStore]:
        return SqlRepository(postgres_engine), SqlAuthStore(postgres_engine)
