"""JSON nested past 64 levels is a 400 naming the field, in every JSON field and body,
and nothing is stored; up to the limit it is kept as sent."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from forge_core.json_depth import MAX_JSON_DEPTH
from tests.http.conftest import User, make_tree, snapshot

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Any]


def nested(levels: int) -> dict[str, Any]:
    """An object ``levels`` deep: {"a": {"a": ... {} ...}}."""
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


# (method, path, body with DEEP where the nested value goes, the field named)
FIELDS: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/sessions", {"name": "x", "metadata_json": "DEEP"}, "metadata_json"),
    ("PATCH", "/sessions/{session}", {"metadata_json": "DEEP"}, "metadata_json"),
    ("POST", "/messages", {"chat_id": "{chat}", "role": "user", "content": "x",
                           "metadata_json": "DEEP"}, "metadata_json"),
    ("POST", "/jobs", {"session_id": "{session}", "prompt": "x", "spec": "DEEP"}, "spec"),
    ("PATCH", "/jobs/{job}", {"spec": "DEEP"}, "spec"),
    ("POST", "/asset-meta", {"asset_id": "{asset}", "material_json": "DEEP"}, "material_json"),
    ("PATCH", "/asset-meta/{meta}", {"image_paths_json": ["DEEP"]}, "image_paths_json"),
    ("POST", "/chats/{chat}/runpod", {"action": "health", "requirements_json": "DEEP"},
     "requirements_json"),
]  # fmt: skip


def fill(value: Any, ids: dict[str, str], deep: dict[str, Any]) -> Any:
    if value == "DEEP":
        return deep
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: fill(v, ids, deep) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids, deep) for v in value]
    return value


@pytest.mark.parametrize("case", FIELDS, ids=lambda c: f"{c[0]} {c[1]} {c[3]}")
async def test_a_field_nested_400_deep_is_a_400_naming_it(
    client: Client, alice: User, case: tuple[str, str, dict[str, Any], str]
) -> None:
    ids = await make_tree(client, alice)
    before = await snapshot(client, alice)
    method, path, body, field = case
    response = await client.request(
        method, path.format(**ids), json=fill(body, ids, nested(400)), headers=alice.headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == f"{field}: JSON nested more than 64 levels deep"
    assert await snapshot(client, alice) == before


async def test_the_limit_is_64_levels_counting_the_body(client: Client, alice: User) -> None:
    assert MAX_JSON_DEPTH == 64  # what docs/configuration.md says
    at_limit = {"name": "x", "metadata_json": nested(63)}  # the body is level 1
    created = await client.post("/sessions", json=at_limit, headers=alice.headers)
    assert created.status_code == 201, created.text
    assert created.json()["metadata_json"] == nested(63)
    read = await client.get(f"/sessions/{created.json()['id']}", headers=alice.headers)
    assert read.json()["metadata_json"] == nested(63)
    past = await client.post(
        "/sessions", json={"name": "x", "metadata_json": nested(64)}, headers=alice.headers
    )
    assert past.status_code == 400 and "metadata_json" in past.json()["detail"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b'{"name": "x", "metadata_json": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001,
         "metadata_json"),
        (b'{"name": "x", "metadata_json": {"k": "[[[{{"}, "tags": ' + b"[" * 100_000
         + b"]" * 100_000 + b"}", "tags"),
        (b"[" * 100_000 + b"]" * 100_000, "request body"),
        (b"[" * 100 + b"]" * 100, "request body"),
    ],
    ids=["field 100k deep", "brackets in strings", "body 100k deep", "body 100 deep"],
)  # fmt: skip
async def test_a_body_too_deep_to_decode_is_a_400_naming_the_field(
    client: Client, alice: User, body: bytes, named: str
) -> None:
    before = await snapshot(client, alice)
    response = await client.post(
        "/sessions", content=body, headers={**alice.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == f"{named}: JSON nested more than 64 levels deep"
    assert await snapshot(client, alice) == before
