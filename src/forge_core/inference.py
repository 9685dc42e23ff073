"""Inference in core types: the job a backend runs, its status, and what becomes a message.

A job is ``{action, prompt, history, requirements_json}``, and for a repair of SCAD that
failed, ``repair: {scad, error}`` (a worker that ignores the key still answers with new
SCAD); ``process_scad`` is an old name of ``generate_scad``. Backends (RunPod,
templates, OpenAI-compatible servers, memory) implement ``InferenceBackend`` and report
runs as ``RunState``. ``output_to_message`` is the one rule that turns a finished run's
output into an assistant message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

from forge_core.entities import JsonObject
from forge_core.entities import RunStatus as RunStatus  # defined with InferenceRun
from forge_core.errors import InvalidInput


class Action(StrEnum):
    PROCESS_REQUIREMENTS = "process_requirements"
    GENERATE_SCAD = "generate_scad"
    HEALTH = "health"


#: What a client may ask for, aliases included, in the order the API documents them.
SUPPORTED_ACTIONS = ("process_requirements", "generate_scad", "process_scad", "health")
ACTION_ALIASES = {"process_scad": Action.GENERATE_SCAD}


def normalize_action(name: str) -> Action:
    """The action a name means (``process_scad`` is ``generate_scad``), or InvalidInput
    listing the supported ones."""
    if name in ACTION_ALIASES:
        return ACTION_ALIASES[name]
    try:
        return Action(name)
    except ValueError:
        supported = ", ".join(SUPPORTED_ACTIONS)
        raise InvalidInput("action", f"unknown action {name!r}; supported: {supported}") from None


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of the chat's history, as a backend sees it."""

    role: str
    content: str


@dataclass(frozen=True, slots=True)
class Repair:
    """SCAD that failed to render or failed QA, and why (the line and message, or the QA
    reasons): what a ``generate_scad`` repair asks the backend to fix."""

    scad: str
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class JobInput:
    """What a backend runs. ``health`` carries no history."""

    action: Action
    prompt: str = ""
    history: tuple[Turn, ...] = ()
    requirements_json: JsonObject | None = None
    repair: Repair | None = None

    def __post_init__(self) -> None:
        if self.action is Action.HEALTH and self.history:
            raise InvalidInput("history", "the health action takes no history")

    @classmethod
    def create(
        cls,
        action: str,
        prompt: str = "",
        history: Sequence[Turn | Mapping[str, Any]] = (),
        requirements_json: JsonObject | None = None,
    ) -> JobInput:
        """A job from client-shaped values: the action normalized, history entries as
        ``{"role", "content"}`` mappings or turns (dropped for ``health``)."""
        kind = normalize_action(action)
        turns = () if kind is Action.HEALTH else tuple(_turn(entry) for entry in history)
        return cls(action=kind, prompt=prompt, history=turns, requirements_json=requirements_json)

    def to_payload(self) -> JsonObject:
        """The wire shape: ``{"action", "prompt", "history", "requirements_json"}``,
        without history for ``health`` and without requirements_json when there is none."""
        payload: JsonObject = {"action": self.action.value, "prompt": self.prompt}
        if self.action is not Action.HEALTH:
            payload["history"] = [{"role": t.role, "content": t.content} for t in self.history]
        if self.requirements_json is not None:
            payload["requirements_json"] = self.requirements_json
        if self.repair is not None:
            payload["repair"] = {"scad": self.repair.scad, "error": self.repair.error}
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> JobInput:
        """The job a wire payload describes (what a worker receives). Raises InvalidInput."""
        action = payload.get("action")
        if not isinstance(action, str):
            raise InvalidInput("action", "must be a string")
        prompt = payload.get("prompt") or ""
        history = payload.get("history") or []
        requirements = payload.get("requirements_json")
        if not isinstance(prompt, str):
            raise InvalidInput("prompt", "must be a string")
        if not isinstance(history, list):
            raise InvalidInput("history", "must be a list of {role, content}")
        if requirements is not None and not isinstance(requirements, dict):
            raise InvalidInput("requirements_json", "must be an object")
        job = cls.create(action, prompt, history, requirements)
        repair = payload.get("repair")
        if repair is None:
            return job
        scad, error = (
            (repair.get("scad"), repair.get("error")) if isinstance(repair, dict) else (0, 0)
        )
        if not isinstance(scad, str) or not isinstance(error, str):
            raise InvalidInput("repair", "must be {scad, error}, both strings")
        return replace(job, repair=Repair(scad, error))


def _turn(entry: Turn | Mapping[str, Any]) -> Turn:
    if isinstance(entry, Turn):
        return entry
    role, content = entry.get("role"), entry.get("content")
    if not isinstance(role, str) or not isinstance(content, str):
        raise InvalidInput("history", "each entry needs a string role and content")
    return Turn(role=role, content=content)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunPolicy:
    """How long the backend may work on a run and keep it, in seconds (None: its default)."""

    execution_timeout: float | None = None
    ttl: float | None = None


@dataclass(frozen=True, slots=True)
class RunState:
    """An inference run as the backend reports it."""

    run_id: str
    status: RunStatus
    output: Any = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class BackendHealth:
    """A backend's own health report: whether it can take runs, and what it says."""

    backend: str
    healthy: bool
    details: JsonObject = field(default_factory=dict)


class InferenceBackend(Protocol):
    """The LLM worker (or a stand-in) that turns chats into requirements and SCAD.

    Every method raises Unavailable when the backend cannot answer now (unreachable,
    timing out, failing, answering nonsense) and RateLimited when it keeps refusing for
    load; a run that the backend ran and lost is a RunState with status ``failed``.
    """

    async def submit(self, job: JobInput, policy: RunPolicy | None = None) -> RunState:
        """Queue a run; the state answered is usually ``queued``."""

    async def run(self, job: JobInput, *, wait: float, policy: RunPolicy | None = None) -> RunState:
        """Queue a run and wait up to ``wait`` seconds for it to finish. The state is
        finished, or (the wait over) still queued or in progress: poll ``status`` then."""

    async def status(self, run_id: str) -> RunState:
        """The run's state. Raises NotFound for an unknown run, or one whose result
        expired."""

    async def cancel(self, run_id: str) -> RunState:
        """Ask the backend to stop the run; a finished run stays as it was.
        Raises NotFound."""

    async def health(self) -> BackendHealth:
        """The backend's own health report."""


@dataclass(frozen=True, slots=True)
class MessageDraft:
    """The assistant message a run's output becomes."""

    content: str
    metadata_json: JsonObject | None = None


#: Where an object output keeps its text, in order of preference.
CONTENT_KEYS = ("content", "response", "text", "message", "scad_code", "scad", "code")


def output_to_message(output: Any) -> MessageDraft:
    """A string output is the content; an object's content is the first string among
    CONTENT_KEYS, else the object's JSON; an object's ``requirements_json`` goes to the
    metadata. Anything else is its JSON."""
    if isinstance(output, str):
        return MessageDraft(content=output)
    if not isinstance(output, dict):
        return MessageDraft(content=_json(output))
    content = next(
        (value for key in CONTENT_KEYS if isinstance(value := output.get(key), str)),
        None,
    )
    metadata = None
    if output.get("requirements_json") is not None:
        metadata = {"requirements_json": output["requirements_json"]}
    text = _json(output) if content is None else content
    return MessageDraft(content=text, metadata_json=metadata)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
