"""The catalog API: search, read, and a user's own parts (shipped parts read-only,
another user's part a 404 like a missing one, refused input changes nothing)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.http.conftest import User, create

pytestmark = pytest.mark.anyio
Client = AsyncTestClient[Any]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str:
    return str(request.param)


PART = {
    "name": "Workshop gimbal plate",
    "category": "other",
    "source": "measured with calipers",
    "aliases": ["gimbal qx9 plate"],
    "dimensions_mm": {"length": 40, "width": 30, "thickness": 3},
    "hole_patterns": [{"hole_diameter": 3.2, "positions": [[-8, -8], [8, -8], [8, 8], [-8, 8]]}],
}


async def test_search_ranks_the_mentioned_parts_first(client: Client, alice: User) -> None:
    response = await client.get(
        "/components", params={"q": "5 inch quad, 20x20 stack, 2306 motors"}, headers=alice.headers
    )
    assert response.status_code == 200, response.text
    ids = [c["id"] for c in response.json()[:5]]
    assert {"fc-stack-20x20", "motor-2306", "prop-5inch"} <= set(ids)
    first = response.json()[0]
    assert first["shipped"] is True and first["score"] > 0 and first["matched"]


async def test_listing_filters_by_category_and_pages(client: Client, alice: User) -> None:
    url = "/components"
    page1 = (
        await client.get(url, params={"category": "bearing", "limit": 3}, headers=alice.headers)
    ).json()
    page2 = (
        await client.get(
            url, params={"category": "bearing", "limit": 3, "offset": 3}, headers=alice.headers
        )
    ).json()
    assert len(page1) == len(page2) == 3
    assert {c["category"] for c in page1 + page2} == {"bearing"}
    assert not {c["id"] for c in page1} & {c["id"] for c in page2}


async def test_a_shipped_part_reads_with_its_source_and_is_read_only(
    client: Client, alice: User
) -> None:
    response = await client.get("/components/board-raspberry-pi-4b", headers=alice.headers)
    assert response.status_code == 200
    pi = response.json()
    assert pi["dimensions_mm"]["length"] == 85 and pi["hole_patterns"][0]["spacing"] == [58, 49]
    assert "raspberrypi.com" in pi["source"]
    patched = await client.patch(
        "/components/board-raspberry-pi-4b", json={"name": "mine"}, headers=alice.headers
    )
    assert patched.status_code == 403
    assert (
        await client.delete("/components/bearing-608", headers=alice.headers)
    ).status_code == 403
    again = await client.get("/components/board-raspberry-pi-4b", headers=alice.headers)
    assert again.json() == pi


async def test_own_parts_are_searchable_changeable_and_private(
    client: Client, alice: User, bob: User
) -> None:
    made = await create(client, alice, "/components", PART)
    assert made["owner_id"] == alice.user_id and made["shipped"] is False
    path = f"/components/{made['id']}"
    found = await client.get("/components", params={"q": "qx9 gimbal"}, headers=alice.headers)
    assert found.json()[0]["id"] == made["id"]
    hidden = await client.get("/components", params={"q": "qx9 gimbal"}, headers=bob.headers)
    assert made["id"] not in [c["id"] for c in hidden.json()]
    for method, body in (("GET", None), ("PATCH", {"notes": "x"}), ("DELETE", None)):
        answer = await client.request(method, path, json=body, headers=bob.headers)
        assert answer.status_code == 404, (method, answer.text)
    changed = await client.patch(path, json={"notes": "v2", "aliases": []}, headers=alice.headers)
    assert changed.status_code == 200 and changed.json()["notes"] == "v2"
    assert changed.json()["name"] == PART["name"]
    assert (await client.delete(path, headers=alice.headers)).status_code == 204
    assert (await client.get(path, headers=alice.headers)).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "spaceship"}, "category"),
        ({"dimensions_mm": {"length": -1}}, "length"),
        ({"dimensions_mm": {"colour": 3}}, "colour"),
        ({"hole_patterns": [{"hole_diameter": 3, "positions": [[1, 2, 3]]}]}, "positions"),
        ({"name": "   "}, "name"),
        ({"owner_id": "00000000-0000-0000-0000-000000000000"}, "owner_id"),
    ],
)
async def test_bad_parts_are_refused_naming_the_field_and_nothing_is_stored(
    client: Client, alice: User, change: dict[str, Any], field: str
) -> None:
    before = await client.get("/components", params={"category": "other"}, headers=alice.headers)
    response = await client.post("/components", json={**PART, **change}, headers=alice.headers)
    assert response.status_code in (400, 422), response.text
    assert field in response.text
    after = await client.get("/components", params={"category": "other"}, headers=alice.headers)
    assert after.json() == before.json()


async def test_bad_queries_are_refused(client: Client, alice: User) -> None:
    for params in ({"category": "spaceship"}, {"limit": 0}, {"q": "x" * 2001}):
        response = await client.get("/components", params=params, headers=alice.headers)
        assert response.status_code == 400, (params, response.text)
    assert (await client.get("/components")).status_code == 401
