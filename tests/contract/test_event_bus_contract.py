"""The EventBus contract: the Litestar Channels bus (memory and Redis backends) and the
tests' recording bus deliver each chat's events to every subscriber of that chat, in
order, and to nobody else; leaving the block unsubscribes. On Redis (the real server at
``FORGE_TEST_REDIS_URL``), an event published by one replica reaches the others."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from uuid import UUID, uuid4

import anyio
import pytest
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from forge_core.entities import ChatEvent
from forge_core.errors import Unavailable
from forge_core.ports import EventBus
from forge_http.event_bus import ChannelsEventBus, ResilientPubSubBackend
from tests.fakes.event_bus import RecordingBus
from tests.fakes.tcp_proxy import TcpProxy

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


def event(chat_id: UUID, seq: int, **data: object) -> ChatEvent:
    return ChatEvent(
        chat_id=chat_id,
        seq=seq,
        user_id=uuid4(),
        type="runpod.status",
        data={"status": "IN_PROGRESS", "nested": {"n": seq}, **data},
        created_at=T0,
    )


async def take(events: AsyncIterator[ChatEvent], count: int) -> list[ChatEvent]:
    got: list[ChatEvent] = []
    with anyio.fail_after(5):
        async for item in events:
            got.append(item)
            if len(got) == count:
                break
    return got


class EventBusContract:
    @pytest.fixture
    async def bus(self) -> AsyncIterator[EventBus]:
        raise NotImplementedError
        yield

    async def test_every_subscriber_gets_every_event_in_order(self, bus: EventBus) -> None:
        chat = uuid4()
        sent = [event(chat, n) for n in range(1, 21)]
        async with bus.subscribe(chat) as first, bus.subscribe(chat) as second:
            for item in sent:
                await bus.publish(item)
            assert await take(first, 20) == sent
            assert await take(second, 20) == sent

    async def test_a_subscriber_of_another_chat_gets_nothing(self, bus: EventBus) -> None:
        chat, other = uuid4(), uuid4()
        async with bus.subscribe(other) as elsewhere, bus.subscribe(chat) as here:
            await bus.publish(event(chat, 1))
            await bus.publish(event(other, 1, last=True))
            [mine] = await take(here, 1)
            [theirs] = await take(elsewhere, 1)
        assert mine.chat_id == chat
        assert theirs.chat_id == other and theirs.data["last"] is True

    async def test_events_published_before_subscribing_are_not_delivered(
        self, bus: EventBus
    ) -> None:
        chat = uuid4()
        await bus.publish(event(chat, 1))
        async with bus.subscribe(chat) as events:
            await bus.publish(event(chat, 2))
            [got] = await take(events, 1)
        assert got.seq == 2

    async def test_leaving_the_block_unsubscribes(self, bus: EventBus) -> None:
        chat = uuid4()
        async with bus.subscribe(chat) as events:
            await bus.publish(event(chat, 1))
            await take(events, 1)
        await bus.publish(event(chat, 2))  # nobody listens: no error, no delivery
        async with bus.subscribe(chat) as again:
            await bus.publish(event(chat, 3))
            [got] = await take(again, 1)
        assert got.seq == 3


class TestChannelsEventBus(EventBusContract):
    @pytest.fixture
    async def bus(self) -> AsyncIterator[EventBus]:
        async with ChannelsEventBus.open() as bus:
            yield bus

    async def test_a_bus_that_is_not_started_is_unavailable(self) -> None:
        async with ChannelsEventBus.open() as bus:
            pass
        with pytest.raises(Unavailable):
            await bus.publish(event(uuid4(), 1))


class TestRecordingBus(EventBusContract):
    @pytest.fixture
    async def bus(self) -> AsyncIterator[EventBus]:
        yield RecordingBus()


def redis_bus(client: Redis, prefix: str) -> AbstractAsyncContextManager[ChannelsEventBus]:
    return ChannelsEventBus.open(ResilientPubSubBackend(redis=client), prefix)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestRedisChannelsEventBus(EventBusContract):
    @pytest.fixture
    async def bus(self, redis_client: Redis, redis_prefix: str) -> AsyncIterator[EventBus]:
        async with redis_bus(redis_client, redis_prefix) as bus:
            yield bus

    async def test_an_event_published_on_one_replica_reaches_the_others(
        self, redis_url: str, redis_prefix: str
    ) -> None:
        chat = uuid4()
        sent = [event(chat, n) for n in range(1, 6)]
        # Two replicas: each its own client (connection pool) and its own bus.
        async with (
            Redis.from_url(redis_url) as client_a,
            Redis.from_url(redis_url) as client_b,
            redis_bus(client_a, redis_prefix) as replica_a,
            redis_bus(client_b, redis_prefix) as replica_b,
            replica_b.subscribe(chat) as on_b,
            replica_a.subscribe(chat) as on_a,
        ):
            for item in sent:
                await replica_a.publish(item)
            assert await take(on_b, 5) == sent
            assert await take(on_a, 5) == sent

    async def test_buses_with_other_prefixes_do_not_meet(
        self, redis_client: Redis, redis_prefix: str
    ) -> None:
        chat = uuid4()
        async with (
            redis_bus(redis_client, redis_prefix) as mine,
            redis_bus(redis_client, redis_prefix + "other:") as theirs,
            mine.subscribe(chat) as events,
        ):
            await theirs.publish(event(chat, 1))
            await mine.publish(event(chat, 2))
            [got] = await take(events, 1)
        assert got.seq == 2

    async def test_live_events_resume_after_a_redis_outage(
        self, redis_url: str, redis_client: Redis, redis_prefix: str
    ) -> None:
        """An outage longer than redis-py's retries: Litestar's own backend ends its
        stream there, and with it every live subscription of the replica for good."""
        chat = uuid4()
        target = make_url(redis_url)
        got: list[int] = []
        first = anyio.Event()

        async def consume(events: AsyncIterator[ChatEvent]) -> None:
            async for item in events:
                got.append(item.seq)
                first.set()

        async with (
            TcpProxy.running(target.host or "127.0.0.1", target.port or 6379) as proxy,
            Redis.from_url(f"redis://127.0.0.1:{proxy.port}/{target.database or 0}") as through,
            redis_bus(through, redis_prefix) as replica,
            redis_bus(redis_client, redis_prefix) as publisher,
            replica.subscribe(chat) as events,
            anyio.create_task_group() as group,
        ):
            group.start_soon(consume, events)
            await publisher.publish(event(chat, 1))
            with anyio.fail_after(5):
                await first.wait()
            proxy.cut()
            await anyio.sleep(5)
            proxy.restore()
            with anyio.fail_after(15):  # the replica reconnects within its backoff
                seq = 1
                while len(got) == 1:
                    seq += 1
                    await publisher.publish(event(chat, seq))
                    await anyio.sleep(0.2)
            assert got[0] == 1 and got[1] > 1  # live again; what was lost is in the log
            group.cancel_scope.cancel()

    async def test_a_bus_whose_redis_is_down_is_unavailable(self, redis_prefix: str) -> None:
        async with (
            Redis.from_url(f"redis://127.0.0.1:{closed_port()}/0") as down,
            redis_bus(down, redis_prefix) as bus,
        ):
            with pytest.raises(Unavailable):
                await bus.publish(event(uuid4(), 1))
            with pytest.raises(Unavailable):
                async with bus.subscribe(uuid4()):
                    pass
