"""The InferenceBackend contract: one abstract class, one subclass per adapter.

A subclass provides ``backend`` (a fresh backend whose runs finish on their own) and may
provide ``slow_backend`` (one whose runs stay unfinished for a while) for cancellation.
"""

from __future__ import annotations

import time

import anyio
import pytest

from forge_core.errors import NotFound
from forge_core.inference import (
    BackendHealth,
    InferenceBackend,
    JobInput,
    RunState,
    RunStatus,
    output_to_message,
)

REQUIREMENTS = JobInput.create(
    "process_requirements",
    "Design a small quadcopter frame, 160 mm motor-to-motor, 3 mm thick arms",
    [{"role": "user", "content": "I need a lightweight drone"}],
)
SCAD = JobInput.create(
    "process_scad",
    "Generate SCAD",
    requirements_json={"model_type": "drone", "custom_description": "160 mm motor-to-motor"},
)


async def finish(backend: InferenceBackend, run_id: str, within: float = 10) -> RunState:
    """Poll until the run finishes."""
    deadline = time.monotonic() + within
    while True:
        state = await backend.status(run_id)
        if state.status.finished or time.monotonic() > deadline:
            return state
        await anyio.sleep(0.02)


class InferenceContract:
    @pytest.fixture
    def slow_backend(self) -> InferenceBackend:
        pytest.skip("this backend's runs finish at once")

    async def test_submitted_run_completes_with_a_message(self, backend: InferenceBackend) -> None:
        submitted = await backend.submit(REQUIREMENTS)
        assert submitted.run_id
        assert isinstance(submitted.status, RunStatus)
        done = await finish(backend, submitted.run_id)
        assert done.run_id == submitted.run_id
        assert done.status is RunStatus.COMPLETED, done.error
        assert done.error is None
        assert output_to_message(done.output).content.strip()

    async def test_run_and_wait_answers_the_finished_run(self, backend: InferenceBackend) -> None:
        state = await backend.run(SCAD, wait=10)
        assert state.status is RunStatus.COMPLETED, state.error
        assert output_to_message(state.output).content.strip()
        assert await backend.status(state.run_id) == state

    async def test_the_health_action_runs(self, backend: InferenceBackend) -> None:
        state = await backend.run(JobInput.create("health"), wait=10)
        assert state.status is RunStatus.COMPLETED, state.error

    async def test_unknown_run_is_not_found(self, backend: InferenceBackend) -> None:
        with pytest.raises(NotFound):
            await backend.status("no-such-run")
        with pytest.raises(NotFound):
            await backend.cancel("no-such-run")

    async def test_cancelling_a_finished_run_changes_nothing(
        self, backend: InferenceBackend
    ) -> None:
        state = await backend.run(REQUIREMENTS, wait=10)
        assert state.status is RunStatus.COMPLETED
        assert (await backend.cancel(state.run_id)).status is RunStatus.COMPLETED
        assert (await backend.status(state.run_id)).status is RunStatus.COMPLETED

    async def test_health_report(self, backend: InferenceBackend) -> None:
        health = await backend.health()
        assert isinstance(health, BackendHealth)
        assert health.healthy
        assert health.backend

    async def test_short_wait_answers_an_unfinished_run(
        self, slow_backend: InferenceBackend
    ) -> None:
        state = await slow_backend.run(REQUIREMENTS, wait=0.05)
        assert state.status in (RunStatus.QUEUED, RunStatus.IN_PROGRESS)

    async def test_cancel_stops_an_unfinished_run(self, slow_backend: InferenceBackend) -> None:
        submitted = await slow_backend.submit(REQUIREMENTS)
        assert not submitted.status.finished
        assert (await slow_backend.cancel(submitted.run_id)).status is RunStatus.CANCELLED
        await anyio.sleep(0.1)
        assert (await slow_backend.status(submitted.run_id)).status is RunStatus.CANCELLED
