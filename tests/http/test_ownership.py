"""No route answers another user's object: it is a 404, exactly like a missing one."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import AsyncTestClient

from tests.http.conftest import SEED_META, User, make_tree, snapshot

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str:
    """These run on both databases: SQLite reads take a path of their own."""
    return str(request.param)


Client = AsyncTestClient[Any]

# (method, path template, body template): {kind} stands for an id of that kind.
ID_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/sessions/{session}", None),
    ("PATCH", "/sessions/{session}", {"name": "taken"}),
    ("DELETE", "/sessions/{session}", None),
    ("GET", "/chats/{chat}", None),
    ("PATCH", "/chats/{chat}", {"title": "taken"}),
    ("DELETE", "/chats/{chat}", None),
    ("GET", "/chats?session_id={session}", None),
    ("GET", "/messages/{message}", None),
    ("DELETE", "/messages/{message}", None),
    ("GET", "/messages?chat_id={chat}", None),
    ("GET", "/jobs/{job}", None),
    ("PATCH", "/jobs/{job}", {"status": "running"}),
    ("POST", "/jobs/{job}/start", None),
    ("POST", "/jobs/{job}/complete?success=true", None),
    ("DELETE", "/jobs/{job}", None),
    ("GET", "/jobs?session_id={session}", None),
    ("GET", "/assets/{asset}", None),
    ("DELETE", "/assets/{asset}", None),
    ("GET", "/assets?job_id={job}", None),
    ("GET", "/asset-meta/{meta}", None),
    ("PATCH", "/asset-meta/{meta}", {"part_name": "taken"}),
    ("DELETE", "/asset-meta/{meta}", None),
    ("GET", "/asset-meta?asset_id={asset}", None),
    ("POST", "/chats", {"session_id": "{session}", "title": "in"}),
    ("POST", "/messages", {"chat_id": "{chat}", "role": "user", "content": "in"}),
    ("POST", "/jobs", {"session_id": "{session}", "prompt": "in"}),
    ("POST", "/assets", {"job_id": "{job}", "asset_type": "stl", "uri": "file:///x.stl"}),
    ("POST", "/asset-meta", {"asset_id": "{asset}", **SEED_META}),
]

# Bob's own asset meta pointing at Alice's asset: refused like a missing asset.
REFERENCE_ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/asset-meta", {"asset_id": "{own_asset}", "component_of": "{asset}"}),
    ("POST", "/asset-meta", {"asset_id": "{own_asset}", "is_composite_of": ["{asset}"]}),
    ("PATCH", "/asset-meta/{own_meta}", {"component_of": "{asset}"}),
    ("PATCH", "/asset-meta/{own_meta}", {"is_composite_of": ["{own_asset}", "{asset}"]}),
]


def fill(template: Any, ids: dict[str, str]) -> Any:
    if isinstance(template, str):
        return template.format(**ids)
    if isinstance(template, list):
        return [fill(item, ids) for item in template]
    if isinstance(template, dict):
        return {key: fill(value, ids) for key, value in template.items()}
    return template


async def call(client: Client, user: User, route: tuple[str, str, Any], ids: dict[str, str]) -> Any:
    method, path, body = route
    return await client.request(
        method, fill(path, ids), json=fill(body, ids) if body else None, headers=user.headers
    )


@pytest.mark.parametrize("route", ID_ROUTES + REFERENCE_ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
async def test_another_users_object_is_answered_like_a_missing_one(
    client: Client, alice: User, bob: User, route: tuple[str, str, Any]
) -> None:
    theirs = await make_tree(client, alice)
    mine = await make_tree(client, bob)
    own = {"own_asset": mine["asset"], "own_meta": mine["meta"]}
    missing = {kind: str(uuid4()) for kind in theirs}
    before = await snapshot(client, alice), await snapshot(client, bob)

    foreign = await call(client, bob, route, {**theirs, **own})
    absent = await call(client, bob, route, {**missing, **own})

    assert foreign.status_code in (404, 422), foreign.text
    assert foreign.status_code == absent.status_code
    redacted = foreign.json()["detail"]
    for kind, value in theirs.items():
        redacted = redacted.replace(value, missing[kind])
    assert redacted == absent.json()["detail"]
    assert (await snapshot(client, alice), await snapshot(client, bob)) == before


async def test_lists_show_only_the_callers_records(client: Client, alice: User, bob: User) -> None:
    await make_tree(client, alice)
    mine = await make_tree(client, bob)
    for path, kind in (("/sessions", "session"), ("/messages", "message"), ("/jobs", "job"),
                       ("/assets", "asset"), ("/asset-meta", "meta")):  # fmt: skip
        listed = await client.get(path, headers=bob.headers)
        assert [row["id"] for row in listed.json()] == [mine[kind]], path
