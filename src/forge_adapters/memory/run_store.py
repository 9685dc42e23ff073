"""The RunStore port over a dict, beside a MemoryRepository that holds the chats and
messages, with the SQL adapter's rules: a run goes with its chat, a deleted message's id
becomes None, and one lock makes compare-and-set and finalize atomic (a finalize's end
event is appended to the shared ``MemoryEventLog`` under that lock)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime
from uuid import UUID

import anyio

from forge_core.entities import (
    Chat,
    Clock,
    EventDraft,
    InferenceRun,
    Message,
    RunStatus,
    utc_now,
)
from forge_core.errors import AlreadyExists, NotFound
from forge_core.lifecycle import advance_run, check_finalize, check_run_step
from forge_core.ports import Finalized, Lease

from .event_log import MemoryEventLog
from .repository import MemoryRepository


class MemoryRunStore:
    """Runs in memory; see ``forge_core.ports.RunStore``. Chats and messages live in
    ``repository``, so deleting a chat there deletes its runs here; a finalize's event
    goes to ``log``, the chats' event log (over the same repository)."""

    def __init__(
        self, repository: MemoryRepository, log: MemoryEventLog, clock: Clock = utc_now
    ) -> None:
        self._repo = repository
        self._log = log
        self._clock = clock
        self._runs: dict[UUID, InferenceRun] = {}
        #: Who holds which run until when: shared with ``memory_run_leases(self)``.
        self.leases: dict[UUID, tuple[str, datetime]] = {}
        self._lock = anyio.Lock()

    async def add(self, run: InferenceRun, lease: Lease | None = None) -> None:
        async with self._lock:
            if not await self._repo.count_owned(Chat, [run.chat_id], run.user_id):
                raise NotFound("Chat", run.chat_id)
            if await self._live(run.id) is not None:
                raise AlreadyExists(f"InferenceRun {run.id} already exists")
            key = run.idempotency_key
            if key is not None and await self.find_by_idempotency_key(run.user_id, key):
                raise AlreadyExists("a run with this idempotency key already exists")
            self._runs[run.id] = run
            if lease is not None:
                self.leases[run.id] = (lease.worker, lease.until)

    async def get(self, owner: UUID, run_id: UUID) -> InferenceRun:
        run = await self._live(run_id)
        if run is None or run.user_id != owner:
            raise NotFound("InferenceRun", run_id)
        return run

    async def find_by_idempotency_key(self, owner: UUID, key: str) -> InferenceRun | None:
        for run in await self._all():
            if run.user_id == owner and run.idempotency_key == key:
                return run
        return None

    async def count_unfinished(self, owner: UUID) -> int:
        return sum(1 for r in await self._all() if r.user_id == owner and not r.status.finished)

    async def list_unfinished(self, limit: int = 100) -> list[InferenceRun]:
        unfinished = [run for run in await self._all() if not run.status.finished]
        unfinished.sort(key=lambda run: (run.created_at, run.id))
        return unfinished[:limit]

    async def runs_by_status(self) -> dict[str, int]:
        return dict(Counter(str(run.status) for run in await self._all()))

    async def set_status(
        self,
        run: InferenceRun,
        new_status: RunStatus,
        expected_status: RunStatus,
        *,
        backend_run_id: str | None = None,
    ) -> InferenceRun | None:
        check_run_step(expected_status, new_status)
        async with self._lock:
            current = await self._live(run.id)
            if current is None or current.user_id != run.user_id:
                return None
            if current.status is not expected_status:
                return None
            moved = advance_run(current, new_status, self._clock())
            if backend_run_id is not None:
                moved = replace(moved, backend_run_id=backend_run_id)
            self._runs[run.id] = moved
            return moved

    async def finalize(
        self,
        run: InferenceRun,
        assistant_message: Message | None,
        status: RunStatus,
        error: str | None = None,
        *,
        event: EventDraft | None = None,
    ) -> Finalized | None:
        check_finalize(run, assistant_message, status)
        async with self._lock:
            current = await self._live(run.id)
            if current is None or current.user_id != run.user_id or current.status.finished:
                return None
            message = assistant_message
            if message and await self._repo.count_owned(Message, [message.id], message.user_id):
                raise AlreadyExists(f"Message {message.id} already exists")
            done = advance_run(current, status, self._clock(), error=error)
            stored = None
            if event is not None:  # the log's lock inside this one, never the other way round
                stored = await self._log.append(
                    run.user_id, run.chat_id, event.type, event.data, done.updated_at
                )
            if message is not None:
                await self._repo.add(message)
            self._runs[run.id] = replace(done, result_message_id=message.id if message else None)
            return Finalized(self._runs[run.id], stored)

    async def _all(self) -> list[InferenceRun]:
        found = [await self._live(run_id) for run_id in list(self._runs)]
        return [run for run in found if run is not None]

    async def _live(self, run_id: UUID) -> InferenceRun | None:
        """The run as the database would show it: gone with its chat, and with the ids
        of deleted messages set to None."""
        run = self._runs.get(run_id)
        if run is None:
            return None
        if not await self._repo.count_owned(Chat, [run.chat_id], run.user_id):
            del self._runs[run_id]
            return None
        if not await self._message_kept(run, run.user_message_id):
            run = replace(run, user_message_id=None)
        if not await self._message_kept(run, run.result_message_id):
            run = replace(run, result_message_id=None)
        self._runs[run_id] = run
        return run

    async def _message_kept(self, run: InferenceRun, message_id: UUID | None) -> bool:
        """Whether ``message_id`` is None or a message still stored."""
        if message_id is None:
            return True
        return bool(await self._repo.count_owned(Message, [message_id], run.user_id))
