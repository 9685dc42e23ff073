"""Jobs (with their lifecycle), assets and asset meta."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, QueryParameter

from forge_core.commands import AssetMetaChanges, JobChanges, NewAsset, NewAssetMeta, NewJob
from forge_http.dependencies import Caller, Paging, ParentFilter, PathId, Services
from forge_http.dto import AssetMetaOut, AssetOut, JobOut, to_dto, to_dtos


class JobController(Controller):
    path = "/jobs"
    tags = ["jobs"]

    @post("/")
    async def create(self, data: JSONBody[NewJob], principal: Caller, services: Services) -> JobOut:
        return to_dto(JobOut, await services.jobs.create(principal.user_id, data))

    @get("/", description="The caller's jobs, of one session if given, oldest first.")
    async def list(
        self,
        principal: Caller,
        services: Services,
        page: Paging,
        session_id: ParentFilter = None,
    ) -> list[JobOut]:
        return to_dtos(JobOut, await services.jobs.list(principal.user_id, page, session_id))

    @get("/{job_id:uuid}")
    async def read(self, job_id: PathId, principal: Caller, services: Services) -> JobOut:
        return to_dto(JobOut, await services.jobs.get(principal.user_id, job_id))

    @patch("/{job_id:uuid}", description="A `status` here is a lifecycle step; 409 if invalid.")
    async def update(
        self, job_id: PathId, data: JSONBody[JobChanges], principal: Caller, services: Services
    ) -> JobOut:
        return to_dto(JobOut, await services.jobs.update(principal.user_id, job_id, data))

    @post("/{job_id:uuid}/start", status_code=200, description="pending -> running")
    async def start(self, job_id: PathId, principal: Caller, services: Services) -> JobOut:
        return to_dto(JobOut, await services.jobs.start(principal.user_id, job_id))

    @post("/{job_id:uuid}/complete", status_code=200, description="running -> succeeded|failed")
    async def complete(
        self,
        job_id: PathId,
        principal: Caller,
        services: Services,
        success: Annotated[bool, QueryParameter(description="false marks it failed")] = True,
    ) -> JobOut:
        return to_dto(JobOut, await services.jobs.complete(principal.user_id, job_id, success))

    @delete("/{job_id:uuid}", description="Deletes the job, its assets and their meta.")
    async def remove(self, job_id: PathId, principal: Caller, services: Services) -> None:
        await services.jobs.delete(principal.user_id, job_id)


class AssetController(Controller):
    path = "/assets"
    tags = ["assets"]

    @post("/")
    async def create(
        self, data: JSONBody[NewAsset], principal: Caller, services: Services
    ) -> AssetOut:
        return to_dto(AssetOut, await services.assets.create(principal.user_id, data))

    @get("/", description="The caller's assets, of one job if given, oldest first.")
    async def list(
        self,
        principal: Caller,
        services: Services,
        page: Paging,
        job_id: ParentFilter = None,
    ) -> list[AssetOut]:
        return to_dtos(AssetOut, await services.assets.list(principal.user_id, page, job_id))

    @get("/{asset_id:uuid}")
    async def read(self, asset_id: PathId, principal: Caller, services: Services) -> AssetOut:
        return to_dto(AssetOut, await services.assets.get(principal.user_id, asset_id))

    @delete("/{asset_id:uuid}", description="Deletes the asset and its meta.")
    async def remove(self, asset_id: PathId, principal: Caller, services: Services) -> None:
        await services.assets.delete(principal.user_id, asset_id)


class AssetMetaController(Controller):
    path = "/asset-meta"
    tags = ["asset-meta"]

    @post("/")
    async def create(
        self, data: JSONBody[NewAssetMeta], principal: Caller, services: Services
    ) -> AssetMetaOut:
        return to_dto(AssetMetaOut, await services.asset_metas.create(principal.user_id, data))

    @get("/", description="The caller's asset meta, of one asset if given, oldest first.")
    async def list(
        self,
        principal: Caller,
        services: Services,
        page: Paging,
        asset_id: ParentFilter = None,
    ) -> list[AssetMetaOut]:
        found = await services.asset_metas.list(principal.user_id, page, asset_id)
        return to_dtos(AssetMetaOut, found)

    @get("/{meta_id:uuid}")
    async def read(self, meta_id: PathId, principal: Caller, services: Services) -> AssetMetaOut:
        return to_dto(AssetMetaOut, await services.asset_metas.get(principal.user_id, meta_id))

    @patch("/{meta_id:uuid}")
    async def update(
        self,
        meta_id: PathId,
        data: JSONBody[AssetMetaChanges],
        principal: Caller,
        services: Services,
    ) -> AssetMetaOut:
        updated = await services.asset_metas.update(principal.user_id, meta_id, data)
        return to_dto(AssetMetaOut, updated)

    @delete("/{meta_id:uuid}")
    async def remove(self, meta_id: PathId, principal: Caller, services: Services) -> None:
        await services.asset_metas.delete(principal.user_id, meta_id)
