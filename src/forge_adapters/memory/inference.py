"""The InferenceBackend port in memory: a fake worker that tests can steer.

By default a run completes at once, its output ``{"echo": <the job's payload>}``. With
``hold=True`` runs stay queued until the test moves them on with ``advance`` (in
progress, completed, failed...), or forgets them with ``expire`` (then NotFound, as an
expired RunPod result). No network; the real backends are their own adapters.
"""

from __future__ import annotations

from typing import Any

from forge_adapters.local_runs import LocalRuns
from forge_core.inference import BackendHealth, JobInput, RunPolicy, RunState, RunStatus


class MemoryInferenceBackend:
    def __init__(self, *, hold: bool = False, keep: int = 1000) -> None:
        self._hold = hold
        self._runs = LocalRuns("mem", keep=keep)
        self.submitted: list[JobInput] = []

    async def submit(self, job: JobInput, policy: RunPolicy | None = None) -> RunState:
        state = self._runs.new()
        self.submitted.append(job)
        if self._hold:
            return state
        return self._runs.set(
            RunState(state.run_id, RunStatus.COMPLETED, {"echo": job.to_payload()})
        )

    async def run(self, job: JobInput, *, wait: float, policy: RunPolicy | None = None) -> RunState:
        state = await self.submit(job, policy)
        return await self._runs.wait(state.run_id, wait)

    async def status(self, run_id: str) -> RunState:
        return self._runs.get(run_id)

    async def cancel(self, run_id: str) -> RunState:
        return self._runs.cancel(run_id)

    async def health(self) -> BackendHealth:
        return BackendHealth("memory", True, {"runs": len(self._runs)})

    def advance(
        self, run_id: str, status: RunStatus, output: Any = None, error: str | None = None
    ) -> RunState:
        """Move a run on, as its worker would. Raises NotFound."""
        self._runs.get(run_id)
        return self._runs.set(RunState(run_id, status, output, error))

    def expire(self, run_id: str) -> None:
        """Forget a run, as RunPod forgets old results."""
        self._runs.forget(run_id)
