"""The OpenAI-compatible backend against a fake server: what it sends, what it makes of
the replies, and how a failing server ends a run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from forge_adapters.json_api import RetryPolicy
from forge_adapters.openai_backend import (
    OpenAIBackend,
    OpenAIConfig,
    code_of,
    json_object_in,
    prompt,
)
from forge_core.errors import NotFound
from forge_core.inference import Action, JobInput, RunPolicy, RunStatus, output_to_message
from tests.contract.inference import REQUIREMENTS, SCAD, finish
from tests.fakes.openai import FakeOpenAI

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI().running() as server:
        yield server


def backend_for(
    client: httpx.AsyncClient, fake: FakeOpenAI, api_key: str | None = None
) -> OpenAIBackend:
    retry = RetryPolicy(timeout=5, max_retries=2, backoff=0.01)
    config = OpenAIConfig(fake.base_url, fake.model, api_key or fake.api_key, retry=retry)
    return OpenAIBackend(client, config)


async def test_requirements_request_and_reply(
    http_client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    backend = backend_for(http_client, fake)
    state = await backend.run(REQUIREMENTS, wait=5)
    assert state.status is RunStatus.COMPLETED, state.error
    sent = fake.requests[0]
    assert sent["model"] == "fake-model"
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "user"]
    assert sent["messages"][0]["content"] == prompt(Action.PROCESS_REQUIREMENTS)
    assert sent["messages"][1]["content"] == "I need a lightweight drone"
    assert sent["messages"][2]["content"] == REQUIREMENTS.prompt
    message = output_to_message(state.output)
    assert message.metadata_json == {
        "requirements_json": {"model_type": "drone", "primary_function": "A small quadcopter frame"}
    }


async def test_scad_request_carries_the_requirements_and_answers_the_code(
    http_client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    state = await backend_for(http_client, fake).run(SCAD, wait=5)
    assert '"model_type": "drone"' in fake.requests[0]["messages"][-1]["content"]
    assert fake.requests[0]["messages"][0]["content"] == prompt(Action.GENERATE_SCAD)
    assert output_to_message(state.output).content == "size = 10;  // mm\ncube(size);\n"


async def test_a_failing_server_fails_the_run_with_its_reason(
    http_client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    fake.fail_next(500, times=3)
    state = await backend_for(http_client, fake).run(REQUIREMENTS, wait=5)
    assert (state.status, state.error) == (
        RunStatus.FAILED,
        "the OpenAI-compatible server failed to answer (500)",
    )
    assert len(fake.requests) == 3


async def test_a_wrong_key_or_model_is_a_clear_failure(
    http_client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    wrong_key = backend_for(http_client, fake, api_key="nope")
    state = await wrong_key.run(REQUIREMENTS, wait=5)
    assert (
        state.error
        == "the OpenAI-compatible server refused the API key (401); check FORGE_OPENAI_API_KEY"
    )
    other_model = OpenAIBackend(http_client, OpenAIConfig(fake.base_url, "other", fake.api_key))
    state = await other_model.run(REQUIREMENTS, wait=5)
    assert state.status is RunStatus.FAILED and "model 'other' not found" in (state.error or "")


async def test_a_run_past_its_execution_timeout_is_timed_out(
    http_client: httpx.AsyncClient,
) -> None:
    with FakeOpenAI(delay=1).running() as slow:
        backend = backend_for(http_client, slow)
        state = await backend.submit(REQUIREMENTS, RunPolicy(execution_timeout=0.1))
        done = await finish(backend, state.run_id)
        await backend.aclose()
    assert (done.status, done.error) == (RunStatus.TIMED_OUT, "timed out after 0.1 s")


async def test_health_lists_the_models(http_client: httpx.AsyncClient, fake: FakeOpenAI) -> None:
    health = await backend_for(http_client, fake).health()
    assert health.details == {"model": "fake-model", "models": ["fake-model"]}
    state = await backend_for(http_client, fake).run(JobInput.create("health"), wait=5)
    assert state.output["status"] == "healthy"


def test_prompts_ship_with_the_package() -> None:
    assert "JSON object" in prompt(Action.PROCESS_REQUIREMENTS)
    assert "OpenSCAD" in prompt(Action.GENERATE_SCAD)


@pytest.mark.parametrize(
    ("reply", "found"),
    [
        ('```json\n{"a": 1}\n```', {"a": 1}),
        ('Sure! {"a": {"b": 2}} hope it helps', {"a": {"b": 2}}),
        ("no json here", None),
        ("{broken", None),
        ("[1, 2]", None),
    ],
)
def test_json_object_in(reply: str, found: object) -> None:
    assert json_object_in(reply) == found


def test_code_of() -> None:
    assert code_of("text\n```openscad\ncube(1);\n```\nmore") == "cube(1);\n"
    assert code_of("cube(2);") == "cube(2);\n"


async def test_an_evicted_run_stays_forgotten_when_its_call_ends(
    http_client: httpx.AsyncClient,
) -> None:
    with FakeOpenAI(delay=0.2).running() as slow:
        config = OpenAIConfig(slow.base_url, slow.model, slow.api_key)
        backend = OpenAIBackend(http_client, config, keep=1)
        first = await backend.submit(REQUIREMENTS)
        second = await backend.run(REQUIREMENTS, wait=5)
        assert second.status is RunStatus.COMPLETED
        await backend.aclose()
    with pytest.raises(NotFound):
        await backend.status(first.run_id)


async def test_the_retrieved_parts_are_in_the_request(
    http_client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    parts = {"components": [{"id": "motor-2306", "hole_patterns": [{"hole_diameter": 3.2}]}]}
    await backend_for(http_client, fake).run(replace(REQUIREMENTS, context=parts), wait=5)
    request = fake.requests[0]["messages"][-1]["content"]
    assert "Standard parts to fit" in request and '"motor-2306"' in request
