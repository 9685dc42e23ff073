"""Jobs, assets and asset meta: the 3D production side of the product."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol
from uuid import UUID, uuid4

from forge_core.commands import (
    AssetMetaChanges,
    Changes,
    JobChanges,
    NewAsset,
    NewAssetMeta,
    NewJob,
)
from forge_core.entities import (
    Asset,
    AssetMeta,
    Chat,
    Clock,
    Job,
    JobStatus,
    JsonObject,
    Session,
    utc_now,
)
from forge_core.errors import MissingReference
from forge_core.lifecycle import transition
from forge_core.ports import ObjectStore, Repository
from forge_core.services.content import asset_folder
from forge_core.services.records import Page, Records
from forge_core.storage_keys import job_prefix


def scad_of(job: Job) -> str | None:
    """The SCAD a job's spec carries, or None: such a job is the pipeline's to run."""
    code = (job.spec or {}).get("scad_code")
    return code if isinstance(code, str) and code.strip() else None


class JobQueue(Protocol):
    """Told of each job started with SCAD, which waits (running) for a pipeline worker
    to claim it (``services.job_worker``)."""

    def enqueue(self, job: Job) -> None: ...


class Jobs(Records[Job, NewJob, JobChanges]):
    """Jobs; every status change goes through the lifecycle state machine."""

    kind = Job

    def __init__(
        self,
        repo: Repository,
        clock: Clock = utc_now,
        new_id: Callable[[], UUID] = uuid4,
        objects: ObjectStore | None = None,
        queue: JobQueue | None = None,
    ) -> None:
        super().__init__(repo, clock, new_id, objects)
        self.queue = queue

    async def list(
        self,
        owner: UUID,
        page: Page,
        parent_id: UUID | None = None,
        variant_of: UUID | None = None,
    ) -> list[Job]:
        """The owner's jobs, of one session and/or made from one job (its variants),
        oldest first. Raises NotFound for a session or job that is not the owner's."""
        if variant_of is None:
            return await super().list(owner, page, parent_id)
        await self.repo.get(Job, variant_of, owner)
        where = {"variant_of": variant_of}
        if parent_id is not None:
            await self.repo.get(Session, parent_id, owner)
            where["session_id"] = parent_id
        found: list[Job] = await self.repo.list(
            Job, owner, where=where, limit=page.limit, offset=page.offset
        )
        return found

    async def start(self, owner: UUID, job_id: UUID) -> Job:
        return await self.update(owner, job_id, JobChanges(status=JobStatus.RUNNING))

    async def update(self, owner: UUID, job_id: UUID, changes: JobChanges) -> Job:
        """A job that goes running here (start, or a PATCH of its status) and whose spec
        carries ``scad_code`` is queued for the pipeline, which ends it. Other jobs only
        change state, as in the seed."""
        updated = await super().update(owner, job_id, changes)
        started = changes.status is JobStatus.RUNNING  # the lifecycle allows it once
        if started and self.queue is not None and scad_of(updated) is not None:
            self.queue.enqueue(updated)
        return updated

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
        next free pipeline worker. Raises NotFound if the chat is not the owner's."""
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
            repair_attempts=[] if run_id is not None else None,  # from a run: repairable
            created_at=now,
            updated_at=now,
        )
        job = transition(job, JobStatus.RUNNING, now)
        await self.repo.add(job)
        if self.queue is not None:
            self.queue.enqueue(job)
        return job

    async def complete(self, owner: UUID, job_id: UUID, success: bool) -> Job:
        target = JobStatus.SUCCEEDED if success else JobStatus.FAILED
        return await self.update(owner, job_id, JobChanges(status=target))

    async def cancel(self, owner: UUID, job_id: UUID) -> Job:
        return await self.update(owner, job_id, JobChanges(status=JobStatus.CANCELLED))

    async def _folder(self, owner: UUID, entity_id: UUID) -> str:
        job: Job = await self.repo.get(Job, entity_id, owner)
        return job_prefix(owner, job.session_id, job.id)

    def _apply(self, current: Job, values: dict[str, Any]) -> Job:
        target = values.pop("status", None)
        updated = super()._apply(current, values)
        if target is None:
            return updated
        return transition(updated, JobStatus(target), updated.updated_at)


class Assets(Records[Asset, NewAsset, Changes]):
    kind = Asset

    async def _folder(self, owner: UUID, entity_id: UUID) -> str:
        asset: Asset = await self.repo.get(Asset, entity_id, owner)
        return await asset_folder(self.repo, owner, asset)


class AssetMetas(Records[AssetMeta, NewAssetMeta, AssetMetaChanges]):
    """Per-part metadata; ``component_of`` and ``is_composite_of`` name the caller's assets."""

    kind = AssetMeta

    async def _check_references(self, owner: UUID, values: dict[str, Any]) -> None:
        for field in ("component_of", "is_composite_of"):
            value = values.get(field)
            ids = [value] if isinstance(value, UUID) else list(value or [])
            unique = set(ids)
            if unique and await self.repo.count_owned(Asset, list(unique), owner) < len(unique):
                raise MissingReference(field, "an asset")
