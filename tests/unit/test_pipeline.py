"""The pipeline with the memory adapters, the real OpenSCAD renderer (small $fn) and a
MeshKit that measures STL: jobs end succeeded with their assets, or failed with a
reason naming the stage, and the chat hears about it in order."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest

from forge_adapters.memory import MemoryEventLog, MemoryObjectStore, MemoryRepository
from forge_adapters.openscad import OpenSCADRenderer, RenderLimits
from forge_adapters.template_backend import execute
from forge_core.commands import JobChanges, NewChat, NewJob, NewSession
from forge_core.entities import Asset, AssetMeta, ChatEvent, Job, JobStatus
from forge_core.errors import Unavailable
from forge_core.inference import JobInput
from forge_core.services import ChatEvents, Chats, Jobs, Page, Pipeline, Sessions
from tests.fakes.mesh import FakeMeshKit, measure

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(shutil.which("openscad") is None, reason="openscad is not installed"),
]

OWNER = uuid4()
EVERY_FORMAT = ("glb", "3mf")


class QuietBus:
    """An EventBus with no subscribers: the tests read events back from the log."""

    async def publish(self, event: ChatEvent) -> None:
        return None

    @contextlib.asynccontextmanager
    async def subscribe(self, chat_id: UUID) -> AsyncIterator[AsyncIterator[ChatEvent]]:
        async def nothing() -> AsyncIterator[ChatEvent]:
            return
            yield

        yield nothing()


@dataclass
class World:
    repo: MemoryRepository
    store: MemoryObjectStore
    events: ChatEvents
    pipeline: Pipeline
    jobs: Jobs
    session_id: UUID
    chat_id: UUID

    async def chat_events(self) -> list[tuple[str, dict[str, Any]]]:
        found = await self.events.since(OWNER, self.chat_id, 0)
        return [(e.type, e.data) for e in found]

    async def job(self, job_id: UUID) -> Job:
        return await self.repo.get(Job, job_id, OWNER)


async def make_world(
    render_seconds: float = 60,
    formats: tuple[str, ...] = EVERY_FORMAT,
    executable: str = "openscad",
) -> World:
    repo = MemoryRepository()
    store = MemoryObjectStore()
    events = ChatEvents(repo, MemoryEventLog(repo), QuietBus())
    renderer = OpenSCADRenderer(limits=RenderLimits(timeout=render_seconds), executable=executable)
    pipeline = Pipeline(repo, renderer, FakeMeshKit(formats), store, events)
    session = await Sessions(repo).create(OWNER, NewSession(name="s"))
    chat = await Chats(repo).create(OWNER, NewChat(session_id=session.id, title="a frame"))
    jobs = Jobs(repo, queue=pipeline)
    return World(repo, store, events, pipeline, jobs, session.id, chat.id)


def template(model_type: str) -> str:
    job = JobInput.create("generate_scad", requirements_json={"model_type": model_type})
    scad: str = execute(job)["scad_code"]
    return scad.replace("$fn = 48;", "$fn = 10;")  # small circles: quick renders


async def test_a_template_model_becomes_assets_with_part_meta() -> None:
    world = await make_world()
    requirements = {"material": "PETG", "primary_function": "a racing drone"}
    job = await world.pipeline.submit_scad(
        OWNER, world.chat_id, template("drone"), requirements, prompt="a drone frame"
    )
    assert job.status is JobStatus.RUNNING and world.pipeline.queued == 1

    ended = await world.pipeline.run(OWNER, job.id)

    assert ended is not None and ended.status is JobStatus.SUCCEEDED and ended.error is None
    assert ended.qa is not None and ended.qa["passed"] is True
    assert ended == await world.job(job.id)
    assets = await world.repo.list(Asset, OWNER, where={"job_id": job.id})
    kinds = sorted(a.asset_type for a in assets)
    assert kinds == ["3mf", "glb", "png", "png", "png", "scad", "stl", "stl", "stl"]
    for asset in assets:
        key = asset.uri.removeprefix("memory://")
        assert key.startswith(f"users/{OWNER}/sessions/{world.session_id}/jobs/{job.id}")
        assert f"/assets/{asset.id}/" in key
        assert await world.store.get(key)
    metas = await world.repo.list(AssetMeta, OWNER)
    by_name = {m.part_name: m for m in metas}
    assert set(by_name) == {None, "plate", "arms"}
    whole = by_name[None]
    stl = {a.id: a for a in assets if a.asset_type == "stl"}
    assert whole.asset_id in stl and sorted(whole.is_composite_of or []) == sorted(
        by_name[n].asset_id for n in ("plate", "arms")
    )
    for name in ("plate", "arms"):
        meta = by_name[name]
        part_stl = await world.store.get(stl[meta.asset_id].uri.removeprefix("memory://"))
        facts = measure(part_stl)
        assert meta.component_of == whole.asset_id
        assert meta.material_json == {"type": "PETG"}
        assert meta.used_for_json == ["a racing drone"]
        assert meta.position_json == {
            axis: round((lo + hi) / 2, 3)
            for axis, lo, hi in zip("xyz", facts.bbox_min, facts.bbox_max, strict=True)
        }
        (image,) = meta.image_paths_json or []
        preview = next(a for a in assets if str(a.id) == image["asset_id"])
        assert preview.asset_type == "png" and image["image_src"] == preview.uri
    # the arms reach further out than the plate
    plate, arms = (by_name[n].position_json or {} for n in ("plate", "arms"))
    assert plate["z"] == arms["z"] == 1.5  # both as thick as the 3 mm frame
    events = await world.chat_events()
    assert [t for t, _ in events] == ["job.started"] + ["job.progress"] * 4 + ["job.completed"]
    stages = [d["stage"] for t, d in events if t == "job.progress"]
    assert stages == ["render", "qa", "export", "store"]
    assert sorted(events[-1][1]["asset_ids"]) == sorted(str(a.id) for a in assets)
    assert all(d["job_id"] == str(job.id) for _, d in events)


async def test_a_syntax_error_fails_the_job_with_its_line() -> None:
    world = await make_world()
    job = await world.pipeline.submit_scad(OWNER, world.chat_id, "cube(1);\nsphere(;\ncube(2);\n")
    ended = await world.pipeline.run(OWNER, job.id)
    assert ended is not None and ended.status is JobStatus.FAILED
    assert ended.error is not None and ended.error.startswith("render failed: scad: line 2: ")
    assert ended.qa is None
    assert await world.repo.list(Asset, OWNER) == []
    events = await world.chat_events()
    assert events[-1][0] == "job.failed" and events[-1][1]["stage"] == "render"
    assert "line" in events[-1][1]["reason"]


async def test_forbidden_file_access_fails_the_job_before_rendering() -> None:
    world = await make_world()
    job = await world.pipeline.submit_scad(OWNER, world.chat_id, 'import("/etc/passwd");\n')
    ended = await world.pipeline.run(OWNER, job.id)
    assert ended is not None and ended.status is JobStatus.FAILED
    assert ended.error is not None and "line 1" in ended.error and "refused" in ended.error


async def test_a_missing_renderer_fails_the_job() -> None:
    world = await make_world(executable="no-such-openscad")
    job = await world.pipeline.submit_scad(OWNER, world.chat_id, "cube(1);")
    ended = await world.pipeline.run(OWNER, job.id)
    assert ended is not None and ended.error == "render failed: renderer not installed"


async def test_a_model_outside_the_build_volume_fails_qa_and_keeps_the_report() -> None:
    world = await make_world()
    job = await world.pipeline.submit_scad(OWNER, world.chat_id, "cube([300, 10, 10]);")
    ended = await world.pipeline.run(OWNER, job.id)
    assert ended is not None and ended.status is JobStatus.FAILED
    assert ended.error is not None and ended.error.startswith("qa failed: ")
    assert "build volume" in ended.error
    assert ended.qa is not None and ended.qa["passed"] is False
    checks = {check["name"]: check["ok"] for check in ended.qa["checks"]}
    assert checks["watertight"] is True and checks["build_volume"] is False
    assert (await world.chat_events())[-1][1]["stage"] == "qa"


async def test_an_export_the_mesh_kit_cannot_make_fails_the_job() -> None:
    world = await make_world(formats=())
    job = await world.pipeline.submit_scad(OWNER, world.chat_id, "cube(5);")
    ended = await world.pipeline.run(OWNER, job.id)
    assert ended is not None and ended.error == "export failed: format: 'glb' is not supported"
    assert ended.qa is not None and ended.qa["passed"] is True  # QA ran: its report stays


async def test_an_endless_render_times_out_and_the_worker_goes_on() -> None:
    world = await make_world(render_seconds=1)
    endless = "minkowski() { sphere(10, $fn=200); cube(10); sphere(3, $fn=100); }"
    slow = await world.pipeline.submit_scad(OWNER, world.chat_id, endless)
    quick = await world.pipeline.submit_scad(OWNER, world.chat_id, "cube(5);")
    worker = asyncio.create_task(world.pipeline.work())
    try:
        await asyncio.wait_for(world.pipeline.drain(), 60)
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    failed = await world.job(slow.id)
    assert failed.status is JobStatus.FAILED
    assert failed.error == "render failed: scad: the render took longer than 1 s"
    assert (await world.job(quick.id)).status is JobStatus.SUCCEEDED


async def test_start_queues_only_jobs_that_carry_scad() -> None:
    world = await make_world()
    plain = await world.jobs.create(OWNER, NewJob(session_id=world.session_id, prompt="a chair"))
    started = await world.jobs.start(OWNER, plain.id)
    assert started.status is JobStatus.RUNNING and world.pipeline.queued == 0
    assert await world.pipeline.run(OWNER, plain.id) == started  # not the pipeline's: untouched

    spec = {"scad_code": "cube(2);", "chat_id": str(world.chat_id)}
    scad_job = await world.jobs.create(
        OWNER, NewJob(session_id=world.session_id, prompt="a cube", spec=spec)
    )
    await world.jobs.start(OWNER, scad_job.id)
    assert world.pipeline.queued == 1
    patched = await world.jobs.create(
        OWNER, NewJob(session_id=world.session_id, prompt="a cube", spec=spec)
    )
    await world.jobs.update(OWNER, patched.id, JobChanges(status=JobStatus.RUNNING))
    assert world.pipeline.queued == 2  # a PATCH to running is a start too
    ended = await world.pipeline.run(OWNER, scad_job.id)
    assert ended is not None and ended.status is JobStatus.SUCCEEDED
    listed = await world.jobs.list(OWNER, Page())
    assert [j.status for j in listed] == [JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.RUNNING]


async def test_a_job_cancelled_meanwhile_stays_cancelled() -> None:
    world = await make_world()
    job = await world.pipeline.submit_scad(OWNER, world.chat_id, "cube(2);")
    await world.jobs.cancel(OWNER, job.id)
    ended = await world.pipeline.run(OWNER, job.id)
    assert ended is not None and ended.status is JobStatus.CANCELLED
    assert await world.chat_events() == []


async def test_running_jobs_left_by_a_stopped_process_are_resumed() -> None:
    world = await make_world()
    left = await world.pipeline.submit_scad(OWNER, world.chat_id, "cube(3);")
    plain = await world.jobs.create(OWNER, NewJob(session_id=world.session_id, prompt="a chair"))
    await world.jobs.start(OWNER, plain.id)
    restarted = Pipeline(world.repo, OpenSCADRenderer(), FakeMeshKit(EVERY_FORMAT), world.store)
    assert await restarted.resume() == 1  # the job with SCAD only
    worker = asyncio.create_task(restarted.work())
    try:
        await asyncio.wait_for(restarted.drain(), 60)
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    assert (await world.job(left.id)).status is JobStatus.SUCCEEDED
    assert (await world.job(plain.id)).status is JobStatus.RUNNING


async def test_events_never_reach_another_users_chat() -> None:
    world = await make_world()
    intruder = uuid4()
    session = await Sessions(world.repo).create(intruder, NewSession(name="mine"))
    spec = {"scad_code": "cube(2);", "chat_id": str(world.chat_id)}  # alice's chat
    job = await world.jobs.create(intruder, NewJob(session_id=session.id, prompt="x", spec=spec))
    await world.jobs.start(intruder, job.id)
    ended = await world.pipeline.run(intruder, job.id)
    assert ended is not None and ended.status is JobStatus.SUCCEEDED
    assert await world.chat_events() == []


class FillingStore(MemoryObjectStore):
    """An object store that is full after ``room`` objects."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room
        self.written: list[str] = []

    async def put(self, key: str, data: bytes, content_type: str) -> str:
        if self.room == 0:
            raise Unavailable("the store is full")
        self.room -= 1
        self.written.append(key)
        return await super().put(key, data, content_type)


async def test_a_failed_store_stage_leaves_no_assets_or_objects() -> None:
    world = await make_world()
    store = FillingStore(room=3)
    pipeline = Pipeline(world.repo, OpenSCADRenderer(), FakeMeshKit(EVERY_FORMAT), store)
    job = await pipeline.submit_scad(OWNER, world.chat_id, "cube(2);")
    ended = await pipeline.run(OWNER, job.id)
    assert ended is not None and ended.error == "store failed: the store is full"
    assert ended.qa is not None and ended.qa["passed"] is True
    assert await world.repo.list(Asset, OWNER) == []
    assert len(store.written) == 3
    assert [key for key in store.written if await store.exists(key)] == []
