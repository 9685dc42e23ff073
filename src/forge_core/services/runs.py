"""Inference runs on a chat: start one, and supervise the unfinished ones until each ends.

``Runs.start`` does its steps in this order, so that a crash anywhere loses no run a
client was told about and nothing is ever submitted twice:

1. check everything that can be refused: the chat is the caller's, the action, the
   timeout; a known idempotency key answers its run (no second submission); the limit
   of runs in flight, then the rate limit (runs started per minute, ``RateLimits``);
2. build the job (a loaded history is read before the new message is stored);
3. submit it to the backend: if that is refused (Unavailable, RateLimited...) the
   error goes to the caller and nothing has been stored;
4. store the user's message;
5. ``RunStore.add`` the run, queued, with the backend's run id: from here the
   supervisor finishes it, in this process or in the next one.

A crash between 3 and 5 leaves at most a backend job nobody stored (its result is never
read, so it never becomes a message) and, between 4 and 5, a user message without a run;
the client got no answer and resuming has nothing to resubmit. The other order (add the
run first, submit after) cannot be made safe: backends take no idempotency key, so after
a crash a stored run without a backend id could not tell whether it was submitted, and a
refused submission would leave a half-made run. If step 4 or 5 fails, the submitted job
is cancelled (best effort) and the message removed; losing an idempotency-key race
answers the winner's run.

``Runs.poll_once`` is one supervisor step, with no sleeping (the loop is the caller's).
Each run is polled on its own backoff schedule, ``POLL_DELAYS`` seconds apart, the last
one repeating: quickly at first, then every 5 s at most. A run this instance has not seen
yet (started elsewhere, or before a restart) is due at once; a run past its deadline is
due at once too.

A run reports to its chat (``run_events``): ``runpod.queued`` once stored, then the status
change and the end, each sent by the poller that made the change (so the end is reported
once). A crash between storing the run and reporting it loses only the queued event.

A completed ``generate_scad`` run whose output holds SCAD (``forge_core.scad_source``)
hands it to the 3D pipeline as a new job in the chat's session, checked against the
run's ``requirements_json`` (or the output's). The hand-off follows the finalize, so a
crash between the two leaves the answer stored and no job: the client can start one
with ``POST /jobs``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID, uuid4

from forge_core.commands import RunRequest
from forge_core.entities import (
    Chat,
    Clock,
    InferenceRun,
    JsonObject,
    Message,
    RunStatus,
    utc_now,
)
from forge_core.errors import (
    AlreadyExists,
    ForgeError,
    InvalidInput,
    NotFound,
    RateLimited,
    Unavailable,
)
from forge_core.inference import (
    Action,
    InferenceBackend,
    JobInput,
    RunPolicy,
    RunState,
    Turn,
    normalize_action,
    output_to_message,
)
from forge_core.ports import Repository, RunStore
from forge_core.rate_limits import RateLimits
from forge_core.scad_source import scad_from_output
from forge_core.services import run_events
from forge_core.services.events import ChatEvents

DEFAULT_TIMEOUT = 7200.0
MIN_TIMEOUT, MAX_TIMEOUT = 1.0, 7 * 24 * 3600.0
TIMEOUT_FIELD = "metadata_json.status_timeout_seconds"
#: Seconds between two polls of one run: the n-th wait is POLL_DELAYS[n], then the last.
POLL_DELAYS = (0.25, 0.5, 0.5, 1.0, 1.0, 2.0, 3.0, 5.0)
#: How long after the deadline a finished result is still kept by the backend (ttl).
RESULT_GRACE = 1800.0
LOST = "the run's result is no longer available (it expired, or was lost in a restart)"
TIMED_OUT = "timed out"
_HISTORY_PAGE = 200
_POLL_FAILURES = (Unavailable, RateLimited)


@dataclass(frozen=True, slots=True)
class _Due:
    at: datetime
    polls: int


class ScadPipeline(Protocol):
    """Where a completed ``generate_scad`` run's SCAD goes (``services.Pipeline``)."""

    async def submit_scad(
        self,
        owner: UUID,
        chat_id: UUID,
        scad_code: str,
        requirements_json: JsonObject | None = None,
        *,
        prompt: str | None = None,
        run_id: UUID | None = None,
    ) -> Any: ...


