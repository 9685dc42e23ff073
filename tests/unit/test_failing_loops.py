"""Background loops on a failing dependency back off (doubling, up to a minute) and log
one line when they start failing and one when they work again: no traceback per step."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from forge_adapters.memory import MemoryObjectStore, MemoryRepository, memory_job_leases
from forge_adapters.openscad import OpenSCADRenderer
from forge_core.entities import Job
from forge_core.errors import Unavailable
from forge_core.failure_streak import MAX_BACKOFF, FailureStreak
from forge_core.services.job_runner import JobRunner
from forge_core.services.job_worker import JobWorker
from forge_core.services.run_supervisor import RunSupervisor
from forge_http.supervisor import heartbeat, supervise
from tests.fakes.mesh import FakeMeshKit

pytestmark = pytest.mark.anyio


class Enough(BaseException):
    """Ends a loop under test (not an Exception, which the loops outlive)."""


class Script:
    """What each call does, in order: None succeeds, an exception is raised."""

    def __init__(self, steps: list[Exception | None]) -> None:
        self.steps = list(steps)

    def next(self) -> None:
        if not self.steps:
            raise Enough
        step = self.steps.pop(0)
        if step is not None:
            raise step


class FlakySupervisor:
    """Just what the loops call on a RunSupervisor, failing as the script says."""

    def __init__(self, script: Script) -> None:
        self.script = script

    async def poll_once(self) -> list[Any]:
        self.script.next()
        return []

    async def heartbeat(self) -> None:
        self.script.next()

    def next_due(self) -> datetime | None:
        return None

    def clock(self) -> datetime:
        return datetime.now(UTC)


class Waits:
    """A sleep that records how long it was asked to wait, and does not."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


DOWN = Unavailable("the database cannot answer now")


def test_a_streak_doubles_its_waits_up_to_a_minute_and_starts_over() -> None:
    streak = FailureStreak(first=1.0)
    assert [streak.failed() for _ in range(9)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert streak.succeeded() == 9 and streak.succeeded() == 0
    assert streak.failed() == 1 and streak.started
    assert MAX_BACKOFF == 60


async def test_the_supervisor_backs_off_and_logs_each_change_of_state_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    script = Script([DOWN] * 8 + [None, None, RuntimeError("a bug"), RuntimeError("a bug")])
    waits = Waits()
    with caplog.at_level(logging.INFO, "forge.supervisor"), pytest.raises(Enough):
        await supervise(cast(RunSupervisor, FlakySupervisor(script)), sleep=waits)
    assert waits.seconds[:8] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert waits.seconds[10:] == [1, 2]  # a new streak starts from the first wait again
    lines = [(r.levelname, r.getMessage(), r.exc_info) for r in caplog.records]
    assert [(level, message) for level, message, _ in lines] == [
        ("ERROR", "run supervisor: a step failed (the database cannot answer now); "
                  "retrying, backing off up to 60s"),
        ("WARNING", "run supervisor: steps work again after 8 failed tries"),
        ("ERROR", "run supervisor: a step failed (RuntimeError: a bug); "
                  "retrying, backing off up to 60s"),
    ]  # fmt: skip
    assert lines[0][2] is None  # a dependency away: no traceback
    assert lines[2][2] is not None  # a bug: its traceback, once


async def test_lease_renewals_back_off_the_same_way(caplog: pytest.LogCaptureFixture) -> None:
    script = Script([DOWN] * 3 + [None])
    waits = Waits()
    with caplog.at_level(logging.INFO, "forge.supervisor"), pytest.raises(Enough):
        await heartbeat(cast(RunSupervisor, FlakySupervisor(script)), sleep=waits)
    assert waits.seconds == [1, 1, 2, 4, 1]  # the beat, three backoffs, the beat again
    assert [r.levelname for r in caplog.records] == ["ERROR", "WARNING"]


class FlakyLeases:
    """Job leases whose claims fail while ``down``; everything else is the memory one's."""

    def __init__(self, repo: MemoryRepository) -> None:
        self.inner = memory_job_leases(repo)
        self.down = True
        self.claims = 0

    async def claim(self, *args: Any) -> list[Job]:
        self.claims += 1
        if self.down:
            raise DOWN
        return await self.inner.claim(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_a_pipeline_worker_backs_off_while_claims_fail(
    caplog: pytest.LogCaptureFixture,
) -> None:
    repo = MemoryRepository()
    leases = FlakyLeases(repo)
    runner = JobRunner(repo, OpenSCADRenderer(), FakeMeshKit(("stl",)), MemoryObjectStore())
    pipeline = JobWorker(runner, repo, cast(Any, leases), scan_interval=0.01)
    with caplog.at_level(logging.INFO, "forge.pipeline"):
        worker = asyncio.create_task(pipeline.work())
        await asyncio.sleep(0.5)  # waits 0.01, 0.02, 0.04, ...: about 6 claims, not 50
        failed_claims = leases.claims
        leases.down = False
        for _ in range(200):  # until the current backoff ends and a claim works
            if len(caplog.records) > 1:
                break
            await asyncio.sleep(0.05)
        pipeline.stop()
        await asyncio.wait_for(worker, 5)
    assert 1 <= failed_claims <= 12, failed_claims  # a scan every 0.01 s made about 50
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == (
        "pipeline: claiming jobs failed (the database cannot answer now); "
        "retrying, backing off up to 60s"
    )
    assert messages[1].startswith("pipeline: claiming jobs works again after ")
    assert len(messages) == 2, messages
