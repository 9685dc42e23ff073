"""Variants through the services: the variant job runs in the pipeline like any job
with SCAD and reports to the original's chat; its model's size changes as asked."""

from __future__ import annotations

import shutil

import pytest

from forge_adapters.scad_parser import LalrScadParser
from forge_core.entities import Asset, JobStatus
from forge_core.services import Variants
from tests.unit.test_pipeline import OWNER, make_world, template

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(shutil.which("openscad") is None, reason="openscad is not installed"),
]


async def test_a_variant_runs_like_any_job_and_tells_the_chat() -> None:
    world = await make_world()
    requirements = {"model_type": "plate", "dimensions_mm": {"length": 120, "width": 80}}
    original = await world.jobs.submit_scad(OWNER, world.chat_id, template("plate"), requirements)
    await world.runner.run(OWNER, original.id)
    variants = Variants(world.repo, LalrScadParser(), queue=world.worker)

    variant = await variants.create(OWNER, original.id, {"length": 90, "hole_rows": 1})
    ended = await world.runner.run(OWNER, variant.id)

    assert ended is not None and ended.status is JobStatus.SUCCEEDED, ended and ended.error
    assert (ended.variant_of, ended.variant_parameters) == (
        original.id,
        {"length": 90, "hole_rows": 1},
    )
    assert ended.spec is not None and "run_id" not in ended.spec
    assert ended.spec["requirements_json"]["dimensions_mm"] == {"length": 90, "width": 80}
    assert ended.qa is not None and ended.qa["size_mm"][0] == pytest.approx(90, abs=0.01)
    events = [(t, d["job_id"]) for t, d in await world.chat_events()]
    assert ("job.completed", str(variant.id)) in events
    assert len(await world.repo.list(Asset, OWNER, where={"job_id": variant.id})) > 0
    found = {p.name: p.value for p in await variants.parameters(OWNER, variant.id)}
    assert (found["length"], found["hole_rows"], found["width"]) == (90, 1, 80)
