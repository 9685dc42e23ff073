"""Bad input: a clear 4xx naming the problem, and nothing stored changes."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.http.conftest import User, make_tree, snapshot

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Any]

# (method, path, body, the word the detail must contain)
BAD_BODIES: list[tuple[str, str, Any, str]] = [
    ("POST", "/sessions", {"name": "x", "id": "{session}"}, "id"),
    ("POST", "/sessions", {"name": "x", "user_id": "{session}"}, "user_id"),
    ("POST", "/sessions", {"name": "x", "created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ("POST", "/sessions", {"name": ""}, "name"),
    ("POST", "/sessions", {"name": "x", "metadata_json": [1, 2]}, "metadata_json"),
    ("POST", "/sessions", {"status": "active"}, "name"),
    ("POST", "/sessions", {"name": "a\x00b"}, "name"),
    ("POST", "/sessions", {"name": "x", "metadata_json": {"k": ["\x00"]}}, "metadata_json"),
    ("PATCH", "/sessions/{session}", {"name": None}, "name"),
    ("PATCH", "/sessions/{session}", {"metadata_json": "text"}, "metadata_json"),
    ("POST", "/chats", {"session_id": "not-a-uuid"}, "session_id"),
    ("POST", "/messages", {"chat_id": "{chat}", "role": "user", "content": "x", "tokens": -1},
     "tokens"),
    ("POST", "/messages", {"chat_id": "{chat}", "role": "user", "content": "x", "tokens": "5"},
     "tokens"),
    ("POST", "/messages", {"chat_id": "{chat}", "role": "robot", "content": "x"}, "role"),
    ("POST", "/messages", {"chat_id": "{chat}", "role": "user", "content": "x", "tokens": 2**80},
     "tokens"),
    ("POST", "/jobs", {"session_id": "{session}", "prompt": "x", "status": "succeeded"}, "status"),
    ("POST", "/jobs", {"session_id": "{session}", "prompt": "x", "output_format": "exe"},
     "output_format"),
    ("PATCH", "/jobs/{job}", {"status": "done"}, "status"),
    ("PATCH", "/jobs/{job}", {"started_at": "2020-01-01T00:00:00Z"}, "started_at"),
    ("POST", "/assets", {"job_id": "{job}", "asset_type": "glb", "uri": "no scheme"}, "uri"),
    ("POST", "/asset-meta", {"asset_id": "{asset}", "position_json": {"x": 0, "y": 0}},
     "position_json"),
    ("POST", "/asset-meta", {"asset_id": "{asset}", "position_json": {"x": "0", "y": 0, "z": 0}},
     "position_json"),
    ("POST", "/asset-meta", {"asset_id": "{asset}", "used_for_json": "air"}, "used_for_json"),
    ("POST", "/asset-meta", {"asset_id": "{asset}", "is_composite_of": ["nope"]},
     "is_composite_of"),
    ("PATCH", "/asset-meta/{meta}", {"asset_id": "{asset}"}, "asset_id"),
    ("PATCH", "/asset-meta/{meta}", {"image_paths_json": {"a": 1}}, "image_paths_json"),
]  # fmt: skip


def fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize("case", BAD_BODIES, ids=lambda c: f"{c[0]} {c[1]} {c[3]}")
async def test_a_bad_body_names_the_field_and_changes_nothing(
    client: Client, alice: User, case: tuple[str, str, Any, str]
) -> None:
    ids = await make_tree(client, alice)
    before = await snapshot(client, alice)
    method, path, body, field = case
    response = await client.request(
        method, fill(path, ids), json=fill(body, ids), headers=alice.headers
    )
    assert response.status_code in (400, 422), response.text
    assert field in response.json()["detail"]
    assert await snapshot(client, alice) == before


async def test_malformed_json_is_a_400(client: Client, alice: User) -> None:
    response = await client.post(
        "/sessions",
        content=b'{"name": ',
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["detail"]


async def test_a_body_over_one_mebibyte_is_a_413(client: Client, alice: User) -> None:
    huge = {"name": "big", "metadata_json": {"blob": "x" * (1024 * 1024 + 1)}}
    response = await client.post("/sessions", json=huge, headers=alice.headers)
    assert response.status_code == 413
    assert response.json()["detail"]
    assert (await client.get("/sessions", headers=alice.headers)).json() == []


async def test_a_bad_path_id_is_a_4xx(client: Client, alice: User) -> None:
    response = await client.get("/sessions/not-a-uuid", headers=alice.headers)
    assert response.status_code in (400, 404)
    assert response.json()["detail"]


async def test_a_field_with_a_pattern_says_what_it_should_be_not_the_regex(
    client: Client, alice: User
) -> None:
    ids = await make_tree(client, alice)
    for body, detail in [
        ({"asset_type": "GL B", "uri": "s3://b/f"}, "asset_type: must be 1 to 32 lower-case"),
        ({"asset_type": "glb", "uri": "no scheme"}, "uri: not a URI (scheme:rest"),
    ]:
        response = await client.post(
            "/assets", json={"job_id": ids["job"], **body}, headers=alice.headers
        )
        assert response.status_code == 400
        assert response.json()["detail"].startswith(detail)
        assert "pattern" not in response.json()["detail"]
