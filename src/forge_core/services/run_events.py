"""The events a run sends to its chat's sockets, as the seed shows them.

- ``runpod.queued``: ``runpod_id``, ``message_id`` (the stored user message; None for
  ``health``), ``status`` "queued";
- ``runpod.status``: ``runpod_id`` and ``status`` as RunPod writes it ("IN_PROGRESS");
- ``runpod.completed``: ``runpod_id``, ``message`` (the stored assistant message as the
  API shows it; None for ``health``) and ``output`` (what the backend answered);
- ``runpod.failed``: ``runpod_id``, ``status`` as RunPod writes it ("FAILED",
  "CANCELLED", "TIMED_OUT") and a readable ``error``;
- ``retrieval`` (before ``runpod.queued``, when the chat names standard parts):
  ``runpod_id``, ``run_id`` and ``components`` (id, name, category, score, matched, why).

The first two are emitted (stored, then published) on their own. The end is a draft
(``ended``) that ``RunStore.finalize`` stores in the transaction that ends the run, so a
run that ended always has its end event in the log; the supervisor then only publishes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from forge_core.components import ComponentHit
from forge_core.entities import EventDraft, InferenceRun, Message, RunStatus
from forge_core.errors import ForgeError
from forge_core.services.events import ChatEvents, jsonable

QUEUED, STATUS, COMPLETED, FAILED = (
    "runpod.queued",
    "runpod.status",
    "runpod.completed",
    "runpod.failed",
)
RETRIEVAL = "retrieval"

#: A run's status as RunPod names it, which the socket's status events carry.
RUNPOD_STATUS = {
    RunStatus.QUEUED: "IN_QUEUE",
    RunStatus.IN_PROGRESS: "IN_PROGRESS",
    RunStatus.COMPLETED: "COMPLETED",
    RunStatus.FAILED: "FAILED",
    RunStatus.CANCELLED: "CANCELLED",
    RunStatus.TIMED_OUT: "TIMED_OUT",
}


async def emit(events: ChatEvents, run: InferenceRun, type: str, **data: Any) -> None:
    """Send one of the run's events. An event is a report on the run, never part of it:
    if the chat went meanwhile, or the log cannot store it now, the run goes on."""
    with contextlib.suppress(ForgeError):
        await events.emit(run.user_id, run.chat_id, type, runpod_id=run.backend_run_id, **data)


async def queued(events: ChatEvents, run: InferenceRun, message: Message | None) -> None:
    message_id = str(message.id) if message else None
    await emit(events, run, QUEUED, message_id=message_id, status=RunStatus.QUEUED.value)


async def retrieval(events: ChatEvents, run: InferenceRun, hits: Sequence[ComponentHit]) -> None:
    """The standard parts found for the run: id, name, category, score, the words that
    matched and why each was chosen."""
    found = [
        {
            "id": h.component.id,
            "name": h.component.name,
            "category": h.component.category,
            "score": round(h.score, 4),
            "matched": list(h.matched),
            "why": h.why,
        }
        for h in hits
    ]
    await emit(events, run, RETRIEVAL, run_id=str(run.id), components=found)


async def status(events: ChatEvents, run: InferenceRun, new_status: RunStatus) -> None:
    await emit(events, run, STATUS, status=RUNPOD_STATUS[new_status])


def ended(
    run: InferenceRun,
    status: RunStatus,
    reply: Message | None,
    output: Any,
    error: str | None = None,
) -> EventDraft:
    """The event for a run that ends with ``status``: completed with its message and
    output, or failed with its error. A draft, for ``RunStore.finalize`` to store with
    the run's end in one transaction."""
    if status is RunStatus.COMPLETED:
        message = jsonable(reply) if reply is not None else None
        data = {"message": message, "output": _json_ready(output)}
        return EventDraft(COMPLETED, {"runpod_id": run.backend_run_id, **data})
    error = error or run.error or f"the run ended {status.value}"
    data = {"status": RUNPOD_STATUS[status], "error": error}
    return EventDraft(FAILED, {"runpod_id": run.backend_run_id, **data})


def _json_ready(output: Any) -> Any:
    return jsonable({"output": output})["output"]
