"""The Leases port in memory, beside the memory run store and repository: who holds
which record until when, under one lock (the SQL adapter's single claim statement)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable
from datetime import datetime
from typing import Generic, Protocol, TypeVar
from uuid import UUID

import anyio

from forge_core.entities import InferenceRun, Job
from forge_core.services.production import scad_of

from .repository import MemoryRepository
from .run_store import MemoryRunStore

#: Every record there could be, unfinished or not; more than a test ever stores.
_ALL = 1_000_000


class _Record(Protocol):
    @property
    def id(self) -> UUID: ...

    @property
    def created_at(self) -> datetime: ...


R = TypeVar("R", bound=_Record)


class MemoryLeases(Generic[R]):
    """Leases over the records ``unfinished`` reads (the claimable ones, whatever their
    lease); see ``forge_core.ports.Leases``."""

    def __init__(
        self,
        unfinished: Callable[[], Awaitable[Iterable[R]]],
        held: dict[UUID, tuple[str, datetime]] | None = None,
    ) -> None:
        self._unfinished = unfinished
        self._held = {} if held is None else held  # shared with a store that leases on add
        self._lock = anyio.Lock()

    async def claim(
        self,
        worker: str,
        now: datetime,
        until: datetime,
        limit: int,
        ids: Collection[UUID] | None = None,
    ) -> list[R]:
        async with self._lock:
            free = [
                record
                for record in await self._unfinished()
                if self._free(record.id, now) and (ids is None or record.id in ids)
            ]
            free.sort(key=lambda record: (record.created_at, str(record.id)))
            taken = free[: max(limit, 0)]
            for record in taken:
                self._held[record.id] = (worker, until)
            return taken

    async def renew(self, worker: str, ids: Collection[UUID], until: datetime) -> set[UUID]:
        async with self._lock:
            live = {record.id for record in await self._unfinished()}
            renewed = {i for i in ids if i in live and self.holder(i) == worker}
            for record_id in renewed:
                self._held[record_id] = (worker, until)
            return renewed

    async def release(self, worker: str, ids: Collection[UUID] | None = None) -> None:
        async with self._lock:
            mine = [i for i, (owner, _) in self._held.items() if owner == worker]
            for record_id in mine:
                if ids is None or record_id in ids:
                    del self._held[record_id]

    def holder(self, record_id: UUID) -> str | None:
        """Who holds the record's lease (expired or not), or None: for tests."""
        held = self._held.get(record_id)
        return None if held is None else held[0]

    def _free(self, record_id: UUID, now: datetime) -> bool:
        held = self._held.get(record_id)
        return held is None or held[1] < now


def memory_run_leases(store: MemoryRunStore) -> MemoryLeases[InferenceRun]:
    """Leases on the store's unfinished runs."""

    async def unfinished() -> list[InferenceRun]:
        return await store.list_unfinished(limit=_ALL)

    return MemoryLeases(unfinished, store.leases)


def memory_job_leases(repository: MemoryRepository) -> MemoryLeases[Job]:
    """Leases on the repository's running jobs that carry SCAD (the pipeline's work)."""

    async def unfinished() -> list[Job]:
        return [job for job in await repository.running_jobs(limit=_ALL) if scad_of(job)]

    return MemoryLeases(unfinished)
