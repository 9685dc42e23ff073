"""The EventLog port over SQL (SQLite or PostgreSQL): the ``chat_events`` table.

``append`` numbers the event one past the chat's largest ``seq`` inside one write
transaction. On SQLite this process's writers queue on a lock and the file has one
writer, so no two appends see the same maximum. On PostgreSQL the chat's row is locked
first (``FOR NO KEY UPDATE``: appends to one chat queue, message inserts are not held
up), and should two writers still clash on the primary key (chat_id, seq) the loser
retries with a fresh maximum.

``append_on`` is that append on a connection whose write transaction the caller holds,
so another write and its event commit together (``SqlRunStore.finalize``: a run's end).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from forge_core.entities import Chat, ChatEvent, JsonObject
from forge_core.errors import Conflict, NotFound

from .engine import write_transaction
from .errors import translate_errors
from .tables import CHAT_EVENTS, TABLES

CHATS = TABLES[Chat]
#: Attempts at an append that clashes with another writer's number before giving up.
ATTEMPTS = 8
T = TypeVar("T")


class NumberTaken(Exception):
    """The event's insert clashed (another writer's number, or the chat gone since the
    check): the caller's transaction rolls back and ``numbered`` tries it again."""


async def append_on(
    conn: AsyncConnection, owner: UUID, chat_id: UUID, type: str, data: JsonObject, now: datetime
) -> ChatEvent:
    """Store the chat's next event inside the caller's write transaction on ``conn``
    (run it through ``numbered``). Raises NotFound if the chat is gone, NumberTaken
    if the insert clashed."""
    owned = (CHATS.c.id == chat_id) & (CHATS.c.user_id == owner)
    chat = select(CHATS.c.id).where(owned).with_for_update(key_share=True)
    if await conn.scalar(chat) is None:
        raise NotFound("Chat", chat_id)
    last = select(func.max(CHAT_EVENTS.c.seq)).where(CHAT_EVENTS.c.chat_id == chat_id)
    seq = int(await conn.scalar(last) or 0) + 1
    event = ChatEvent(chat_id=chat_id, seq=seq, user_id=owner, type=type, data=data, created_at=now)
    try:
        await conn.execute(insert(CHAT_EVENTS).values(_values(event)))
    except IntegrityError as exc:
        raise NumberTaken(chat_id) from exc
    return event


async def numbered(transaction: Callable[[], Awaitable[T]], chat_id: UUID) -> T:
    """Run ``transaction`` (a whole write transaction that calls ``append_on``) again
    while its event's number is taken, at most ``ATTEMPTS`` times, then raise Conflict."""
    for _ in range(ATTEMPTS):
        try:
            return await transaction()
        except NumberTaken:
            continue
    raise Conflict(f"could not number an event on chat {chat_id}: too many writers")


class SqlEventLog:
    """Chat events in the ``chat_events`` table; see ``forge_core.ports.EventLog``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def append(
        self, owner: UUID, chat_id: UUID, type: str, data: JsonObject, now: datetime
    ) -> ChatEvent:
        async def transaction() -> ChatEvent:
            async with write_transaction(self._engine) as conn:
                return await append_on(conn, owner, chat_id, type, data, now)

        with translate_errors():
            return await numbered(transaction, chat_id)

    async def since(
        self, owner: UUID, chat_id: UUID, after: int, limit: int = 500
    ) -> list[ChatEvent]:
        statement = (
            select(CHAT_EVENTS)
            .where(
                CHAT_EVENTS.c.chat_id == chat_id,
                CHAT_EVENTS.c.user_id == owner,
                CHAT_EVENTS.c.seq > after,
            )
            .order_by(CHAT_EVENTS.c.seq)
            .limit(limit)
        )
        with translate_errors():
            async with self._engine.connect() as conn:
                result = await conn.execute(statement)
                return [ChatEvent(**row) for row in result.mappings()]


def _values(event: ChatEvent) -> dict[str, object]:
    return {
        "chat_id": event.chat_id,
        "seq": event.seq,
        "user_id": event.user_id,
        "type": event.type,
        "data": event.data,
        "created_at": event.created_at,
    }
