"""The request models and the schema agree: what the schema calls valid is accepted."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from forge_core.commands import NewAsset, NewMessage, SessionChanges
from forge_http import Settings, build_container, create_app


def message(**fields: Any) -> NewMessage:
    return NewMessage(chat_id=uuid4(), role="user", content="hi", **fields)


def test_a_count_may_be_an_integral_float_but_not_a_string_or_fraction() -> None:
    assert message(tokens=2.0).tokens == 2
    for bad in ("2", 2.5, True, -1):
        with pytest.raises(ValidationError):
            message(tokens=bad)


def test_a_uri_refuses_control_characters_every_regex_engine_agrees_on() -> None:
    assert NewAsset(job_id=uuid4(), asset_type="stl", uri="s3://b/k.stl").uri
    for bad in ("x:a\x85", "x:a\ufeff", "x:a\x1c", "x:a b"):
        with pytest.raises(ValidationError):
            NewAsset(job_id=uuid4(), asset_type="stl", uri=bad)


def test_a_changes_schema_allows_null_only_where_the_model_does() -> None:
    properties = SessionChanges.model_json_schema()["properties"]
    assert properties["name"]["type"] == "string" and "anyOf" not in properties["name"]
    assert {"type": "null"} in properties["metadata_json"]["anyOf"]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    settings = Settings(_env_file=None, database_url="memory://", jwt_secret="x" * 40)  # type: ignore[call-arg]
    return create_app(build_container(settings)).openapi_schema.to_schema()


def test_public_operations_need_no_token_and_the_rest_do(schema: dict[str, Any]) -> None:
    paths = schema["paths"]
    assert paths["/api/v1/health"]["get"]["security"] == []
    assert paths["/api/v1/auth/login"]["post"]["security"] == []
    assert "security" not in paths["/api/v1/sessions"]["get"]  # the global bearer token
    assert schema["security"] == [{"BearerToken": []}]
    assert "/metrics" not in paths


def test_creates_link_their_new_id_to_reads_and_children(schema: dict[str, Any]) -> None:
    links = schema["paths"]["/api/v1/sessions"]["post"]["responses"]["201"]["links"]
    read = links["ApiV1SessionsSessionIdRead"]
    assert read == {
        "operationId": "ApiV1SessionsSessionIdRead",
        "parameters": {"path.session_id": "$response.body#/id"},
    }
    assert links["ApiV1ChatsCreate"]["requestBody"] == {"session_id": "$response.body#/id"}
    operation_ids = {op["operationId"] for item in schema["paths"].values() for op in item.values()}
    for path in ("sessions", "chats", "messages", "jobs", "assets", "asset-meta"):
        created = schema["paths"][f"/api/v1/{path}"]["post"]["responses"]["201"]["links"]
        assert created and set(created) <= operation_ids  # every link names a real operation


def test_request_models_refuse_unknown_fields_in_the_schema(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    for name in ("NewSession", "JobChanges", "RegisterIn", "LoginIn", "RunRequest"):
        assert components[name]["additionalProperties"] is False, name
    assert components["NewAsset"]["properties"]["asset_type"]["pattern"]
    assert components["RegisterIn"]["properties"]["password"]["minLength"] == 6


def test_ids_in_bodies_are_the_hyphenated_form_the_schema_names() -> None:
    chat_id = uuid4()
    assert message_json(str(chat_id)).chat_id == chat_id
    assert message_json(str(chat_id).upper()).chat_id == chat_id
    for bad in (chat_id.hex, f"{{{chat_id}}}", f"urn:uuid:{chat_id}"):
        with pytest.raises(ValidationError, match="must be a UUID"):
            message_json(bad)


def message_json(chat_id: str) -> NewMessage:
    body = {"chat_id": chat_id, "role": "user", "content": "hi"}
    return NewMessage.model_validate_json(json.dumps(body))
