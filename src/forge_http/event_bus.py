"""The EventBus port on Litestar Channels: each chat is the channel ``chat:{chat_id}`` and
each event travels as JSON (msgspec), so any Channels backend carries it. The memory
backend serves one process; a shared backend (Redis) can be passed in to serve several
replicas. It lives in the front end because adapters may not import Litestar.

The plugin is started and stopped by ``open`` (a container Resource), not by the app's
plugin list, so the supervisor can publish for as long as the app's lifespan runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import msgspec
from litestar.channels import ChannelsBackend, ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

from forge_core.entities import ChatEvent
from forge_core.errors import Unavailable

_decoder = msgspec.json.Decoder(ChatEvent)


def channel(chat_id: UUID) -> str:
    return f"chat:{chat_id}"


class ChannelsEventBus:
    """Chat events over a started ``ChannelsPlugin``; see ``forge_core.ports.EventBus``."""

    def __init__(self, plugin: ChannelsPlugin) -> None:
        self.plugin = plugin

    @classmethod
    @asynccontextmanager
    async def open(cls, backend: ChannelsBackend | None = None) -> AsyncIterator[ChannelsEventBus]:
        """A bus on ``backend`` (in memory unless given), started for the block."""
        plugin = ChannelsPlugin(
            backend=backend or MemoryChannelsBackend(), arbitrary_channels_allowed=True
        )
        async with plugin:
            yield cls(plugin)

    async def publish(self, event: ChatEvent) -> None:
        try:
            await self.plugin.wait_published(msgspec.json.encode(event), channel(event.chat_id))
        except (RuntimeError, OSError, ConnectionError) as exc:  # not started, or the
            raise Unavailable("the event bus cannot publish now") from exc  # backend away

    @asynccontextmanager
    async def subscribe(self, chat_id: UUID) -> AsyncIterator[AsyncIterator[ChatEvent]]:
        async with self.plugin.start_subscription(channel(chat_id)) as subscriber:
            yield (_decoder.decode(raw) async for raw in subscriber.iter_events())


async def open_event_bus() -> AsyncIterator[ChannelsEventBus]:
    """The container's Resource: the in-memory bus for the app's lifetime."""
    async with ChannelsEventBus.open() as bus:
        yield bus
