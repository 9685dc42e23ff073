"""Response bodies as msgspec Structs: Litestar's fast serialization path.

Each mirrors a core entity field for field; ``to_dto`` copies one into the other.
"""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter
from typing import Annotated, Any, TypeVar
from uuid import UUID

import msgspec

from forge_core.nul_free import has_nul

T = TypeVar("T", bound=msgspec.Struct)


def to_dto(dto: type[T], entity: object) -> T:
    return dto(*attrgetter(*dto.__struct_fields__)(entity))


def to_dtos(dto: type[T], entities: list[Any]) -> list[T]:
    fields_of = attrgetter(*dto.__struct_fields__)
    return [dto(*fields_of(entity)) for entity in entities]


class SessionOut(msgspec.Struct):
    id: UUID
    user_id: UUID
    name: str
    status: str
    metadata_json: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


class ChatOut(msgspec.Struct):
    id: UUID
    user_id: UUID
    session_id: UUID
    title: str | None
    created_at: datetime
    updated_at: datetime


class MessageOut(msgspec.Struct):
    id: UUID
    user_id: UUID
    chat_id: UUID
    role: str
    content: str
    tokens: int | None
    metadata_json: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


class JobOut(msgspec.Struct):
    id: UUID
    user_id: UUID
    session_id: UUID
    prompt: str
    output_format: str
    status: str
    spec: dict[str, Any] | None
    started_at: datetime | None
    completed_at: datetime | None
    qa: dict[str, Any] | None
    error: str | None
    variant_of: UUID | None
    variant_parameters: dict[str, Any] | None
    repair_attempts: list[dict[str, Any]] | None
    created_at: datetime
    updated_at: datetime


class AssetOut(msgspec.Struct):
    id: UUID
    user_id: UUID
    job_id: UUID
    asset_type: str
    uri: str
    created_at: datetime
    updated_at: datetime


class AssetMetaOut(msgspec.Struct):
    id: UUID
    user_id: UUID
    asset_id: UUID
    part_name: str | None
    component_of: UUID | None
    position_json: dict[str, Any] | None
    image_paths_json: list[Any] | None
    material_json: dict[str, Any] | None
    is_composite_of: list[UUID] | None
    used_for_json: list[str] | None
    created_at: datetime
    updated_at: datetime


class UserOut(msgspec.Struct):
    id: UUID
    user_id: UUID
    email: str
    display_name: str | None
    created_at: datetime
    updated_at: datetime


# Control and format characters spelled out: Python's \s and JavaScript's differ on them.
_PART = r"[^@\s\x00-\x1f\x7f-\x9f\ufeff]+"
Email = Annotated[str, msgspec.Meta(pattern=rf"^{_PART}@{_PART}\.{_PART}$", max_length=320)]
Password = Annotated[str, msgspec.Meta(max_length=1024)]
# The providers' length rule, in the schema (so clients and the fuzzer know it) but left
# to the provider to enforce: it answers 422 naming its own reason.
NewPassword = Annotated[str, msgspec.Meta(max_length=256, extra_json_schema={"minLength": 6})]


class _AuthIn(msgspec.Struct, forbid_unknown_fields=True):
    """An auth body: refused, naming the field, when a string holds U+0000, like every
    other request (forge_core.nul_free)."""

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            if has_nul(getattr(self, name)):
                raise ValueError(f"{name} may not contain NUL (U+0000) characters")


class RegisterIn(_AuthIn, forbid_unknown_fields=True):
    email: Email
    password: NewPassword
    display_name: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class LoginIn(_AuthIn, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(max_length=320)]
    password: Password


class RefreshIn(_AuthIn, forbid_unknown_fields=True):
    refresh_token: str


class RegisteredOut(msgspec.Struct):
    message: str
    user_id: UUID
    email: str


class TokensOut(msgspec.Struct):
    access_token: str
    refresh_token: str
    token_type: str
    user_id: UUID
    expires_in: int


class MessageResult(msgspec.Struct):
    message: str


class RendererOut(msgspec.Struct):
    engine: str
    version: str


class HealthOut(msgspec.Struct):
    status: str
    version: str
    checks: dict[str, str] = {}
    renderer: RendererOut | None = None


class RunQueuedOut(msgspec.Struct):
    """A run accepted and queued: ``message_id`` is the stored user message (None for
    ``health``)."""

    chat_id: UUID
    runpod_id: str | None
    message_id: UUID | None
    status: str


class RunResultOut(msgspec.Struct):
    """A run that ended (``sync``): the assistant message it stored, if any, its output
    as the backend returned it, or its error."""

    chat_id: UUID
    runpod_id: str | None
    status: str
    message: MessageOut | None
    output: Any
    error: str | None


class OptionOut(msgspec.Struct):
    value: Any
    label: str


class ParameterOut(msgspec.Struct):
    """One SCAD parameter (``forge_core.parameters.Parameter``), as clients show it."""

    name: str
    value: Any
    type: str
    min: float | None
    max: float | None
    step: float | None
    options: list[OptionOut] | None
    max_length: int | None
    group: str | None
    description: str | None
    derived_range: bool


def parameter_out(param: Any) -> ParameterOut:
    options = None
    if param.options is not None:
        options = [OptionOut(_plain(o.value), o.label) for o in param.options]
    return ParameterOut(
        param.name, _plain(param.value), param.type, param.min, param.max, param.step,
        options, param.max_length, param.group, param.description, param.derived_range,
    )  # fmt: skip


def _plain(value: Any) -> Any:
    """A literal as JSON: vectors as lists, whole numbers without a fraction."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
