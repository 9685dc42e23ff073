"""What a caller may send to create or change a record: pydantic models.

They hold only client-owned fields, so an id, an owner, a timestamp or a job status
outside the lifecycle can never come from a body; unknown fields are rejected. The
``*Changes`` models are partial updates: only the fields a caller set are applied, and
``null`` is accepted only where the record allows it.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any, ClassVar, Literal, Self
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from forge_core.entities import JobStatus, JsonObject
from forge_core.inference import SUPPORTED_ACTIONS
from forge_core.json_depth import deepest_field, nesting_problem
from forge_core.nul_free import has_nul

MAX_INT32 = 2**31 - 1  # the widest integer column every database stores

Name = Annotated[str, Field(min_length=1, max_length=200)]
Label = Annotated[str, Field(min_length=1, max_length=64)]
Text = Annotated[str, Field(max_length=200_000)]
Role = Literal["user", "assistant", "system", "tool"]
OutputFormat = Literal["stl", "glb", "3mf"]
AssetType = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.+-]{0,31}$")]
# Control characters and U+FEFF spelled out: regex engines disagree on whether they are \s.
Uri = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2048,
        pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f-\x9f\ufeff]+$",
    ),
]


def _whole(value: Any) -> Any:
    # Checked before pydantic's coercion, so "5" or true never pass as a count, in any mode.
    # 2.0 does: JSON (and its Schema's "integer") doesn't tell it from 2.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number")
    return value


def only_numbers(value: Any) -> Any:
    """A number as it came: a boolean (which pydantic would read as 0 or 1) is refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    return value


Whole = Annotated[int, BeforeValidator(_whole)]
Number = Annotated[int | float, BeforeValidator(only_numbers)]
# The bounds inside the check, so that the JSON Schema has them as minimum and maximum.
Count = Annotated[int, Field(ge=0, le=MAX_INT32), BeforeValidator(_whole)]
_UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def _canonical_uuid(value: Any) -> Any:
    # JSON Schema's "uuid" is the hyphenated form; pydantic alone would also take the
    # bare hex, braces and urn:uuid: forms, which the schema calls invalid.
    if isinstance(value, str) and not _UUID_TEXT.match(value):
        raise ValueError("must be a UUID like 123e4567-e89b-12d3-a456-426614174000")
    return value


Id = Annotated[UUID, BeforeValidator(_canonical_uuid)]
IdList = Annotated[list[Id], Field(max_length=100)]
Purposes = Annotated[list[Annotated[str, Field(max_length=500)]], Field(max_length=100)]
ImagePaths = Annotated[list[JsonObject | str], Field(max_length=100)]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _not_too_deep(cls, data: Any) -> Any:
        # Before any other check walks the values: a deep one would exhaust the stack.
        if isinstance(data, dict) and (name := deepest_field(data)) is not None:
            raise ValueError(nesting_problem(name))
        return data

    @model_validator(mode="after")
    def _no_nul_characters(self) -> Self:
        # No database stores U+0000 in text; refuse it here, naming the field
        # (forge_core.nul_free; the schema says it too).
        for name in type(self).model_fields:
            if has_nul(getattr(self, name)):
                raise ValueError(f"{name} may not contain NUL (U+0000) characters")
        return self


class Changes(Command):
    """A partial update; fields in ``NULLABLE`` may be set to null, the others may not."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Self:
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in self.NULLABLE:
                raise ValueError(f"{name} may not be null")
        return self

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        # The schema says what the validator does: null only where NULLABLE allows it.
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        for name, prop in target.get("properties", {}).items():
            options = prop.get("anyOf")
            if name not in cls.NULLABLE and options:
                kept = [o for o in options if o.get("type") != "null"]
                prop.pop("anyOf")
                prop.pop("default", None)
                prop.update(kept[0] if len(kept) == 1 else {"anyOf": kept})
        return schema

    def changed(self) -> dict[str, Any]:
        """The fields the caller set, as plain values."""
        return self.model_dump(exclude_unset=True)


class Position(Command):
    x: Number
    y: Number
    z: Number


class NewSession(Command):
    name: Name
    status: Label = "active"
    metadata_json: JsonObject | None = None


class SessionChanges(Changes):
    NULLABLE = frozenset({"metadata_json"})
    name: Name | None = None
    status: Label | None = None
    metadata_json: JsonObject | None = None


class NewChat(Command):
    session_id: Id
    title: Name | None = None


class ChatChanges(Changes):
    NULLABLE = frozenset({"title"})
    title: Name | None = None


class NewMessage(Command):
    chat_id: Id
    role: Role
    content: Text
    tokens: Count | None = None
    metadata_json: JsonObject | None = None


class NewJob(Command):
    session_id: Id
    prompt: Annotated[str, Field(min_length=1, max_length=20_000)]
    output_format: OutputFormat = "stl"
    spec: JsonObject | None = None


class NewVariant(Command):
    """``POST /jobs/{id}/variants``: new values for some of the job's SCAD parameters;
    each is checked against the parameter (``forge_core.parameters``)."""

    parameters: Annotated[dict[str, Any], Field(max_length=200)]


class JobChanges(Changes):
    """``status`` is not stored as given: it is a lifecycle step the service checks."""

    NULLABLE = frozenset({"spec"})
    prompt: Annotated[str, Field(min_length=1, max_length=20_000)] | None = None
    output_format: OutputFormat | None = None
    spec: JsonObject | None = None
    status: JobStatus | None = None


class NewAsset(Command):
    job_id: Id
    asset_type: AssetType
    uri: Uri


class _AssetMetaFields(Command):
    part_name: Name | None = None
    component_of: Id | None = None
    position_json: Position | None = None
    image_paths_json: ImagePaths | None = None
    material_json: JsonObject | None = None
    is_composite_of: IdList | None = None
    used_for_json: Purposes | None = None


class NewAssetMeta(_AssetMetaFields):
    asset_id: Id


class AssetMetaChanges(_AssetMetaFields, Changes):
    NULLABLE = frozenset(_AssetMetaFields.model_fields)


class HistoryTurn(Command):
    role: Role
    content: Text


def fingerprint(command: Command) -> str:
    """The SHA-256 of a command as validated (defaults filled in, keys sorted): two
    requests with the same meaning have the same one, however their JSON was spelled."""
    text = json.dumps(command.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class RunRequest(Command):
    """What ``POST /chats/{chat_id}/runpod`` (and the socket's ``runpod.request``) sends.

    ``action`` is checked (and ``process_scad`` normalized) by the service, so an unknown
    one is answered with the supported list; ``history`` None means "load the chat's".
    """

    # The schema lists the actions; the service still answers any other with that list.
    action: Annotated[
        str, Field(min_length=1, max_length=64, json_schema_extra={"enum": list(SUPPORTED_ACTIONS)})
    ]
    content: Text = ""
    history: Annotated[list[HistoryTurn], Field(max_length=1000)] | None = None
    requirements_json: JsonObject | None = None
    metadata_json: JsonObject | None = None
    sync: bool = False
