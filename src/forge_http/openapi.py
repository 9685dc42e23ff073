"""What the OpenAPI schema says beyond the handlers' signatures: errors, public operations,
links, and the request models' exact rules.

Every operation lists the error answers of the one exception handler (``Documented``).
Public routes answer ``security: []`` (the schema's default is the bearer token), so a
client or a fuzzer knows they need none. Each create's 201 response links the new
record's id to the operations that read, change or nest under it, which is how a client
generator (or Schemathesis' stateful run) learns that ``POST /sessions`` feeds
``GET /sessions/{session_id}``. Litestar builds each operation through the handler's
``operation_class``; these classes add the fields when it does. ``tighten`` then puts
each request model's own JSON Schema in the components (see its docstring).
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from litestar.openapi.spec import (
    Link,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIType
from pydantic import BaseModel

from forge_core import nul_free

NEW_ID = "$response.body#/id"

#: What the one exception handler answers (forge_http/errors.py), and when.
ERRORS = {
    "401": "Missing, invalid or expired token (or wrong credentials)",
    "403": "Not allowed",
    "404": "Not found, or another user's",
    "409": "Conflicts with the record's current state",
    "413": "Body too large",
    "422": "Well-formed but refused by a rule of the product",
    "429": "Rate limited; see Retry-After",
    "503": "A dependency is unavailable; retry later",
}
_ERROR_BODY = Schema(
    type=OpenAPIType.OBJECT,
    required=["status_code", "detail"],
    properties={
        "status_code": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
    },
)


@dataclass
class Documented(Operation):
    """An operation whose error answers are in the schema, as the exception handler gives them."""

    def __post_init__(self) -> None:
        responses = self.responses if self.responses is not None else {}
        for status, description in ERRORS.items():
            responses.setdefault(
                status,
                OpenAPIResponse(
                    description=description,
                    content={"application/json": OpenAPIMediaType(schema=_ERROR_BODY)},
                ),
            )
        self.responses = responses


@dataclass
class PublicOperation(Documented):
    """An operation anyone may call: no bearer token required."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.security = []


def _links(
    path: dict[str, list[str]], query: dict[str, list[str]], body: dict[str, list[str]]
) -> dict[str, Link]:
    links: dict[str, Link] = {}
    for param, operation_ids in path.items():
        for op in operation_ids:
            links[op] = Link(operation_id=op, parameters={f"path.{param}": NEW_ID})
    for param, operation_ids in query.items():
        for op in operation_ids:
            links[op] = Link(operation_id=op, parameters={f"query.{param}": NEW_ID})
    for field, operation_ids in body.items():
        for op in operation_ids:
            links[op] = Link(operation_id=op, request_body={field: NEW_ID})
    return links


def created(
    path: dict[str, list[str]] | None = None,
    query: dict[str, list[str]] | None = None,
    body: dict[str, list[str]] | None = None,
) -> type[Operation]:
    """An Operation class whose 201 response links the new id into the named operations.

    Each argument maps a parameter (or body field) name to the operation ids that take
    the new record's id there.
    """
    links = _links(path or {}, query or {}, body or {})

    @dataclass
    class CreateOperation(Documented):
        def __post_init__(self) -> None:
            super().__post_init__()
            response = (self.responses or {}).get("201")
            if response is not None and not isinstance(response, str):
                response.links = dict(links)  # type: ignore[union-attr]

    return CreateOperation


_V1 = "ApiV1"
SESSION_CREATED = created(
    path={"session_id": [f"{_V1}SessionsSessionId{v}" for v in ("Read", "Update", "Remove")]},
    query={"session_id": [f"{_V1}ChatsList", f"{_V1}JobsList"]},
    body={"session_id": [f"{_V1}ChatsCreate", f"{_V1}JobsCreate"]},
)
CHAT_CREATED = created(
    path={
        "chat_id": [
            *(f"{_V1}ChatsChatId{v}" for v in ("Read", "Update", "Remove")),
            f"{_V1}ChatsChatIdRunpodStartRun",
        ]
    },
    query={"chat_id": [f"{_V1}MessagesList"]},
    body={"chat_id": [f"{_V1}MessagesCreate"]},
)
MESSAGE_CREATED = created(
    path={"message_id": [f"{_V1}MessagesMessageId{v}" for v in ("Read", "Remove")]},
)
JOB_CREATED = created(
    path={
        "job_id": [
            *(f"{_V1}JobsJobId{v}" for v in ("Read", "Update", "Remove")),
            f"{_V1}JobsJobIdStartStart",
            f"{_V1}JobsJobIdCompleteComplete",
            f"{_V1}JobsJobIdParametersListParameters",
            f"{_V1}JobsJobIdVariantsMakeVariant",
        ]
    },
    query={"job_id": [f"{_V1}AssetsList"], "variant_of": [f"{_V1}JobsList"]},
    body={"job_id": [f"{_V1}AssetsCreate"]},
)
ASSET_CREATED = created(
    path={
        "asset_id": [
            *(f"{_V1}AssetsAssetId{v}" for v in ("Read", "Remove")),
            *(f"{_V1}AssetsAssetIdContent{v}" for v in ("Read", "Write", "Peek")),
        ]
    },
    query={"asset_id": [f"{_V1}AssetMetaList"]},
    body={"asset_id": [f"{_V1}AssetMetaCreate"]},
)
META_CREATED = created(
    path={"meta_id": [f"{_V1}AssetMetaMetaId{v}" for v in ("Read", "Update", "Remove")]},
)


def _source_types() -> dict[str, type]:
    from forge_core import commands, component_commands
    from forge_http import dto

    found: dict[str, type] = {}
    for module in (commands, component_commands, dto):
        found.update({k: v for k, v in vars(module).items() if isinstance(v, type)})
    return found


def tighten(openapi: OpenAPI) -> OpenAPI:
    """Say in the schema exactly what the request types enforce.

    Litestar's generation drops constraints (pydantic patterns, lengths of optional
    fields, ``extra="forbid"``, msgspec's ``extra_json_schema``), so each request model's
    component is its library's own JSON Schema (OpenAPI 3.1 is JSON Schema): pydantic's
    for the core's commands, msgspec's for the front end's structs that forbid unknown
    fields. Each also gets the rule no library states, that no string holds U+0000
    (``forge_core.nul_free``). A request the schema calls valid is then one the API accepts.
    """
    schemas = openapi.components.schemas
    if schemas is None:
        return openapi
    types = _source_types()
    for name in list(schemas):
        source = types.get(name)
        if source is None:
            continue
        if issubclass(source, BaseModel) and source.model_config.get("extra") == "forbid":
            found = source.model_json_schema(ref_template="#/components/schemas/{model}")
            for def_name, definition in found.pop("$defs", {}).items():
                nul_free.declare(definition)
                schemas[def_name] = definition
            nul_free.declare(found)
            schemas[name] = found  # type: ignore[assignment]  # a plain dict
        elif issubclass(source, msgspec.Struct) and source.__struct_config__.forbid_unknown_fields:
            _, made = msgspec.json.schema_components(
                [source], ref_template="#/components/schemas/{name}"
            )
            for made_name, definition in made.items():
                if made_name == name or made_name not in schemas:
                    nul_free.declare(definition)
                    schemas[made_name] = definition
    schemas[nul_free.JSON_VALUE_NAME] = nul_free.JSON_VALUE  # type: ignore[assignment]
    return openapi
