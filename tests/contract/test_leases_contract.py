"""The Leases contract, on runs and on pipeline jobs: every adapter passes the same suite
(memory, SQLite, PostgreSQL). Several claimers on one database never get the same row;
an expired lease is claimable by another worker, a released one at once; renew keeps
only what is still held and unfinished; finished rows are never claimed; the records
read back without their lease."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID, uuid4

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from forge_adapters.memory import (
    MemoryAuthStore,
    MemoryEventLog,
    MemoryRepository,
    MemoryRunStore,
    memory_job_leases,
    memory_run_leases,
)
from forge_adapters.sql import (
    SqlAuthStore,
    SqlRepository,
    SqlRunStore,
    create_engine,
    job_leases,
    run_leases,
)
from forge_core.entities import InferenceRun, Job, JobStatus, RunStatus, User
from forge_core.ports import AuthStore, Lease, Leases, Repository, RunStore

from .records import T0, add_tree, at, make_tree
from .test_run_store_contract import Owner, make_run

pytestmark = pytest.mark.anyio

LEASE = 30.0


@dataclass
class Stores:
    runs: RunStore
    repo: Repository
    auth: AuthStore
    run_leases: Leases[InferenceRun]
    job_leases: Leases[Job]
    #: More lease stores on the same database (another replica's engine, for SQL).
    more_run_leases: Callable[[], Leases[InferenceRun]]


def until(seconds: float) -> Any:
    return at(seconds + LEASE)


class LeasesContract:
    """Subclasses provide ``stores``."""

    @pytest.fixture
    def stores(self) -> Stores:
        raise NotImplementedError

    @pytest.fixture
    async def owner(self, stores: Stores) -> Owner:
        user = User(id=uuid4(), email="owner@example.com", created_at=T0, updated_at=T0)
        await stores.auth.add_user(user, None)
        tree = await add_tree(stores.repo, user.id)
        return Owner(user.id, tree.session, tree.chat, tree.message)

    async def _runs(self, stores: Stores, owner: Owner, count: int) -> list[InferenceRun]:
        made = [make_run(owner, when=i) for i in range(count)]
        for run in made:
            await stores.runs.add(run)
        return made

    async def test_claims_take_the_oldest_free_runs_once(
        self, stores: Stores, owner: Owner
    ) -> None:
        made = await self._runs(stores, owner, 5)
        leases = stores.run_leases
        assert await leases.claim("a", at(10), until(10), 3) == made[:3]
        assert await leases.claim("b", at(10), until(10), 3) == made[3:]
        assert await leases.claim("c", at(10), until(10), 3) == []
        assert await leases.claim("c", at(10), until(10), 0) == []
        for run in made:  # the lease is not part of the run
            assert await stores.runs.get(owner.id, run.id) == run
        assert await stores.runs.list_unfinished() == made

    async def test_claim_among_ids(self, stores: Stores, owner: Owner) -> None:
        made = await self._runs(stores, owner, 3)
        leases = stores.run_leases
        assert await leases.claim("a", at(10), until(10), 5, ids=[made[2].id, uuid4()]) == [made[2]]
        assert await leases.claim("b", at(10), until(10), 5, ids=[made[2].id]) == []
        assert await leases.claim("b", at(10), until(10), 5, ids=[]) == []

    async def test_concurrent_claimers_never_share_a_run(
        self, stores: Stores, owner: Owner
    ) -> None:
        made = await self._runs(stores, owner, 60)
        claimers = [stores.run_leases] + [stores.more_run_leases() for _ in range(5)]
        taken: dict[str, list[UUID]] = {}

        async def claim_all(worker: str, leases: Leases[InferenceRun]) -> None:
            taken[worker] = []
            while batch := await leases.claim(worker, at(100), until(100), 4):
                taken[worker].extend(run.id for run in batch)
                await asyncio.sleep(0)

        await asyncio.gather(*(claim_all(f"w{i}", c) for i, c in enumerate(claimers)))
        every = [run_id for ids in taken.values() for run_id in ids]
        assert len(every) == len(set(every)) == 60  # disjoint, and complete
        assert set(every) == {run.id for run in made}

    async def test_an_expired_lease_is_claimable_by_another(
        self, stores: Stores, owner: Owner
    ) -> None:
        [run] = await self._runs(stores, owner, 1)
        leases = stores.run_leases
        assert await leases.claim("dead", at(0), at(10), 5) == [run]
        assert await leases.claim("b", at(9), until(9), 5) == []
        assert await leases.claim("b", at(11), until(11), 5) == [run]
        assert await leases.renew("dead", [run.id], until(12)) == set()

    async def test_a_run_stored_with_a_lease_is_held_from_the_start(
        self, stores: Stores, owner: Owner
    ) -> None:
        run = make_run(owner)
        await stores.runs.add(run, Lease("starter", until(0)))
        leases = stores.run_leases
        assert await leases.claim("b", at(10), until(10), 5) == []
        assert await leases.renew("starter", [run.id], until(20)) == {run.id}
        assert await leases.claim("b", at(40), until(40), 5) == []  # renewed to 50 s
        assert await leases.claim("b", at(51), until(51), 5) == [run]
        assert await stores.runs.get(owner.id, run.id) == run  # the lease is not the run's

    async def test_renew_keeps_only_runs_held_and_unfinished(
        self, stores: Stores, owner: Owner
    ) -> None:
        kept, ended, taken = await self._runs(stores, owner, 3)
        leases = stores.run_leases
        await leases.claim("a", at(0), at(10), 5)
        await stores.runs.finalize(ended, None, RunStatus.FAILED, "boom")
        await leases.renew("a", [kept.id], at(40))
        assert await leases.claim("b", at(20), until(20), 5) == [taken]  # a's lapsed
        ids = [kept.id, ended.id, taken.id, uuid4()]
        assert await leases.renew("a", ids, at(60)) == {kept.id}
        assert await leases.renew("a", [], at(60)) == set()
        assert await leases.claim("c", at(50), until(50), 5) == []  # renewed until 60

    async def test_release_makes_runs_claimable_at_once(self, stores: Stores, owner: Owner) -> None:
        first, second, third = await self._runs(stores, owner, 3)
        leases = stores.run_leases
        await leases.claim("a", at(0), until(0), 2)
        await leases.claim("b", at(0), until(0), 2)
        await leases.release("a", [first.id])
        assert await leases.claim("c", at(1), until(1), 5) == [first]
        await leases.release("c", [])
        await leases.release("a")  # all of a's: second; b's third is not a's
        assert await leases.claim("d", at(1), until(1), 5) == [second]
        assert await leases.renew("b", [third.id], until(2)) == {third.id}

    async def test_finished_runs_are_never_claimed(self, stores: Stores, owner: Owner) -> None:
        run, other = await self._runs(stores, owner, 2)
        await stores.runs.finalize(run, None, RunStatus.TIMED_OUT, "timed out")
        moved = await stores.runs.set_status(other, RunStatus.IN_PROGRESS, RunStatus.QUEUED)
        assert await stores.run_leases.claim("a", at(1), until(1), 5) == [moved]

    async def test_running_jobs_with_scad_are_the_claimable_ones(
        self, stores: Stores, owner: Owner
    ) -> None:
        specs: list[tuple[JobStatus, Any, bool]] = [
            (JobStatus.RUNNING, {"scad_code": "cube(1);", "chat_id": "x"}, True),
            (JobStatus.PENDING, {"scad_code": "cube(1);"}, False),
            (JobStatus.SUCCEEDED, {"scad_code": "cube(1);"}, False),
            (JobStatus.RUNNING, None, False),
            (JobStatus.RUNNING, {"prompt": "a chair"}, False),
            (JobStatus.RUNNING, {"scad_code": " \n\t"}, False),
            (JobStatus.RUNNING, {"scad_code": 5}, False),
            (JobStatus.RUNNING, {"scad_code": ["cube(1);"]}, False),
            (JobStatus.RUNNING, {"scad_code": None}, False),
            (JobStatus.RUNNING, {"scad_code": "sphere(2);"}, True),
        ]
        jobs = []
        for i, (status, spec, _) in enumerate(specs):
            tree = make_tree(owner.id, at(i))
            job = replace(tree.job, session_id=owner.session.id, status=status, spec=spec)
            await stores.repo.add(job)
            jobs.append(job)
        wanted = [job for job, (_, _, claimable) in zip(jobs, specs, strict=True) if claimable]
        leases = stores.job_leases
        assert await leases.claim("a", at(20), until(20), 10) == wanted
        assert await leases.claim("b", at(20), until(20), 10) == []
        for job in jobs:  # the lease is not part of the job
            assert await stores.repo.get(Job, job.id, owner.id) == job
        assert await leases.renew("a", [j.id for j in jobs], until(21)) == {j.id for j in wanted}
        await leases.release("a")
        assert await leases.claim("b", at(21), until(21), 1) == wanted[:1]

    async def test_an_ended_job_is_no_longer_held(self, stores: Stores, owner: Owner) -> None:
        tree = make_tree(owner.id)
        running = replace(
            tree.job,
            session_id=owner.session.id,
            status=JobStatus.RUNNING,
            spec={"scad_code": "cube(1);"},
        )
        await stores.repo.add(running)
        assert await stores.job_leases.claim("a", at(1), until(1), 1) == [running]
        ended = replace(running, status=JobStatus.SUCCEEDED, updated_at=at(2))
        await stores.repo.update(ended, expected_updated_at=running.updated_at)
        assert await stores.job_leases.renew("a", [running.id], until(2)) == set()
        assert await stores.repo.running_jobs() == []


class TestMemoryLeases(LeasesContract):
    @pytest.fixture
    def stores(self) -> Stores:
        repo = MemoryRepository()
        runs = MemoryRunStore(repo, MemoryEventLog(repo))
        leases = memory_run_leases(runs)
        return Stores(
            runs, repo, MemoryAuthStore(), leases, memory_job_leases(repo), lambda: leases
        )


def sql_stores(engine: AsyncEngine, more: Callable[[], Leases[InferenceRun]]) -> Stores:
    return Stores(
        SqlRunStore(engine),
        SqlRepository(engine),
        SqlAuthStore(engine),
        run_leases(engine),
        job_leases(engine),
        more,
    )


class TestSqliteLeases(LeasesContract):
    @pytest.fixture
    def stores(self, sqlite_engine: AsyncEngine) -> Stores:
        return sql_stores(sqlite_engine, lambda: run_leases(sqlite_engine))


@pytest.mark.postgres
class TestPostgresLeases(LeasesContract):
    @pytest.fixture
    async def replica_engine(self, migrated_postgres_url: str) -> AsyncIterator[AsyncEngine]:
        """Another replica's engine on the same database."""
        engine = create_engine(migrated_postgres_url)
        yield engine
        await engine.dispose()

    @pytest.fixture
    def stores(self, postgres_engine: AsyncEngine, replica_engine: AsyncEngine) -> Stores:
        engines = [postgres_engine, replica_engine]
        turns = iter(range(1_000))
        return sql_stores(postgres_engine, lambda: run_leases(engines[next(turns) % 2]))

    async def test_a_claim_passes_over_a_row_another_connection_has_locked(
        self, stores: Stores, owner: Owner, replica_engine: AsyncEngine
    ) -> None:
        """SKIP LOCKED: a row another transaction holds FOR UPDATE (another replica in
        mid-claim) is passed over, and the claim answers the others without waiting."""
        made = await self._runs(stores, owner, 3)
        lock = text("SELECT id FROM runs WHERE id = :id FOR UPDATE")
        async with replica_engine.connect() as other, other.begin():
            await other.execute(lock, {"id": made[0].id})
            with anyio.fail_after(10):  # without SKIP LOCKED it waits for the commit
                claimed = await stores.run_leases.claim("a", at(10), until(10), 3)
            assert claimed == made[1:]
        assert await stores.run_leases.claim("b", at(10), until(10), 3) == made[:1]
