"""The job lifecycle: the transition table, timestamps, and a state machine against a model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from forge_core.entities import Job, JobStatus
from forge_core.errors import InvalidTransition
from forge_core.lifecycle import ALLOWED, TERMINAL, transition

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def new_job() -> Job:
    return Job(
        id=uuid4(),
        user_id=uuid4(),
        session_id=uuid4(),
        prompt="a bracket",
        output_format="stl",
        created_at=T0,
        updated_at=T0,
    )


def test_happy_path_sets_timestamps_from_the_clock() -> None:
    started = transition(new_job(), JobStatus.RUNNING, T0 + timedelta(seconds=1))
    done = transition(started, JobStatus.SUCCEEDED, T0 + timedelta(seconds=5))
    assert started.started_at == T0 + timedelta(seconds=1)
    assert started.completed_at is None
    assert done.status is JobStatus.SUCCEEDED
    assert done.started_at == started.started_at
    assert done.completed_at == done.updated_at == T0 + timedelta(seconds=5)


def test_an_invalid_transition_names_both_states() -> None:
    with pytest.raises(InvalidTransition, match="from 'pending' to 'succeeded'"):
        transition(new_job(), JobStatus.SUCCEEDED, T0)


def path_to(goal: JobStatus) -> list[JobStatus]:
    """The shortest way from a new job to ``goal`` in the code's own transition table."""
    paths: dict[JobStatus, list[JobStatus]] = {JobStatus.PENDING: []}
    frontier = [JobStatus.PENDING]
    while frontier:
        here = frontier.pop(0)
        for there in sorted(ALLOWED[here]):
            if there not in paths:
                paths[there] = [*paths[here], there]
                frontier.append(there)
    return paths[goal]


def test_the_terminal_states_are_the_ends_of_the_model() -> None:
    ends = {end for _, end in MODEL} - {start for start, _ in MODEL}
    assert {status.value for status in TERMINAL} == ends == {"succeeded", "failed", "cancelled"}


@pytest.mark.parametrize("terminal", sorted(TERMINAL))  # read from the code, and checked above
@pytest.mark.parametrize("target", list(JobStatus))
def test_terminal_states_are_final(terminal: JobStatus, target: JobStatus) -> None:
    job = new_job()
    for step in path_to(terminal):
        job = transition(job, step, T0)
    assert job.completed_at == T0
    with pytest.raises(InvalidTransition):
        transition(job, target, T0)


# The model: what the issue says, written independently of the transition table.
MODEL = {
    ("pending", "running"),
    ("running", "succeeded"),
    ("running", "failed"),
    ("pending", "cancelled"),
    ("running", "cancelled"),
}


class JobLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.job = new_job()
        self.model_status = "pending"
        self.now = T0

    @rule(goal=st.sampled_from(list(JobStatus)), step=st.integers(min_value=0, max_value=60))
    def attempt(self, goal: JobStatus, step: int) -> None:
        self.now += timedelta(seconds=step)
        allowed = (self.model_status, goal.value) in MODEL
        try:
            moved = transition(self.job, goal, self.now)
        except InvalidTransition as exc:
            assert not allowed
            assert self.model_status in str(exc) and goal.value in str(exc)
            return
        assert allowed
        self.job, self.model_status = moved, goal.value
        assert moved.updated_at == self.now
        if goal is JobStatus.RUNNING:
            assert moved.started_at == self.now
        if goal in TERMINAL:
            assert moved.completed_at == self.now

    @invariant()
    def status_matches_model(self) -> None:
        assert self.job.status.value == self.model_status
        assert (self.job.completed_at is not None) == (self.job.status in TERMINAL)
        if self.job.started_at and self.job.completed_at:
            assert self.job.started_at <= self.job.completed_at


TestJobLifecycle = JobLifecycle.TestCase
