"""Every InferenceBackend adapter passes the same contract."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from forge_adapters.json_api import RetryPolicy
from forge_adapters.memory import MemoryInferenceBackend
from forge_adapters.openai_backend import OpenAIBackend, OpenAIConfig
from forge_adapters.runpod import RunPodBackend, RunPodConfig
from forge_adapters.template_backend import TemplateBackend
from forge_core.errors import NotFound
from forge_core.inference import RunStatus
from tests.contract.inference import REQUIREMENTS, InferenceContract
from tests.fakes.openai import FakeOpenAI
from tests.fakes.runpod import FakeRunPod

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


def runpod(client: httpx.AsyncClient, fake: FakeRunPod) -> RunPodBackend:
    config = RunPodConfig(
        api_key=fake.api_key,
        endpoint_id=fake.endpoint_id,
        base_url=fake.base_url,
        retry=RetryPolicy(timeout=5, backoff=0.01),
    )
    return RunPodBackend(client, config)


class TestRunPodInference(InferenceContract):
    @pytest.fixture
    def backend(self, http_client: httpx.AsyncClient, fake_runpod: FakeRunPod) -> RunPodBackend:
        return runpod(http_client, fake_runpod)

    @pytest.fixture
    def slow_backend(self, http_client: httpx.AsyncClient) -> Iterator[RunPodBackend]:
        with FakeRunPod(queue_delay=0.2, run_delay=5).running() as fake:
            yield runpod(http_client, fake)


def openai(client: httpx.AsyncClient, fake: FakeOpenAI) -> OpenAIBackend:
    retry = RetryPolicy(timeout=5, backoff=0.01)
    return OpenAIBackend(client, OpenAIConfig(fake.base_url, fake.model, fake.api_key, retry=retry))


class TestOpenAIInference(InferenceContract):
    @pytest.fixture
    async def backend(self, http_client: httpx.AsyncClient) -> AsyncIterator[OpenAIBackend]:
        with FakeOpenAI().running() as fake:
            backend = openai(http_client, fake)
            yield backend
            await backend.aclose()

    @pytest.fixture
    async def slow_backend(self, http_client: httpx.AsyncClient) -> AsyncIterator[OpenAIBackend]:
        with FakeOpenAI(delay=1).running() as fake:
            backend = openai(http_client, fake)
            yield backend
            await backend.aclose()
