"""The job lifecycle as a pure state machine.

    pending ──start──> running ──complete──> succeeded | failed
       │                  │
       └──cancel──────────┴──> cancelled

Terminal states are final. ``transition`` returns a new Job with ``status``,
``started_at``/``completed_at`` and ``updated_at`` set from the injected clock, or raises
``InvalidTransition`` naming both states.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from forge_core.entities import Job, JobStatus
from forge_core.errors import InvalidTransition

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
