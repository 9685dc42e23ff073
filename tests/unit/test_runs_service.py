"""The Runs use cases over the memory adapters and a fake clock: starting runs on a
chat, and the supervisor step that claims, polls and finalizes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forge_adapters.memory import (
    MemoryEventLog,
    MemoryInferenceBackend,
    MemoryLeases,
    MemoryRepository,
    MemoryRunStore,
    memory_run_leases,
)
from forge_core.commands import RunRequest
from forge_core.entities import Chat, InferenceRun, Message, RunStatus, Session
from forge_core.errors import InvalidInput, NotFound, RateLimited, Unavailable
from forge_core.inference import Action, InferenceBackend, JobInput, RunPolicy, RunState, Turn
from forge_core.services.events import ChatEvents
from forge_core.services.run_supervisor import (
    LOST,
    POLL_DELAYS,
    TIMED_OUT,
    RunSupervisor,
    ScadPipeline,
)
from forge_core.services.runs import WAIT_GRACE, RunResult, Runs, status_timeout
from tests.fakes.event_bus import RecordingBus

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class World:
    repo: MemoryRepository
    store: MemoryRunStore
    backend: MemoryInferenceBackend
    clock: FakeClock
    runs: Runs
    supervisor: RunSupervisor
    leases: MemoryLeases[InferenceRun]
    owner: UUID
    chat: Chat
    events: ChatEvents
    bus: RecordingBus

    def another(
        self, backend: InferenceBackend | None = None, pipeline: ScadPipeline | None = None
    ) -> RunSupervisor:
        """A second supervisor over the same stores: another replica, or the next process."""
        return RunSupervisor(
            self.store,
            self.leases,
            backend or self.backend,
            events=self.events,
            worker=f"replica-{uuid4()}",
            pipeline=pipeline,
            clock=self.clock,
        )

    def pair(self, backend: InferenceBackend) -> tuple[Runs, RunSupervisor]:
        """A replica on another backend: the service that starts runs and its supervisor."""
        supervisor = self.another(backend)
        runs = Runs(
            self.repo, self.store, backend, self.clock, events=self.events, supervisor=supervisor
        )
        return runs, supervisor

    async def messages(self, role: str | None = None) -> list[Message]:
        found = await self.repo.list(Message, self.owner, where={"chat_id": self.chat.id})
        return [m for m in found if role is None or m.role == role]


async def add_chat(repo: MemoryRepository, owner: UUID) -> Chat:
    stamps: dict[str, Any] = {"user_id": owner, "created_at": T0, "updated_at": T0}
    session = Session(id=uuid4(), name="Quadcopter", **stamps)
    chat = Chat(id=uuid4(), session_id=session.id, title="frame", **stamps)
    await repo.add(session)
    await repo.add(chat)
    return chat


async def make_world(
    hold: bool = True, pipeline: ScadPipeline | None = None, **kwargs: Any
) -> World:
    clock = FakeClock()
    repo = MemoryRepository()
    log = MemoryEventLog(repo)
    store = MemoryRunStore(repo, log, clock)
    backend = MemoryInferenceBackend(hold=hold)
    owner = uuid4()
    chat = await add_chat(repo, owner)
    bus = RecordingBus()
    events = ChatEvents(repo, log, bus, clock)
    leases = memory_run_leases(store)
    supervisor = RunSupervisor(
        store, leases, backend, events=events, worker="first", pipeline=pipeline, clock=clock
    )
    runs = Runs(repo, store, backend, clock, events=events, supervisor=supervisor, **kwargs)
    return World(repo, store, backend, clock, runs, supervisor, leases, owner, chat, events, bus)


@pytest.fixture
async def world() -> World:
    return await make_world()


def ask(action: str = "process_requirements", content: str = "a drone", **kw: Any) -> RunRequest:
    return RunRequest(action=action, content=content, **kw)


async def say(world: World, role: str, content: str, seconds: float) -> None:
    when = T0 + timedelta(seconds=seconds)
    await world.repo.add(
        Message(
            id=uuid4(),
            user_id=world.owner,
            chat_id=world.chat.id,
            role=role,
            content=content,
            created_at=when,
            updated_at=when,
        )
    )


# -- start ---------------------------------------------------------------------------


async def test_start_stores_the_message_and_sends_the_stored_history(world: World) -> None:
    await say(world, "user", "I need a lightweight drone", 1)
    await say(world, "assistant", "How big?", 2)
    world.clock.advance(10)
    run, message = await world.runs.start(world.owner, world.chat.id, ask(content="160 mm"))
    assert world.backend.submitted == [
        JobInput(
            action=Action.PROCESS_REQUIREMENTS,
            prompt="160 mm",
            history=(Turn("user", "I need a lightweight drone"), Turn("assistant", "How big?")),
        )
    ]
    assert message is not None and (message.role, message.content) == ("user", "160 mm")
    stored = await world.store.get(world.owner, run.id)
    assert stored == run
    assert (run.status, run.user_message_id, run.action) == (
        RunStatus.QUEUED,
        message.id,
        "process_requirements",
    )
    assert run.backend_run_id is not None
    assert run.deadline == world.clock.now + timedelta(seconds=7200)
    assert [m.content for m in await world.messages()][-1] == "160 mm"


async def test_a_given_history_is_sent_as_given(world: World) -> None:
    await say(world, "user", "stored, not sent", 1)
    history = [{"role": "user", "content": "I need a lightweight drone"}]
    await world.runs.start(world.owner, world.chat.id, ask(history=history))
    assert world.backend.submitted[0].history == (Turn("user", "I need a lightweight drone"),)


async def test_health_sends_no_history_and_stores_no_message(world: World) -> None:
    await say(world, "user", "hello", 1)
    run, message = await world.runs.start(world.owner, world.chat.id, RunRequest(action="health"))
    assert message is None and run.user_message_id is None
    assert world.backend.submitted[0].to_payload() == {"action": "health", "prompt": ""}
    assert [m.content for m in await world.messages()] == ["hello"]
    world.backend.advance(run.backend_run_id or "", RunStatus.COMPLETED, {"status": "ok"})
    [done] = await world.supervisor.poll_once(world.clock.advance(1))
    assert done.status is RunStatus.COMPLETED and done.result_message_id is None
    assert [m.content for m in await world.messages()] == ["hello"]


async def test_process_scad_is_generate_scad_and_requirements_pass_through(world: World) -> None:
    requirements = {"model_type": "drone", "standard_components": [{"name": "FC"}]}
    run, _ = await world.runs.start(
        world.owner, world.chat.id, ask("process_scad", "SCAD", requirements_json=requirements)
    )
    job = world.backend.submitted[0]
    assert (run.action, job.action, job.requirements_json) == (
        "generate_scad",
        Action.GENERATE_SCAD,
        requirements,
    )


async def test_an_unknown_action_lists_the_supported_ones_and_stores_nothing(
    world: World,
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await world.runs.start(world.owner, world.chat.id, ask("draw"))
    assert caught.value.field == "action"
    assert "process_requirements, generate_scad, process_scad, health" in caught.value.detail
    assert world.backend.submitted == [] and await world.messages() == []


async def test_another_users_chat_is_not_found(world: World) -> None:
    stranger = uuid4()
    await add_chat(world.repo, stranger)
    with pytest.raises(NotFound):
        await world.runs.start(stranger, world.chat.id, ask())
    assert world.backend.submitted == [] and await world.messages() == []


@pytest.mark.parametrize("seconds", [0, 0.5, 7 * 24 * 3600 + 1, -3, "60", True, float("nan")])
async def test_status_timeout_out_of_range_is_refused(world: World, seconds: Any) -> None:
    request = ask(metadata_json={"status_timeout_seconds": seconds})
    with pytest.raises(InvalidInput) as caught:
        await world.runs.start(world.owner, world.chat.id, request)
    assert caught.value.field == "metadata_json.status_timeout_seconds"
    assert world.backend.submitted == [] and await world.messages() == []


@pytest.mark.parametrize("seconds", [1, 90.5, 7 * 24 * 3600])
async def test_status_timeout_sets_the_deadline(world: World, seconds: float) -> None:
    request = ask(metadata_json={"status_timeout_seconds": seconds})
    run, _ = await world.runs.start(world.owner, world.chat.id, request)
    assert run.deadline == T0 + timedelta(seconds=seconds)


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers())
def test_status_timeout_accepts_exactly_one_second_to_seven_days(value: float) -> None:
    inside = 1 <= value <= 7 * 24 * 3600
    try:
        assert status_timeout({"status_timeout_seconds": value}) == float(value)
        assert inside
    except InvalidInput:
        assert not inside


async def test_runs_beyond_the_per_user_limit_are_rate_limited() -> None:
    world = await make_world(max_runs_per_user=2)
    for _ in range(2):
        await world.runs.start(world.owner, world.chat.id, ask())
    before = await world.messages()
    with pytest.raises(RateLimited) as caught:
        await world.runs.start(world.owner, world.chat.id, ask())
    assert caught.value.retry_after >= 1
    assert len(world.backend.submitted) == 2 and await world.messages() == before
    # another user is not limited by this one's runs
    other = uuid4()
    await world.runs.start(other, (await add_chat(world.repo, other)).id, ask())
    # a finished run frees a place
    first = next(r for r in await world.store.list_unfinished() if r.user_id == world.owner)
    assert first.backend_run_id is not None
    world.backend.advance(first.backend_run_id, RunStatus.COMPLETED, "done")
    finished = await world.supervisor.poll_once(world.clock.advance(1))
    assert [run.id for run in finished] == [first.id]
    await world.runs.start(world.owner, world.chat.id, ask())


async def test_the_same_idempotency_key_answers_the_same_run(world: World) -> None:
    first = await world.runs.start(world.owner, world.chat.id, ask(), idempotency_key="k1")
    again = await world.runs.start(world.owner, world.chat.id, ask(), idempotency_key="k1")
    assert again == first
    assert len(world.backend.submitted) == 1 and len(await world.messages()) == 1
    other, _ = await world.runs.start(world.owner, world.chat.id, ask(), idempotency_key="k2")
    assert other.id != first[0].id


class YieldingBackend(MemoryInferenceBackend):
    """Lets other tasks run during a submission, so that racing requests interleave."""

    def __init__(self, *, hold: bool = False) -> None:
        super().__init__(hold=hold)
        self.run_ids: list[str] = []

    async def submit(self, job: JobInput, policy: RunPolicy | None = None) -> RunState:
        await anyio.lowlevel.checkpoint()
        state = await super().submit(job, policy)
        self.run_ids.append(state.run_id)
        return state


async def test_racing_requests_with_one_key_leave_one_run_and_one_message(world: World) -> None:
    backend = YieldingBackend(hold=True)
    runs = Runs(world.repo, world.store, backend, world.clock, events=world.events)
    answers: list[tuple[InferenceRun, Message | None]] = []

    async def post() -> None:
        answers.append(await runs.start(world.owner, world.chat.id, ask(), "race"))

    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(post)
    assert len({run.id for run, _ in answers}) == 1 and len(answers) == 3
    [kept] = await world.store.list_unfinished()
    assert [m.id for m in await world.messages()] == [kept.user_message_id]
    # the losers' submissions were cancelled, the winner's left running
    states = [await backend.status(run_id) for run_id in backend.run_ids]
    assert sorted(s.status for s in states) == sorted(
        [RunStatus.QUEUED, RunStatus.CANCELLED, RunStatus.CANCELLED]
    )


class RefusingBackend(MemoryInferenceBackend):
    async def submit(self, job: JobInput, policy: RunPolicy | None = None) -> RunState:
        raise Unavailable("the backend is down")


async def test_a_refused_submission_leaves_nothing_stored(world: World) -> None:
    runs = Runs(world.repo, world.store, RefusingBackend(), world.clock, events=world.events)
    with pytest.raises(Unavailable):
        await runs.start(world.owner, world.chat.id, ask(), idempotency_key="k")
    assert await world.messages() == []
    assert await world.store.list_unfinished() == []
    assert await world.store.find_by_idempotency_key(world.owner, "k") is None


# -- poll_once -----------------------------------------------------------------------


async def test_a_completed_run_becomes_one_assistant_message(world: World) -> None:
    run, _ = await world.runs.start(world.owner, world.chat.id, ask())
    assert run.backend_run_id is not None
    assert await world.supervisor.poll_once(world.clock.advance(1)) == []
    world.backend.advance(run.backend_run_id, RunStatus.IN_PROGRESS)
    world.clock.advance(1)
    assert await world.supervisor.poll_once() == []
    assert (await world.store.get(world.owner, run.id)).status is RunStatus.IN_PROGRESS
    output = {"scad_code": "cube(10);", "requirements_json": {"model_type": "box"}}
    world.backend.advance(run.backend_run_id, RunStatus.COMPLETED, output)
    world.clock.advance(5)
    [done] = await world.supervisor.poll_once()
    [reply] = await world.messages("assistant")
    assert (done.id, done.status, done.result_message_id) == (
        run.id,
        RunStatus.COMPLETED,
        reply.id,
    )
    assert (reply.content, reply.metadata_json) == (
        "cube(10);",
        {"requirements_json": {"model_type": "box"}},
    )
    assert await world.supervisor.poll_once(world.clock.advance(60)) == []
    assert len(await world.messages("assistant")) == 1


async def test_wait_result_answers_the_ended_run_and_the_backends_answer(world: World) -> None:
    run, _ = await world.runs.start(world.owner, world.chat.id, ask())
    assert run.backend_run_id is not None
    world.backend.advance(run.backend_run_id, RunStatus.COMPLETED, {"content": "done"})
    results: list[RunResult] = []

    async def wait() -> None:
        results.append(await world.runs.wait_result(run))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(wait)
            await anyio.wait_all_tasks_blocked()
            assert results == []  # stored as queued: it waits for the supervisor
            await world.supervisor.poll_once(world.clock.advance(1))
    [ended] = results
    assert (ended.run.id, ended.run.status) == (run.id, RunStatus.COMPLETED)
    assert ended.output == {"content": "done"}
    world.backend.expire(run.backend_run_id)  # the backend no longer keeps the answer
    assert await world.runs.wait_result(ended.run) == RunResult(ended.run, None)


async def test_a_run_the_backend_answered_at_once_is_due_at_once_and_wakes_the_loop() -> None:
    world = await make_world(hold=False)  # the backend completes runs as they are submitted
    run, _ = await world.runs.start(world.owner, world.chat.id, ask())
    assert world.supervisor.next_due() == run.created_at  # not a first poll delay later
    with anyio.fail_after(5):
        await world.supervisor.nap(60)  # cut short: there is an answer to store
        [done] = await world.supervisor.poll_once()  # the clock has not moved
    assert done.id == run.id and done.status is RunStatus.COMPLETED
    assert len(await world.messages("assistant")) == 1


async def test_a_run_still_going_is_first_polled_a_delay_later_and_the_nap_runs_out(
    world: World,
) -> None:
    run, _ = await world.runs.start(world.owner, world.chat.id, ask())  # held: queued
    assert world.supervisor.next_due() == run.created_at + timedelta(seconds=POLL_DELAYS[0])
    assert await world.supervisor.poll_once() == []
    with anyio.fail_after(5):
        await world.supervisor.nap(0.01)  # nothing wakes it: it sleeps its time out


async def test_wait_result_gives_up_after_the_deadline_and_its_grace(world: World) -> None:
    run, _ = await world.runs.start(world.owner, world.chat.id, ask())
    world.clock.now = run.deadline + WAIT_GRACE
    with anyio.fail_after(5):
        assert await world.runs.wait_result(run) == RunResult(run, None)


async def test_racing_pollers_store_one_message_per_run() -> None:
    world = await make_world(hold=False)  # every run completes at once
    started = [await world.runs.start(world.owner, world.chat.id, ask()) for _ in range(5)]
    pollers = [world.another() for _ in range(3)] + [world.supervisor]
    finished: list[list[InferenceRun]] = []
    now = world.clock.advance(1)

    async def poll(supervisor: RunSupervisor) -> None:
        finished.append(await supervisor.poll_once(now))

    async with anyio.create_task_group() as group:
        for supervisor in pollers:
            group.start_soon(poll, supervisor)
    done = [run.id for batch in finished for run in batch]
    assert sorted(done) == sorted(run.id for run, _ in started)
    replies = await world.messages("assistant")
    assert len(replies) == 5
    assert {(await world.store.get(world.owner, r.id)).result_message_id for r, _ in started} == {
        m.id for m in replies
    }


async def test_a_failed_run_keeps_the_workers_error(world: World) -> None:
    run, _ = await world.runs.start(world.owner, world.chat.id, ask())
    assert run.backend_run_id is not None
    world.backend.advance(run.backend_run_id, RunStatus.FAILED, error="ValueError: bad prompt")
    [done] = await world.supervisor.poll_once(world.clock.advance(1))
    assert (done.status, done.error) == (RunStatus.FAILED, "ValueError: bad prompt")
    assert await world.messages("assistant") == []


async def test_a_cancelled_run_without_a_reason_gets_a_readable_one(world: World) -> None:
    run, _ = await world.runs.start(world.owner, world.chat.id, ask())
    assert run.backend_run_id is not None
    world.backend.advance(run.backend_run_id, RunStatus.CANCELLED)
    [done] = await world.supervisor.poll_once(world.clock.advance(1))
    assert done.status is RunStatus.CANCELLED and done.error and "cancelled" in done.error


async def test_a_run_past_its_deadline_is_cancelled_and_timed_out(world: World) -> None:
    request = ask(metadata_json={"status_timeout_seconds": 30})
    run, _ = await world.runs.start(world.owner, world.chat.id, request)
    assert run.backend_run_id is not None
    assert await world.supervisor.poll_once(world.clock.advance(29)) == []
    [done] = await world.supervisor.poll_once(world.clock.advance(1))
    assert (done.status, done.error) == (RunStatus.TIMED_OUT, TIMED_OUT)
    assert (await world.backend.status(run.backend_run_id)).status is RunStatus.CANCELLED
    assert await world.messages("assistant") == []


async def test_an_expired_result_fails_the_run_clearly(world: World) -> None:
    run, _ = await world.runs.start(world.owner, world.chat.id, ask())
    assert run.backend_run_id is not None
    world.backend.expire(run.backend_run_id)
    [done] = await world.supervisor.poll_once(world.clock.advance(1))
    assert (done.status, done.error) == (RunStatus.FAILED, LOST)


class FlakyBackend(MemoryInferenceBackend):
    def __init__(self) -> None:
        super().__init__(hold=True)
        self.down = False
        self.polls: list[str] = []

    async def status(self, run_id: str) -> RunState:
        self.polls.append(run_id)
        if self.down:
            raise Unavailable("the backend is down")
        return await super().status(run_id)


async def test_an_unavailable_backend_leaves_the_run_for_later(world: World) -> None:
    backend = FlakyBackend()
    runs, supervisor = world.pair(backend)
    run, _ = await runs.start(world.owner, world.chat.id, ask())
    assert run.backend_run_id is not None
    backend.down = True
    assert await supervisor.poll_once(world.clock.advance(1)) == []
    assert (await world.store.get(world.owner, run.id)).status is RunStatus.QUEUED
    backend.down = False
    backend.advance(run.backend_run_id, RunStatus.COMPLETED, "ok")
    [done] = await supervisor.poll_once(world.clock.advance(10))
    assert done.status is RunStatus.COMPLETED


async def test_a_run_is_not_polled_before_it_is_due(world: World) -> None:
    backend = FlakyBackend()
    runs, supervisor = world.pair(backend)
    await runs.start(world.owner, world.chat.id, ask())
    expected_waits = [*POLL_DELAYS, POLL_DELAYS[-1], POLL_DELAYS[-1]]
    for wait in expected_waits:
        before = len(backend.polls)
        await supervisor.poll_once(world.clock.advance(wait - 0.01))
        assert len(backend.polls) == before, "polled early"
        due = supervisor.next_due()
        assert due is not None and due == world.clock.now + timedelta(seconds=0.01)
        await supervisor.poll_once(world.clock.advance(0.01))
        assert len(backend.polls) == before + 1
    assert max(POLL_DELAYS) <= 5


async def test_a_new_instance_resumes_the_runs_another_started(world: World) -> None:
    started = [await world.runs.start(world.owner, world.chat.id, ask()) for _ in range(3)]
    # the first process is gone; its runs move on meanwhile
    for run, _ in started[:2]:
        assert run.backend_run_id is not None
        world.backend.advance(run.backend_run_id, RunStatus.COMPLETED, "done")
    resumed = world.another()
    assert resumed.next_due() is None
    assert await resumed.poll_once(world.clock.advance(29)) == []  # still the first's
    assert resumed.held == frozenset()
    # once the first's leases lapse (30 s), due at once: this instance never saw them
    finished = await resumed.poll_once(world.clock.advance(1.1))
    assert sorted(r.id for r in finished) == sorted(r.id for r, _ in started[:2])
    last = started[2][0]
    assert last.backend_run_id is not None
    world.backend.advance(last.backend_run_id, RunStatus.COMPLETED, "late")
    [done] = await resumed.poll_once(world.clock.advance(1))
    assert done.id == last.id
    assert len(await world.messages("assistant")) == 3
    assert len(world.backend.submitted) == 3  # nothing submitted again


async def test_a_run_whose_chat_is_deleted_is_dropped_quietly(world: World) -> None:
    await world.runs.start(world.owner, world.chat.id, ask())
    await world.repo.delete(Chat, world.chat.id, world.owner)
    assert await world.supervisor.poll_once(world.clock.advance(1)) == []
    # dropped at the next renewal of its lease (a third of one), with no error
    assert await world.supervisor.poll_once(world.clock.advance(10)) == []
    assert world.supervisor.held == frozenset() and world.supervisor.next_due() is None


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["completed", "failed", "expire", "wait"]), max_size=8))
async def test_every_run_ends_once_whatever_the_backend_does(steps: list[str]) -> None:
    world = await make_world(max_runs_per_user=10)
    started = [await world.runs.start(world.owner, world.chat.id, ask()) for _ in steps]
    for (run, _), step in zip(started, steps, strict=True):
        assert run.backend_run_id is not None
        if step == "completed":
            world.backend.advance(run.backend_run_id, RunStatus.COMPLETED, "out")
        elif step == "failed":
            world.backend.advance(run.backend_run_id, RunStatus.FAILED, error="boom")
        elif step == "expire":
            world.backend.expire(run.backend_run_id)
    finished = await world.supervisor.poll_once(world.clock.advance(1))
    finished += await world.another().poll_once(world.clock.advance(7200))
    assert sorted(r.id for r in finished) == sorted(r.id for r, _ in started)
    assert len(await world.messages("assistant")) == steps.count("completed")
    assert await world.store.list_unfinished() == []


def test_in_process_run_ids_never_repeat_across_restarts() -> None:
    from forge_adapters.local_runs import LocalRuns

    before, after = LocalRuns("tpl"), LocalRuns("tpl")  # one process, then the next
    assert before.new().run_id != after.new().run_id


# -- hand-off to the 3D pipeline ------------------------------------------------------


class RecordingPipeline:
    """The pipeline's ``submit_scad``, noting what it was given."""

    def __init__(self) -> None:
        self.submitted: list[tuple[UUID, UUID, str, Any, str | None, UUID | None]] = []

    async def submit_scad(
        self,
        owner: UUID,
        chat_id: UUID,
        scad_code: str,
        requirements_json: Any = None,
        *,
        prompt: str | None = None,
        run_id: UUID | None = None,
    ) -> None:
        self.submitted.append((owner, chat_id, scad_code, requirements_json, prompt, run_id))


