"""The events a pipeline job sends to its chat's sockets.

- ``job.started``: ``job_id``;
- ``job.progress``: ``job_id`` and ``stage`` (render, qa, export, store), before each;
- ``job.completed``: ``job_id`` and ``asset_ids`` (the stored assets);
- ``job.failed``: ``job_id``, ``stage`` and a readable ``reason``;
- ``job.repair``: ``job_id``, ``attempt`` (from 1), the failed ``stage`` and its
  ``reason``, as the backend is asked to repair the SCAD (``job_repair``).

A job's chat is the one in ``spec.chat_id``. The spec is the client's, so events go
there only if that chat is the job owner's; an event that cannot be stored never fails
the job.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from forge_core.entities import Job
from forge_core.errors import ForgeError
from forge_core.services.events import ChatEvents

log = logging.getLogger("forge.pipeline")

STARTED, PROGRESS, COMPLETED, FAILED = "job.started", "job.progress", "job.completed", "job.failed"
REPAIR = "job.repair"


def chat_of(job: Job) -> UUID | None:
    """The chat named in ``spec.chat_id``, where the job's events go."""
    try:
        return UUID(str((job.spec or {})["chat_id"]))
    except (KeyError, ValueError):
        return None


class JobEvents:
    """One job's reports to its chat (nothing, without ``events`` or a chat)."""

    def __init__(self, events: ChatEvents | None, job: Job, chat: UUID | None) -> None:
        self.events, self.job, self.chat = events, job, chat

    @classmethod
    async def of(cls, events: ChatEvents | None, job: Job) -> JobEvents:
        """The job's events, to the chat in ``spec.chat_id`` if it is the owner's."""
        chat = chat_of(job)
        if events is None or chat is None:
            return cls(None, job, None)
        try:
            await events.check_chat(job.user_id, chat)
        except ForgeError:
            return cls(None, job, None)
        return cls(events, job, chat)

    async def emit(self, type: str, **data: Any) -> None:
        """Tell the job's chat; an event that cannot be stored is logged and dropped."""
        if self.events is None or self.chat is None:
            return
        try:
            await self.events.emit(
                self.job.user_id, self.chat, type, job_id=str(self.job.id), **data
            )
        except ForgeError as exc:
            log.warning("job %s: event %s not sent: %s", self.job.id, type, exc.detail)
