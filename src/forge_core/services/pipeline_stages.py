"""The pipeline's stages: render, qa, export, store (``JobRunner`` runs them in order).

Each stage turns the errors of the ports it calls into ``StageFailed``, which names the
stage and says why in words, so the job fails with a readable reason whatever broke.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from forge_core.entities import Asset, AssetMeta, Clock, Job, JsonObject, utc_now
from forge_core.errors import ForgeError
from forge_core.parts import part_names
from forge_core.ports import MeshFacts, MeshKit, ObjectStore, Renderer, Repository
from forge_core.qa import QAReport, qa_report
from forge_core.render_request import RenderRequest
from forge_core.storage_keys import content_type, object_key

DEFAULT_MATERIAL: JsonObject = {"type": "PLA"}


class StageFailed(Exception):
    """A stage could not finish: ``reason`` in words, and the QA report if QA ran."""

    def __init__(self, stage: str, reason: str, qa: JsonObject | None = None) -> None:
        super().__init__(f"{stage} failed: {reason}")
        self.stage, self.reason, self.qa = stage, reason, qa


@dataclass
class Model:
    """What the stages make of one job's SCAD, filled in stage by stage."""

    scad: str
    requirements: JsonObject | None
    whole: bytes = b""
    render_warnings: tuple[str, ...] = ()  # the whole model's (its parts repeat them)
    parts: dict[str, bytes] = field(default_factory=dict)
    facts: MeshFacts | None = None  # the whole model's
    report: QAReport | None = None
    part_facts: dict[str, MeshFacts] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # the whole model's, by type
    previews: dict[str, bytes] = field(default_factory=dict)  # each part's PNG


@dataclass
class Stored:
    """The records the store stage made, kept so a failure can remove them."""

    assets: list[Asset] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


