"""The SQL schema, as SQLModel tables whose column names are the entities' field names,
so a row becomes an entity with ``Kind(**row_mapping)``.

Every owned table has ``user_id`` (FK to users, ON DELETE CASCADE) and its parent's id
(FK, ON DELETE CASCADE), with an index per listing order: (owner, created_at, id) and
(parent, created_at, id). ``asset_meta.component_of`` is set to NULL when its asset goes.
``runs`` (InferenceRun) go with their user and chat; their message ids become NULL when
the message goes; (user_id, idempotency_key) is unique (NULL keys never clash).
``chat_events`` go with their chat and user.
``runs`` and ``jobs`` carry a lease (``lease_owner``, ``lease_expires_at``: which
replica works on the row until when; ``forge_adapters.sql.leases``). It is not part of
the entity, so readers select the entity's columns, never the whole row.
Change a table here, then add a migration (``alembic revision --autogenerate``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlmodel import Field, SQLModel

from forge_core.entities import (
    Asset,
    AssetMeta,
    Chat,
    JobStatus,
    JsonObject,
    Message,
    RunStatus,
    Session,
)
from forge_core.entities import Job as JobEntity

from .coltypes import Json, StrEnumText, UtcDateTime, UuidList

metadata = SQLModel.metadata


def _pk() -> Any:
    return Field(sa_column=Column(Uuid(), primary_key=True))


def _ref(table: str, column: str, target: str, ondelete: str = "CASCADE") -> Any:
    fk = ForeignKey(f"{target}.id", ondelete=ondelete, name=f"fk_{table}_{column}")
    nullable = ondelete == "SET NULL"
    return Field(default=None, sa_column=Column(Uuid(), fk, nullable=nullable))


def _str(*, nullable: bool = False, text: bool = False) -> Any:
    column = Column(Text() if text else String(), nullable=nullable)
    return Field(default=None, sa_column=column)


def _time(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UtcDateTime(), nullable=nullable))


def _json(kind: Any = Json) -> Any:
    return Field(default=None, sa_column=Column(kind(), nullable=True))


def _order_indexes(table: str, parent: str | None) -> tuple[Index, ...]:
    indexes = [Index(f"ix_{table}_owner_order", "user_id", "created_at", "id")]
    if parent is not None:
        indexes.append(Index(f"ix_{table}_parent_order", parent, "created_at", "id"))
    return tuple(indexes)


class UserRow(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("email", name="uq_users_email"),)
    id: UUID = _pk()
    email: str = _str()
    display_name: str | None = _str(nullable=True)
    password_hash: str | None = _str(nullable=True)
    created_at: datetime = _time()
    updated_at: datetime = _time()


class AuthSessionRow(SQLModel, table=True):
    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user_id", "user_id"),)
    id: UUID = _pk()
    user_id: UUID = _ref("auth_sessions", "user_id", "users")
    refresh_token_hash: str | None = _str(nullable=True)
    expires_at: datetime = _time()
    revoked_at: datetime | None = _time(nullable=True)
    created_at: datetime = _time()
    updated_at: datetime = _time()


class SessionRow(SQLModel, table=True):
    __tablename__ = "sessions"
    __table_args__ = _order_indexes("sessions", None)
    id: UUID = _pk()
    user_id: UUID = _ref("sessions", "user_id", "users")
    name: str = _str()
    status: str = _str()
    metadata_json: JsonObject | None = _json()
    created_at: datetime = _time()
    updated_at: datetime = _time()


class ChatRow(SQLModel, table=True):
    __tablename__ = "chats"
    __table_args__ = _order_indexes("chats", "session_id")
    id: UUID = _pk()
    user_id: UUID = _ref("chats", "user_id", "users")
    session_id: UUID = _ref("chats", "session_id", "sessions")
    title: str | None = _str(nullable=True)
    created_at: datetime = _time()
    updated_at: datetime = _time()


class MessageRow(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = _order_indexes("messages", "chat_id")
    id: UUID = _pk()
    user_id: UUID = _ref("messages", "user_id", "users")
    chat_id: UUID = _ref("messages", "chat_id", "chats")
    role: str = _str()
    content: str = _str(text=True)
    tokens: int | None = None
    metadata_json: JsonObject | None = _json()
    created_at: datetime = _time()
    updated_at: datetime = _time()


class JobRow(SQLModel, table=True):
    __tablename__ = "jobs"
    __table_args__ = (
        *_order_indexes("jobs", "session_id"),
        Index("ix_jobs_status_order", "status", "created_at", "id"),
        Index("ix_jobs_lease_owner", "lease_owner"),
        Index("ix_jobs_variant_order", "variant_of", "created_at", "id"),
    )
    id: UUID = _pk()
    user_id: UUID = _ref("jobs", "user_id", "users")
    session_id: UUID = _ref("jobs", "session_id", "sessions")
    prompt: str = _str(text=True)
    output_format: str = _str()
    status: JobStatus = Field(sa_column=Column(StrEnumText(JobStatus), nullable=False))
    spec: JsonObject | None = _json()
    started_at: datetime | None = _time(nullable=True)
    completed_at: datetime | None = _time(nullable=True)
    qa: JsonObject | None = _json()
    error: str | None = _str(nullable=True, text=True)
    variant_of: UUID | None = _ref("jobs", "variant_of", "jobs", "SET NULL")
    variant_parameters: JsonObject | None = _json()
    repair_attempts: list[Any] | None = _json()
    created_at: datetime = _time()
    updated_at: datetime = _time()
    lease_owner: str | None = _str(nullable=True)
    lease_expires_at: datetime | None = _time(nullable=True)


class AssetRow(SQLModel, table=True):
    __tablename__ = "assets"
    __table_args__ = _order_indexes("assets", "job_id")
    id: UUID = _pk()
    user_id: UUID = _ref("assets", "user_id", "users")
    job_id: UUID = _ref("assets", "job_id", "jobs")
    asset_type: str = _str()
    uri: str = _str(text=True)
    created_at: datetime = _time()
    updated_at: datetime = _time()


class AssetMetaRow(SQLModel, table=True):
    __tablename__ = "asset_meta"
    __table_args__ = (
        *_order_indexes("asset_meta", "asset_id"),
        Index("ix_asset_meta_component_of", "component_of"),
    )
    id: UUID = _pk()
    user_id: UUID = _ref("asset_meta", "user_id", "users")
    asset_id: UUID = _ref("asset_meta", "asset_id", "assets")
    part_name: str | None = _str(nullable=True)
    component_of: UUID | None = _ref("asset_meta", "component_of", "assets", "SET NULL")
    position_json: JsonObject | None = _json()
    image_paths_json: list[Any] | None = _json()
    material_json: JsonObject | None = _json()
    is_composite_of: list[UUID] | None = _json(UuidList)
    used_for_json: list[str] | None = _json()
    created_at: datetime = _time()
    updated_at: datetime = _time()


class RunRow(SQLModel, table=True):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_status_order", "status", "created_at", "id"),
        Index("ix_runs_owner_status", "user_id", "status"),
        Index("ix_runs_chat_id", "chat_id"),
        Index("uq_runs_owner_idempotency_key", "user_id", "idempotency_key", unique=True),
        Index("ix_runs_lease_owner", "lease_owner"),
    )
    id: UUID = _pk()
    user_id: UUID = _ref("runs", "user_id", "users")
    chat_id: UUID = _ref("runs", "chat_id", "chats")
    action: str = _str()
    prompt: str = _str(text=True)
    backend_run_id: str | None = _str(nullable=True)
    status: RunStatus = Field(sa_column=Column(StrEnumText(RunStatus), nullable=False))
    deadline: datetime = _time()
    user_message_id: UUID | None = _ref("runs", "user_message_id", "messages", "SET NULL")
    result_message_id: UUID | None = _ref("runs", "result_message_id", "messages", "SET NULL")
    error: str | None = _str(nullable=True, text=True)
    idempotency_key: str | None = _str(nullable=True)
    requirements_json: JsonObject | None = _json()
    created_at: datetime = _time()
    updated_at: datetime = _time()
    lease_owner: str | None = _str(nullable=True)
    lease_expires_at: datetime | None = _time(nullable=True)


class ChatEventRow(SQLModel, table=True):
    """A chat's events, numbered per chat: the primary key (chat_id, seq) keeps two
    writers from taking the same number."""

    __tablename__ = "chat_events"
    __table_args__ = (Index("ix_chat_events_user_id", "user_id"),)
    chat_id: UUID = Field(
        sa_column=Column(
            Uuid(),
            ForeignKey("chats.id", ondelete="CASCADE", name="fk_chat_events_chat_id"),
            primary_key=True,
        )
    )
    seq: int = Field(sa_column=Column(BigInteger(), primary_key=True))
    user_id: UUID = _ref("chat_events", "user_id", "users")
    type: str = _str()
    data: JsonObject = Field(sa_column=Column(Json(), nullable=False))
    created_at: datetime = _time()


def _table(row: type[SQLModel]) -> Table:
    return cast(Table, row.__table__)  # type: ignore[attr-defined]


USERS = _table(UserRow)
AUTH_SESSIONS = _table(AuthSessionRow)
RUNS = _table(RunRow)
CHAT_EVENTS = _table(ChatEventRow)

#: The table of each owned kind.
TABLES: dict[type[Any], Table] = {
    Session: _table(SessionRow),
    Chat: _table(ChatRow),
    Message: _table(MessageRow),
    JobEntity: _table(JobRow),
    Asset: _table(AssetRow),
    AssetMeta: _table(AssetMetaRow),
}
