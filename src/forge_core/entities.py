"""The product's records, as plain frozen dataclasses.

Field names are the public API's. Every record but ``User`` carries ``user_id``, its
owner, so that ownership is one comparison; ``created_at``/``updated_at`` are UTC.
Changes make new instances (``dataclasses.replace``); services set the timestamps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

JsonObject = dict[str, Any]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RunStatus(StrEnum):
    """An inference run's status (re-exported by ``forge_core.inference``)."""

    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"

    @property
    def finished(self) -> bool:
        """Whether the run will change no more."""
        return self not in (RunStatus.QUEUED, RunStatus.IN_PROGRESS)


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    id: UUID
    email: str
    display_name: str | None = None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthSession:
    """One login: what a refresh token continues and what logout revokes."""

    id: UUID
    user_id: UUID
    refresh_token_hash: str | None
    expires_at: datetime
    revoked_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    id: UUID
    user_id: UUID
    name: str
    status: str = "active"
    metadata_json: JsonObject | None = None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Chat:
    id: UUID
    user_id: UUID
    session_id: UUID
    title: str | None = None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    id: UUID
    user_id: UUID
    chat_id: UUID
    role: str
    content: str
    tokens: int | None = None
    metadata_json: JsonObject | None = None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    id: UUID
    user_id: UUID
    session_id: UUID
    prompt: str
    output_format: str
    status: JobStatus = JobStatus.PENDING
    spec: JsonObject | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    #: The pipeline's QA report (``forge_core.qa``), once the model has been checked.
    qa: JsonObject | None = None
    #: Why the job failed, in words, when the pipeline failed it.
    error: str | None = None
    #: The job this one is a variant of, and the parameter values it changed.
    variant_of: UUID | None = None
    variant_parameters: JsonObject | None = None
    #: The repair loop's attempts ({attempt, stage, reason, scad}); None: not repairable.
    repair_attempts: list[JsonObject] | None = None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Asset:
    id: UUID
    user_id: UUID
    job_id: UUID
    asset_type: str
    uri: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AssetMeta:
    id: UUID
    user_id: UUID
    asset_id: UUID
    part_name: str | None = None
    component_of: UUID | None = None
    position_json: JsonObject | None = None
    image_paths_json: list[Any] | None = None
    material_json: JsonObject | None = None
    is_composite_of: list[UUID] | None = None
    used_for_json: list[str] | None = None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class InferenceRun:
    """A durable inference run: one backend job on a chat, kept until it finishes.

    ``action`` is a normalized ``forge_core.inference.Action`` value; ``deadline`` is aware
    UTC; ``user_message_id`` is the stored prompt (None for ``health``, which stores no
    message) and ``result_message_id`` the assistant message it ended with, if any.
    ``idempotency_key`` is unique per user. Status changes follow ``lifecycle.advance_run``.
    """

    id: UUID
    user_id: UUID
    chat_id: UUID
    action: str
    prompt: str
    backend_run_id: str | None = None
    status: RunStatus = RunStatus.QUEUED
    deadline: datetime
    user_message_id: UUID | None = None
    result_message_id: UUID | None = None
    error: str | None = None
    idempotency_key: str | None = None
    #: The request's ``requirements_json``: what the pipeline checks a model against.
    requirements_json: JsonObject | None = None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatEvent:
    """One event on a chat, as its sockets receive it: ``seq`` increases by one per event
    on the chat, so a client that saw up to ``seq`` n asks for what follows n.
    ``data`` holds the event's own fields (``runpod_id``, ``message``...), which the
    socket sends beside ``type``, ``chat_id`` and ``seq``."""

    chat_id: UUID
    seq: int
    user_id: UUID
    type: str
    data: JsonObject
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event not stored yet: its ``type`` and JSON-ready ``data``. The store that
    writes it gives it the chat, owner, ``seq`` and time (``RunStore.finalize``)."""

    type: str
    data: JsonObject


OwnedEntity = Session | Chat | Message | Job | Asset | AssetMeta

#: Each owned kind's parent: (the field holding the parent id, the parent's kind).
PARENTS: dict[type[Any], tuple[str, type[Any]]] = {
    Chat: ("session_id", Session),
    Message: ("chat_id", Chat),
    Job: ("session_id", Session),
    Asset: ("job_id", Job),
    AssetMeta: ("asset_id", Asset),
}

#: Deleting a record deletes these kinds under it, in one transaction.
CHILDREN: dict[type[Any], tuple[type[Any], ...]] = {
    Session: (Chat, Job),
    Chat: (Message,),
    Job: (Asset,),
    Asset: (AssetMeta,),
    Message: (),
    AssetMeta: (),
}


def kind_name(kind: type[Any]) -> str:
    """The name a kind goes by in messages: 'Session', 'AssetMeta'."""
    return kind.__name__
