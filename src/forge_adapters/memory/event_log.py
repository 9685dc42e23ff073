"""The EventLog port over a dict, beside a MemoryRepository that holds the chats: a
chat's events go with it, as the SQL adapter's foreign key makes them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import anyio

from forge_core.entities import Chat, ChatEvent, JsonObject
from forge_core.errors import NotFound

from .repository import MemoryRepository


class MemoryEventLog:
    """Chat events in memory; see ``forge_core.ports.EventLog``."""

    def __init__(self, repository: MemoryRepository) -> None:
        self._repo = repository
        self._events: dict[UUID, list[ChatEvent]] = {}
        self._lock = anyio.Lock()

    async def append(
        self, owner: UUID, chat_id: UUID, type: str, data: JsonObject, now: datetime
    ) -> ChatEvent:
        async with self._lock:
            events = await self._live(owner, chat_id)
            if events is None:
                raise NotFound("Chat", chat_id)
            event = ChatEvent(
                chat_id=chat_id,
                seq=len(events) + 1,
                user_id=owner,
                type=type,
                data=data,
                created_at=now,
            )
            events.append(event)
            return event

    async def since(
        self, owner: UUID, chat_id: UUID, after: int, limit: int = 500
    ) -> list[ChatEvent]:
        events = await self._live(owner, chat_id) or []
        return [e for e in events[max(after, 0) :] if e.user_id == owner][:limit]

    async def _live(self, owner: UUID, chat_id: UUID) -> list[ChatEvent] | None:
        """The chat's events, or None (and forgotten) once the chat is gone."""
        if not await self._repo.count_owned(Chat, [chat_id], owner):
            events = self._events.get(chat_id)
            if events and events[0].user_id == owner:  # the owner's chat went: forget it
                del self._events[chat_id]
            return None  # gone, or another user's (whose events stay theirs)
        return self._events.setdefault(chat_id, [])
