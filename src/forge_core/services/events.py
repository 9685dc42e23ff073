"""Chat events: stored in order first, then sent live to the chat's sockets.

The log is the truth and the bus a fast path: an event is numbered and stored before it
is published, so a socket that missed it live (not yet connected, another replica, the
bus down for a moment) reads it back with ``since``. A failed publish is therefore not
an error for the caller. An event that belongs with another write (a run's end, see
``RunStore.finalize``) is stored in that write's transaction, then only published here,
so a crash between the two can lose the live delivery but never the event.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from forge_core.entities import Chat, ChatEvent, Clock, JsonObject, utc_now
from forge_core.errors import Unavailable
from forge_core.ports import EventBus, EventLog, Repository


class ChatEvents:
    """Emit events on a chat, replay them, and follow them live."""

    def __init__(
        self, repo: Repository, log: EventLog, bus: EventBus, clock: Clock = utc_now
    ) -> None:
        self.repo, self.log, self.bus, self.clock = repo, log, bus, clock

    async def emit(self, owner: UUID, chat_id: UUID, type: str, **data: Any) -> ChatEvent:
        """Store the event, then publish it. ``data`` must be JSON-ready (``jsonable``).
        Raises NotFound if the chat is gone."""
        event = await self.log.append(owner, chat_id, type, data, self.clock())
        await self.publish(event)
        return event

    async def publish(self, event: ChatEvent) -> None:
        """Send an event already in the log (one a store wrote in its own transaction,
        as ``RunStore.finalize`` does) to the chat's sockets. A bus that is down is not
        an error: the socket reads the event back from the log."""
        with contextlib.suppress(Unavailable):
            await self.bus.publish(event)

    async def check_chat(self, owner: UUID, chat_id: UUID) -> None:
        """Raises NotFound unless the chat is the owner's (another user's looks missing)."""
        await self.repo.get(Chat, chat_id, owner)

    async def since(
        self, owner: UUID, chat_id: UUID, after: int, limit: int = 500
    ) -> list[ChatEvent]:
        """The owner's events on the chat after ``after``; raises NotFound for a chat
        that is not the owner's."""
        await self.check_chat(owner, chat_id)
        return await self.log.since(owner, chat_id, after, limit)

    def follow(self, chat_id: UUID) -> AbstractAsyncContextManager[AsyncIterator[ChatEvent]]:
        """Live events on the chat from now on (the caller checked ownership first)."""
        return self.bus.subscribe(chat_id)


def jsonable(value: Any) -> JsonObject:
    """A dataclass entity or a dict of core values as a JSON-ready dict (UUIDs and
    datetimes as the API writes them, enums as their values)."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    converted = _convert(value)
    if not isinstance(converted, dict):
        raise TypeError(f"{type(value).__name__} is not an object")
    return converted


def _convert(item: Any) -> Any:
    if isinstance(item, UUID):
        return str(item)
    if isinstance(item, datetime):
        return item.isoformat().replace("+00:00", "Z")
    if isinstance(item, Enum):
        return item.value
    if isinstance(item, dict):
        return {str(k): _convert(v) for k, v in item.items()}
    if isinstance(item, list | tuple):
        return [_convert(v) for v in item]
    return item
