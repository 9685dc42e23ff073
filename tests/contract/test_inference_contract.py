"""Every InferenceBackend adapter passes the same contract."""

from __future__ import annotations

import pytest

from forge_adapters.memory import MemoryInferenceBackend
from forge_adapters.template_backend import TemplateBackend
from forge_core.errors import NotFound
from forge_core.inference import RunStatus
from tests.contract.inference import REQUIREMENTS, InferenceContract

pytestmark = pytest.mark.anyio


class TestMemoryInference(InferenceContract):
    @pytest.fixture
    def backend(self) -> MemoryInferenceBackend:
        return MemoryInferenceBackend()

    @pytest.fixture
    def slow_backend(self) -> MemoryInferenceBackend:
        return MemoryInferenceBackend(hold=True)


async def test_memory_backend_is_steered_by_the_test() -> None:
    backend = MemoryInferenceBackend(hold=True, keep=2)
    first = await backend.submit(REQUIREMENTS)
    assert first.status is RunStatus.QUEUED
    backend.advance(first.run_id, RunStatus.IN_PROGRESS)
    assert (await backend.status(first.run_id)).status is RunStatus.IN_PROGRESS
    backend.advance(first.run_id, RunStatus.FAILED, error="boom")
    failed = await backend.status(first.run_id)
    assert (failed.status, failed.error) == (RunStatus.FAILED, "boom")
    backend.advance(first.run_id, RunStatus.COMPLETED)  # a finished run changes no more
    assert (await backend.status(first.run_id)).status is RunStatus.FAILED
    second = await backend.submit(REQUIREMENTS)
    backend.expire(second.run_id)
    with pytest.raises(NotFound):
        await backend.status(second.run_id)
    await backend.submit(REQUIREMENTS)
    await backend.submit(REQUIREMENTS)  # only the newest two are kept
    with pytest.raises(NotFound):
        await backend.status(first.run_id)
    assert backend.submitted == [REQUIREMENTS] * 4


class TestTemplateInference(InferenceContract):
    @pytest.fixture
    def backend(self) -> TemplateBackend:
        return TemplateBackend()
