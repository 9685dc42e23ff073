"""The seed's record endpoints: bodies echoed, lists ordered and paged, jobs' lifecycle."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.http.conftest import SEED_META, User, create, make_tree

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str:
    """These run on both databases: SQLite reads take a path of their own."""
    return str(request.param)


Client = AsyncTestClient[Any]


async def test_session_round_trip_with_the_seed_bodies(client: Client, alice: User) -> None:
    body = {"name": "Design Session 1", "status": "active", "metadata_json": {"source": "web"}}
    session = await create(client, alice, "/sessions", body)
    assert {k: session[k] for k in body} == body
    assert session["user_id"] == alice.user_id
    assert {"id", "created_at", "updated_at"} <= set(session)

    patch = {"name": "Design Session 1 - Updated", "status": "inactive",
             "metadata_json": {"reason": "timeout"}}  # fmt: skip
    updated = await client.patch(f"/sessions/{session['id']}", json=patch, headers=alice.headers)
    assert updated.status_code == 200
    assert {k: updated.json()[k] for k in patch} == patch
    assert updated.json()["created_at"] == session["created_at"]
    assert updated.json()["updated_at"] > session["updated_at"]

    got = await client.get(f"/sessions/{session['id']}", headers=alice.headers)
    assert got.json() == updated.json()
    deleted = await client.delete(f"/sessions/{session['id']}", headers=alice.headers)
    assert deleted.status_code == 204
    gone = await client.get(f"/sessions/{session['id']}", headers=alice.headers)
    assert gone.status_code == 404


async def test_lists_are_oldest_first_and_paged(client: Client, alice: User) -> None:
    names = [f"s{i}" for i in range(7)]
    for name in names:
        await create(client, alice, "/sessions", {"name": name})
    listed = await client.get("/sessions", headers=alice.headers)
    assert [s["name"] for s in listed.json()] == names
    page = await client.get("/sessions", params={"limit": 3, "offset": 2}, headers=alice.headers)
    assert [s["name"] for s in page.json()] == names[2:5]
    for params in (
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
        {"offset": 10**20},
        {"limit": "x"},
    ):
        bad = await client.get("/sessions", params=params, headers=alice.headers)
        assert bad.status_code == 400, params
        assert next(iter(params)) in bad.json()["detail"]


async def test_children_answer_with_their_parent_and_filter_by_it(
    client: Client, alice: User
) -> None:
    ids = await make_tree(client, alice)
    other = await make_tree(client, alice)
    for path, field, parent in (
        ("/chats", "session_id", "session"),
        ("/messages", "chat_id", "chat"),
        ("/jobs", "session_id", "session"),
        ("/assets", "job_id", "job"),
        ("/asset-meta", "asset_id", "asset"),
    ):
        listed = await client.get(path, params={field: ids[parent]}, headers=alice.headers)
        assert listed.status_code == 200
        assert [row[field] for row in listed.json()] == [ids[parent]], path
    everything = await client.get("/messages", headers=alice.headers)
    assert {m["id"] for m in everything.json()} == {ids["message"], other["message"]}


async def test_listing_chats_requires_a_session_id(client: Client, alice: User) -> None:
    response = await client.get("/chats", headers=alice.headers)
    assert response.status_code == 400
    assert "session_id" in response.json()["detail"]


async def test_asset_meta_round_trip_and_patch(client: Client, alice: User) -> None:
    ids = await make_tree(client, alice)
    response = await client.get(f"/asset-meta/{ids['meta']}", headers=alice.headers)
    meta = response.json()
    assert {k: meta[k] for k in SEED_META} == SEED_META
    assert '"position_json":{"x":0,"y":0,"z":0}' in response.text  # numbers echo as sent
    body = {"part_name": "propeller v2", "material_json": {"type": "carbon", "thickness": "8mm"},
            "component_of": ids["asset"], "is_composite_of": [ids["asset"]]}  # fmt: skip
    updated = await client.patch(f"/asset-meta/{ids['meta']}", json=body, headers=alice.headers)
    assert updated.status_code == 200, updated.text
    assert {k: updated.json()[k] for k in body} == body
    assert updated.json()["used_for_json"] == SEED_META["used_for_json"]


async def test_job_lifecycle_through_every_route(client: Client, alice: User) -> None:
    ids = await make_tree(client, alice)
    job_id = ids["job"]
    job = (await client.get(f"/jobs/{job_id}", headers=alice.headers)).json()
    assert job["status"] == "pending" and job["started_at"] is None

    early = await client.post(f"/jobs/{job_id}/complete?success=true", headers=alice.headers)
    assert early.status_code == 409
    assert "'pending'" in early.json()["detail"] and "'succeeded'" in early.json()["detail"]

    running = await client.patch(
        f"/jobs/{job_id}", json={"status": "running"}, headers=alice.headers
    )
    assert running.status_code == 200 and running.json()["started_at"]
    again = await client.post(f"/jobs/{job_id}/start", headers=alice.headers)
    assert again.status_code == 409
    failed = await client.post(f"/jobs/{job_id}/complete?success=false", headers=alice.headers)
    assert failed.json()["status"] == "failed" and failed.json()["completed_at"]
    final = await client.patch(f"/jobs/{job_id}", json={"status": "running"}, headers=alice.headers)
    assert final.status_code == 409
    still = await client.get(f"/jobs/{job_id}", headers=alice.headers)
    assert still.json() == failed.json()


async def test_deleting_a_session_removes_everything_under_it(client: Client, alice: User) -> None:
    ids = await make_tree(client, alice)
    kept = await make_tree(client, alice)
    assert (
        await client.delete(f"/sessions/{ids['session']}", headers=alice.headers)
    ).status_code == 204
    for kind, path in (("chat", "/chats"), ("message", "/messages"), ("job", "/jobs"),
                       ("asset", "/assets"), ("meta", "/asset-meta")):  # fmt: skip
        assert (await client.get(f"{path}/{ids[kind]}", headers=alice.headers)).status_code == 404
        assert (await client.get(f"{path}/{kept[kind]}", headers=alice.headers)).status_code == 200


async def test_deleting_a_child_removes_its_own_children(client: Client, alice: User) -> None:
    ids = await make_tree(client, alice)
    await client.delete(f"/assets/{ids['asset']}", headers=alice.headers)
    assert (
        await client.get(f"/asset-meta/{ids['meta']}", headers=alice.headers)
    ).status_code == 404
    assert (await client.get(f"/jobs/{ids['job']}", headers=alice.headers)).status_code == 200
    await client.delete(f"/chats/{ids['chat']}", headers=alice.headers)
    assert (
        await client.get(f"/messages/{ids['message']}", headers=alice.headers)
    ).status_code == 404
    assert (
        await client.get(f"/sessions/{ids['session']}", headers=alice.headers)
    ).status_code == 200


async def test_health_and_schema_need_no_token(client: Client) -> None:
    assert (await client.get("/health")).json()["status"] == "ok"
    schema = await client.get("http://testserver.local/schema/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/jobs/{job_id}/complete" in paths
    assert "/api/v1/asset-meta/{meta_id}" in paths
