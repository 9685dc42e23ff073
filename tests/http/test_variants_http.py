"""Parameters and variants over HTTP: a job's SCAD parameters are listed, a variant is a
new job (same session and chat, ``variant_of`` the first) whose SCAD differs only in the
assignments asked for; bad values are 422 naming the parameter and store nothing."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.http.conftest import User, create, sign_up
from tests.http.test_pipeline_http import finished

needs_openscad = pytest.mark.skipif(shutil.which("openscad") is None, reason="no openscad")
anyio = pytest.mark.anyio

SCAD = """/* [Size] */
// the cube's side
side = 4; // [1:0.5:40]
// how many cubes in a row
count = 2; // [1:1:5]
/* [Hidden] */
gap = 3;

for (i = [0 : count - 1]) translate([i * (side + gap), 0, 0]) cube(side);
"""


async def scad_job(client: AsyncTestClient[Any], user: User, scad: str = SCAD) -> Any:
    session = await create(client, user, "/sessions", {"name": "s"})
    chat = await create(client, user, "/chats", {"session_id": session["id"], "title": "c"})
    spec = {"scad_code": scad, "chat_id": chat["id"]}
    job = await create(client, user, "/jobs", {"session_id": session["id"], "prompt": "cubes",
                                                "spec": spec})  # fmt: skip
    return job


async def scad_of(client: AsyncTestClient[Any], user: User, job_id: str) -> str:
    assets = await client.get("/assets", params={"job_id": job_id}, headers=user.headers)
    [scad] = [a for a in assets.json() if a["asset_type"] == "scad"]
    got = await client.get(f"/assets/{scad['id']}/content", headers=user.headers)
    return str(got.text)


@anyio
async def test_the_parameters_of_a_jobs_scad(client: AsyncTestClient[Any]) -> None:
    alice = await sign_up(client, "alice@example.com")
    job = await scad_job(client, alice)
    got = await client.get(f"/jobs/{job['id']}/parameters", headers=alice.headers)
    assert got.status_code == 200, got.text
    assert got.json() == [
        {"name": "side", "value": 4, "type": "number", "min": 1, "max": 40, "step": 0.5,
         "options": None, "max_length": None, "group": "Size",
         "description": "the cube's side", "derived_range": False},
        {"name": "count", "value": 2, "type": "number", "min": 1, "max": 5, "step": 1,
         "options": None, "max_length": None, "group": "Size",
         "description": "how many cubes in a row", "derived_range": False},
    ]  # fmt: skip


@anyio
@needs_openscad
async def test_a_variant_and_a_variant_of_it(client: AsyncTestClient[Any]) -> None:
    alice = await sign_up(client, "alice@example.com")
    job = await scad_job(client, alice)
    await client.post(f"/jobs/{job['id']}/start", headers=alice.headers)
    assert (await finished(client, alice, job["id"]))["status"] == "succeeded"

    made = await client.post(f"/jobs/{job['id']}/variants", json={"parameters": {"side": 6.5}},
                             headers=alice.headers)  # fmt: skip
    assert made.status_code == 201, made.text
    variant = made.json()
    assert (variant["status"], variant["variant_of"]) == ("running", job["id"])
    assert variant["variant_parameters"] == {"side": 6.5}
    assert (variant["session_id"], variant["spec"]["chat_id"]) == (
        job["session_id"], job["spec"]["chat_id"])  # fmt: skip
    done = await finished(client, alice, variant["id"])
    assert done["status"] == "succeeded", done["error"]
    lines = (await scad_of(client, alice, variant["id"])).splitlines()
    changed = [(a, b) for a, b in zip(SCAD.splitlines(), lines, strict=True) if a != b]
    assert changed == [("side = 4; // [1:0.5:40]", "side = 6.5; // [1:0.5:40]")]

    body = {"parameters": {"count": 3}}
    second = await client.post(f"/jobs/{variant['id']}/variants", json=body, headers=alice.headers)
    assert second.status_code == 201, second.text
    assert (await finished(client, alice, second.json()["id"]))["status"] == "succeeded"
    both = await scad_of(client, alice, second.json()["id"])
    assert "side = 6.5;" in both and "count = 3;" in both

    listed = await client.get("/jobs", params={"variant_of": job["id"]}, headers=alice.headers)
    assert [j["id"] for j in listed.json()] == [variant["id"]]
    listed = await client.get("/jobs", params={"variant_of": variant["id"]}, headers=alice.headers)
    assert [j["id"] for j in listed.json()] == [second.json()["id"]]


@anyio
@pytest.mark.parametrize(
    ("values", "detail"),
    [
        ({"sid": 5}, "parameters.sid: no such parameter; this model has: side, count"),
        ({"side": "5"}, "parameters.side: must be a number"),
        ({"side": 41}, "parameters.side: must be between 1 and 40; got 41"),
        ({"count": 2.5}, "parameters.count: must be 1 plus a multiple of 1"),
        ({"gap": 4}, "parameters.gap: no such parameter; this model has: side, count"),
        ({}, "parameters: name at least one parameter to change"),
    ],
)
async def test_bad_values_are_422_naming_the_parameter_and_store_nothing(
    client: AsyncTestClient[Any], values: dict[str, Any], detail: str
) -> None:
    alice = await sign_up(client, "alice@example.com")
    job = await scad_job(client, alice)
    before = (await client.get("/jobs", headers=alice.headers)).json()
    got = await client.post(f"/jobs/{job['id']}/variants", json={"parameters": values},
                            headers=alice.headers)  # fmt: skip
    assert got.status_code == 422, got.text
    assert got.json()["detail"] == detail
    assert (await client.get("/jobs", headers=alice.headers)).json() == before


@anyio
async def test_another_users_job_is_not_found_and_bad_scad_is_named(
    client: AsyncTestClient[Any],
) -> None:
    alice, bob = await sign_up(client, "alice@example.com"), await sign_up(client, "b@example.com")
    job = await scad_job(client, alice)
    variant = {"parameters": {"side": 5}}
    for method, path, body in (("GET", "parameters", None), ("POST", "variants", variant)):
        got = await client.request(
            method, f"/jobs/{job['id']}/{path}", json=body, headers=bob.headers
        )
        assert got.status_code == 404, got.text
    listed = await client.get("/jobs", params={"variant_of": job["id"]}, headers=bob.headers)
    assert listed.status_code == 404
    broken = await scad_job(client, alice, "a = 1;\ncube(;\n")
    got = await client.get(f"/jobs/{broken['id']}/parameters", headers=alice.headers)
    assert got.status_code == 422
    assert got.json()["detail"].startswith(
        "scad_code: the SCAD does not parse: syntax error at line 2"
    )
