"""The repair loop with real backend adapters against their faithful fakes (the RunPod
endpoint and an OpenAI-compatible server, both real local HTTP servers): SCAD that fails
to render, or fails a hard QA check, goes back to the backend with the failing SCAD and
the error; the repaired SCAD is rendered; a backend that never fixes it leaves a clear
job failure after FORGE_REPAIR_ATTEMPTS tries."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest

from forge_adapters.json_api import RetryPolicy
from forge_adapters.openai_backend import OpenAIBackend, OpenAIConfig
from forge_adapters.openscad import OpenSCADRenderer
from forge_adapters.runpod import RunPodBackend, RunPodConfig
from forge_core.entities import Job, JobStatus, Message
from forge_core.inference import InferenceBackend
from forge_core.services import JobRunner, Repairs
from tests.fakes.mesh import FakeMeshKit
from tests.fakes.openai import FakeOpenAI
from tests.fakes.runpod import FakeRunPod
from tests.unit.test_pipeline import EVERY_FORMAT, OWNER, World, make_world

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(shutil.which("openscad") is None, reason="openscad is not installed"),
]

BROKEN = "size = 10;\ncube(size;\n"  # line 2: a syntax error
TOO_BIG = "size = 300;\ncube(size);\n"  # renders, fails the 256 mm build volume (hard QA)
FIXED = "size = 10;\ncube(size);\n"


@pytest.fixture
def runpod() -> Iterator[FakeRunPod]:
    with FakeRunPod(queue_delay=0.2).running() as fake:  # queued at first: the loop polls
        yield fake


def runpod_backend(client: httpx.AsyncClient, fake: FakeRunPod) -> RunPodBackend:
    retry = RetryPolicy(timeout=5, max_retries=2, backoff=0.01)
    return RunPodBackend(client, RunPodConfig(fake.api_key, fake.endpoint_id, fake.base_url, retry))


def openai_backend(client: httpx.AsyncClient, fake: FakeOpenAI) -> OpenAIBackend:
    retry = RetryPolicy(timeout=5, max_retries=2, backoff=0.01)
    return OpenAIBackend(client, OpenAIConfig(fake.base_url, fake.model, fake.api_key, retry=retry))


async def run_repaired(world: World, backend: InferenceBackend, scad: str) -> Job:
    repairs = Repairs(backend, world.repo, attempts=2, poll=0.05)
    runner = JobRunner(world.repo, OpenSCADRenderer(), FakeMeshKit(EVERY_FORMAT), world.store,
                       world.events, repairs=repairs)  # fmt: skip
    job = await world.jobs.submit_scad(OWNER, world.chat_id, scad, run_id=uuid4())
    ended = await runner.run(OWNER, job.id)
    assert ended is not None
    return ended


async def repair_events(world: World) -> list[dict[str, Any]]:
    return [data for kind, data in await world.chat_events() if kind == "job.repair"]


async def chat_texts(world: World) -> list[str]:
    return [
        m.content for m in await world.repo.list(Message, OWNER, where={"chat_id": world.chat_id})
    ]


async def test_runpod_broken_then_fixed(http_client: httpx.AsyncClient, runpod: FakeRunPod) -> None:
    runpod.worker = lambda job: {"scad_code": FIXED if "repair" in job else BROKEN}
    world = await make_world()
    ended = await run_repaired(world, runpod_backend(http_client, runpod), BROKEN)

    assert ended.status is JobStatus.SUCCEEDED, ended.error
    assert ended.spec is not None and ended.spec["scad_code"] == FIXED
    [attempt] = ended.repair_attempts or []
    assert (attempt["attempt"], attempt["stage"], attempt["scad"]) == (1, "render", BROKEN)
    assert attempt["reason"].startswith("scad: line 2: ") and attempt["outcome"] == "repaired"
    [sent] = [job.input for job in runpod.jobs.values()]
    assert sent["action"] == "generate_scad" and sent["repair"]["scad"] == BROKEN
    assert sent["repair"]["error"].startswith("render failed: scad: line 2: ")
    assert [(e["attempt"], e["stage"]) for e in await repair_events(world)] == [(1, "render")]
    assert any("attempt 1 of 2" in text for text in await chat_texts(world))


async def test_runpod_never_fixed_is_a_clear_failure(
    http_client: httpx.AsyncClient, runpod: FakeRunPod
) -> None:
    answers = iter(range(1, 10))  # broken each time, in another way
    runpod.worker = lambda job: {"scad_code": f"// answer {next(answers)}\n{BROKEN}"}
    world = await make_world()
    ended = await run_repaired(world, runpod_backend(http_client, runpod), BROKEN)

    assert ended.status is JobStatus.FAILED
    assert ended.error is not None and ended.error.startswith("render failed: scad: line 3: ")
    assert ended.error.endswith("(after 2 repair attempt(s))")
    assert [a["attempt"] for a in ended.repair_attempts or []] == [1, 2]
    assert len(runpod.jobs) == 2  # asked twice, then no more
    assert [e["attempt"] for e in await repair_events(world)] == [1, 2]
    kinds = [kind for kind, _ in await world.chat_events()]
    assert kinds[-1] == "job.failed"


async def test_openai_repairs_a_model_that_fails_hard_qa(http_client: httpx.AsyncClient) -> None:
    def reply(messages: list[dict[str, Any]]) -> str:
        asked = messages[-1]["content"]
        if "Repair: this OpenSCAD failed." in asked:
            assert TOO_BIG.strip() in asked and "build volume" in asked  # the QA reasons
            return f"```openscad\n{FIXED}```"
        return f"```openscad\n{TOO_BIG}```"

    with FakeOpenAI(reply=reply).running() as fake:
        world = await make_world()
        ended = await run_repaired(world, openai_backend(http_client, fake), TOO_BIG)
        assert len(fake.requests) == 1

    assert ended.status is JobStatus.SUCCEEDED, ended.error
    [attempt] = ended.repair_attempts or []
    assert attempt["stage"] == "qa" and "build volume" in attempt["reason"]
    system = fake.requests[0]["messages"][0]["content"]
    assert "Repair: this OpenSCAD failed." in system  # the prompt says what to do with it


async def test_openai_never_fixed_and_a_client_job_is_never_repaired(
    http_client: httpx.AsyncClient,
) -> None:
    answers = iter(range(1, 10))

    def reply(messages: list[dict[str, Any]]) -> str:
        return f"```openscad\n// answer {next(answers)}\n{BROKEN}```"  # broken anew

    with FakeOpenAI(reply=reply).running() as fake:
        world = await make_world()
        ended = await run_repaired(world, openai_backend(http_client, fake), BROKEN)
        assert ended.status is JobStatus.FAILED and len(fake.requests) == 2
        assert (ended.error or "").endswith("(after 2 repair attempt(s))")

        repairs = Repairs(openai_backend(http_client, fake), world.repo, attempts=2)
        runner = JobRunner(world.repo, OpenSCADRenderer(), FakeMeshKit(EVERY_FORMAT),
                           world.store, world.events, repairs=repairs)  # fmt: skip
        own = await world.jobs.submit_scad(OWNER, world.chat_id, BROKEN)  # no run: a client's
        done = await runner.run(OWNER, own.id)
        assert done is not None and done.status is JobStatus.FAILED
        assert done.repair_attempts is None and len(fake.requests) == 2  # no call made


async def test_a_backend_that_cannot_answer_ends_the_loop_with_a_clear_failure(
    http_client: httpx.AsyncClient,
) -> None:
    with FakeOpenAI().running() as fake:
        fake.fail_next(500, times=20)  # every retry of the repair's one call fails
        world = await make_world()
        ended = await run_repaired(world, openai_backend(http_client, fake), BROKEN)

    assert ended.status is JobStatus.FAILED
    assert (ended.error or "").startswith("render failed: scad: line 2: ")
    assert (ended.error or "").endswith("(after 1 repair attempt(s))")
    [attempt] = ended.repair_attempts or []
    assert attempt["outcome"].startswith("no repair: the backend")
    assert any(
        text.startswith("Repair 1 of 2 failed: the backend") for text in await chat_texts(world)
    )


async def test_the_same_scad_answered_again_ends_the_loop_without_rendering_it(
    http_client: httpx.AsyncClient, runpod: FakeRunPod
) -> None:
    runpod.worker = lambda job: {"scad_code": TOO_BIG}  # a deterministic backend's answer
    world = await make_world()
    ended = await run_repaired(world, runpod_backend(http_client, runpod), TOO_BIG)

    assert ended.status is JobStatus.FAILED and len(runpod.jobs) == 1
    assert (ended.error or "").startswith("qa failed: ") and "build volume" in (ended.error or "")
    [attempt] = ended.repair_attempts or []
    assert attempt["outcome"] == "no repair: the backend answered the same SCAD again"
    texts = await chat_texts(world)
    assert "Repair 1 of 2 failed: the backend answered the same SCAD again." in texts
    progress = [d["stage"] for kind, d in await world.chat_events() if kind == "job.progress"]
    assert progress.count("render") == 1  # not rendered a second time
