"""Jobs (with their lifecycle), assets and asset meta."""

from __future__ import annotations

import builtins
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
from forge_http.dependencies import CallerRequest, Limit, Offset, ParentFilter, PathId, page
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
    async def create(self, data: JSONBody[NewJob], request: CallerRequest) -> JobOut:
        caller = request.caller
        return to_dto(JobOut, await caller.services.jobs.create(caller.user_id, data))

    @get(
        "/",
        description="The caller's jobs, of one session and/or the variants of one job, "
        "if given; oldest first.",
        operation_class=Documented,
    )
    async def list(
        self,
        request: CallerRequest,
        session_id: ParentFilter = None,
        variant_of: VariantOf = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> builtins.list[JobOut]:
        caller = request.caller
        window = page(limit, offset)
        found = await caller.services.jobs.list(caller.user_id, window, session_id, variant_of)
        return to_dtos(JobOut, found)

    @get("/{job_id:uuid}", operation_class=Documented)
    async def read(self, job_id: PathId, request: CallerRequest) -> JobOut:
        caller = request.caller
        return to_dto(JobOut, await caller.services.jobs.get(caller.user_id, job_id))

    @patch(
        "/{job_id:uuid}",
        description="A `status` here is a lifecycle step; 409 if invalid.",
        operation_class=Documented,
    )
    async def update(
        self, job_id: PathId, data: JSONBody[JobChanges], request: CallerRequest
    ) -> JobOut:
        caller = request.caller
        return to_dto(JobOut, await caller.services.jobs.update(caller.user_id, job_id, data))

    @get(
        "/{job_id:uuid}/parameters",
        description="The parameters of the job's SCAD (OpenSCAD Customizer rules; "
        "docs/pipeline.md#parameters). 422 if its SCAD does not parse.",
        operation_class=Documented,
    )
    async def list_parameters(
        self, job_id: PathId, request: CallerRequest
    ) -> builtins.list[ParameterOut]:
        caller = request.caller
        found = await caller.services.variants.parameters(caller.user_id, job_id)
        return [parameter_out(p) for p in found]

    @post(
        "/{job_id:uuid}/variants",
        status_code=201,
        description="A new job: this one's SCAD with the given parameter values, rendered "
        "and checked like any job, with no inference call. 422 names a parameter that is "
        "unknown, of the wrong type or out of its declared range.",
        operation_class=JOB_CREATED,
    )
    async def make_variant(
        self, job_id: PathId, data: JSONBody[NewVariant], request: CallerRequest
    ) -> JobOut:
        caller = request.caller
        made = await caller.services.variants.create(caller.user_id, job_id, data.parameters)
        return to_dto(JobOut, made)

    @post(
        "/{job_id:uuid}/start",
        status_code=200,
        description="pending -> running",
        operation_class=Documented,
    )
    async def start(self, job_id: PathId, request: CallerRequest) -> JobOut:
        caller = request.caller
        return to_dto(JobOut, await caller.services.jobs.start(caller.user_id, job_id))

    @post(
        "/{job_id:uuid}/complete",
        status_code=200,
        description="running -> succeeded|failed",
        operation_class=Documented,
    )
    async def complete(
        self, job_id: PathId, request: CallerRequest, success: Success = True
    ) -> JobOut:
        caller = request.caller
        done = await caller.services.jobs.complete(caller.user_id, job_id, success)
        return to_dto(JobOut, done)

    @delete(
        "/{job_id:uuid}",
        description="Deletes the job, its assets and their meta.",
        operation_class=Documented,
    )
    async def remove(self, job_id: PathId, request: CallerRequest) -> None:
        caller = request.caller
        await caller.services.jobs.delete(caller.user_id, job_id)


class AssetController(Controller):
    path = "/assets"
    tags = ["assets"]

    @post("/", operation_class=ASSET_CREATED)
    async def create(self, data: JSONBody[NewAsset], request: CallerRequest) -> AssetOut:
        caller = request.caller
        return to_dto(AssetOut, await caller.services.assets.create(caller.user_id, data))

    @get(
        "/",
        description="The caller's assets, of one job if given, oldest first.",
        operation_class=Documented,
    )
    async def list(
        self,
        request: CallerRequest,
        job_id: ParentFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> builtins.list[AssetOut]:
        caller = request.caller
        found = await caller.services.assets.list(caller.user_id, page(limit, offset), job_id)
        return to_dtos(AssetOut, found)

    @get("/{asset_id:uuid}", operation_class=Documented)
    async def read(self, asset_id: PathId, request: CallerRequest) -> AssetOut:
        caller = request.caller
        return to_dto(AssetOut, await caller.services.assets.get(caller.user_id, asset_id))

    @delete(
        "/{asset_id:uuid}",
        description="Deletes the asset and its meta.",
        operation_class=Documented,
    )
    async def remove(self, asset_id: PathId, request: CallerRequest) -> None:
        caller = request.caller
        await caller.services.assets.delete(caller.user_id, asset_id)


class AssetMetaController(Controller):
    path = "/asset-meta"
    tags = ["asset-meta"]

    @post("/", operation_class=META_CREATED)
    async def create(self, data: JSONBody[NewAssetMeta], request: CallerRequest) -> AssetMetaOut:
        caller = request.caller
        created = await caller.services.asset_metas.create(caller.user_id, data)
        return to_dto(AssetMetaOut, created)

    @get(
        "/",
        description="The caller's asset meta, of one asset if given, oldest first.",
        operation_class=Documented,
    )
    async def list(
        self,
        request: CallerRequest,
        asset_id: ParentFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> builtins.list[AssetMetaOut]:
        caller = request.caller
        metas = caller.services.asset_metas
        found = await metas.list(caller.user_id, page(limit, offset), asset_id)
        return to_dtos(AssetMetaOut, found)

    @get("/{meta_id:uuid}", operation_class=Documented)
    async def read(self, meta_id: PathId, request: CallerRequest) -> AssetMetaOut:
        caller = request.caller
        found = await caller.services.asset_metas.get(caller.user_id, meta_id)
        return to_dto(AssetMetaOut, found)

    @patch("/{meta_id:uuid}", operation_class=Documented)
    async def update(
        self, meta_id: PathId, data: JSONBody[AssetMetaChanges], request: CallerRequest
    ) -> AssetMetaOut:
        caller = request.caller
        updated = await caller.services.asset_metas.update(caller.user_id, meta_id, data)
        return to_dto(AssetMetaOut, updated)

    @delete("/{meta_id:uuid}", operation_class=Documented)
    async def remove(self, meta_id: PathId, request: CallerRequest) -> None:
        caller = request.caller
        await caller.services.asset_metas.delete(caller.user_id, meta_id)
