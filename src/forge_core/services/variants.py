"""A job's parameters, and variants: the same model with other parameter values, made
without another inference call.

``Variants.create`` reads the job's SCAD parameters (``forge_core.parameters``, through
the ``ScadParser`` port), checks the requested values against them, and makes a new
job whose SCAD is the original with only those assignments rewritten: same session, same
chat (so the usual ``job.*`` events reach its socket), ``variant_of`` the original and
``variant_parameters`` the values asked for. It starts running at once, for the pipeline
workers, like any job with SCAD. A variant of a variant is made the same way. Bad values
are InvalidInput naming ``parameters.<name>``, and nothing is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID, uuid4

from forge_core.entities import Clock, Job, JobStatus, JsonObject, utc_now
from forge_core.lifecycle import transition
from forge_core.parameters import Parameter, check_values, parameters, rewrite
from forge_core.ports import Repository
from forge_core.scad_header import Literal, ScadParser
from forge_core.services.production import JobQueue, scad_of

#: Spec keys a variant does not inherit: it came from no inference run.
NOT_INHERITED = ("run_id",)


class Variants:
    """Parameters of a job's SCAD, and variants of the job; see the module docstring."""

    def __init__(
        self,
        repo: Repository,
        parser: ScadParser,
        clock: Clock = utc_now,
        new_id: Callable[[], UUID] = uuid4,
        queue: JobQueue | None = None,
    ) -> None:
        self.repo, self.parser, self.clock, self.new_id, self.queue = (
            repo, parser, clock, new_id, queue)  # fmt: skip

    async def parameters(self, owner: UUID, job_id: UUID) -> list[Parameter]:
        """The parameters of the job's SCAD ([] for a job without SCAD). Raises NotFound,
        and InvalidInput (``scad_code``) for SCAD that does not parse."""
        return await self._read(await self.repo.get(Job, job_id, owner))

    async def create(self, owner: UUID, job_id: UUID, values: Mapping[str, Any]) -> Job:
        """A running variant of the job with ``values`` set. Raises NotFound, and
        InvalidInput naming the parameter for an unknown name, a wrong type or a value
        outside the declared range."""
        original: Job = await self.repo.get(Job, job_id, owner)
        found = await self._read(original)
        checked = check_values(found, values)
        scad = scad_of(original)
        assert scad is not None  # a job without SCAD has no parameters to check against
        now = self.clock()
        variant = Job(
            id=self.new_id(),
            user_id=owner,
            session_id=original.session_id,
            prompt=original.prompt,
            output_format=original.output_format,
            spec=_spec(original, rewrite(scad, found, checked), checked),
            variant_of=original.id,
            variant_parameters=dict(values),
            created_at=now,
            updated_at=now,
        )
        variant = transition(variant, JobStatus.RUNNING, now)
        await self.repo.add(variant)
        if self.queue is not None:
            self.queue.enqueue(variant)
        return variant

    async def _read(self, job: Job) -> list[Parameter]:
        """The job's parameters; parsed in a thread, so a long file does not hold up
        the event loop (about 2 ms per kB)."""
        scad = scad_of(job)
        if scad is None:
            return []
        return parameters(await asyncio.to_thread(self.parser.header, scad))


def _spec(original: Job, scad: str, values: Mapping[str, Literal]) -> JsonObject:
    """The original's spec with the new SCAD; a size the requirements give under the
    same name as a changed parameter follows it, so QA checks the size asked for now."""
    spec = {k: v for k, v in (original.spec or {}).items() if k not in NOT_INHERITED}
    spec["scad_code"] = scad
    requirements = spec.get("requirements_json")
    if isinstance(requirements, dict) and isinstance(requirements.get("dimensions_mm"), dict):
        sizes = dict(requirements["dimensions_mm"])
        for name, value in values.items():
            if name in sizes and isinstance(value, float):
                sizes[name] = value
        spec["requirements_json"] = {**requirements, "dimensions_mm": sizes}
    return spec