class Runs:
    """Start and supervise inference runs; see the module docstring for the order."""

    def __init__(
        self,
        repo: Repository,
        runs: RunStore,
        backend: InferenceBackend,
        clock: Clock = utc_now,
        new_id: Callable[[], UUID] = uuid4,
        *,
        events: ChatEvents,
        pipeline: ScadPipeline | None = None,
        max_runs_per_user: int = 5,
        limits: RateLimits | None = None,
        poll_delays: Sequence[float] = POLL_DELAYS,
        scan_limit: int = 1000,
        concurrency: int = 16,
    ) -> None:
        if not poll_delays or max_runs_per_user < 1:
            raise ValueError("poll_delays must not be empty, max_runs_per_user at least 1")
        self.repo, self.runs, self.backend, self.events = repo, runs, backend, events
        self.pipeline = pipeline
        self.clock, self.new_id = clock, new_id
        self.max_runs_per_user, self.limits = max_runs_per_user, limits
        self.poll_delays = tuple(poll_delays)
        self.scan_limit, self.concurrency = scan_limit, concurrency
        self._due: dict[UUID, _Due] = {}

    # -- start ---------------------------------------------------------------------------

    async def start(
        self,
        owner: UUID,
        chat_id: UUID,
        request: RunRequest,
        idempotency_key: str | None = None,
    ) -> tuple[InferenceRun, Message | None]:
        """Submit a run on the caller's chat and store it (with the user's message, except
        for ``health``). Raises NotFound, InvalidInput, RateLimited, and what the backend
        raises on submission (Unavailable, RateLimited)."""
        await self.repo.get(Chat, chat_id, owner)
        action = normalize_action(request.action)
        timeout = status_timeout(request.metadata_json)
        if idempotency_key is not None:
            known = await self.runs.find_by_idempotency_key(owner, idempotency_key)
            if known is not None:
                return await self._replay(known, chat_id)
        await self._check_limit(owner)
        if self.limits is not None:  # counted last: a refused request is not a run started
            await self.limits.check_runs(owner)
        job = await self._job(owner, chat_id, action, request)
        policy = RunPolicy(execution_timeout=timeout, ttl=timeout + RESULT_GRACE)
        state = await self.backend.submit(job, policy)
        now = self.clock()
        message = None if action is Action.HEALTH else self._message(owner, chat_id, request, now)
        run = InferenceRun(
            id=self.new_id(),
            user_id=owner,
            chat_id=chat_id,
            action=action.value,
            prompt=request.content,
            backend_run_id=state.run_id,
            deadline=now + timedelta(seconds=timeout),
            user_message_id=message.id if message else None,
            idempotency_key=idempotency_key,
            requirements_json=request.requirements_json,
            created_at=now,
            updated_at=now,
        )
        try:
            if message is not None:
                await self.repo.add(message)
            await self.runs.add(run)
        except ForgeError:
            await self._undo(state.run_id, message)
            if idempotency_key is not None:
                known = await self.runs.find_by_idempotency_key(owner, idempotency_key)
                if known is not None:
                    return await self._replay(known, chat_id)
            raise
        self._due[run.id] = _Due(now + timedelta(seconds=self._delay(0)), 1)
        await run_events.queued(self.events, run, message)
        return run, message

    async def _check_limit(self, owner: UUID) -> None:
        if await self.runs.count_unfinished(owner) >= self.max_runs_per_user:
            raise RateLimited(
                f"at most {self.max_runs_per_user} runs in flight per user; wait for one to end",
                retry_after=int(max(self.poll_delays)) or 1,
            )

    async def _job(
        self, owner: UUID, chat_id: UUID, action: Action, request: RunRequest
    ) -> JobInput:
        history: list[Turn] = []
        if action is not Action.HEALTH:
            if request.history is not None:
                history = [Turn(t.role, t.content) for t in request.history]
            else:
                history = await self._stored_history(owner, chat_id)
        return JobInput(
            action=action,
            prompt=request.content,
            history=tuple(history),
            requirements_json=request.requirements_json,
        )

    async def _stored_history(self, owner: UUID, chat_id: UUID) -> list[Turn]:
        turns: list[Turn] = []
        while True:
            page = await self.repo.list(
                Message, owner, where={"chat_id": chat_id}, limit=_HISTORY_PAGE, offset=len(turns)
            )
            turns.extend(Turn(m.role, m.content) for m in page)
            if len(page) < _HISTORY_PAGE:
                return turns

    def _message(self, owner: UUID, chat_id: UUID, request: RunRequest, now: datetime) -> Message:
        return Message(
            id=self.new_id(),
            user_id=owner,
            chat_id=chat_id,
            role="user",
            content=request.content,
            created_at=now,
            updated_at=now,
        )

    async def _replay(
        self, run: InferenceRun, chat_id: UUID
    ) -> tuple[InferenceRun, Message | None]:
        """The answer to a repeated request: the run its key made, and its message."""
        if run.chat_id != chat_id:
            raise AlreadyExists("this idempotency key was used for another chat")
        if run.user_message_id is None:
            return run, None
        try:
            return run, await self.repo.get(Message, run.user_message_id, run.user_id)
        except NotFound:
            return run, None

    async def _undo(self, backend_run_id: str, message: Message | None) -> None:
        """Best effort, after a failed store: stop the job, remove the message."""
        with contextlib.suppress(ForgeError):
            await self.backend.cancel(backend_run_id)
        if message is not None:
            with contextlib.suppress(NotFound):
                await self.repo.delete(Message, message.id, message.user_id)

    # -- supervise -----------------------------------------------------------------------

    def next_due(self) -> datetime | None:
        """When the earliest run this instance knows is due (None: none known). Runs
        started elsewhere are found by the next ``poll_once``."""
        return min((due.at for due in self._due.values()), default=None)

    async def poll_once(self, now: datetime | None = None) -> list[InferenceRun]:
        """Poll every unfinished run that is due, once; finalize those that ended.
        Returns the runs this call finished (a run another poller finished is skipped)."""
        now = now or self.clock()
        unfinished = await self.runs.list_unfinished(limit=self.scan_limit)
        if len(unfinished) < self.scan_limit:
            alive = {run.id for run in unfinished}
            self._due = {key: due for key, due in self._due.items() if key in alive}
        due = [run for run in unfinished if self._is_due(run, now)]
        finished: list[InferenceRun] = []
        gate = asyncio.Semaphore(self.concurrency)

        async def poll(run: InferenceRun) -> None:
            async with gate:
                done = await self._poll(run, now)
            if done is not None:
                finished.append(done)

        async with asyncio.TaskGroup() as group:
            for run in due:
                group.create_task(poll(run))
        return finished

    def _is_due(self, run: InferenceRun, now: datetime) -> bool:
        due = self._due.get(run.id)
        return due is None or now >= due.at or now >= run.deadline

    def _delay(self, polls: int) -> float:
        return self.poll_delays[min(polls, len(self.poll_delays) - 1)]

    def _later(self, run: InferenceRun, now: datetime) -> None:
        polls = self._due[run.id].polls if run.id in self._due else 0
        self._due[run.id] = _Due(now + timedelta(seconds=self._delay(polls)), polls + 1)

    async def _poll(self, run: InferenceRun, now: datetime) -> InferenceRun | None:
        if now >= run.deadline:
            return await self._time_out(run, now)
        if run.backend_run_id is None:
            return await self._end(run, None, RunStatus.FAILED, "the run was never submitted")
        try:
            state = await self.backend.status(run.backend_run_id)
        except NotFound:
            return await self._end(run, None, RunStatus.FAILED, LOST)
        except _POLL_FAILURES:
            self._later(run, now)
            return None
        return await self._apply(run, state, now)

    async def _apply(
        self, run: InferenceRun, state: RunState, now: datetime
    ) -> InferenceRun | None:
        if state.status is RunStatus.COMPLETED:
            # A health check stores no message, neither the prompt nor the answer.
            health = run.action == Action.HEALTH.value
            reply = None if health else self._reply(run, state.output, now)
            return await self._end(run, reply, RunStatus.COMPLETED, output=state.output)
        if state.status.finished:
            error = state.error or f"the backend reports the run {state.status.value}"
            return await self._end(run, None, state.status, error)
        if state.status is RunStatus.IN_PROGRESS and run.status is RunStatus.QUEUED:
            moved = await self.runs.set_status(run, RunStatus.IN_PROGRESS, RunStatus.QUEUED)
            if moved is not None:  # only the poller that moved it reports the change
                await run_events.status(self.events, moved, RunStatus.IN_PROGRESS)
        self._later(run, now)
        return None

    async def _time_out(self, run: InferenceRun, now: datetime) -> InferenceRun | None:
        """Cancel the run on the backend and end it as timed out, unless the cancel
        shows it completed after all."""
        state = None
        if run.backend_run_id is not None:
            try:
                state = await self.backend.cancel(run.backend_run_id)
            except (NotFound, *_POLL_FAILURES):
                state = None
        if state is not None and state.status is RunStatus.COMPLETED:
            return await self._apply(run, state, now)
        return await self._end(run, None, RunStatus.TIMED_OUT, TIMED_OUT)

    async def _end(
        self,
        run: InferenceRun,
        message: Message | None,
        status: RunStatus,
        error: str | None = None,
        output: Any = None,
    ) -> InferenceRun | None:
        """Finalize the run; the poller whose finalize won (exactly one) reports it."""
        self._due.pop(run.id, None)
        done = await self.runs.finalize(run, message, status, error)
        if done is not None:
            await run_events.ended(self.events, done, message, output)
            await self._hand_off(done, output)
        return done

    async def _hand_off(self, run: InferenceRun, output: Any) -> None:
        """Give a completed ``generate_scad`` run's SCAD to the pipeline, if it has any."""
        if self.pipeline is None or run.action != Action.GENERATE_SCAD.value:
            return
        scad = scad_from_output(output) if run.status is RunStatus.COMPLETED else None
        if scad is None:
            return
        requirements = run.requirements_json
        if requirements is None and isinstance(output, dict):
            found = output.get("requirements_json")
            requirements = found if isinstance(found, dict) else None
        with contextlib.suppress(ForgeError):  # the chat may be gone: the run still ended
            await self.pipeline.submit_scad(
                run.user_id, run.chat_id, scad, requirements, prompt=run.prompt, run_id=run.id
            )

    def _reply(self, run: InferenceRun, output: Any, now: datetime) -> Message:
        draft = output_to_message(output)
        return Message(
            id=self.new_id(),
            user_id=run.user_id,
            chat_id=run.chat_id,
            role="assistant",
            content=draft.content,
            metadata_json=draft.metadata_json,
            created_at=now,
            updated_at=now,
        )


def status_timeout(metadata: dict[str, Any] | None) -> float:
    """``metadata_json.status_timeout_seconds``, checked, or the default."""
    value = (metadata or {}).get("status_timeout_seconds")
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(TIMEOUT_FIELD, "must be a number of seconds")
    if not MIN_TIMEOUT <= value <= MAX_TIMEOUT:
        raise InvalidInput(
            TIMEOUT_FIELD, f"must be between {MIN_TIMEOUT:g} and {MAX_TIMEOUT:g} seconds"
        )
    return float(value)
