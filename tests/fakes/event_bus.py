"""An EventBus that keeps what was published, in order, and delivers it to subscribers
on asyncio queues: for core tests that have no Litestar app to host the Channels bus."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

from forge_core.entities import ChatEvent


class RecordingBus:
    def __init__(self) -> None:
        self.published: list[ChatEvent] = []
        self._queues: dict[UUID, list[asyncio.Queue[ChatEvent]]] = {}

    async def publish(self, event: ChatEvent) -> None:
        self.published.append(event)
        for queue in self._queues.get(event.chat_id, []):
            queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(self, chat_id: UUID) -> AsyncIterator[AsyncIterator[ChatEvent]]:
        queue: asyncio.Queue[ChatEvent] = asyncio.Queue()
        self._queues.setdefault(chat_id, []).append(queue)

        async def events() -> AsyncIterator[ChatEvent]:
            while True:
                yield await queue.get()

        try:
            yield events()
        finally:
            self._queues[chat_id].remove(queue)
