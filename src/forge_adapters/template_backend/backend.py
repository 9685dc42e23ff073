"""The template backend: the InferenceBackend that needs no network and no model.

Deterministic templating, not AI. ``process_requirements`` reads the model type,
dimensions, counts and standard components out of the prompt and the user's messages;
``generate_scad`` fills a parametric OpenSCAD template for the model type. Every run
completes at once, so the whole product works offline and the same input always gives
the same output.
"""

from __future__ import annotations

from typing import Any

from forge_adapters.local_runs import LocalRuns
from forge_adapters.template_backend.components import sized_by_components
from forge_adapters.template_backend.reading import Reading, model_type_of, read
from forge_adapters.template_backend.scad import MODEL_TYPES, TEMPLATES, parameters, write
from forge_core.entities import JsonObject
from forge_core.inference import (
    Action,
    BackendHealth,
    JobInput,
    RunPolicy,
    RunState,
    RunStatus,
)

NOTE = "deterministic templating, not AI"

FUNCTIONS = {
    "drone": "A quadcopter frame: a central plate carrying the flight controller, "
    "with arms that hold the motors",
    "enclosure": "An enclosure: a box with a fitted lid that houses electronics",
    "bracket": "An L bracket that joins two surfaces at a right angle",
    "plate": "A flat plate with holes for mounting parts",
    "custom": "A custom part",
}


def requirements(job: JobInput) -> JsonObject:
    """A requirements_json of the seed's shape, from the prompt and the user's turns."""
    words = [t.content for t in job.history if t.role == "user"] + [job.prompt]
    reading = read(words)
    model_type = reading.model_type or "custom"
    return {
        "model_type": model_type,
        "primary_function": FUNCTIONS[model_type],
        "description_natural_language": describe(model_type, reading),
        "standard_components": reading.components,
        "custom_description": "\n".join(w.strip() for w in words if w.strip()),
        "dimensions_mm": reading.dimensions_mm,
        "counts": reading.counts,
    }


def with_context(req: JsonObject, job: JobInput) -> JsonObject:
    """The requirements with the standard parts retrieved for the job (its context)."""
    parts = (job.context or {}).get("components")
    return {**req, "components": parts} if isinstance(parts, list) and parts else req


def describe(model_type: str, reading: Reading) -> str:
    parts = [f"{TEMPLATES[model_type].title}"]
    parts += [
        f"{key.replace('_', ' ')} {value:g} mm" for key, value in reading.dimensions_mm.items()
    ]
    parts += [f"{value} {noun}" for noun, value in reading.counts.items()]
    return ", ".join(parts) + "."


def scad(job: JobInput) -> JsonObject:
    """Parametric OpenSCAD for the job's requirements (read from its words if it has none)."""
    req = job.requirements_json or with_context(requirements(job), job)
    text_fields = ("primary_function", "description_natural_language", "custom_description")
    texts = [str(req.get(f) or "") for f in text_fields] + _search_terms(req) + [job.prompt]
    reading = read(texts)
    reading.dimensions_mm.update(_numbers(req.get("dimensions_mm"), float))
    reading.counts.update(_numbers(req.get("counts"), int))
    model_type = model_type_of(str(req.get("model_type") or "").lower())
    model_type = model_type or reading.model_type or "custom"
    values = parameters(model_type, reading)
    values = sized_by_components(
        model_type, values, req, set(reading.dimensions_mm), reading.counts
    )
    label = str(req.get("model_type") or job.prompt or "part")
    return {
        "status": "success",
        "scad_code": write(model_type, values, label=label),
        "model_type": model_type,
        "template": TEMPLATES[model_type].file.removesuffix(".scad"),
        "parameters": values,
        "backend": "template",
    }


def _search_terms(req: JsonObject) -> list[str]:
    parts = req.get("standard_components")
    if not isinstance(parts, list):
        return []
    return [str(p.get("search_term") or "") for p in parts if isinstance(p, dict)]


def _numbers(value: Any, kind: type[float] | type[int]) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    return {
        str(k): kind(v)
        for k, v in value.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def execute(job: JobInput) -> JsonObject:
    """The output of a job, as a worker would answer it."""
    if job.action is Action.PROCESS_REQUIREMENTS:
        req = with_context(requirements(job), job)
        summary = f"Requirements ({NOTE}): {req['description_natural_language']}"
        return {"status": "success", "content": summary, "requirements_json": req}
    if job.action is Action.GENERATE_SCAD:
        return scad(job)
    return {"status": "healthy", "backend": "template", "model_types": list(MODEL_TYPES)}


class TemplateBackend:
    """InferenceBackend by templates: every run completes at once."""

    def __init__(self, *, keep: int = 1000) -> None:
        self._runs = LocalRuns("tpl", keep=keep)

    async def submit(self, job: JobInput, policy: RunPolicy | None = None) -> RunState:
        run_id = self._runs.new().run_id
        return self._runs.set(RunState(run_id, RunStatus.COMPLETED, execute(job)))

    async def run(self, job: JobInput, *, wait: float, policy: RunPolicy | None = None) -> RunState:
        return await self.submit(job, policy)

    async def status(self, run_id: str) -> RunState:
        return self._runs.get(run_id)

    async def cancel(self, run_id: str) -> RunState:
        return self._runs.cancel(run_id)

    async def health(self) -> BackendHealth:
        return BackendHealth("template", True, {"model_types": list(MODEL_TYPES), "note": NOTE})
