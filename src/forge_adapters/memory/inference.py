"""The InferenceBackend port in memory: runs complete at once, echoing their input.

For tests and embedders that need a backend with no network; the real ones (RunPod,
templates, OpenAI-compatible servers) come as their own adapters.
"""

from __future__ import annotations

from itertools import count

from forge_core.entities import JsonObject
from forge_core.errors import NotFound
from forge_core.ports import RunState


class MemoryInferenceBackend:
    def __init__(self) -> None:
        self._runs: dict[str, RunState] = {}
        self._ids = count(1)

    async def submit(self, payload: JsonObject) -> RunState:
        run_id = f"mem-{next(self._ids)}"
        state = RunState(run_id=run_id, status="completed", output={"echo": payload})
        self._runs[run_id] = state
        return state

    async def status(self, run_id: str) -> RunState:
        if run_id not in self._runs:
            raise NotFound("Run", run_id)
        return self._runs[run_id]

    async def cancel(self, run_id: str) -> RunState:
        state = await self.status(run_id)
        if state.status in ("queued", "in_progress"):
            state = RunState(run_id=run_id, status="cancelled")
            self._runs[run_id] = state
        return state

    async def health(self) -> JsonObject:
        return {"status": "ok", "backend": "memory", "runs": len(self._runs)}
