"""The pipeline over HTTP: a job with ``spec.scad_code`` is started, rendered by the
worker pool in the app's lifespan, and ends succeeded with its assets listed."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from forge_http.settings import SettingsError, load_settings
from tests.http.conftest import User, create, sign_up

needs_openscad = pytest.mark.skipif(shutil.which("openscad") is None, reason="no openscad")
anyio = pytest.mark.anyio


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str:
    """The job's qa and error columns must round-trip on both databases."""
    return str(request.param)


async def finished(client: AsyncTestClient[Any], user: User, job_id: str) -> dict[str, Any]:
    """Poll the job until the pipeline has ended it."""
    for _ in range(600):
        response = await client.get(f"/jobs/{job_id}", headers=user.headers)
        assert response.status_code == 200, response.text
        if response.json()["status"] not in ("pending", "running"):
            return dict(response.json())
        await asyncio.sleep(0.05)
    raise AssertionError("the job did not finish")


@anyio
@needs_openscad
async def test_a_started_scad_job_ends_with_its_assets(client: AsyncTestClient[Any]) -> None:
    alice = await sign_up(client, "alice@example.com")
    session = await create(client, alice, "/sessions", {"name": "s"})
    scad = '// forge:parts a, b\npart = "all";\n'
    scad += 'if (part != "b") cube(4);\nif (part != "a") translate([10, 0, 0]) cube(2);\n'
    job = await create(
        client, alice, "/jobs", {"session_id": session["id"], "prompt": "two cubes",
                                 "spec": {"scad_code": scad}},
    )  # fmt: skip
    started = await client.post(f"/jobs/{job['id']}/start", headers=alice.headers)
    assert started.status_code == 200 and started.json()["status"] == "running"

    done = await finished(client, alice, job["id"])

    assert done["status"] == "succeeded", done["error"]
    assert done["qa"]["passed"] is True and done["qa"]["bodies"] == 2
    assets = await client.get("/assets", params={"job_id": job["id"]}, headers=alice.headers)
    kinds = sorted(a["asset_type"] for a in assets.json())
    assert kinds == ["3mf", "glb", "png", "png", "png", "scad", "stl", "stl", "stl"]
    assert all(a["uri"].startswith("file://") for a in assets.json())
    metas = (await client.get("/asset-meta", headers=alice.headers)).json()
    assert sorted(str(m["part_name"]) for m in metas) == ["None", "a", "b"]
    again = await client.post(f"/jobs/{job['id']}/start", headers=alice.headers)
    assert again.status_code == 409


@anyio
@needs_openscad
async def test_bad_scad_ends_as_a_failed_job_not_an_error(client: AsyncTestClient[Any]) -> None:
    alice = await sign_up(client, "alice@example.com")
    session = await create(client, alice, "/sessions", {"name": "s"})
    spec = {"scad_code": "cube(1);\nsphere(;\n"}
    body = {"session_id": session["id"], "prompt": "x", "spec": spec}
    job = await create(client, alice, "/jobs", body)
    started = await client.post(f"/jobs/{job['id']}/start", headers=alice.headers)
    assert started.status_code == 200
    done = await finished(client, alice, job["id"])
    assert done["status"] == "failed"
    assert done["error"].startswith("render failed: scad: line 2: ")


def test_pipeline_settings() -> None:
    settings = load_settings(_env_file=None)
    assert settings.pipeline_workers == 2 and settings.build_volume == (256, 256, 256)
    assert load_settings(_env_file=None, build_volume="200X180x150.5").build_volume == (
        200,
        180,
        150.5,
    )
    for bad in ("256x256", "axbxc", "0x1x1", ""):
        with pytest.raises(SettingsError, match="FORGE_BUILD_VOLUME: must be three sizes"):
            load_settings(_env_file=None, build_volume=bad)
    with pytest.raises(SettingsError, match="FORGE_PIPELINE_WORKERS"):
        load_settings(_env_file=None, pipeline_workers=0)


def test_lease_settings() -> None:
    assert load_settings(_env_file=None).lease_seconds == 30
    assert load_settings(_env_file=None, lease_seconds="2").lease_seconds == 2
    for bad in (1, 31, 0, "soon"):
        with pytest.raises(SettingsError, match="invalid setting FORGE_LEASE_SECONDS"):
            load_settings(_env_file=None, lease_seconds=bad)
