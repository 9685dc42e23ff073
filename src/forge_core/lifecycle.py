"""The job and inference-run lifecycles as pure state machines.

    pending ──start──> running ──complete──> succeeded | failed
       │                  │
       └──cancel──────────┴──> cancelled

Terminal states are final. ``transition`` returns a new Job with ``status``,
``started_at``/``completed_at`` and ``updated_at`` set from the injected clock, or raises
``InvalidTransition`` naming both states.

An inference run (``InferenceRun``, statuses ``RunStatus``):

    queued ──> in_progress ──> completed | failed | cancelled | timed_out
       └───────────────────────> completed | failed | cancelled | timed_out

``advance_run`` returns a new run with ``status`` and ``updated_at`` set (and ``error``,
when given), or raises ``InvalidTransition``; ``RUN_TERMINAL`` states are final.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from forge_core.entities import InferenceRun, Job, JobStatus, Message, RunStatus
from forge_core.errors import InvalidInput, InvalidTransition

ALLOWED: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.PENDING: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED}),
    JobStatus.RUNNING: frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}

TERMINAL = frozenset(status for status, targets in ALLOWED.items() if not targets)


def can_transition(current: JobStatus, target: JobStatus) -> bool:
    return target in ALLOWED[current]


def transition(job: Job, target: JobStatus, now: datetime) -> Job:
    """Move ``job`` to ``target`` at time ``now``, or raise InvalidTransition."""
    if not can_transition(job.status, target):
        raise InvalidTransition("job", job.status.value, target.value)
    started_at = now if target is JobStatus.RUNNING else job.started_at
    completed_at = now if target in TERMINAL else None
    return replace(
        job, status=target, started_at=started_at, completed_at=completed_at, updated_at=now
    )


_RUN_ENDS = frozenset(
    {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.TIMED_OUT}
)

RUN_ALLOWED: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: _RUN_ENDS | {RunStatus.IN_PROGRESS},
    RunStatus.IN_PROGRESS: _RUN_ENDS,
    **{end: frozenset() for end in _RUN_ENDS},
}

RUN_TERMINAL = frozenset(status for status, targets in RUN_ALLOWED.items() if not targets)
RUN_UNFINISHED = frozenset(RunStatus) - RUN_TERMINAL


def can_advance_run(current: RunStatus, target: RunStatus) -> bool:
    return target in RUN_ALLOWED[current]


def check_run_step(current: RunStatus, target: RunStatus) -> None:
    """Raise InvalidTransition, naming both states, unless a run may go current -> target."""
    if not can_advance_run(current, target):
        raise InvalidTransition("run", current.value, target.value)


def advance_run(
    run: InferenceRun, target: RunStatus, now: datetime, *, error: str | None = None
) -> InferenceRun:
    """Move ``run`` to ``target`` at time ``now`` (recording ``error`` if given), or raise
    InvalidTransition."""
    check_run_step(run.status, target)
    return replace(
        run, status=target, error=error if error is not None else run.error, updated_at=now
    )


def check_finalize(run: InferenceRun, message: Message | None, status: RunStatus) -> None:
    """Refuse a finalize that could never be right, whatever is stored: a status that is
    not terminal (InvalidTransition), or a message that is not on the run's chat and
    owner (InvalidInput)."""
    if status not in RUN_TERMINAL:
        raise InvalidTransition("run", run.status.value, status.value)
    if message is not None and (message.chat_id, message.user_id) != (run.chat_id, run.user_id):
        raise InvalidInput("assistant_message", "must be on the run's chat and owner")
