"""The core's inference rules: actions, job payloads, and output to message."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from forge_core.errors import InvalidInput
from forge_core.inference import (
    Action,
    JobInput,
    MessageDraft,
    RunStatus,
    Turn,
    normalize_action,
    output_to_message,
)


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("process_requirements", Action.PROCESS_REQUIREMENTS),
        ("generate_scad", Action.GENERATE_SCAD),
        ("process_scad", Action.GENERATE_SCAD),
        ("health", Action.HEALTH),
    ],
)
def test_supported_actions_normalize(name: str, action: Action) -> None:
    assert normalize_action(name) is action


@pytest.mark.parametrize("name", ["", "render", "HEALTH", "process_scad "])
def test_unknown_action_lists_the_supported_ones(name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_action(name)
    assert caught.value.field == "action"
    for supported in ("process_requirements", "generate_scad", "process_scad", "health"):
        assert supported in caught.value.detail


def test_statuses_and_which_are_finished() -> None:
    assert [s.value for s in RunStatus] == [
        "queued",
        "in_progress",
        "completed",
        "failed",
        "cancelled",
        "timed_out",
    ]
    assert {s for s in RunStatus if not s.finished} == {RunStatus.QUEUED, RunStatus.IN_PROGRESS}


def test_job_payload_has_the_wire_shape() -> None:
    job = JobInput.create(
        "process_scad",
        "Generate SCAD",
        [{"role": "user", "content": "a drone"}],
        {"model_type": "drone"},
    )
    assert job.to_payload() == {
        "action": "generate_scad",
        "prompt": "Generate SCAD",
        "history": [{"role": "user", "content": "a drone"}],
        "requirements_json": {"model_type": "drone"},
    }
    assert JobInput.from_payload(job.to_payload()) == job


def test_health_sends_no_history_and_no_empty_requirements() -> None:
    job = JobInput.create("health", history=[Turn("user", "hi")])
    assert job.history == ()
    assert job.to_payload() == {"action": "health", "prompt": ""}
    with pytest.raises(InvalidInput):
        JobInput(action=Action.HEALTH, history=(Turn("user", "hi"),))


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"action": 3}, "action"),
        ({"action": "nope"}, "action"),
        ({"action": "generate_scad", "prompt": 5}, "prompt"),
        ({"action": "generate_scad", "history": "x"}, "history"),
        ({"action": "generate_scad", "history": [{"role": "user"}]}, "history"),
        ({"action": "generate_scad", "requirements_json": [1]}, "requirements_json"),
    ],
)
def test_bad_payloads_name_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        JobInput.from_payload(payload)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("plain text", MessageDraft("plain text")),
        ({"content": "c", "response": "r"}, MessageDraft("c")),
        ({"response": "r", "text": "t"}, MessageDraft("r")),
        ({"text": "t", "message": "m"}, MessageDraft("t")),
        ({"message": "m", "scad_code": "s"}, MessageDraft("m")),
        ({"scad_code": "cube(1);", "scad": "x"}, MessageDraft("cube(1);")),
        ({"scad": "sphere(1);", "code": "x"}, MessageDraft("sphere(1);")),
        ({"code": "cylinder(1);"}, MessageDraft("cylinder(1);")),
        ({"content": 5, "text": "t"}, MessageDraft("t")),
        (["a", 1], MessageDraft('["a", 1]')),
        (None, MessageDraft("null")),
    ],
)
def test_output_to_message(output: Any, message: MessageDraft) -> None:
    assert output_to_message(output) == message


def test_object_without_text_is_its_json_and_requirements_go_to_metadata() -> None:
    output = {"status": "success", "requirements_json": {"model_type": "drone"}}
    draft = output_to_message(output)
    assert json.loads(draft.content) == output
    assert draft.metadata_json == {"requirements_json": {"model_type": "drone"}}
    with_text = output_to_message({"content": "ok", "requirements_json": {"a": 1}})
    assert with_text == MessageDraft("ok", {"requirements_json": {"a": 1}})


def test_a_jobs_context_goes_over_the_wire_and_back() -> None:
    context = {"components": [{"id": "bearing-608"}]}
    job = JobInput.create("generate_scad", "a skate wheel")
    payload = replace(job, context=context).to_payload()
    assert payload["context"] == context and "context" not in job.to_payload()
    assert JobInput.from_payload(payload).context == context
    with pytest.raises(InvalidInput, match="context"):
        JobInput.from_payload({**payload, "context": ["not", "an", "object"]})
