"""The EventBus port on Litestar Channels: each chat is the channel ``{prefix}chat:{id}``
and each event travels as JSON (msgspec), so any Channels backend carries it. The memory
backend serves one process; Litestar's Redis pub/sub backend (``FORGE_EVENT_BUS=redis``)
serves several replicas on one Redis. It lives in the front end because adapters may not
import Litestar.

The plugin is started and stopped by ``open`` (a container Resource), not by the app's
plugin list, so the supervisor can publish for as long as the app's lifespan runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any
from uuid import UUID

import msgspec
from litestar.channels import ChannelsBackend, ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis
from redis.exceptions import RedisError

from forge_core.entities import ChatEvent
from forge_core.errors import Unavailable

log = logging.getLogger("forge.event_bus")
_decoder = msgspec.json.Decoder(ChatEvent)
#: Seconds between two reconnection attempts while Redis is away: doubling, capped.
RECONNECT_FIRST, RECONNECT_MAX = 0.1, 5.0
#: What a backend raises when it is not started or cannot reach its server.
_BACKEND_ERRORS = (RuntimeError, OSError, ConnectionError, RedisError)


def channel(chat_id: UUID, prefix: str = "") -> str:
    return f"{prefix}chat:{chat_id}"


class ChannelsEventBus:
    """Chat events over a started ``ChannelsPlugin``; see ``forge_core.ports.EventBus``."""

    def __init__(self, plugin: ChannelsPlugin, prefix: str = "") -> None:
        self.plugin, self.prefix = plugin, prefix

    @classmethod
    @asynccontextmanager
    async def open(
        cls, backend: ChannelsBackend | None = None, prefix: str = ""
    ) -> AsyncIterator[ChannelsEventBus]:
        """A bus on ``backend`` (in memory unless given), started for the block."""
        plugin = ChannelsPlugin(
            backend=backend or MemoryChannelsBackend(), arbitrary_channels_allowed=True
        )
        async with plugin:
            yield cls(plugin, prefix)

    async def publish(self, event: ChatEvent) -> None:
        data = msgspec.json.encode(event)
        try:
            await self.plugin.wait_published(data, channel(event.chat_id, self.prefix))
        except _BACKEND_ERRORS as exc:  # not started, or the backend is away
            raise Unavailable("the event bus cannot publish now") from exc

    @asynccontextmanager
    async def subscribe(self, chat_id: UUID) -> AsyncIterator[AsyncIterator[ChatEvent]]:
        async with AsyncExitStack() as stack:
            try:
                subscriber = await stack.enter_async_context(
                    self.plugin.start_subscription(channel(chat_id, self.prefix))
                )
            except _BACKEND_ERRORS as exc:
                raise Unavailable("the event bus cannot subscribe now") from exc
            yield (_decoder.decode(raw) async for raw in subscriber.iter_events())


class ResilientPubSubBackend(RedisChannelsPubSubBackend):
    """Litestar's Redis pub/sub backend, made to outlive a Redis outage. Its event stream
    ends at the first connection error that redis-py's retries do not absorb, which ends
    the plugin's subscriber task: live events would stop on this replica until a restart.
    Here the stream waits and reads again (redis-py reconnects and subscribes the
    channels again on connect). Events published meanwhile never reach this replica's
    sockets live; each socket fills such a gap from the event log at its next event."""

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        delay = RECONNECT_FIRST
        while True:
            try:
                async for item in super().stream_events():
                    delay = RECONNECT_FIRST
                    yield item
            except _BACKEND_ERRORS as exc:
                log.warning("event bus: Redis unreachable (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX)


async def open_event_bus() -> AsyncIterator[ChannelsEventBus]:
    """The container's Resource: the in-memory bus for the app's lifetime."""
    async with ChannelsEventBus.open() as bus:
        yield bus


async def open_redis_event_bus(redis: Redis, prefix: str) -> AsyncIterator[ChannelsEventBus]:
    """The container's Resource for ``FORGE_EVENT_BUS=redis``: events reach every replica
    on the same Redis and ``FORGE_REDIS_PREFIX``."""
    async with ChannelsEventBus.open(ResilientPubSubBackend(redis=redis), prefix) as bus:
        yield bus
