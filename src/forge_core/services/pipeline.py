"""The 3D pipeline: a job's SCAD becomes checked, exported, stored assets.

A job enters the pipeline running, with SCAD: ``Jobs.start`` (pending -> running, as
in the seed) or ``submit_scad``. Its row is then the queue: ``work`` loops (a bounded
number per replica, started by the front end) each claim one such job by lease
(``ports.Leases``), so replicas sharing the database never run a job twice, and run the
stages in ``pipeline_stages``: render -> qa -> export -> store, renewing the lease every
third of its length meanwhile. A loop with nothing to claim waits for a job started on
this replica (``enqueue`` wakes it) or ``scan_interval`` seconds (for one started
elsewhere, or left by a replica that died: claimable once its lease lapses).

The job then ends succeeded, or failed with ``error`` naming the stage (and ``qa`` when
QA ran); nothing escapes as an exception. Progress goes to the chat named in
``spec.chat_id``, if any. ``stop`` (a graceful shutdown) ends the loops after their
current job; the front end cancels what is left after a grace period, then releases
the leases (``release_all``) so another replica redoes those jobs at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from forge_core.entities import Chat, Clock, Job, JobStatus, JsonObject, utc_now
from forge_core.errors import ForgeError, NotFound, StaleObject
from forge_core.failure_streak import MAX_BACKOFF, FailureStreak
from forge_core.lifecycle import transition
from forge_core.ports import Leases, MeshKit, ObjectStore, Renderer, Repository
from forge_core.services.events import ChatEvents
from forge_core.services.pipeline_stages import Model, StageFailed, Stages, Stored
from forge_core.services.production import scad_of

log = logging.getLogger("forge.pipeline")

STAGES = ("render", "qa", "export", "store")
DEFAULT_BUILD_VOLUME = (256.0, 256.0, 256.0)
#: Seconds an idle worker waits before looking for jobs started on other replicas.
SCAN_INTERVAL = 1.0


def chat_of(job: Job) -> UUID | None:
    """The chat named in ``spec.chat_id``, where the job's events go."""
    try:
        return UUID(str((job.spec or {})["chat_id"]))
    except (KeyError, ValueError):
        return None


class Pipeline:
    """Claim jobs with SCAD and run them; see the module docstring. Without ``leases``
    the pipeline only runs the jobs it is given (``run``): ``work`` needs them."""

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
        leases: Leases[Job] | None = None,
        worker: str = "pipeline",
        lease_seconds: float = 30.0,
        scan_interval: float = SCAN_INTERVAL,
    ) -> None:
        self.repo, self.events, self.clock, self.new_id = repo, events, clock, new_id
        self.stages = Stages(repo, renderer, mesh, store, build_volume, clock, new_id)
        self.leases, self.worker = leases, worker
        self.lease = timedelta(seconds=lease_seconds)
        self.scan_interval = scan_interval
        self._wake = asyncio.Event()
        self._stopping = False
        self._busy = 0

    def enqueue(self, job: Job) -> None:
        """A running job with SCAD was stored here: wake an idle worker to claim it."""
        self._wake.set()

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
        """Make a running job for SCAD a chat produced, in the chat's session, for the
        next free worker. Raises NotFound if the chat is not the owner's."""
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

    async def work(self) -> None:
        """Claim jobs one at a time and run them, until ``stop`` (or cancelled). While
        claims fail (the database away) the worker backs off, up to a minute, logging
        one line when they start failing and one when they work again."""
        leases = self._leases()
        streak = FailureStreak(self.scan_interval)
        while not self._stopping:
            self._wake.clear()  # a wake-up from here on is kept for the wait below
            try:
                now = self.clock()
                claimed = await leases.claim(self.worker, now, now + self.lease, 1)
            except ForgeError as exc:
                wait = streak.failed()
                if streak.started:
                    log.warning(
                        "pipeline: claiming jobs failed (%s); retrying, backing off up to %ds",
                        exc.detail,
                        MAX_BACKOFF,
                    )
                await self._idle(wait)
                continue
            if ended := streak.succeeded():
                log.warning("pipeline: claiming jobs works again after %d failed tries", ended)
            if not claimed:
                await self._idle()
                continue
            self._busy += 1
            try:
                await self._run_held(claimed[0])
            except Exception:  # one broken job must not stop the worker
                log.exception("pipeline job %s crashed", claimed[0].id)
            finally:
                self._busy -= 1

    def stop(self) -> None:
        """Claim no more jobs: each ``work`` loop ends after its current one."""
        self._stopping = True
        self._wake.set()

    async def release_all(self) -> None:
        """Give up this worker's leases (jobs cancelled at shutdown), so another replica
        claims them at once. Raises Unavailable (the leases then lapse on their own)."""
        await self._leases().release(self.worker)

    async def drain(self, poll: float = 0.05) -> None:
        """Wait until no job with SCAD is left running, here or on another replica (for
        tests and embedders; ``work`` loops must be running)."""
        while True:  # other replicas' jobs end in their database rows, not in an event
            if not self._busy and not any(scad_of(j) for j in await self.repo.running_jobs()):
                return
            await asyncio.sleep(poll)

    def _leases(self) -> Leases[Job]:
        if self.leases is None:
            raise RuntimeError("this pipeline has no leases: it runs only the jobs it is given")
        return self.leases

    async def _idle(self, seconds: float | None = None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds or self.scan_interval)

    async def _run_held(self, job: Job) -> None:
        """Run a claimed job, renewing its lease meanwhile; stop it if the lease is lost
        (another replica took the job over after a database outage)."""
        leases = self._leases()
        task = asyncio.create_task(self.run(job.user_id, job.id))
        ended: Job | None = None
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=self.lease.total_seconds() / 3)
                if not task.done() and not await self._renew(leases, job):
                    log.warning("pipeline job %s: lease lost; left to its new holder", job.id)
                    task.cancel()
        finally:
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                ended = await task
        if ended is None or ended.status is not JobStatus.RUNNING:
            await leases.release(self.worker, [job.id])
        # A job still running here has SCAD the pipeline will not take: its lease is
        # left to lapse, so it is looked at again a lease later, not in a busy loop.

    async def _renew(self, leases: Leases[Job], job: Job) -> bool:
        try:
            return job.id in await leases.renew(self.worker, [job.id], self.clock() + self.lease)
        except ForgeError as exc:  # the database away: keep working, try again later
            log.warning("pipeline job %s: lease not renewed: %s", job.id, exc.detail)
            return True

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
