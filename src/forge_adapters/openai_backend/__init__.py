"""Any OpenAI-compatible chat-completions server (Ollama, vLLM, llama.cpp, OpenAI) as an
InferenceBackend.

``process_requirements`` asks for the requirements as a JSON object, ``generate_scad``
for OpenSCAD code; the system prompts ship as files in ``prompts/``. A chat completion
answers in one call, so runs are kept in this process: submitting starts the call in
the background, and status, cancel and run-and-wait look at it there.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import anyio
import httpx

from forge_adapters.json_api import JsonApi, RetryPolicy, Sleep
from forge_adapters.local_runs import LocalRuns
from forge_core.entities import JsonObject
from forge_core.errors import Unavailable
from forge_core.inference import (
    Action,
    BackendHealth,
    JobInput,
    RunPolicy,
    RunState,
)

ROLES = ("system", "user", "assistant")
FENCE = re.compile(r"```[\w-]*\s*\n(.*?)```", re.DOTALL)


def prompt(action: Action) -> str:
    """The system prompt for an action, shipped in ``prompts/<action>.md``."""
    return files(__package__).joinpath("prompts").joinpath(f"{action.value}.md").read_text("utf-8")


@dataclass(frozen=True, slots=True)
class OpenAIConfig:
    base_url: str  # up to the version, e.g. http://localhost:11434/v1
    model: str
    api_key: str | None = field(default=None, repr=False)
    temperature: float = 0.2
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(timeout=120.0))


class OpenAIBackend:
    def __init__(
        self,
        client: httpx.AsyncClient,
        config: OpenAIConfig,
        *,
        keep: int = 1000,
        sleep: Sleep = anyio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._api = JsonApi(
            client,
            config.base_url,
            name="the OpenAI-compatible server",
            headers=headers,
            key_setting="FORGE_OPENAI_API_KEY",
            policy=config.retry,
            sleep=sleep,
            jitter=jitter,
        )
        self._config = config
        self._runs = LocalRuns("oai", keep=keep)

    async def submit(self, job: JobInput, policy: RunPolicy | None = None) -> RunState:
        state = self._runs.new()
        limit = policy.execution_timeout if policy else None
        self._runs.start(state.run_id, lambda: self._execute(job), limit)
        return state

    async def run(self, job: JobInput, *, wait: float, policy: RunPolicy | None = None) -> RunState:
        state = await self.submit(job, policy)
        return await self._runs.wait(state.run_id, wait)

    async def status(self, run_id: str) -> RunState:
        return self._runs.get(run_id)

    async def cancel(self, run_id: str) -> RunState:
        return self._runs.cancel(run_id)

    async def health(self) -> BackendHealth:
        body = await self._api.call("GET", "models")
        data = body.get("data")
        models = (
            [m.get("id") for m in data if isinstance(m, dict)] if isinstance(data, list) else []
        )
        details = {"model": self._config.model, "models": models}
        return BackendHealth("openai", True, details)

    async def aclose(self) -> None:
        """Stop the runs still waiting for the server."""
        await self._runs.aclose()

    async def _execute(self, job: JobInput) -> JsonObject:
        if job.action is Action.HEALTH:
            health = await self.health()
            return {"status": "healthy", "backend": "openai", **health.details}
        body = {
            "model": self._config.model,
            "messages": messages(job),
            "temperature": self._config.temperature,
        }
        reply = reply_text(
            await self._api.call("POST", "chat/completions", json=body, idempotent=False)
        )
        if job.action is Action.GENERATE_SCAD:
            return {"scad_code": code_of(reply), "model": self._config.model}
        requirements = json_object_in(reply)
        output: JsonObject = {"content": reply, "model": self._config.model}
        if requirements is not None:
            output["requirements_json"] = requirements
        return output


def messages(job: JobInput) -> list[dict[str, str]]:
    """The system prompt, the chat so far, and the request (with its requirements, and
    for a repair the SCAD that failed and why)."""
    request = job.prompt or "Go ahead."
    if job.requirements_json is not None:
        request += "\n\nRequirements (JSON):\n" + json.dumps(job.requirements_json, indent=2)
    if job.repair is not None:
        request += (
            "\n\nRepair: this OpenSCAD failed.\nError:\n" + job.repair.error
            + "\n\nThe failing file:\n```openscad\n" + job.repair.scad.rstrip() + "\n```"
        )  # fmt: skip
    history = [{"role": t.role, "content": t.content} for t in job.history if t.role in ROLES]
    return [
        {"role": "system", "content": prompt(job.action)},
        *history,
        {"role": "user", "content": request},
    ]


def reply_text(body: JsonObject) -> str:
    choices = body.get("choices")
    first: Any = choices[0] if isinstance(choices, list) and choices else {}
    message = first.get("message") if isinstance(first, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str):
        raise Unavailable("the OpenAI-compatible server answered without a message")
    return content


def code_of(reply: str) -> str:
    """The code in the reply's first fenced block, or the whole reply."""
    match = FENCE.search(reply)
    return (match[1] if match else reply).strip() + "\n"


def json_object_in(reply: str) -> JsonObject | None:
    """The JSON object in the reply (fenced or bare), or None."""
    match = FENCE.search(reply)
    text = match[1] if match else reply
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        value = json.loads(text[start : end + 1])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
