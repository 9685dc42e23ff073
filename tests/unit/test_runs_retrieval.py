"""Runs with the retriever: the parts a chat names go to the backend (requirements and
context), to the stored run (what the pipeline checks), to the answer of
process_requirements, and to the chat's socket as a ``retrieval`` event."""

from __future__ import annotations

from typing import Any

import pytest

from forge_adapters.catalog import MemoryCatalog
from forge_core.entities import RunStatus
from forge_core.services.retriever import Retriever
from tests.unit.test_runs_service import RecordingPipeline, ask, make_world, say

pytestmark = pytest.mark.anyio
QUAD = "a 5-inch quad frame for a 20x20 stack and 2306 motors"
FOUND = ["prop-5inch", "fc-stack-20x20", "motor-2306"]


def ids(parts: Any) -> list[str]:
    return [p["id"] for p in parts]


async def test_the_backend_gets_the_named_parts_and_the_socket_hears_of_them() -> None:
    world = await make_world(retriever=Retriever(MemoryCatalog()))
    run, _ = await world.runs.start(world.owner, world.chat.id, ask("generate_scad", QUAD))
    [job] = world.backend.submitted
    assert job.context is not None and ids(job.context["components"]) == FOUND
    assert job.requirements_json is not None
    assert ids(job.requirements_json["components"]) == FOUND
    assert run.requirements_json == job.requirements_json
    stack = job.context["components"][1]
    assert stack["hole_patterns"][0]["spacing"] == [20.0, 20.0] and "source" in stack
    types = [e.type for e in world.bus.published]
    assert types == ["retrieval", "runpod.queued"]
    event = world.bus.published[0].data
    assert event["run_id"] == str(run.id) and ids(event["components"]) == FOUND
    assert event["components"][2]["why"].startswith("named by '2306'")


async def test_earlier_user_turns_count_and_given_components_are_kept() -> None:
    world = await make_world(retriever=Retriever(MemoryCatalog()))
    await say(world, "user", "I want an enclosure for a Raspberry Pi 4", 1)
    await world.runs.start(world.owner, world.chat.id, ask(content="make it 30 mm tall"))
    chosen = {"components": [{"id": "mine"}]}
    await world.runs.start(
        world.owner, world.chat.id, ask("generate_scad", QUAD, requirements_json=chosen)
    )
    first, second = world.backend.submitted
    assert first.context is not None
    assert ids(first.context["components"]) == ["board-raspberry-pi-4b"]
    assert second.requirements_json == chosen
    assert second.context == {"components": [{"id": "mine"}]}


async def test_nothing_named_means_no_context_and_no_event() -> None:
    world = await make_world(retriever=Retriever(MemoryCatalog()))
    await world.runs.start(world.owner, world.chat.id, ask(content="a small box"))
    [job] = world.backend.submitted
    assert job.context is None and job.requirements_json is None
    assert [e.type for e in world.bus.published] == ["runpod.queued"]


async def test_process_requirements_answers_with_the_components() -> None:
    world = await make_world(retriever=Retriever(MemoryCatalog()))
    run, _ = await world.runs.start(world.owner, world.chat.id, ask(content=QUAD))
    assert run.backend_run_id is not None
    output = {"content": "ok", "requirements_json": {"model_type": "drone"}}
    world.backend.advance(run.backend_run_id, RunStatus.COMPLETED, output)
    await world.supervisor.poll_once(world.clock.advance(1))
    [reply] = await world.messages("assistant")
    assert reply.metadata_json is not None
    requirements = reply.metadata_json["requirements_json"]
    assert requirements["model_type"] == "drone" and ids(requirements["components"]) == FOUND


async def test_the_pipeline_checks_the_scad_against_the_parts_and_the_outputs_sizes() -> None:
    pipeline = RecordingPipeline()
    world = await make_world(pipeline=pipeline, retriever=Retriever(MemoryCatalog()))
    run, _ = await world.runs.start(world.owner, world.chat.id, ask("generate_scad", QUAD))
    assert run.backend_run_id is not None
    output = {"scad_code": "cube(10);", "requirements_json": {"dimensions_mm": {"thickness": 3}}}
    world.backend.advance(run.backend_run_id, RunStatus.COMPLETED, output)
    await world.supervisor.poll_once(world.clock.advance(1))
    [(_, _, scad, requirements, _, _)] = pipeline.submitted
    assert scad == "cube(10);" and requirements["dimensions_mm"] == {"thickness": 3}
    assert ids(requirements["components"]) == FOUND
