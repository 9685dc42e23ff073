"""The RunStore port over SQL (SQLite or PostgreSQL), one transaction per call.

Exactly-once finalize: the assistant message is INSERTed, then the run is moved by
``UPDATE runs ... WHERE id = ? AND status IN ('queued', 'in_progress')``, in one write
transaction; if the UPDATE matches no row (another finalizer got there first) the
transaction is rolled back, message included. PostgreSQL's row lock makes a racing
UPDATE wait for the winner's commit and then re-check the WHERE; SQLite has one writer.

The run's end event is appended in the same transaction (``event_log.append_on``), so
the end, its message and its event commit together or not at all. It goes first: it
locks the chat's row, and taking the chat before the run is the order a chat delete
takes them in (its cascade reaches the run after the chat), so the two never deadlock.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.dml import Update

from forge_core.entities import (
    Chat,
    Clock,
    EventDraft,
    InferenceRun,
    Message,
    RunStatus,
    utc_now,
)
from forge_core.errors import AlreadyExists, ForgeError, NotFound
from forge_core.lifecycle import RUN_UNFINISHED, check_finalize, check_run_step
from forge_core.ports import Finalized, Lease

from .engine import write_transaction
from .errors import translate_errors
from .event_log import append_on, numbered
from .tables import RUNS, TABLES

CHATS = TABLES[Chat]
MESSAGES = TABLES[Message]
_UNFINISHED = sorted(status.value for status in RUN_UNFINISHED)
#: The run's own columns: the row's lease (``leases.py``) is not part of the entity.
_COLUMNS = tuple(RUNS.c[f.name] for f in fields(InferenceRun))


class _Lost(Exception):
    """The conditional update matched nothing: roll the transaction back."""


def _values(record: InferenceRun | Message) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in fields(record)}


def _owned(run_id: UUID, owner: UUID) -> ColumnElement[bool]:
    return (RUNS.c.id == run_id) & (RUNS.c.user_id == owner)


class SqlRunStore:
    """Inference runs in the ``runs`` table; see ``forge_core.ports.RunStore``."""

    def __init__(self, engine: AsyncEngine, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._clock = clock

    async def add(self, run: InferenceRun, lease: Lease | None = None) -> None:
        owned_chat = select(1).where((CHATS.c.id == run.chat_id) & (CHATS.c.user_id == run.user_id))
        with translate_errors():
            try:
                async with write_transaction(self._engine) as conn:
                    if await conn.scalar(owned_chat) is None:
                        raise NotFound("Chat", run.chat_id)
                    values = _values(run)
                    if lease is not None:
                        values.update(lease_owner=lease.worker, lease_expires_at=lease.until)
                    await conn.execute(insert(RUNS).values(values))
            except IntegrityError as exc:
                raise await self._clash(run) from exc

    async def get(self, owner: UUID, run_id: UUID) -> InferenceRun:
        found = await self._select_one(_owned(run_id, owner))
        if found is None:
            raise NotFound("InferenceRun", run_id)
        return found

    async def find_by_idempotency_key(self, owner: UUID, key: str) -> InferenceRun | None:
        return await self._select_one((RUNS.c.user_id == owner) & (RUNS.c.idempotency_key == key))

    async def count_unfinished(self, owner: UUID) -> int:
        statement = select(func.count()).where(
            RUNS.c.user_id == owner, RUNS.c.status.in_(_UNFINISHED)
        )
        with translate_errors():
            async with self._engine.connect() as conn:
                return int(await conn.scalar(statement) or 0)

    async def list_unfinished(self, limit: int = 100) -> list[InferenceRun]:
        statement = (
            select(*_COLUMNS)
            .where(RUNS.c.status.in_(_UNFINISHED))
            .order_by(RUNS.c.created_at, RUNS.c.id)
            .limit(limit)
        )
        with translate_errors():
            async with self._engine.connect() as conn:
                result = await conn.execute(statement)
                return [InferenceRun(**row) for row in result.mappings()]

    async def runs_by_status(self) -> dict[str, int]:
        statement = select(RUNS.c.status, func.count()).group_by(RUNS.c.status)
        with translate_errors():
            async with self._engine.connect() as conn:
                result = await conn.execute(statement)
                return {str(status): int(n) for status, n in result.all()}

    async def set_status(
        self,
        run: InferenceRun,
        new_status: RunStatus,
        expected_status: RunStatus,
        *,
        backend_run_id: str | None = None,
    ) -> InferenceRun | None:
        check_run_step(expected_status, new_status)
        values: dict[str, Any] = {"status": new_status, "updated_at": self._clock()}
        if backend_run_id is not None:
            values["backend_run_id"] = backend_run_id
        statement = (
            update(RUNS)
            .where(_owned(run.id, run.user_id), RUNS.c.status == expected_status.value)
            .values(values)
        )
        with translate_errors():
            async with write_transaction(self._engine) as conn:
                return await _returning(conn, statement)

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
        now = self._clock()
        values: dict[str, Any] = {"status": status, "updated_at": now}
        values["result_message_id"] = assistant_message.id if assistant_message else None
        if error is not None:
            values["error"] = error
        statement = (
            update(RUNS)
            .where(_owned(run.id, run.user_id), RUNS.c.status.in_(_UNFINISHED))
            .values(values)
        )

        async def transaction() -> Finalized:
            return await self._finalize(run, statement, assistant_message, event, now)

        try:
            with translate_errors():
                try:
                    return await numbered(transaction, run.chat_id)
                except IntegrityError as exc:
                    if await self._select_one(_owned(run.id, run.user_id)) is None:
                        return None  # the run went with its chat
                    raise AlreadyExists(f"Message {values['result_message_id']} exists") from exc
        except (_Lost, NotFound):  # NotFound: the chat, and so the run, is gone
            return None

    async def _finalize(
        self,
        run: InferenceRun,
        statement: Update,
        message: Message | None,
        draft: EventDraft | None,
        now: datetime,
    ) -> Finalized:
        async with write_transaction(self._engine) as conn:
            event = None
            if draft is not None:  # first, so the chat is locked before the run, as a delete does
                event = await append_on(conn, run.user_id, run.chat_id, draft.type, draft.data, now)
            if message is not None:
                await conn.execute(insert(MESSAGES).values(_values(message)))
            done = await _returning(conn, statement)
            if done is None:
                raise _Lost  # rolls the message and the event back
            return Finalized(done, event)

    async def _select_one(self, where: ColumnElement[bool]) -> InferenceRun | None:
        with translate_errors():
            async with self._engine.connect() as conn:
                row = (await conn.execute(select(*_COLUMNS).where(where))).mappings().first()
        return None if row is None else InferenceRun(**row)

    async def _clash(self, run: InferenceRun) -> ForgeError:
        """Why an insert broke a constraint, asked in a fresh transaction (PostgreSQL
        aborts the failed one): a chat or message gone meanwhile, a taken key, a taken id."""
        async with self._engine.connect() as conn:
            if await conn.scalar(select(1).where(CHATS.c.id == run.chat_id)) is None:
                return NotFound("Chat", run.chat_id)
            for message_id in (run.user_message_id, run.result_message_id):
                if message_id is not None and not await conn.scalar(
                    select(1).where(MESSAGES.c.id == message_id)
                ):
                    return NotFound("Message", message_id)
            if await conn.scalar(select(1).where(RUNS.c.id == run.id)) is None:
                return AlreadyExists("a run with this idempotency key already exists")
        return AlreadyExists(f"InferenceRun {run.id} already exists")


async def _returning(conn: Any, statement: Update) -> InferenceRun | None:
    row = (await conn.execute(statement.returning(*_COLUMNS))).mappings().first()
    return None if row is None else InferenceRun(**row)
