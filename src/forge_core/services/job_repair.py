"""The repair loop's side of the backend: ask it to fix SCAD that failed.

When a job's SCAD came from a ``generate_scad`` run (``Job.repair_attempts`` is a list,
set by ``Jobs.submit_scad``) and fails to render or fails a hard QA check, the runner
(``job_runner``) asks the backend again, up to ``attempts`` times: ``generate_scad`` with
the job's prompt, its requirements, the chat's history and ``repair: {scad, error}``
(``inference.Repair``). A worker that ignores ``repair`` still answers with SCAD. The
call is one backend run, waited for here (the job keeps its lease meanwhile); a backend
that cannot answer, ends the run without success, answers no SCAD or answers the very
SCAD that failed (a deterministic backend, such as the offline templates, can do no
other; rendering it again would only fail again) ends the loop with ``RepairFailed``,
and the job fails with its last stage failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from uuid import UUID, uuid4

from forge_core.entities import Clock, Job, Message, RunStatus, utc_now
from forge_core.errors import ForgeError
from forge_core.inference import Action, InferenceBackend, JobInput, Repair, Turn
from forge_core.ports import Repository
from forge_core.scad_source import scad_from_output

#: The stages whose failure the backend is asked to repair; export and store are Forge's.
REPAIRABLE = ("render", "qa")
_HISTORY_PAGE = 200


class RepairFailed(Exception):
    """The backend gave no repaired SCAD; ``reason`` says why, in words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Repairs:
    """Asks the backend for repaired SCAD; see the module docstring."""

    def __init__(
        self,
        backend: InferenceBackend,
        repo: Repository,
        *,
        attempts: int = 2,
        wait: float = 60.0,
        timeout: float = 600.0,
        poll: float = 0.5,
        clock: Clock = utc_now,
        new_id: Callable[[], UUID] = uuid4,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if attempts < 0:
            raise ValueError("attempts must not be negative")
        self.backend, self.repo, self.attempts = backend, repo, attempts
        self.wait, self.timeout, self.poll, self.sleep = wait, timeout, poll, sleep
        self.clock, self.new_id = clock, new_id

    def wants(self, job: Job, stage: str) -> bool:
        """Whether this failure of this job is one to repair, with attempts left."""
        tried = job.repair_attempts
        return stage in REPAIRABLE and tried is not None and len(tried) < self.attempts

    async def ask(self, job: Job, chat: UUID | None, scad: str, error: str) -> str:
        """Repaired SCAD from the backend. Raises RepairFailed."""
        requirements = (job.spec or {}).get("requirements_json")
        request = JobInput(
            action=Action.GENERATE_SCAD,
            prompt=job.prompt,
            history=tuple(await self._history(job.user_id, chat)),
            requirements_json=requirements if isinstance(requirements, dict) else None,
            repair=Repair(scad, error),
        )
        try:
            state = await self.backend.run(request, wait=self.wait)
            started = self.clock()
            while not state.status.finished:
                if (self.clock() - started).total_seconds() > self.timeout:
                    await self.backend.cancel(state.run_id)
                    raise RepairFailed(f"the backend did not answer in {self.timeout:g} s")
                await self.sleep(self.poll)
                state = await self.backend.status(state.run_id)
        except ForgeError as exc:
            raise RepairFailed(f"the backend could not answer: {exc.detail}") from exc
        if state.status is not RunStatus.COMPLETED:
            why = f": {state.error}" if state.error else ""
            raise RepairFailed(f"the backend's run ended {state.status.value}{why}")
        repaired = scad_from_output(state.output)
        if repaired is None:
            raise RepairFailed("the backend answered no SCAD")
        if repaired.strip() == scad.strip():
            raise RepairFailed("the backend answered the same SCAD again")
        return repaired

    async def tell(self, job: Job, chat: UUID | None, text: str) -> Message | None:
        """Store an assistant message about the repair in the job's chat, if it has one."""
        if chat is None:
            return None
        now = self.clock()
        message = Message(
            id=self.new_id(), user_id=job.user_id, chat_id=chat, role="assistant",
            content=text, created_at=now, updated_at=now,
        )  # fmt: skip
        try:
            await self.repo.add(message)
        except ForgeError:  # the chat went meanwhile: the repair goes on
            return None
        return message

    async def _history(self, owner: UUID, chat: UUID | None) -> list[Turn]:
        turns: list[Turn] = []
        while chat is not None:
            page = await self.repo.list(
                Message, owner, where={"chat_id": chat}, limit=_HISTORY_PAGE, offset=len(turns)
            )
            turns.extend(Turn(m.role, m.content) for m in page)
            if len(page) < _HISTORY_PAGE:
                break
        return turns
