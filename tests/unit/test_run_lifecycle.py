"""The inference-run lifecycle: the transition table, and a state machine against a model."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from forge_core.entities import InferenceRun, Message, RunStatus
from forge_core.errors import InvalidInput, InvalidTransition
from forge_core.lifecycle import RUN_TERMINAL, advance_run, check_finalize

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def new_run() -> InferenceRun:
    return InferenceRun(
        id=uuid4(),
        user_id=uuid4(),
        chat_id=uuid4(),
        action="process_requirements",
        prompt="a bracket",
        deadline=T0 + timedelta(hours=2),
        created_at=T0,
        updated_at=T0,
    )


def test_a_new_run_is_queued_and_moves_with_the_clock() -> None:
    run = new_run()
    assert run.status is RunStatus.QUEUED
    started = advance_run(run, RunStatus.IN_PROGRESS, T0 + timedelta(seconds=1))
    failed = advance_run(started, RunStatus.FAILED, T0 + timedelta(seconds=5), error="boom")
    assert started.updated_at == T0 + timedelta(seconds=1)
    assert (failed.status, failed.error, failed.updated_at) == (
        RunStatus.FAILED,
        "boom",
        T0 + timedelta(seconds=5),
    )


def test_an_invalid_transition_names_both_states() -> None:
    with pytest.raises(InvalidTransition, match="from 'queued' to 'queued'"):
        advance_run(new_run(), RunStatus.QUEUED, T0)


def test_the_terminal_states_are_the_ends_of_the_model() -> None:
    ends = {end for _, end in MODEL} - {start for start, _ in MODEL}
    assert {status.value for status in RUN_TERMINAL} == ends == ENDS
    assert {status for status in RunStatus if status.finished} == RUN_TERMINAL


@pytest.mark.parametrize("terminal", sorted(RUN_TERMINAL))  # read from the code, checked above
@pytest.mark.parametrize("target", list(RunStatus))
def test_terminal_states_are_final(terminal: RunStatus, target: RunStatus) -> None:
    run = advance_run(new_run(), terminal, T0)
    with pytest.raises(InvalidTransition):
        advance_run(run, target, T0)


def test_finalize_checks_need_a_terminal_status_and_the_runs_chat() -> None:
    run = new_run()
    message = Message(
        id=uuid4(),
        user_id=run.user_id,
        chat_id=run.chat_id,
        role="assistant",
        content="ok",
        created_at=T0,
        updated_at=T0,
    )
    check_finalize(run, message, RunStatus.COMPLETED)
    with pytest.raises(InvalidTransition):
        check_finalize(run, None, RunStatus.IN_PROGRESS)
    with pytest.raises(InvalidInput):
        check_finalize(run, replace(message, chat_id=uuid4()), RunStatus.FAILED)


# The model: what the issue says, written independently of the transition table.
ENDS = {"completed", "failed", "cancelled", "timed_out"}
MODEL = {("queued", "in_progress")} | {
    (start, end) for start in ("queued", "in_progress") for end in ENDS
}


class RunLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.run = new_run()
        self.model_status = "queued"
        self.now = T0

    @rule(goal=st.sampled_from(list(RunStatus)), step=st.integers(min_value=0, max_value=60))
    def attempt(self, goal: RunStatus, step: int) -> None:
        self.now += timedelta(seconds=step)
        allowed = (self.model_status, goal.value) in MODEL
        try:
            moved = advance_run(self.run, goal, self.now)
        except InvalidTransition as exc:
            assert not allowed
            assert self.model_status in str(exc) and goal.value in str(exc)
            return
        assert allowed
        self.run, self.model_status = moved, goal.value
        assert moved.updated_at == self.now

    @invariant()
    def status_matches_model(self) -> None:
        assert self.run.status.value == self.model_status
        assert self.run.status.finished == (self.model_status in ENDS)
        assert (self.run.status in RUN_TERMINAL) == (self.model_status in ENDS)


TestRunLifecycle = RunLifecycle.TestCase
