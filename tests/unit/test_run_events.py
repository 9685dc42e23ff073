"""The events a run sends to its chat: queued on start, the status change, then completed
or failed, each once (by the poller whose finalize won), stored in the log and published."""

from __future__ import annotations

from functools import partial
from typing import Any, cast

import anyio
import pytest

from forge_adapters.memory import MemoryLeases
from forge_core.entities import Chat, ChatEvent, RunStatus
from forge_core.errors import Unavailable
from forge_core.ports import Finalized, RunStore
from forge_core.services import Runs
from forge_core.services.run_events import RUNPOD_STATUS
from forge_core.services.run_supervisor import TIMED_OUT, RunSupervisor
from tests.unit.test_runs_service import World, ask, make_world

pytestmark = pytest.mark.anyio


@pytest.fixture
async def world() -> World:
    return await make_world()


async def logged(world: World) -> list[ChatEvent]:
    return await world.events.since(world.owner, world.chat.id, 0)


def wire(event: ChatEvent) -> dict[str, Any]:
    return {"type": event.type, "seq": event.seq, **event.data}


async def test_a_run_reports_queued_in_progress_then_completed(world: World) -> None:
    run, message = await world.runs.start(world.owner, world.chat.id, ask())
    assert run.backend_run_id is not None and message is not None
    world.backend.advance(run.backend_run_id, RunStatus.IN_PROGRESS)
    await world.supervisor.poll_once(world.clock.advance(1))
    output = {"status": "success", "content": "a frame", "requirements_json": {"arms": 4}}
    world.backend.advance(run.backend_run_id, RunStatus.COMPLETED, output)
    [done] = await world.supervisor.poll_once(world.clock.advance(10))
    [reply] = await world.messages("assistant")
    queued, status, completed = await logged(world)
    assert wire(queued) == {
        "type": "runpod.queued",
        "seq": 1,
        "runpod_id": run.backend_run_id,
        "message_id": str(message.id),
        "status": "queued",
    }
    assert wire(status) == {
        "type": "runpod.status",
        "seq": 2,
        "runpod_id": run.backend_run_id,
        "status": "IN_PROGRESS",
    }
    assert completed.type == "runpod.completed" and completed.seq == 3
    assert completed.data["output"] == output
    assert completed.data["message"]["id"] == str(reply.id) == str(done.result_message_id)
    assert completed.data["message"]["content"] == "a frame"
    assert completed.data["message"]["metadata_json"] == {"requirements_json": {"arms": 4}}
    assert world.bus.published == [queued, status, completed]


async def test_a_failed_run_reports_its_status_and_error(world: World) -> None:
    run, _ = await world.runs.start(world.owner, world.chat.id, ask())
    assert run.backend_run_id is not None
    world.backend.advance(run.backend_run_id, RunStatus.FAILED, error="CUDA out of memory")
    await world.supervisor.poll_once(world.clock.advance(1))
    failed = (await logged(world))[-1]
    assert wire(failed) == {
        "type": "runpod.failed",
        "seq": 2,
        "runpod_id": run.backend_run_id,
        "status": "FAILED",
        "error": "CUDA out of memory",
    }


async def test_a_run_past_its_deadline_reports_timed_out(world: World) -> None:
    request = ask(metadata_json={"status_timeout_seconds": 5})
    await world.runs.start(world.owner, world.chat.id, request)
    await world.supervisor.poll_once(world.clock.advance(6))
    failed = (await logged(world))[-1]
    assert (failed.data["status"], failed.data["error"]) == ("TIMED_OUT", TIMED_OUT)


async def test_a_health_run_reports_its_output_and_no_message(world: World) -> None:
    run, _ = await world.runs.start(world.owner, world.chat.id, ask("health", ""))
    assert run.backend_run_id is not None
    world.backend.advance(run.backend_run_id, RunStatus.COMPLETED, {"status": "healthy"})
    await world.supervisor.poll_once(world.clock.advance(1))
    queued, completed = await logged(world)
    assert queued.data["message_id"] is None
    assert (completed.data["message"], completed.data["output"]) == (None, {"status": "healthy"})


