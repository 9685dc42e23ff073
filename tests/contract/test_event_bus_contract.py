"""The EventBus contract: the Litestar Channels bus (memory backend) and the tests'
recording bus deliver each chat's events to every subscriber of that chat, in order,
and to nobody else; leaving the block unsubscribes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import anyio
import pytest

from forge_core.entities import ChatEvent
from forge_core.errors import Unavailable
from forge_core.ports import EventBus
from forge_http.event_bus import ChannelsEventBus
from tests.fakes.event_bus import RecordingBus

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
