"""Inference runs on a chat: start one (``run_supervisor`` polls it until it ends).

``Runs.start`` does its steps in this order, so that a crash anywhere loses no run a
client was told about and nothing is ever submitted twice:

1. check everything that can be refused: the chat is the caller's, the action, the
   timeout; a known idempotency key answers its run (no second submission); the limit
   of runs in flight, then the rate limit (runs started per minute, ``RateLimits``);
2. build the job (a loaded history is read before the new message is stored);
3. submit it to the backend: if that is refused (Unavailable, RateLimited...) the
   error goes to the caller and nothing has been stored;
4. store the user's message;
5. ``RunStore.add`` the run, queued, with the backend's run id: from here a
   supervisor finishes it, in this replica or another.

A crash between 3 and 5 leaves at most a backend job nobody stored (its result is never
read, so it never becomes a message) and, between 4 and 5, a user message without a run;
the client got no answer and resuming has nothing to resubmit. The other order (add the
run first, submit after) cannot be made safe: backends take no idempotency key, so after
a crash a stored run without a backend id could not tell whether it was submitted, and a
refused submission would leave a half-made run. If step 4 or 5 fails, the submitted job
is cancelled (best effort) and the message removed; losing an idempotency-key race
answers the winner's run.

The run is then the supervisor's (``run_supervisor``): it is stored leased to this
replica's supervisor (``new_lease``), which polls it for as long as it renews the lease;
another replica takes it over only if this one stops (released at a graceful shutdown,
or lapsed after a crash). Leasing it from the start matters for backends that keep runs
in process (the template and OpenAI-compatible ones): only the submitting replica can
read their result. It sends ``runpod.queued`` once stored; a crash
between storing the run and reporting it loses only that event. Only then is the
supervisor told of the run (``started``), so ``queued`` always comes before the run's
end, even for a backend that answered as the run was submitted (the offline templates
do): such a run is polled at once, not a first poll delay later.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID, uuid4

from forge_core.commands import RunRequest, fingerprint
from forge_core.components import ComponentHit
from forge_core.entities import Chat, Clock, InferenceRun, Message, RunStatus, utc_now
from forge_core.errors import (
    AlreadyExists,
    ForgeError,
    InvalidInput,
    KeyReused,
    NotFound,
    RateLimited,
    Unavailable,
)
from forge_core.inference import (
    Action,
    InferenceBackend,
    JobInput,
    RunPolicy,
    Turn,
    normalize_action,
)
from forge_core.ports import Lease, Repository, RunStore
from forge_core.rate_limits import RateLimits
from forge_core.services import run_events
from forge_core.services.events import ChatEvents
from forge_core.services.retriever import Retriever
from forge_core.services.run_supervisor import POLL_DELAYS

DEFAULT_TIMEOUT = 7200.0
MIN_TIMEOUT, MAX_TIMEOUT = 1.0, 7 * 24 * 3600.0
TIMEOUT_FIELD = "metadata_json.status_timeout_seconds"
#: How long after the deadline a finished result is still kept by the backend (ttl).
RESULT_GRACE = 1800.0
_HISTORY_PAGE = 200
#: How long ``wait_result`` waits between two reads of its run (the last repeating: a
#: run the backend answered at once is stored within milliseconds), and how long past
#: the run's deadline it waits for the supervisor to time the run out.
WAIT_INTERVALS = (0.005, 0.01, 0.02, 0.05)
WAIT_GRACE = timedelta(seconds=10)


class StartedRuns(Protocol):
    """The local supervisor (``RunSupervisor``): it leases each run started here to
    itself from the start, and is told when one is stored."""

    def new_lease(self, now: datetime) -> Lease: ...

    def started(self, run: InferenceRun, *, ended: bool = False) -> None: ...


@dataclass(frozen=True, slots=True)
class RunResult:
    """A run as it ended, and what the backend answered for it (None unless it completed
    and the backend still keeps the answer)."""

    run: InferenceRun
    output: Any = None


class Runs:
    """Start inference runs (see the module docstring for the order), and wait for one
    to end."""

    def __init__(
        self,
        repo: Repository,
        runs: RunStore,
        backend: InferenceBackend,
        clock: Clock = utc_now,
        new_id: Callable[[], UUID] = uuid4,
        *,
        events: ChatEvents,
        supervisor: StartedRuns | None = None,
        max_runs_per_user: int = 5,
        limits: RateLimits | None = None,
        retriever: Retriever | None = None,
    ) -> None:
        if max_runs_per_user < 1:
            raise ValueError("max_runs_per_user must be at least 1")
        self.repo, self.runs, self.backend, self.events = repo, runs, backend, events
        self.supervisor = supervisor
        self.clock, self.new_id = clock, new_id
        self.max_runs_per_user, self.limits = max_runs_per_user, limits
        self.retriever = retriever

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
        raises on submission (Unavailable, RateLimited); KeyReused for a known key sent
        with another request."""
        await self.repo.get(Chat, chat_id, owner)
        action = normalize_action(request.action)
        timeout = status_timeout(request.metadata_json)
        digest = fingerprint(request) if idempotency_key is not None else None
        if idempotency_key is not None:
            known = await self.runs.find_by_idempotency_key(owner, idempotency_key)
            if known is not None:
                return await self._replay(known, chat_id, digest)
        await self._check_limit(owner)
        if self.limits is not None:  # counted last: a refused request is not a run started
            await self.limits.check_runs(owner)
        job = await self._job(owner, chat_id, action, request)
        job, found = await self._retrieve(owner, job)
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
            request_hash=digest,
            requirements_json=job.requirements_json,
            created_at=now,
            updated_at=now,
        )
        try:
            if message is not None:
                await self.repo.add(message)
            lease = self.supervisor.new_lease(now) if self.supervisor else None
            await self.runs.add(run, lease)
        except ForgeError:
            await self._undo(state.run_id, message)
            if idempotency_key is not None:
                known = await self.runs.find_by_idempotency_key(owner, idempotency_key)
                if known is not None:
                    return await self._replay(known, chat_id, digest)
            raise
        try:
            if found:
                await run_events.retrieval(self.events, run, found)
            await run_events.queued(self.events, run, message)
        finally:  # after the events: a run that has ended is polled at once
            if self.supervisor is not None:
                self.supervisor.started(run, ended=state.status.finished)
        return run, message

    async def wait_result(self, run: InferenceRun) -> RunResult:
        """The run once it has ended, read from the store while a supervisor (on any
        replica) finishes it, with the backend's answer. Bounded by the run's deadline
        plus WAIT_GRACE (the supervisor times it out at the deadline); past that the run
        is answered as it is."""
        reads = 0
        while not run.status.finished and self.clock() < run.deadline + WAIT_GRACE:
            await asyncio.sleep(WAIT_INTERVALS[min(reads, len(WAIT_INTERVALS) - 1)])
            run = await self.runs.get(run.user_id, run.id)
            reads += 1
        return RunResult(run, await self._output(run))

    async def _output(self, run: InferenceRun) -> Any:
        if run.status is not RunStatus.COMPLETED or run.backend_run_id is None:
            return None
        with contextlib.suppress(NotFound, Unavailable, RateLimited):  # expired, or away
            return (await self.backend.status(run.backend_run_id)).output
        return None

    async def _check_limit(self, owner: UUID) -> None:
        if await self.runs.count_unfinished(owner) >= self.max_runs_per_user:
            raise RateLimited(
                f"at most {self.max_runs_per_user} runs in flight per user; wait for one to end",
                retry_after=int(max(POLL_DELAYS)) or 1,
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

    async def _retrieve(self, owner: UUID, job: JobInput) -> tuple[JobInput, list[ComponentHit]]:
        """The job with the standard parts its chat names: in ``requirements_json.components``
        (what the pipeline checks the model against) and in its ``context`` (what a
        backend grounds on); requirements that list components keep theirs."""
        if self.retriever is None or job.action is Action.HEALTH:
            return job, []
        said = [t.content for t in job.history if t.role == "user"] + [job.prompt]
        requirements, found = await self.retriever.for_request(
            owner, "\n".join(said), job.requirements_json
        )
        components = (requirements or {}).get("components")
        if not isinstance(components, list) or not components:
            return job, []
        context = {"components": components}
        return replace(job, requirements_json=requirements, context=context), found

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
        self, run: InferenceRun, chat_id: UUID, digest: str | None
    ) -> tuple[InferenceRun, Message | None]:
        """The answer to a repeated request: the run its key made, and its message."""
        if run.chat_id != chat_id:
            raise AlreadyExists("this idempotency key was used for another chat")
        if run.request_hash is not None and run.request_hash != digest:
            raise KeyReused()
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
