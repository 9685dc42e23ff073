"""The RunPod adapter against the fake endpoint: the wire format, the status sequence,
worker errors, expired results, and recovery from (or a clear error for) each fault."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from email.utils import format_datetime

import httpx
import pytest

from forge_adapters.json_api import RetryPolicy, retry_after
from forge_adapters.runpod import RunPodBackend, RunPodConfig, readable_error
from forge_core.entities import utc_now
from forge_core.errors import NotFound, RateLimited, Unavailable
from forge_core.inference import RunPolicy, RunStatus
from tests.contract.inference import REQUIREMENTS, finish
from tests.fakes.runpod import FakeRunPod

pytestmark = pytest.mark.anyio


class Sleeps(list[float]):
    """Records the backoff delays instead of waiting them."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def backend_for(
    client: httpx.AsyncClient,
    fake: FakeRunPod,
    sleeps: Sleeps,
    *,
    api_key: str | None = None,
    timeout: float = 2.0,
) -> RunPodBackend:
    retry = RetryPolicy(timeout=timeout, max_retries=3, backoff=0.5, max_delay=10.0)
    config = RunPodConfig(api_key or fake.api_key, fake.endpoint_id, fake.base_url, retry)
    return RunPodBackend(client, config, sleep=sleeps, jitter=lambda: 1.0)


@pytest.fixture
def backend(
    http_client: httpx.AsyncClient, fake_runpod: FakeRunPod, sleeps: Sleeps
) -> RunPodBackend:
    return backend_for(http_client, fake_runpod, sleeps)


async def test_submission_carries_the_job_and_policy(
    backend: RunPodBackend, fake_runpod: FakeRunPod
) -> None:
    state = await backend.submit(REQUIREMENTS, RunPolicy(execution_timeout=600, ttl=3600))
    job = fake_runpod.jobs[state.run_id]
    assert job.input == REQUIREMENTS.to_payload()
    assert job.policy == {"executionTimeout": 600_000, "ttl": 3_600_000}
    assert state.status is RunStatus.QUEUED


