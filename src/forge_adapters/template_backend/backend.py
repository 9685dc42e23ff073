"""The template backend: the InferenceBackend that needs no network and no model.

Deterministic templating, not AI. ``process_requirements`` reads the model type,
dimensions, counts and standard components out of the prompt and the user's messages;
``generate_scad`` fills a parametric OpenSCAD template for the model type. Both say what
every number was read as, what was clamped and what ignored; a request no template
covers is answered plainly, with no SCAD. Every run completes at once, so the whole
product works offline and the same input always gives the same output.
"""

from __future__ import annotations

from typing import Any

from forge_adapters.local_runs import LocalRuns
from forge_adapters.template_backend.reading import Reading, given, model_type_of, read
from forge_adapters.template_backend.scad import MODEL_TYPES, TEMPLATES, Fit, fit, summary, write
from forge_adapters.template_backend.unsupported import no_model_for, thing_asked_for
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
}
#: The fields of requirements_json this backend writes from its own reading: they
#: repeat numbers the words gave, so generate_scad does not read them again.
OWN_TEXT = ("primary_function", "description_natural_language")


def requirements(job: JobInput) -> JsonObject:
    """A requirements_json of the seed's shape, from the prompt and the user's turns, with
    ``reading``: what every number was read as, what was clamped and what ignored, and
    why. A request no template covers has ``model_type`` null and says so."""
    words = _user_words(job)
    reading = read(words)
    model_type = reading.model_type
    fitted = fit(model_type, reading) if model_type else None
    return {
        "model_type": model_type,
        "primary_function": FUNCTIONS[model_type] if model_type else None,
        "description_natural_language": (
            describe(fitted) if fitted else no_model_for(thing_asked_for(words))
        ),
        "standard_components": reading.components,
        "custom_description": "\n".join(w.strip() for w in words if w.strip()),
        "dimensions_mm": reading.dimensions_mm,
        "counts": reading.counts,
        "reading": fitted.report() if fitted else unfitted(reading),
    }


def describe(fitted: Fit) -> str:
    """The part, and the sizes the words gave it."""
    title = TEMPLATES[fitted.model_type].title
    given = [
        f"{name.replace('_', ' ')} {value:g}{'' if isinstance(value, int) else ' mm'}"
        for name, value in fitted.values.items()
        if fitted.origins.get(name, "default") != "default"
    ]
    return f"{title}: {', '.join(given)}." if given else f"{title}, with its default sizes."


def unfitted(reading: Reading) -> JsonObject:
    """The reading of a request no template covers: every number ignored."""
    why = "no template covers the request"
    read_as = [
        {"text": f.text, "read_as": f.meaning, ("count" if f.count else "mm"): f.value}
        for f in reading.findings
    ]
    ignored = [{"text": text, "why": why} for text in [f.text for f in reading.findings]]
    ignored += [{"text": text, "why": why} for text in reading.unread]
    return {"read_as": read_as, "clamped": [], "ignored": ignored}


def scad(job: JobInput) -> JsonObject:
    """Parametric OpenSCAD for the job's requirements (read from its words if it has
    none); for a request no template covers, a plain answer and no SCAD."""
    req = job.requirements_json or requirements(job)
    fields = ("custom_description",) if "reading" in req else (*OWN_TEXT, "custom_description")
    texts = [str(req.get(f) or "") for f in fields] + _search_terms(req) + [job.prompt]
    reading = read(texts)
    given(reading, _numbers(req.get("dimensions_mm"), float), _numbers(req.get("counts"), int))
    named = str(req.get("model_type") or "").lower()
    model_type = model_type_of(named) if named else reading.model_type
    if model_type is None:
        described = str(req.get("custom_description") or "").splitlines()
        thing = _article(named) if named else thing_asked_for(described + _user_words(job))
        return {"status": "unsupported", "content": no_model_for(thing), "backend": "template"}
    fitted = fit(model_type, reading)
    return {
        "status": "success",
        "scad_code": write(model_type, fitted.values, note=summary(fitted)),
        "model_type": model_type,
        "template": TEMPLATES[model_type].file.removesuffix(".scad"),
        "parameters": fitted.values,
        "reading": fitted.report(),
        "backend": "template",
    }


def _user_words(job: JobInput) -> list[str]:
    return [t.content for t in job.history if t.role == "user"] + [job.prompt]


def _article(name: str) -> str:
    """ "a rocket", "an umbrella": a model type named in requirements_json, made safe."""
    words = thing_asked_for([name])
    if words == "this request" or words.split()[0] in ("a", "an", "the"):
        return words
    return f"{'an' if words[0] in 'aeiou' else 'a'} {words}"


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
        return _requirements_output(job)
    if job.action is Action.GENERATE_SCAD:
        return scad(job)
    return {"status": "healthy", "backend": "template", "model_types": list(MODEL_TYPES)}


def _requirements_output(job: JobInput) -> JsonObject:
    req = requirements(job)
    if req["model_type"] is None:
        text = str(req["description_natural_language"])
        return {"status": "unsupported", "content": text, "requirements_json": req}
    fitted = fit(str(req["model_type"]), read(_user_words(job)))
    title = TEMPLATES[fitted.model_type].title
    content = summary(fitted, lead=f"{title} ({NOTE}): read")
    return {"status": "success", "content": content, "requirements_json": req}


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