async def test_racing_pollers_report_the_end_once(world: World) -> None:
    """Pollers that each believe they hold the run (a lease lost in a database outage
    and taken over): the finalize still lets one of them report the end."""
    unleased = Runs(world.repo, world.store, world.backend, world.clock, events=world.events)
    run, _ = await unleased.start(world.owner, world.chat.id, ask())
    assert run.backend_run_id is not None
    world.backend.advance(run.backend_run_id, RunStatus.COMPLETED, "cube(10);")
    pollers = [
        RunSupervisor(
            world.store,
            MemoryLeases(partial(world.store.list_unfinished, 100)),  # each its own leases
            world.backend,
            events=world.events,
            worker=f"poller-{i}",
            clock=world.clock,
        )
        for i in range(4)
    ]
    now = world.clock.advance(1)
    async with anyio.create_task_group() as group:
        for poller in pollers:
            group.start_soon(poller.poll_once, now)
    types = [event.type for event in await logged(world)]
    assert types == ["runpod.queued", "runpod.completed"]


async def test_a_chat_deleted_mid_run_breaks_nothing(world: World) -> None:
    run, _ = await world.runs.start(world.owner, world.chat.id, ask())
    assert run.backend_run_id is not None
    await world.repo.delete(Chat, world.chat.id, world.owner)
    world.backend.advance(run.backend_run_id, RunStatus.COMPLETED, "cube(10);")
    assert await world.supervisor.poll_once(world.clock.advance(1)) == []
    assert await world.events.log.since(world.owner, world.chat.id, 0) == []


class DownBus:
    """A bus that is down: publishing fails, the event stays in the log."""

    async def publish(self, event: ChatEvent) -> None:
        raise Unavailable("the bus is down")

    def subscribe(self, chat_id: Any) -> Any:
        raise Unavailable("the bus is down")


async def test_a_bus_that_is_down_leaves_the_events_in_the_log(world: World) -> None:
    world.events.bus = DownBus()
    run, _ = await world.runs.start(world.owner, world.chat.id, ask())
    assert [e.type for e in await logged(world)] == ["runpod.queued"]
    assert run.status is RunStatus.QUEUED


def test_every_status_has_a_runpod_name() -> None:
    assert set(RUNPOD_STATUS) == set(RunStatus)


async def test_a_bus_down_at_the_end_leaves_the_end_in_the_log(world: World) -> None:
    run, _ = await world.runs.start(world.owner, world.chat.id, ask())
    assert run.backend_run_id is not None
    world.events.bus = DownBus()
    world.backend.advance(run.backend_run_id, RunStatus.COMPLETED, "cube(10);")
    [done] = await world.supervisor.poll_once(world.clock.advance(1))
    assert done.status is RunStatus.COMPLETED
    [end] = await world.events.since(world.owner, world.chat.id, 1)
    assert (end.type, end.seq, end.data["output"]) == ("runpod.completed", 2, "cube(10);")


class Crash(Exception):
    """The replica dies here."""


class DiesAfterFinalize:
    """The world's run store, in a replica that is killed as soon as a finalize has
    committed: before it can publish, or do anything else."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def finalize(self, *args: Any, **kwargs: Any) -> Finalized | None:
        await self.store.finalize(*args, **kwargs)
        raise Crash


async def test_a_crash_right_after_the_finalize_leaves_the_end_in_the_log(world: World) -> None:
    run, _ = await world.runs.start(world.owner, world.chat.id, ask())
    assert run.backend_run_id is not None
    dying = RunSupervisor(
        cast(RunStore, DiesAfterFinalize(world.store)),
        world.leases,
        world.backend,
        events=world.events,
        worker="dying",
        clock=world.clock,
    )
    world.backend.advance(run.backend_run_id, RunStatus.FAILED, error="CUDA out of memory")
    with pytest.raises(ExceptionGroup) as crashed:
        await dying.poll_once(world.clock.advance(60))
    assert crashed.group_contains(Crash)
    assert [e.type for e in world.bus.published] == ["runpod.queued"]  # never sent live
    # The next replica finds the run ended and reports nothing twice; a socket that
    # reconnects with since=1 (it saw runpod.queued) reads the end from the log.
    assert await world.another().poll_once(world.clock.advance(60)) == []
    [end] = await world.events.since(world.owner, world.chat.id, 1)
    assert wire(end) == {
        "type": "runpod.failed",
        "seq": 2,
        "runpod_id": run.backend_run_id,
        "status": "FAILED",
        "error": "CUDA out of memory",
    }
    assert (await world.store.get(world.owner, run.id)).status is RunStatus.FAILED
