"""The 3D pipeline: a job's SCAD becomes checked, exported, stored assets.

A job enters the pipeline running: ``Jobs.start`` (pending -> running, as in the seed)
or ``submit_scad`` puts it on an in-process queue, and ``work`` loops (a bounded number
of them, started by the front end) take jobs off it and run the stages in
``pipeline_stages``: render -> qa -> export -> store. The job then ends succeeded, or
failed with ``error`` naming the stage (and ``qa`` when QA ran); nothing escapes as an
exception. Progress goes to the chat named in ``spec.chat_id``, if any.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

from forge_core.entities import Chat, Clock, Job, JobStatus, JsonObject, utc_now
from forge_core.errors import ForgeError, NotFound, StaleObject
from forge_core.lifecycle import transition
from forge_core.ports import MeshKit, ObjectStore, Renderer, Repository
from forge_core.services.events import ChatEvents
from forge_core.services.pipeline_stages import Model, StageFailed, Stages, Stored
from forge_core.services.production import scad_of

log = logging.getLogger("forge.pipeline")

STAGES = ("render", "qa", "export", "store")
DEFAULT_BUILD_VOLUME = (256.0, 256.0, 256.0)


def chat_of(job: Job) -> UUID | None:
    """The chat named in ``spec.chat_id``, where the job's events go."""
    try:
        return UUID(str((job.spec or {})["chat_id"]))
    except (KeyError, ValueError):
        return None


class Pipeline:
    """Queue jobs with SCAD and run them; see the module docstring."""

    def __init__(
        self,
        repo: Repository,
        renderer: Renderer,
        mesh: MeshKit,
        store: ObjectStore,
        events: ChatEvents | None = None,
        *,
        build_volume: tuple[float, float, float] = DEFAULT_BUILD_VOLUME,
        clock: Clock = utc_now,
        new_id: Callable[[], UUID] = uuid4,
    ) -> None:
        self.repo, self.events, self.clock, self.new_id = repo, events, clock, new_id
        self.stages = Stages(repo, renderer, mesh, store, build_volume, clock, new_id)
        self._queue: asyncio.Queue[tuple[UUID, UUID]] = asyncio.Queue()

    def enqueue(self, job: Job) -> None:
        """Queue a running job that carries SCAD for the next free worker."""
        self._queue.put_nowait((job.user_id, job.id))

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    async def submit_scad(
        self,
        owner: UUID,
        chat_id: UUID,
        scad_code: str,
        requirements_json: JsonObject | None = None,
        *,
        prompt: str | None = None,
        run_id: UUID | None = None,
    ) -> Job:
        """Make a running job for SCAD a chat produced, in the chat's session, and queue
        it. Raises NotFound if the chat is not the owner's."""
        chat = await self.repo.get(Chat, chat_id, owner)
        spec: JsonObject = {"scad_code": scad_code, "chat_id": str(chat_id)}
        if requirements_json is not None:
            spec["requirements_json"] = requirements_json
        if run_id is not None:
            spec["run_id"] = str(run_id)
        now = self.clock()
        job = Job(
            id=self.new_id(),
            user_id=owner,
            session_id=chat.session_id,
            prompt=(prompt or chat.title or "SCAD from the chat")[:20_000],
            output_format="stl",
            spec=spec,
            created_at=now,
            updated_at=now,
        )
        job = transition(job, JobStatus.RUNNING, now)
        await self.repo.add(job)
        self.enqueue(job)
        return job

    async def resume(self) -> int:
        """Queue again the running jobs with SCAD that a stopped process left unfinished;
        returns how many. Safe with one process per database only (docs/pipeline.md)."""
        left = [job for job in await self.repo.running_jobs() if scad_of(job) is not None]
        for job in left:
            self.enqueue(job)
        return len(left)

    async def work(self) -> None:
        """Take jobs off the queue and run them, forever (until cancelled)."""
        while True:
            owner, job_id = await self._queue.get()
            try:
                await self.run(owner, job_id)
            except Exception:  # one broken job must not stop the worker
                log.exception("pipeline job %s crashed", job_id)
            finally:
                self._queue.task_done()

    async def drain(self) -> None:
        """Wait until every queued job has been run (for tests and embedders)."""
        await self._queue.join()

    async def run(self, owner: UUID, job_id: UUID) -> Job | None:
        """Run one job's stages and store the outcome; returns the job as it ends, or
        None if it is gone. A job that is not running, or has no SCAD, is left alone."""
        try:
            job = await self.repo.get(Job, job_id, owner)
        except NotFound:
            return None
        scad = scad_of(job)
        if job.status is not JobStatus.RUNNING or scad is None:
            return job
        chat = await self._own_chat(job)
        await self._emit(job, chat, "job.started")
        requirements = (job.spec or {}).get("requirements_json")
        model = Model(scad, requirements if isinstance(requirements, dict) else None)
        stored = Stored()
        try:
            await self._stages(job, chat, model, stored)
        except StageFailed as failed:
            if failed.stage == "store":
                await self.stages.undo(job, stored)
            qa = failed.qa or (model.report.to_json() if model.report else None)
            ended = await self._finish(job, JobStatus.FAILED, qa, str(failed))
            if ended is not None and ended.status is JobStatus.FAILED:
                await self._emit(job, chat, "job.failed", stage=failed.stage, reason=failed.reason)
            return ended
        qa = model.report.to_json() if model.report else None
        ended = await self._finish(job, JobStatus.SUCCEEDED, qa, None)
        if ended is not None and ended.status is JobStatus.SUCCEEDED:
            ids = [str(asset.id) for asset in stored.assets]
            await self._emit(job, chat, "job.completed", asset_ids=ids)
        return ended

    async def _stages(self, job: Job, chat: UUID | None, model: Model, stored: Stored) -> None:
        for stage in STAGES:
            await self._emit(job, chat, "job.progress", stage=stage)
            try:
                if stage == "store":
                    await self.stages.store(job, model, stored)
                else:
                    await getattr(self.stages, stage)(model)
            except StageFailed:
                raise
            except Exception as exc:  # a bug in an adapter still ends the job
                log.exception("job %s: the %s stage crashed", job.id, stage)
                raise StageFailed(stage, "an internal error stopped it") from exc

    async def _finish(
        self, job: Job, status: JobStatus, qa: JsonObject | None, error: str | None
    ) -> Job | None:
        """End the job, unless it ended meanwhile (cancelled); optimistic, with retries
        for a change elsewhere in it (a PATCH of its prompt, say)."""
        for _ in range(3):
            try:
                current = await self.repo.get(Job, job.id, job.user_id)
            except NotFound:
                return None
            if current.status is not JobStatus.RUNNING:
                return current
            ended = transition(replace(current, qa=qa, error=error), status, self.clock())
            try:
                await self.repo.update(ended, expected_updated_at=current.updated_at)
            except StaleObject:
                continue
            return ended
        return None

    async def _own_chat(self, job: Job) -> UUID | None:
        """The chat in ``spec.chat_id`` if it is the job owner's (the spec is the
        client's: it must not reach another user's chat)."""
        chat = chat_of(job)
        if self.events is None or chat is None:
            return None
        try:
            await self.events.check_chat(job.user_id, chat)
        except ForgeError:
            return None
        return chat

    async def _emit(self, job: Job, chat: UUID | None, type: str, **data: Any) -> None:
        """Tell the job's chat; an event that cannot be stored never fails the job."""
        if self.events is None or chat is None:
            return
        try:
            await self.events.emit(job.user_id, chat, type, job_id=str(job.id), **data)
        except ForgeError as exc:
            log.warning("job %s: event %s not sent: %s", job.id, type, exc.detail)
