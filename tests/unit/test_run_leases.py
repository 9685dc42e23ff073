"""Supervisors on one store (replicas on one database), with the memory leases and a
fake clock: each run is polled by the one supervisor holding its lease; a stopped
supervisor's runs are taken over when its leases lapse, a released one's at once."""

from __future__ import annotations

from uuid import UUID

import anyio
import pytest

from forge_adapters.memory import MemoryInferenceBackend
from forge_core.entities import RunStatus
from forge_core.errors import Unavailable
from forge_core.services import Runs
from forge_core.services.run_supervisor import RunSupervisor
from tests.unit.test_runs_service import FlakyBackend, World, ask, make_world

pytestmark = pytest.mark.anyio


async def start(world: World, count: int) -> list[UUID]:
    started = [await world.runs.start(world.owner, world.chat.id, ask()) for _ in range(count)]
    return [run.id for run, _ in started]


async def both_poll(first: RunSupervisor, second: RunSupervisor, world: World, at: float) -> None:
    now = world.clock.advance(at)
    async with anyio.create_task_group() as group:
        group.start_soon(first.poll_once, now)
        group.start_soon(second.poll_once, now)


async def test_two_supervisors_never_poll_the_same_run() -> None:
    world = await make_world()
    backend = FlakyBackend()
    runs, first = world.pair(backend)
    runs.max_runs_per_user = 8
    started = [await runs.start(world.owner, world.chat.id, ask()) for _ in range(8)]
    ids = [run.id for run, _ in started]
    second = world.another(backend)
    for _ in range(20):  # 100 s of steps (5 s: every run is due), the leases renewed
        before = len(backend.polls)
        await both_poll(first, second, world, 5)
        polled = backend.polls[before:]
        assert len(polled) == len(set(polled)) == 8  # each due run once, by one of them
        assert not first.held & second.held
        assert first.held | second.held == set(ids)


async def test_a_stopped_supervisors_runs_are_taken_over_when_its_leases_lapse() -> None:
    world = await make_world()
    [run_id] = await start(world, 1)
    await world.supervisor.poll_once(world.clock.advance(1))  # polls it; then stops
    assert world.supervisor.held == {run_id}
    other = world.another()
    await other.poll_once(world.clock.advance(28.9))  # leased at the start, until 30 s
    assert other.held == frozenset() and world.leases.holder(run_id) == "first"
    await other.poll_once(world.clock.advance(0.2))
    assert other.held == {run_id}
    run = await world.store.get(world.owner, run_id)
    world.backend.advance(run.backend_run_id or "", RunStatus.COMPLETED, "done")
    [done] = await other.poll_once(world.clock.advance(1))
    assert done.id == run_id and len(await world.messages("assistant")) == 1


async def test_a_renewed_lease_is_never_taken_over() -> None:
    world = await make_world()
    [run_id] = await start(world, 1)
    other = world.another()
    for _ in range(40):  # two minutes: the holder renews every 10 s
        await world.supervisor.poll_once(world.clock.advance(1.5))
        await other.poll_once(world.clock.advance(1.5))
        assert other.held == frozenset() and world.supervisor.held == {run_id}


async def test_the_heartbeat_alone_keeps_the_leases() -> None:
    world = await make_world()
    [run_id] = await start(world, 1)
    await world.supervisor.poll_once(world.clock.advance(1))
    other = world.another()
    for _ in range(10):  # 100 s of a step stuck on a slow backend, the heartbeat going on
        await world.supervisor.heartbeat(world.clock.advance(10))
        await other.poll_once()
        assert other.held == frozenset() and world.leases.holder(run_id) == "first"


async def test_released_runs_are_taken_over_at_once() -> None:
    world = await make_world()
    ids = await start(world, 3)
    await world.supervisor.poll_once(world.clock.advance(1))
    await world.supervisor.release_all()  # a graceful shutdown
    assert world.supervisor.held == frozenset() and world.supervisor.next_due() is None
    other = world.another()
    await other.poll_once(world.clock.advance(0.01))
    assert other.held == set(ids)


async def test_a_run_taken_over_elsewhere_is_dropped_at_renewal() -> None:
    world = await make_world()
    [run_id] = await start(world, 1)
    await world.supervisor.poll_once(world.clock.advance(1))
    other = world.another()
    await other.poll_once(world.clock.advance(40))  # the first one stalled past its lease
    assert other.held == {run_id}
    await world.supervisor.poll_once(world.clock.advance(0.1))  # renews: finds it gone
    assert world.supervisor.held == frozenset()


async def test_a_supervisor_holds_at_most_its_cap() -> None:
    world = await make_world()
    # runs stored free, as a released replica leaves them
    unleased = Runs(world.repo, world.store, world.backend, world.clock, events=world.events)
    unleased.max_runs_per_user = 5
    for _ in range(5):
        await unleased.start(world.owner, world.chat.id, ask())
    capped = RunSupervisor(
        world.store,
        world.leases,
        world.backend,
        events=world.events,
        worker="capped",
        clock=world.clock,
        max_held=2,
        claim_batch=1,
    )
    await capped.poll_once(world.clock.advance(1))
    assert len(capped.held) == 1  # one batch a step
    await capped.poll_once(world.clock.advance(1))
    await capped.poll_once(world.clock.advance(1))
    assert len(capped.held) == 2
    await world.supervisor.poll_once(world.clock.advance(1))
    assert len(world.supervisor.held) == 3


class DownLeases:
    """Leases on a database that is away."""

    async def claim(self, *args: object, **kwargs: object) -> list[object]:
        raise Unavailable("the database is away")


async def test_a_failed_claim_fails_the_step_and_polls_nothing() -> None:
    world = await make_world()
    await start(world, 1)
    backend = FlakyBackend()
    broken = RunSupervisor(
        world.store, DownLeases(), backend, events=world.events, worker="x", clock=world.clock
    )  # type: ignore[arg-type]
    with pytest.raises(Unavailable):
        await broken.poll_once(world.clock.advance(1))
    assert backend.polls == []


def test_a_lease_longer_than_thirty_seconds_is_refused() -> None:
    with pytest.raises(ValueError, match="leases"):
        RunSupervisor(
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            events=None,  # type: ignore[arg-type]
            worker="w",
            lease_seconds=31,
        )


async def test_a_run_started_here_stays_here_when_its_backend_keeps_runs_in_process() -> None:
    """The template and OpenAI-compatible backends answer only the replica that
    submitted a run: another replica asking would end it as lost. A run is stored
    leased to its starter, so the other replica never claims it while it lives."""
    world = await make_world(hold=False)  # runs end at once, in this replica's memory
    here_backend = MemoryInferenceBackend()
    here, here_supervisor = world.pair(here_backend)
    run, _ = await here.start(world.owner, world.chat.id, ask())
    assert here_supervisor.held == {run.id}
    await world.supervisor.poll_once(world.clock.advance(1))  # the other replica looks first
    assert world.supervisor.held == frozenset() and world.backend.submitted == []
    [done] = await here_supervisor.poll_once(world.clock.advance(0))
    assert done.status is RunStatus.COMPLETED and done.error is None
    assert len(await world.messages("assistant")) == 1