@pytest.mark.parametrize(
    ("action", "output", "handed"),
    [
        ("generate_scad", {"scad_code": "cube(4);", "requirements_json": {"a": 1}}, "cube(4);"),
        ("process_scad", "Here:\n```scad\nsphere(2);\n```", "sphere(2);\n"),
        ("generate_scad", "I cannot draw that.", None),
        ("process_requirements", {"scad_code": "cube(4);"}, None),
    ],
)
async def test_a_completed_generate_scad_run_hands_its_scad_to_the_pipeline(
    action: str, output: Any, handed: str | None
) -> None:
    pipeline = RecordingPipeline()
    world = await make_world(pipeline=pipeline)
    wanted = {"model_type": "drone"}
    run, _ = await world.runs.start(
        world.owner, world.chat.id, ask(action, "Generate SCAD", requirements_json=wanted)
    )
    assert run.backend_run_id is not None
    world.backend.advance(run.backend_run_id, RunStatus.COMPLETED, output)
    await world.supervisor.poll_once(world.clock.advance(1))
    # a 2nd replica, once the first one's leases lapse: the run ended once, handed once
    await world.another(pipeline=pipeline).poll_once(world.clock.advance(60))
    expected = [(world.owner, world.chat.id, handed, wanted, "Generate SCAD", run.id)]
    assert pipeline.submitted == (expected if handed else [])


async def test_a_failed_generate_scad_run_hands_nothing() -> None:
    pipeline = RecordingPipeline()
    world = await make_world(pipeline=pipeline)
    run, _ = await world.runs.start(world.owner, world.chat.id, ask("generate_scad"))
    assert run.backend_run_id is not None
    world.backend.advance(run.backend_run_id, RunStatus.FAILED, {"scad_code": "cube(1);"}, "x")
    await world.supervisor.poll_once(world.clock.advance(1))
    assert pipeline.submitted == []