class Clock:
    """A clock the test steps by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_run_goes_queued_in_progress_completed(
    http_client: httpx.AsyncClient, sleeps: Sleeps
) -> None:
    clock = Clock()
    with FakeRunPod(queue_delay=10, run_delay=20, clock=clock).running() as fake:
        backend = backend_for(http_client, fake, sleeps)
        run_id = (await backend.submit(REQUIREMENTS)).run_id
        seen = []
        for now in (0, 9.9, 10, 29.9, 30):
            clock.now = now
            seen.append((await backend.status(run_id)).status)
        done = await backend.status(run_id)
    queued, in_progress, completed = RunStatus.QUEUED, RunStatus.IN_PROGRESS, RunStatus.COMPLETED
    assert seen == [queued, queued, in_progress, in_progress, completed]
    assert done.output["content"].startswith("process_requirements: Design")


async def test_runsync_waits_and_answers_an_unfinished_run_when_the_wait_is_over(
    http_client: httpx.AsyncClient, sleeps: Sleeps
) -> None:
    with FakeRunPod(run_delay=1.5).running() as fake:
        backend = backend_for(http_client, fake, sleeps)
        state = await backend.run(REQUIREMENTS, wait=0.2)  # RunPod waits 1 s at least
        assert state.status is RunStatus.IN_PROGRESS
        assert (await finish(backend, state.run_id)).status is RunStatus.COMPLETED


async def test_a_worker_error_becomes_a_readable_message(
    http_client: httpx.AsyncClient, sleeps: Sleeps
) -> None:
    def broken(job: dict[str, object]) -> object:
        raise ValueError("no model type in the requirements")

    with FakeRunPod(worker=broken).running() as fake:
        state = await backend_for(http_client, fake, sleeps).run(REQUIREMENTS, wait=5)
    assert state.status is RunStatus.FAILED
    assert state.error == "ValueError: no model type in the requirements"


async def test_a_run_past_its_execution_timeout_is_timed_out(
    backend: RunPodBackend, fake_runpod: FakeRunPod, http_client: httpx.AsyncClient
) -> None:
    fake_runpod.run_delay = 5
    answer = await http_client.post(
        f"{fake_runpod.base_url}/{fake_runpod.endpoint_id}/run",
        json={"input": REQUIREMENTS.to_payload(), "policy": {"executionTimeout": 50}},
        headers={"Authorization": f"Bearer {fake_runpod.api_key}"},
    )
    state = await finish(backend, answer.json()["id"])
    assert (state.status, state.error) == (RunStatus.TIMED_OUT, "timed out on RunPod")


async def test_an_expired_result_is_not_found(
    http_client: httpx.AsyncClient, sleeps: Sleeps
) -> None:
    clock = Clock()
    with FakeRunPod(run_delay=5, result_ttl=1800, clock=clock).running() as fake:
        backend = backend_for(http_client, fake, sleeps)
        state = await backend.submit(REQUIREMENTS)
        clock.now = 1805
        assert (await backend.status(state.run_id)).status is RunStatus.COMPLETED
        clock.now = 1805.1
        with pytest.raises(NotFound):
            await backend.status(state.run_id)


async def test_a_429_is_retried_after_its_retry_after(
    backend: RunPodBackend, fake_runpod: FakeRunPod, sleeps: Sleeps
) -> None:
    fake_runpod.inject("status", status=429, retry_after="3", route="run")
    state = await backend.submit(REQUIREMENTS)
    assert state.status is RunStatus.QUEUED
    assert fake_runpod.count("run") == 2
    assert sleeps == [3.0]


async def test_5xx_is_retried_with_exponential_backoff(
    backend: RunPodBackend, fake_runpod: FakeRunPod, sleeps: Sleeps
) -> None:
    fake_runpod.inject("status", status=503, times=3, route="health")
    assert (await backend.health()).healthy
    assert sleeps == [0.5, 1.0, 2.0]


async def test_jitter_spreads_the_backoff(
    http_client: httpx.AsyncClient, fake_runpod: FakeRunPod
) -> None:
    sleeps = Sleeps()
    retry = RetryPolicy(backoff=1)
    config = RunPodConfig(fake_runpod.api_key, fake_runpod.endpoint_id, fake_runpod.base_url, retry)
    backend = RunPodBackend(http_client, config, sleep=sleeps, jitter=lambda: 0.0)
    fake_runpod.inject("status", status=502, times=2)
    await backend.health()
    assert sleeps == [0.5, 1.0]  # half of each step is random


async def test_persistent_429_is_rate_limited(
    backend: RunPodBackend, fake_runpod: FakeRunPod, sleeps: Sleeps
) -> None:
    fake_runpod.inject("status", status=429, retry_after="2", times=10)
    with pytest.raises(RateLimited) as caught:
        await backend.submit(REQUIREMENTS)
    assert caught.value.retry_after == 2
    assert fake_runpod.count("run") == 4  # the first try and three retries
    assert not isinstance(caught.value.__cause__, httpx.HTTPError)


async def test_a_retry_after_beyond_the_longest_delay_gives_up_at_once(
    backend: RunPodBackend, fake_runpod: FakeRunPod, sleeps: Sleeps
) -> None:
    fake_runpod.inject("status", status=429, retry_after="120")
    with pytest.raises(RateLimited) as caught:
        await backend.status("some-run")
    assert caught.value.retry_after == 120
    assert (fake_runpod.count("status"), sleeps) == (1, [])


async def test_persistent_5xx_is_unavailable(
    backend: RunPodBackend, fake_runpod: FakeRunPod, sleeps: Sleeps
) -> None:
    fake_runpod.inject("status", status=500, times=10)
    with pytest.raises(Unavailable, match=r"RunPod failed to answer \(500\)"):
        await backend.health()
    assert len(sleeps) == 3


async def test_a_slow_status_times_out_and_is_retried(
    http_client: httpx.AsyncClient, fake_runpod: FakeRunPod, sleeps: Sleeps
) -> None:
    backend = backend_for(http_client, fake_runpod, sleeps, timeout=0.2)
    run_id = (await backend.submit(REQUIREMENTS)).run_id
    fake_runpod.inject("slow", seconds=0.5, route="status")
    assert (await backend.status(run_id)).status is RunStatus.COMPLETED
    assert fake_runpod.count("status") == 2


async def test_a_slow_submission_is_not_sent_twice(
    http_client: httpx.AsyncClient, fake_runpod: FakeRunPod, sleeps: Sleeps
) -> None:
    backend = backend_for(http_client, fake_runpod, sleeps, timeout=0.2)
    fake_runpod.inject("slow", seconds=0.5, route="run")
    with pytest.raises(Unavailable, match=r"did not answer /run within 0.2 s") as caught:
        await backend.submit(REQUIREMENTS)
    assert isinstance(caught.value.__cause__, httpx.TimeoutException)
    assert fake_runpod.count("run") == 1


async def test_a_dropped_connection_is_retried_where_harmless(
    backend: RunPodBackend, fake_runpod: FakeRunPod
) -> None:
    run_id = (await backend.submit(REQUIREMENTS)).run_id
    fake_runpod.inject("drop", route="status")
    assert (await backend.status(run_id)).status is RunStatus.COMPLETED
    fake_runpod.inject("drop", route="run")
    with pytest.raises(Unavailable, match="cannot be reached for /run"):
        await backend.submit(REQUIREMENTS)


async def test_a_malformed_body_is_unavailable(
    backend: RunPodBackend, fake_runpod: FakeRunPod
) -> None:
    fake_runpod.inject("malformed", route="run")
    with pytest.raises(Unavailable, match="malformed body"):
        await backend.submit(REQUIREMENTS)
    assert fake_runpod.count("run") == 1


async def test_a_wrong_api_key_is_not_retried(
    http_client: httpx.AsyncClient, fake_runpod: FakeRunPod, sleeps: Sleeps
) -> None:
    backend = backend_for(http_client, fake_runpod, sleeps, api_key="wrong")
    with pytest.raises(Unavailable, match="refused the API key"):
        await backend.submit(REQUIREMENTS)
    assert (fake_runpod.count("run"), sleeps) == (1, [])


async def test_an_unreachable_endpoint_is_unavailable(
    http_client: httpx.AsyncClient, sleeps: Sleeps
) -> None:
    with FakeRunPod().running() as fake:
        backend = backend_for(http_client, fake, sleeps)
    with pytest.raises(Unavailable, match="cannot be reached") as caught:
        await backend.submit(REQUIREMENTS)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert len(sleeps) == 3  # nothing was sent, so trying again was harmless


async def test_run_ids_that_are_no_path_segment_name_no_run(
    backend: RunPodBackend, fake_runpod: FakeRunPod
) -> None:
    for bad in ("../health", "..", ".", "a/b", "", "x" * 300):
        with pytest.raises(NotFound):
            await backend.status(bad)
    assert fake_runpod.requests == []


async def test_health_reports_jobs_and_workers(backend: RunPodBackend) -> None:
    await backend.run(REQUIREMENTS, wait=5)
    health = await backend.health()
    assert (health.backend, health.healthy) == ("runpod", True)
    assert health.details["jobs"]["completed"] == 1
    assert "workers" in health.details


def worker_error(kind: str, message: str) -> str:
    return json.dumps({"error_type": kind, "error_message": message, "error_traceback": "..."})


@pytest.mark.parametrize(
    ("raw", "readable"),
    [
        (worker_error("<class 'ValueError'>", "bad"), "ValueError: bad"),
        (worker_error("<class 'torch.cuda.OutOfMemoryError'>", "OOM"), "OutOfMemoryError: OOM"),
        ({"error_message": "only a message"}, "only a message"),
        ("plain words", "plain words"),
        ('"a json string"', '"a json string"'),
        ({"detail": "x"}, '{"detail": "x"}'),
        (None, None),
        ("", None),
    ],
)  # fmt: skip
def test_readable_error(raw: object, readable: str | None) -> None:
    assert readable_error(raw) == readable


def test_retry_after_forms() -> None:
    assert retry_after("5") == 5
    assert retry_after("-3") == 0
    assert retry_after(None) is None
    assert retry_after("soon") is None
    later = retry_after(format_datetime(utc_now() + timedelta(seconds=30), usegmt=True))
    assert later is not None and 25 < later <= 30


async def test_the_retrieved_parts_travel_as_the_inputs_context(
    backend: RunPodBackend, fake_runpod: FakeRunPod
) -> None:
    parts = {"components": [{"id": "fc-stack-20x20", "hole_patterns": [{"spacing": [20, 20]}]}]}
    job = replace(REQUIREMENTS, context=parts)
    state = await backend.submit(job)
    assert fake_runpod.jobs[state.run_id].input["context"] == parts