class Stages:
    def __init__(
        self,
        repo: Repository,
        renderer: Renderer,
        mesh: MeshKit,
        store: ObjectStore,
        build_volume: tuple[float, float, float],
        clock: Clock = utc_now,
        new_id: Callable[[], UUID] = uuid4,
    ) -> None:
        self.repo, self.renderer, self.mesh, self.objects = repo, renderer, mesh, store
        self.build_volume, self.clock, self.new_id = build_volume, clock, new_id

    async def render(self, model: Model) -> None:
        """The whole model, then each named part alone; a model with one part is that part."""
        rendered = await _attempt("render", self.renderer.render(RenderRequest(model.scad)))
        model.whole, model.render_warnings = rendered.mesh, rendered.warnings
        names = part_names(model.scad)
        for name in names:
            if len(names) == 1:
                model.parts[name] = model.whole
                continue
            alone = RenderRequest(model.scad, part=name)
            model.parts[name] = (await _attempt("render", self.renderer.render(alone), name)).mesh

    async def qa(self, model: Model) -> None:
        model.facts = await _attempt("qa", self.mesh.inspect(model.whole))
        model.report = qa_report(
            model.facts, self.build_volume, model.requirements, model.render_warnings
        )
        if not model.report.passed:
            raise StageFailed("qa", "; ".join(model.report.failures), model.report.to_json())
        for name, stl in model.parts.items():
            model.part_facts[name] = await _attempt("qa", self.mesh.inspect(stl), name)

    async def export(self, model: Model) -> None:
        model.files = {"scad": model.scad.encode(), "stl": model.whole}
        for kind in ("glb", "3mf"):
            model.files[kind] = await _attempt("export", self.mesh.export(model.whole, kind))
        model.files["png"] = await _attempt("export", self.mesh.preview(model.whole))
        for name, stl in model.parts.items():
            model.previews[name] = await _attempt("export", self.mesh.preview(stl), name)

    async def store(self, job: Job, model: Model, stored: Stored) -> None:
        """Objects first, then their records, so no record names a missing object."""
        try:
            await self._store(job, model, stored)
        except ForgeError as exc:
            raise StageFailed("store", exc.detail) from exc

    async def _store(self, job: Job, model: Model, stored: Stored) -> None:
        whole = {kind: await self._asset(job, kind, f"model.{kind}", data, stored)
                 for kind, data in model.files.items()}  # fmt: skip
        parts: dict[str, tuple[Asset, Asset]] = {}
        for name, stl in model.parts.items():
            stl_asset = await self._asset(job, "stl", f"{name}.stl", stl, stored)
            png_asset = await self._asset(job, "png", f"{name}.png", model.previews[name], stored)
            parts[name] = (stl_asset, png_asset)
        assert model.facts is not None  # QA ran before the store stage
        await self._meta(job, model, whole["stl"], whole["png"], model.facts,
                         is_composite_of=[stl.id for stl, _ in parts.values()])  # fmt: skip
        for name, (stl_asset, png_asset) in parts.items():
            await self._meta(job, model, stl_asset, png_asset, model.part_facts[name],
                             part_name=name, component_of=whole["stl"].id)  # fmt: skip

    async def _asset(self, job: Job, kind: str, file: str, data: bytes, stored: Stored) -> Asset:
        asset_id = self.new_id()
        key = object_key(job.user_id, job.session_id, job.id, asset_id, file)
        stored.keys.append(key)
        uri = await self.objects.put(key, data, content_type(kind))
        now = self.clock()
        asset = Asset(id=asset_id, user_id=job.user_id, job_id=job.id, asset_type=kind,
                      uri=uri, created_at=now, updated_at=now)  # fmt: skip
        await self.repo.add(asset)
        stored.assets.append(asset)
        return asset

    async def _meta(
        self, job: Job, model: Model, stl: Asset, png: Asset, facts: MeshFacts, **fields: Any
    ) -> None:
        now = self.clock()
        meta = AssetMeta(
            id=self.new_id(),
            user_id=job.user_id,
            asset_id=stl.id,
            position_json=centre(facts),
            image_paths_json=[{"view": "isometric", "asset_id": str(png.id), "image_src": png.uri}],
            material_json=material(model.requirements),
            used_for_json=used_for(model.requirements),
            created_at=now,
            updated_at=now,
            **fields,
        )
        await self.repo.add(meta)

    async def undo(self, job: Job, stored: Stored) -> None:
        """Remove what a failed store stage left: records (their meta goes with them)
        and objects. Best effort: the job fails either way."""
        for asset in stored.assets:
            try:
                await self.repo.delete(Asset, asset.id, job.user_id)
            except ForgeError:
                continue
        for key in stored.keys:
            try:
                await self.objects.delete(key)
            except ForgeError:
                continue


async def _attempt(stage: str, call: Awaitable[Any], part: str | None = None) -> Any:
    """Await one port call; its ForgeError becomes the stage's failure."""
    try:
        return await call
    except ForgeError as exc:
        where = f"part '{part}': " if part else ""
        raise StageFailed(stage, where + exc.detail) from exc


def centre(facts: MeshFacts) -> JsonObject:
    mid = [round((lo + hi) / 2, 3) for lo, hi in zip(facts.bbox_min, facts.bbox_max, strict=True)]
    return {"x": mid[0], "y": mid[1], "z": mid[2]}


def material(requirements: JsonObject | None) -> JsonObject:
    """``requirements_json.material``: an object as given, a word as its type."""
    found = (requirements or {}).get("material")
    if isinstance(found, dict) and found:
        return dict(found)
    if isinstance(found, str) and found.strip():
        return {"type": found.strip()}
    return dict(DEFAULT_MATERIAL)


def used_for(requirements: JsonObject | None) -> list[str] | None:
    """``requirements_json.used_for`` (a list of words), else its ``primary_function``."""
    req = requirements or {}
    listed = req.get("used_for")
    if isinstance(listed, list) and all(isinstance(x, str) for x in listed) and listed:
        return [x for x in listed if x.strip()][:20] or None
    function = req.get("primary_function")
    return [function.strip()] if isinstance(function, str) and function.strip() else None
