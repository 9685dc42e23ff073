"""Run one pipeline job: its SCAD becomes checked, exported, stored assets.

``JobRunner.run`` takes a running job with SCAD (``scad_of``) through the stages in
``pipeline_stages`` in order: render -> qa -> export -> store, and ends it succeeded, or
failed with ``error`` naming the stage (and ``qa`` when QA ran); nothing escapes as an
exception. Progress goes to the job's chat (``job_events``).

With ``repairs``, SCAD from a ``generate_scad`` run that fails to render or fails a hard
QA check is sent back to the backend (``job_repair``): each attempt is recorded on the
job (``repair_attempts``: attempt, stage, reason, the failing SCAD), sent as a
``job.repair`` event and told in the chat; the repaired SCAD replaces ``spec.scad_code``
and the stages run again from the start. When the attempts run out, or the backend gives
no repair, the job fails with its last stage failure. Which jobs run, and where,
is the worker's business (``job_worker``), not this module's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from uuid import UUID, uuid4

from forge_core.entities import Clock, Job, JobStatus, JsonObject, utc_now
from forge_core.errors import NotFound, StaleObject
from forge_core.lifecycle import transition
from forge_core.ports import MeshKit, ObjectStore, Renderer, Repository
from forge_core.services import job_events
from forge_core.services.events import ChatEvents
from forge_core.services.job_events import JobEvents
from forge_core.services.job_repair import RepairFailed, Repairs
from forge_core.services.pipeline_stages import Model, StageFailed, Stages, Stored
from forge_core.services.production import scad_of

log = logging.getLogger("forge.pipeline")

STAGES = ("render", "qa", "export", "store")
DEFAULT_BUILD_VOLUME = (256.0, 256.0, 256.0)


class JobRunner:
    """Run a job's stages and store its outcome; see the module docstring."""

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
        repairs: Repairs | None = None,
    ) -> None:
        self.repo, self.events, self.clock, self.repairs = repo, events, clock, repairs
        self.stages = Stages(repo, renderer, mesh, store, build_volume, clock, new_id)

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
        events = await JobEvents.of(self.events, job)
        await events.emit(job_events.STARTED)
        requirements = (job.spec or {}).get("requirements_json")
        while True:
            model = Model(scad, requirements if isinstance(requirements, dict) else None)
            stored = Stored()
            try:
                await self._stages(job, events, model, stored)
                break
            except StageFailed as failed:
                repaired = await self._repair(job, events, scad, failed)
                if repaired is None:
                    return await self._fail(job, events, model, stored, failed)
                job, scad = repaired
        qa = model.report.to_json() if model.report else None
        ended = await self._finish(job, JobStatus.SUCCEEDED, qa, None)
        if ended is not None and ended.status is JobStatus.SUCCEEDED:
            ids = [str(asset.id) for asset in stored.assets]
            await events.emit(job_events.COMPLETED, asset_ids=ids)
        return ended

    async def _stages(self, job: Job, events: JobEvents, model: Model, stored: Stored) -> None:
        steps: dict[str, Callable[[], Awaitable[None]]] = {
            "render": lambda: self.stages.render(model),
            "qa": lambda: self.stages.qa(model),
            "export": lambda: self.stages.export(model),
            "store": lambda: self.stages.store(job, model, stored),
        }
        for stage in STAGES:
            await events.emit(job_events.PROGRESS, stage=stage)
            try:
                await steps[stage]()
            except StageFailed:
                raise
            except Exception as exc:  # a bug in an adapter still ends the job
                log.exception("job %s: the %s stage crashed", job.id, stage)
                raise StageFailed(stage, "an internal error stopped it") from exc

    async def _repair(
        self, job: Job, events: JobEvents, scad: str, failed: StageFailed
    ) -> tuple[Job, str] | None:
        """One repair attempt: the job as recorded, with the repaired SCAD; None when
        there is nothing (more) to try, or the backend gave no repair."""
        if self.repairs is None or not self.repairs.wants(job, failed.stage):
            return None
        attempt = len(job.repair_attempts or []) + 1
        record: JsonObject = {"attempt": attempt, "stage": failed.stage,
                              "reason": failed.reason, "scad": scad}  # fmt: skip
        of = f"{attempt} of {self.repairs.attempts}"
        await self.repairs.tell(job, events.chat, f"The model failed ({failed}). Asking "
                                f"the backend to repair it: attempt {of}.")  # fmt: skip
        await events.emit(job_events.REPAIR, attempt=attempt, stage=failed.stage,
                          reason=failed.reason)  # fmt: skip
        try:
            repaired = await self.repairs.ask(job, events.chat, scad, str(failed))
        except RepairFailed as exc:
            record["outcome"] = f"no repair: {exc.reason}"
            await self.repairs.tell(job, events.chat, f"Repair {of} failed: {exc.reason}.")
            await self._record(job, record, None)
            return None
        record["outcome"] = "repaired"
        saved = await self._record(job, record, repaired)
        return None if saved is None else (saved, repaired)

    async def _record(self, job: Job, record: JsonObject, scad: str | None) -> Job | None:
        """Store the attempt (and the repaired SCAD) on the job, unless it ended
        meanwhile (cancelled); optimistic, like ``_finish``."""
        for _ in range(3):
            try:
                current = await self.repo.get(Job, job.id, job.user_id)
            except NotFound:
                return None
            if current.status is not JobStatus.RUNNING:
                return None
            spec = dict(current.spec or {})
            if scad is not None:
                spec["scad_code"] = scad
            attempts = [*(current.repair_attempts or []), record]
            changed = replace(current, spec=spec, repair_attempts=attempts,
                              updated_at=self.clock())  # fmt: skip
            try:
                await self.repo.update(changed, expected_updated_at=current.updated_at)
            except StaleObject:
                continue
            return changed
        return None

    async def _fail(
        self, job: Job, events: JobEvents, model: Model, stored: Stored, failed: StageFailed
    ) -> Job | None:
        if failed.stage == "store":
            await self.stages.undo(job, stored)
        qa = failed.qa or (model.report.to_json() if model.report else None)
        error = str(failed)
        if job.repair_attempts:
            error += f" (after {len(job.repair_attempts)} repair attempt(s))"
        ended = await self._finish(job, JobStatus.FAILED, qa, error)
        if ended is not None and ended.status is JobStatus.FAILED:
            await events.emit(job_events.FAILED, stage=failed.stage, reason=failed.reason)
        return ended

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
