"""Jobs (with their lifecycle), assets and asset meta."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, QueryParameter

from forge_core.commands import (
    AssetMetaChanges,
    JobChanges,
    NewAsset,
    NewAssetMeta,
    NewJob,
    NewVariant,
)
from forge_core.errors import InvalidInput
from forge_http.dependencies import CallerDep, Limit, Offset, ParentFilter, PathId, page
from forge_http.dto import (
    AssetMetaOut,
    AssetOut,
    JobOut,
    ParameterOut,
    parameter_out,
    to_dto,
    to_dtos,
)
from forge_http.openapi import ASSET_CREATED, JOB_CREATED, META_CREATED, Documented

Success = Annotated[bool, QueryParameter(description="false marks the job failed")]
VariantOf = Annotated[
    UUID | None, QueryParameter(description="Only the variants made from this job")
]


class JobController(Controller):
    path = "/jobs"
    tags = ["jobs"]

    @post("/", operation_class=JOB_CREATED)
    async def create(self, data: JSONBody[NewJob], caller: CallerDep) -> JobOut:
        return to_dto(JobOut, await caller.services.jobs.create(caller.user_id, data))

    @get(
        "/",
        description="The caller's jobs, of one session, or the variants of one job, if "
        "given; oldest first.",
        operation_class=Documented,
    )
    async def list(
        self,
        caller: CallerDep,
        session_id: ParentFilter = None,
        variant_of: VariantOf = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[JobOut]:
        jobs, window = caller.services.jobs, page(limit, offset)
        if variant_of is not None:
            if session_id is not None:
                raise InvalidInput("variant_of", "give session_id or variant_of, not both")
            return to_dtos(JobOut, await jobs.variants_of(caller.user_id, variant_of, window))
        return to_dtos(JobOut, await jobs.list(caller.user_id, window, session_id))

    @get("/{job_id:uuid}", operation_class=Documented)
    async def read(self, job_id: PathId, caller: CallerDep) -> JobOut:
        return to_dto(JobOut, await caller.services.jobs.get(caller.user_id, job_id))

    @patch(
        "/{job_id:uuid}",
        description="A `status` here is a lifecycle step; 409 if invalid.",
        operation_class=Documented,
    )
    async def update(self, job_id: PathId, data: JSONBody[JobChanges], caller: CallerDep) -> JobOut:
        return to_dto(JobOut, await caller.services.jobs.update(caller.user_id, job_id, data))

    @get(
        "/{job_id:uuid}/parameters",
        description="The parameters of the job's SCAD (OpenSCAD Customizer rules; "
        "docs/pipeline.md#parameters). 422 if its SCAD does not parse.",
        operation_class=Documented,
    )
    async def list_parameters(self, job_id: PathId, caller: CallerDep) -> list[ParameterOut]:
        found = await caller.services.variants.parameters(caller.user_id, job_id)
        return [parameter_out(p) for p in found]

    @post(
        "/{job_id:uuid}/variants",
        status_code=201,
        description="A new job: this one's SCAD with the given parameter values, rendered "
        "and checked like any job, with no inference call. 422 names a parameter that is "
        "unknown, of the wrong type or out of its declared range.",
        operation_class=Documented,
    )
    async def make_variant(
        self, job_id: PathId, data: JSONBody[NewVariant], caller: CallerDep
    ) -> JobOut:
        made = await caller.services.variants.create(caller.user_id, job_id, data.parameters)
        return to_dto(JobOut, made)

    @post(
        "/{job_id:uuid}/start",
        status_code=200,
        description="pending -> running",
        operation_class=Documented,
    )
    async def start(self, job_id: PathId, caller: CallerDep) -> JobOut:
        return to_dto(JobOut, await caller.services.jobs.start(caller.user_id, job_id))

    @post(
        "/{job_id:uuid}/complete",
        status_code=200,
        description="running -> succeeded|failed",
        operation_class=Documented,
    )
    async def complete(self, job_id: PathId, caller: CallerDep, success: Success = True) -> JobOut:
        done = await caller.services.jobs.complete(caller.user_id, job_id, success)
        return to_dto(JobOut, done)

    @delete(
        "/{job_id:uuid}",
        description="Deletes the job, its assets and their meta.",
        operation_class=Documented,
    )
    async def remove(self, job_id: PathId, caller: CallerDep) -> None:
        await caller.services.jobs.delete(caller.user_id, job_id)


class AssetController(Controller):
    path = "/assets"
    tags = ["assets"]

    @post("/", operation_class=ASSET_CREATED)
    async def create(self, data: JSONBody[NewAsset], caller: CallerDep) -> AssetOut:
        return to_dto(AssetOut, await caller.services.assets.create(caller.user_id, data))

    @get(
        "/",
        description="The caller's assets, of one job if given, oldest first.",
        operation_class=Documented,
    )
    async def list(
        self,
        caller: CallerDep,
        job_id: ParentFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[AssetOut]:
        found = await caller.services.assets.list(caller.user_id, page(limit, offset), job_id)
        return to_dtos(AssetOut, found)

    @get("/{asset_id:uuid}", operation_class=Documented)
    async def read(self, asset_id: PathId, caller: CallerDep) -> AssetOut:
        return to_dto(AssetOut, await caller.services.assets.get(caller.user_id, asset_id))

    @delete(
        "/{asset_id:uuid}",
        description="Deletes the asset and its meta.",
        operation_class=Documented,
    )
    async def remove(self, asset_id: PathId, caller: CallerDep) -> None:
        await caller.services.assets.delete(caller.user_id, asset_id)


class AssetMetaController(Controller):
    path = "/asset-meta"
    tags = ["asset-meta"]

    @post("/", operation_class=META_CREATED)
    async def create(self, data: JSONBody[NewAssetMeta], caller: CallerDep) -> AssetMetaOut:
        created = await caller.services.asset_metas.create(caller.user_id, data)
        return to_dto(AssetMetaOut, created)

    @get(
        "/",
        description="The caller's asset meta, of one asset if given, oldest first.",
        operation_class=Documented,
    )
    async def list(
        self,
        caller: CallerDep,
        asset_id: ParentFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[AssetMetaOut]:
        metas = caller.services.asset_metas
        found = await metas.list(caller.user_id, page(limit, offset), asset_id)
        return to_dtos(AssetMetaOut, found)

    @get("/{meta_id:uuid}", operation_class=Documented)
    async def read(self, meta_id: PathId, caller: CallerDep) -> AssetMetaOut:
        found = await caller.services.asset_metas.get(caller.user_id, meta_id)
        return to_dto(AssetMetaOut, found)

    @patch("/{meta_id:uuid}", operation_class=Documented)
    async def update(
        self, meta_id: PathId, data: JSONBody[AssetMetaChanges], caller: CallerDep
    ) -> AssetMetaOut:
        updated = await caller.services.asset_metas.update(caller.user_id, meta_id, data)
        return to_dto(AssetMetaOut, updated)

    @delete("/{meta_id:uuid}", operation_class=Documented)
    async def remove(self, meta_id: PathId, caller: CallerDep) -> None:
        await caller.services.asset_metas.delete(caller.user_id, meta_id)
