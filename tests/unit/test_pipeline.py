"""The pipeline with the memory adapters, the real OpenSCAD renderer (small $fn) and a
MeshKit that measures STL: jobs end succeeded with their assets, or failed with a
reason naming the stage, and the chat hears about it in order."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from forge_adapters.memory import (
    MemoryEventLog,
    MemoryLeases,
    MemoryObjectStore,
    MemoryRepository,
    memory_job_leases,
)
from forge_adapters.openscad import OpenSCADRenderer, RenderLimits
from forge_adapters.template_backend import execute
from forge_core.commands import JobChanges, NewChat, NewJob, NewSession
from forge_core.entities import Asset, AssetMeta, ChatEvent, Job, JobStatus
from forge_core.errors import Unavailable
from forge_core.inference import JobInput
from forge_core.services import ChatEvents, Chats, JobRunner, Jobs, JobWorker, Page, Sessions
from forge_http.pipeline_workers import pipeline_workers
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
    runner: JobRunner
    worker: JobWorker
    jobs: Jobs
    session_id: UUID
    chat_id: UUID
    leases: MemoryLeases[Job]

    def replica(self, worker: str, lease_seconds: float = 30) -> JobWorker:
        """Another worker on the same stores: another replica, or the next process."""
        runner = JobRunner(
            self.repo, OpenSCADRenderer(), FakeMeshKit(EVERY_FORMAT), self.store, self.events
        )
        return JobWorker(
            runner,
            self.repo,
            self.leases,
            worker=worker,
            lease_seconds=lease_seconds,
            scan_interval=0.05,
        )

    async def claimable(self) -> list[UUID]:
        """The jobs a worker could claim now (claimed by a probe, then released)."""
        now = datetime.now(UTC)
        found = await self.leases.claim("probe", now, now + timedelta(seconds=30), 100)
        await self.leases.release("probe")
        return [job.id for job in found]

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
    leases = memory_job_leases(repo)
    runner = JobRunner(repo, renderer, FakeMeshKit(formats), store, events)
    worker = JobWorker(runner, repo, leases, worker="first", scan_interval=0.05)
    session = await Sessions(repo).create(OWNER, NewSession(name="s"))
    chat = await Chats(repo).create(OWNER, NewChat(session_id=session.id, title="a frame"))
    jobs = Jobs(repo, queue=worker)
    return World(repo, store, events, runner, worker, jobs, session.id, chat.id, leases)


def template(model_type: str) -> str:
    job = JobInput.create("generate_scad", requirements_json={"model_type": model_type})
    scad: str = execute(job)["scad_code"]
    return scad.replace("$fn = 48;", "$fn = 10;")  # small circles: quick renders


async def test_a_template_model_becomes_assets_with_part_meta() -> None:
    world = await make_world()
    requirements = {"material": "PETG", "primary_function": "a racing drone"}
    job = await world.jobs.submit_scad(
        OWNER, world.chat_id, template("drone"), requirements, prompt="a drone frame"
    )
    assert job.status is JobStatus.RUNNING and await world.claimable() == [job.id]

    ended = await world.runner.run(OWNER, job.id)

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
    job = await world.jobs.submit_scad(OWNER, world.chat_id, "cube(1);\nsphere(;\ncube(2);\n")
    ended = await world.runner.run(OWNER, job.id)
    assert ended is not None and ended.status is JobStatus.FAILED
    assert ended.error is not None and ended.error.startswith("render failed: scad: line 2: ")
    assert ended.qa is None
    assert await world.repo.list(Asset, OWNER) == []
    events = await world.chat_events()
    assert events[-1][0] == "job.failed" and events[-1][1]["stage"] == "render"
    assert "line" in events[-1][1]["reason"]


async def test_what_the_render_skipped_is_in_the_jobs_qa_warnings() -> None:
    world = await make_world()
    scad = "cube(10);\nmotor_mount(16);\n"  # a module the SCAD never defines
    job = await world.jobs.submit_scad(OWNER, world.chat_id, scad)
    ended = await world.runner.run(OWNER, job.id)
    assert ended is not None and ended.status is JobStatus.SUCCEEDED and ended.qa is not None
    assert ended.qa["passed"] is True
    (warning,) = ended.qa["warnings"]
    assert "motor_mount" in warning and "line 2" in warning


async def test_forbidden_file_access_fails_the_job_before_rendering() -> None:
    world = await make_world()
    job = await world.jobs.submit_scad(OWNER, world.chat_id, 'import("/etc/passwd");\n')
    ended = await world.runner.run(OWNER, job.id)
    assert ended is not None and ended.status is JobStatus.FAILED
    assert ended.error is not None and "line 1" in ended.error and "refused" in ended.error


async def test_a_missing_renderer_fails_the_job() -> None:
    world = await make_world(executable="no-such-openscad")
    job = await world.jobs.submit_scad(OWNER, world.chat_id, "cube(1);")
    ended = await world.runner.run(OWNER, job.id)
    assert ended is not None and ended.error == "render failed: renderer not installed"


async def test_a_model_outside_the_build_volume_fails_qa_and_keeps_the_report() -> None:
    world = await make_world()
    job = await world.jobs.submit_scad(OWNER, world.chat_id, "cube([300, 10, 10]);")
    ended = await world.runner.run(OWNER, job.id)
    assert ended is not None and ended.status is JobStatus.FAILED
    assert ended.error is not None and ended.error.startswith("qa failed: ")
    assert "build volume" in ended.error
    assert ended.qa is not None and ended.qa["passed"] is False
    checks = {check["name"]: check["ok"] for check in ended.qa["checks"]}
    assert checks["watertight"] is True and checks["build_volume"] is False
    assert (await world.chat_events())[-1][1]["stage"] == "qa"


async def test_an_export_the_mesh_kit_cannot_make_fails_the_job() -> None:
    world = await make_world(formats=())
    job = await world.jobs.submit_scad(OWNER, world.chat_id, "cube(5);")
    ended = await world.runner.run(OWNER, job.id)
    assert ended is not None and ended.error == "export failed: format: 'glb' is not supported"
    assert ended.qa is not None and ended.qa["passed"] is True  # QA ran: its report stays


async def test_an_endless_render_times_out_and_the_worker_goes_on() -> None:
    world = await make_world(render_seconds=1)
    endless = "minkowski() { sphere(10, $fn=200); cube(10); sphere(3, $fn=100); }"
    slow = await world.jobs.submit_scad(OWNER, world.chat_id, endless)
    quick = await world.jobs.submit_scad(OWNER, world.chat_id, "cube(5);")
    async with working(world.worker):
        await asyncio.wait_for(world.worker.drain(), 60)
    failed = await world.job(slow.id)
    assert failed.status is JobStatus.FAILED
    assert failed.error == "render failed: scad: the render took longer than 1 s"
    assert (await world.job(quick.id)).status is JobStatus.SUCCEEDED


async def test_start_queues_only_jobs_that_carry_scad() -> None:
    world = await make_world()
    plain = await world.jobs.create(OWNER, NewJob(session_id=world.session_id, prompt="a chair"))
    started = await world.jobs.start(OWNER, plain.id)
    assert started.status is JobStatus.RUNNING and await world.claimable() == []
    assert await world.runner.run(OWNER, plain.id) == started  # not the pipeline's: untouched

    spec = {"scad_code": "cube(2);", "chat_id": str(world.chat_id)}
    scad_job = await world.jobs.create(
        OWNER, NewJob(session_id=world.session_id, prompt="a cube", spec=spec)
    )
    await world.jobs.start(OWNER, scad_job.id)
    assert await world.claimable() == [scad_job.id]
    patched = await world.jobs.create(
        OWNER, NewJob(session_id=world.session_id, prompt="a cube", spec=spec)
    )
    await world.jobs.update(OWNER, patched.id, JobChanges(status=JobStatus.RUNNING))
    assert await world.claimable() == [scad_job.id, patched.id]  # a PATCH is a start too
    ended = await world.runner.run(OWNER, scad_job.id)
    assert ended is not None and ended.status is JobStatus.SUCCEEDED
    listed = await world.jobs.list(OWNER, Page())
    assert [j.status for j in listed] == [JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.RUNNING]


async def test_a_job_cancelled_meanwhile_stays_cancelled() -> None:
    world = await make_world()
    job = await world.jobs.submit_scad(OWNER, world.chat_id, "cube(2);")
    await world.jobs.cancel(OWNER, job.id)
    ended = await world.runner.run(OWNER, job.id)
    assert ended is not None and ended.status is JobStatus.CANCELLED
    assert await world.chat_events() == []


@contextlib.asynccontextmanager
async def working(*workers: JobWorker, each: int = 1) -> AsyncIterator[None]:
    """``each`` work loops per worker for the block; cancelled after."""
    tasks = [asyncio.create_task(w.work()) for w in workers for _ in range(each)]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_jobs_held_by_a_stopped_process_are_taken_over_when_the_lease_lapses() -> None:
    world = await make_world()
    left = await world.jobs.submit_scad(OWNER, world.chat_id, "cube(3);")
    plain = await world.jobs.create(OWNER, NewJob(session_id=world.session_id, prompt="a chair"))
    await world.jobs.start(OWNER, plain.id)
    now = datetime.now(UTC)  # a process claimed the job, then died (no release)
    lease = timedelta(seconds=1)
    [held] = await world.leases.claim("dead", now, now + lease, 10)  # the job with SCAD only
    assert held.id == left.id
    restarted = world.replica("restarted")
    async with working(restarted):
        await asyncio.sleep(0.3)
        assert world.leases.holder(left.id) == "dead"  # not taken before the lease lapses
        await asyncio.wait_for(restarted.drain(), 60)
    assert (await world.job(left.id)).status is JobStatus.SUCCEEDED
    assert (await world.job(plain.id)).status is JobStatus.RUNNING


async def test_released_jobs_are_taken_over_at_once() -> None:
    world = await make_world()
    job = await world.jobs.submit_scad(OWNER, world.chat_id, "cube(3);")
    now = datetime.now(UTC)
    await world.leases.claim("stopping", now, now + timedelta(seconds=30), 10)
    await world.leases.release("stopping")  # a graceful shutdown
    other = world.replica("other")
    async with working(other):
        await asyncio.wait_for(other.drain(), 20)  # far less than the 30 s lease
    assert (await world.job(job.id)).status is JobStatus.SUCCEEDED


async def test_two_replicas_run_each_job_once() -> None:
    world = await make_world()
    jobs = [await world.jobs.submit_scad(OWNER, world.chat_id, "cube(2);") for _ in range(4)]
    first, second = world.replica("one"), world.replica("two")
    async with working(first, second, each=2):
        await asyncio.wait_for(first.drain(), 120)
    for job in jobs:
        assert (await world.job(job.id)).status is JobStatus.SUCCEEDED
        assets = await world.repo.list(Asset, OWNER, where={"job_id": job.id})
        assert sorted(a.asset_type for a in assets).count("stl") == 1  # one run's assets
    started = [d["job_id"] for t, d in await world.chat_events() if t == "job.started"]
    assert sorted(started) == sorted(str(job.id) for job in jobs)
    assert world.leases.holder(jobs[0].id) is None  # released once ended


async def test_a_stopped_pipeline_claims_nothing_and_releases_its_leases() -> None:
    world = await make_world()
    world.worker.stop()
    await asyncio.wait_for(world.worker.work(), 5)  # returns at once: it is stopping
    job = await world.jobs.submit_scad(OWNER, world.chat_id, "cube(2);")
    assert (await world.job(job.id)).status is JobStatus.RUNNING
    now = datetime.now(UTC)
    await world.leases.claim("first", now, now + timedelta(seconds=30), 10)
    await world.worker.release_all()
    assert await world.claimable() == [job.id]


async def test_events_never_reach_another_users_chat() -> None:
    world = await make_world()
    intruder = uuid4()
    session = await Sessions(world.repo).create(intruder, NewSession(name="mine"))
    spec = {"scad_code": "cube(2);", "chat_id": str(world.chat_id)}  # alice's chat
    job = await world.jobs.create(intruder, NewJob(session_id=session.id, prompt="x", spec=spec))
    await world.jobs.start(intruder, job.id)
    ended = await world.runner.run(intruder, job.id)
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
    runner = JobRunner(world.repo, OpenSCADRenderer(), FakeMeshKit(EVERY_FORMAT), store)
    job = await world.jobs.submit_scad(OWNER, world.chat_id, "cube(2);")
    ended = await runner.run(OWNER, job.id)
    assert ended is not None and ended.error == "store failed: the store is full"
    assert ended.qa is not None and ended.qa["passed"] is True
    assert await world.repo.list(Asset, OWNER) == []
    assert len(store.written) == 3
    assert [key for key in store.written if await store.exists(key)] == []


async def held(world: World, job_id: UUID, worker: str) -> None:
    """Once ``worker`` holds the job's lease (polled: a lease is a row, not an event)."""
    while True:
        if world.leases.holder(job_id) == worker:
            return
        await asyncio.sleep(0.01)


async def test_shutdown_lets_a_job_finish_within_the_grace_period() -> None:
    world = await make_world()
    job = await world.jobs.submit_scad(OWNER, world.chat_id, "cube(2);")
    async with pipeline_workers(world.worker, 1, grace=60):
        await asyncio.wait_for(held(world, job.id, "first"), 10)
    assert (await world.job(job.id)).status is JobStatus.SUCCEEDED
    assert world.leases.holder(job.id) is None


async def test_shutdown_cancels_a_job_past_the_grace_period_and_releases_it() -> None:
    world = await make_world(render_seconds=60)
    endless = "minkowski() { sphere(10, $fn=200); cube(10); sphere(3, $fn=100); }"
    job = await world.jobs.submit_scad(OWNER, world.chat_id, endless)
    async with pipeline_workers(world.worker, 1, grace=0.2):
        await asyncio.wait_for(held(world, job.id, "first"), 10)
    assert (await world.job(job.id)).status is JobStatus.RUNNING  # left for another replica
    assert await world.claimable() == [job.id]  # at once: the lease was released
