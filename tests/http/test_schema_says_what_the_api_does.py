"""What the OpenAPI schema promises is what the API answers: a generated client (or a
gateway that trusts the schema) never meets a surprise. Each case here is one that the
outside conformance run (tests/e2e/test_conformance.py) once found."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import AsyncTestClient

from forge_core.components import NOT_BLANK
from forge_core.nul_free import NUL_FREE
from forge_core.storage_keys import CONTENT_TYPES
from tests.http.conftest import User, make_tree, snapshot

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Any]
METHODS = {"get", "put", "post", "delete", "patch", "head"}


async def openapi(client: Client) -> dict[str, Any]:
    return (await client.get("http://testserver.local/schema/openapi.json")).json()  # type: ignore[no-any-return]


def allowed(response: Any) -> set[str]:
    return {method.strip() for method in response.headers["allow"].split(",")}


async def test_options_and_405_list_every_method_the_path_serves(
    client: Client, alice: User
) -> None:
    paths = (await openapi(client))["paths"]
    for template, operations in paths.items():
        documented = {m.upper() for m in operations if m in METHODS} | {"OPTIONS"}
        path = re.sub(r"\{[^}]+\}", str(uuid4()), template).removeprefix("/api/v1")
        options = await client.options(path, headers=alice.headers)
        assert options.status_code == 204 and allowed(options) == documented, template
        unserved = next(m for m in ("PUT", "PATCH", "DELETE", "POST") if m not in documented)
        refused = await client.request(unserved, path, headers=alice.headers)
        assert refused.status_code == 405 and allowed(refused) == documented, template


def strings(schema: Any) -> list[dict[str, Any]]:
    """Every string schema in ``schema``, however deep."""
    found = []
    if isinstance(schema, dict):
        if schema.get("type") == "string":
            found.append(schema)
        for key, value in schema.items():
            if key not in ("enum", "const", "default", "examples"):
                found += strings(value)
    elif isinstance(schema, list):
        for item in schema:
            found += strings(item)
    return found


def refuses_nul(schema: dict[str, Any]) -> bool:
    """The NUL-free pattern, a pattern that spells out \x00 in a class it excludes, or a
    value that cannot hold one (an enum, a format)."""
    patterns = [schema.get("pattern", "")] + [p.get("pattern", "") for p in schema.get("allOf", [])]
    excluded = any("[^" in p and "\\x00" in p for p in patterns)
    return NUL_FREE in patterns or excluded or bool({"enum", "const", "format"} & schema.keys())


async def test_every_request_string_in_the_schema_refuses_nul(client: Client) -> None:
    schema = await openapi(client)
    bodies = [
        media["schema"]
        for operation in (op for ops in schema["paths"].values() for op in ops.values())
        if isinstance(operation, dict)
        for media in operation.get("requestBody", {}).get("content", {}).values()
    ]
    components = schema["components"]["schemas"]
    referenced = {
        ref.rsplit("/", 1)[1] for ref in re.findall(r"#/components/schemas/\w+", str(bodies))
    }
    found = [s for name in referenced for s in strings(components[name])]
    assert found and [s for s in found if not refuses_nul(s)] == []
    free_form = components["NewSession"]["properties"]["metadata_json"]["anyOf"][0]
    assert free_form["propertyNames"]["pattern"] == NUL_FREE
    assert free_form["additionalProperties"] == {"$ref": "#/components/schemas/NulFreeJson"}


@pytest.mark.parametrize(
    "body",
    [
        {"email": "nul@example.com", "password": "secret", "display_name": "a\x00b"},
        {"email": "nul@example.com", "password": "sec\x00ret"},
    ],
)
async def test_nul_in_a_registration_is_a_400_naming_the_field(
    client: Client, body: dict[str, Any]
) -> None:
    response = await client.post("/auth/register", json=body)
    assert response.status_code == 400
    assert "may not contain NUL" in response.json()["detail"]
    login = await client.post("/auth/login", json={"email": body["email"], "password": "secret"})
    assert login.status_code == 401  # nobody was registered


def test_not_blank_is_pythons_whitespace_spelled_out() -> None:
    # The catalog strips with str.strip(); the schema's pattern must agree on every
    # character, which JavaScript's (and so JSON Schema's) \s does not.
    assert "\\s" not in NOT_BLANK.lower()  # a class shorthand means something else in each
    pattern = re.compile(NOT_BLANK)
    assert [
        c for c in range(0x110000) if (pattern.search(chr(c)) is None) != chr(c).isspace()
    ] == []


COMPONENT = {"name": "M3 insert", "category": "insert", "source": "a datasheet"}


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"aliases": ["\x1c"]}, "aliases.0: may not be blank"),
        ({"hole_patterns": [{"hole_diameter": 3, "positions": [[0.0, False]]}]},
         "hole_patterns.0.positions.0.1: must be a number"),
        ({"dimensions_mm": {"length": True}}, "dimensions_mm.length: must be a number"),
    ],
)  # fmt: skip
async def test_a_component_the_schema_refuses_is_refused(
    client: Client, alice: User, change: dict[str, Any], detail: str
) -> None:
    response = await client.post("/components", json={**COMPONENT, **change}, headers=alice.headers)
    assert response.status_code == 400
    assert response.json()["detail"] == detail


@pytest.mark.parametrize("field", ["component_of", "is_composite_of"])
async def test_a_body_naming_a_missing_asset_is_a_404_naming_the_field(
    client: Client, alice: User, field: str
) -> None:
    ids = await make_tree(client, alice)
    before = await snapshot(client, alice)
    missing = str(uuid4())
    value = missing if field == "component_of" else [ids["asset"], missing]
    response = await client.post(
        "/asset-meta", json={"asset_id": ids["asset"], field: value}, headers=alice.headers
    )
    assert response.status_code == 404
    assert response.json()["detail"] == f"{field}: names an asset that does not exist"
    assert await snapshot(client, alice) == before


async def test_a_download_is_documented_in_every_media_type_it_answers(client: Client) -> None:
    content = (await openapi(client))["paths"]["/api/v1/assets/{asset_id}/content"]
    for method in ("get", "head"):
        documented = set(content[method]["responses"]["200"]["content"])
        assert documented == {*CONTENT_TYPES.values(), "application/octet-stream"}, method
