"""The supervisor half of inference runs: poll the unfinished runs until each ends.

Replicas share the database, so each run is worked by one of them: the one holding its
lease (``ports.Leases``, at most ``lease_seconds``). ``poll_once`` is one step, with no
sleeping (the loop is the caller's, ``forge_http.supervisor``):

1. renew, every third of a lease, the leases this supervisor holds; a run it no longer
   holds (finished, gone, or taken over after a lease lapsed) is dropped;
2. claim free runs (never leased, released, or expired: their replica died), oldest
   first, a bounded batch at a time and up to ``max_held`` in all;
3. poll the held runs that are due, each on its own backoff schedule, ``POLL_DELAYS``
   seconds apart, the last one repeating: quickly at first, then every 5 s at most. A
   run started here (``started``) is first due a delay after it started; a run claimed
   from elsewhere (started on another replica, or left by a stopped one) is due at once,
   and so is a run past its deadline.

A crash loses nothing: the run is stored before anyone polls it, and once its lease
lapses another supervisor claims it. ``release_all`` (at a graceful shutdown) frees the
leases at once instead. Finalize stays exactly-once in the store (``RunStore.finalize``),
so even two pollers of one run (a lease lost during a database outage) store one answer.

A run reports to its chat (``run_events``): after ``runpod.queued`` (sent by ``start``),
the status change and the end, each sent by the poller that made the change (so the end
is reported once). The end event is stored by the finalize itself, in the transaction
that ends the run, and published after it commits: a crash in between loses only the
live delivery, and a socket reads the event back with ``since``.

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

from forge_core.entities import Clock, InferenceRun, JsonObject, Message, RunStatus, utc_now
from forge_core.errors import ForgeError, NotFound, RateLimited, Unavailable
from forge_core.inference import (
    Action,
    InferenceBackend,
    MessageDraft,
    RunState,
    output_to_message,
)
from forge_core.ports import Lease, Leases, RunStore
from forge_core.scad_source import scad_from_output
from forge_core.services import run_events
from forge_core.services.events import ChatEvents

#: Seconds between two polls of one run: the n-th wait is POLL_DELAYS[n], then the last.
POLL_DELAYS = (0.25, 0.5, 0.5, 1.0, 1.0, 2.0, 3.0, 5.0)
#: The schedule for a backend that keeps its runs in this process (the offline templates,
#: an OpenAI-compatible server): a poll is a lookup in memory, not a request over the
#: network, so an answer is picked up within a tenth of a second, not up to 5 s late.
IN_PROCESS_POLL_DELAYS = (0.1,)
#: The longest lease: a dead replica's runs wait at most this long for another.
MAX_LEASE = 30.0
LOST = "the run's result is no longer available (it expired, or was lost in a restart)"
TIMED_OUT = "timed out"
_POLL_FAILURES = (Unavailable, RateLimited)


@dataclass(frozen=True, slots=True)
class _Due:
    at: datetime
    polls: int


class ScadPipeline(Protocol):
    """Where a completed ``generate_scad`` run's SCAD goes (``services.Jobs``)."""

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


class RunSupervisor:
    """Claim, poll and finalize runs; see the module docstring for one step."""

    def __init__(
        self,
        runs: RunStore,
        leases: Leases[InferenceRun],
        backend: InferenceBackend,
        *,
        events: ChatEvents,
        worker: str,
        pipeline: ScadPipeline | None = None,
        clock: Clock = utc_now,
        new_id: Callable[[], UUID] = uuid4,
        poll_delays: Sequence[float] = POLL_DELAYS,
        lease_seconds: float = MAX_LEASE,
        max_held: int = 1000,
        claim_batch: int = 100,
        concurrency: int = 16,
    ) -> None:
        if not poll_delays or not 0 < lease_seconds <= MAX_LEASE or min(max_held, claim_batch) < 1:
            raise ValueError("poll_delays must not be empty, leases 0-30 s, the caps at least 1")
        self.runs, self.leases, self.backend, self.events = runs, leases, backend, events
        self.worker, self.pipeline, self.clock, self.new_id = worker, pipeline, clock, new_id
        self.poll_delays = tuple(poll_delays)
        self.lease = timedelta(seconds=lease_seconds)
        self.max_held, self.claim_batch, self.concurrency = max_held, claim_batch, concurrency
        self._held: dict[UUID, InferenceRun] = {}
        self._due: dict[UUID, _Due] = {}
        self._renew_at: datetime | None = None
        self._ended_here = asyncio.Event()  # set by started(ended=True), cleared by nap

    @property
    def held(self) -> frozenset[UUID]:
        """The runs this supervisor holds a lease on."""
        return frozenset(self._held)

    def new_lease(self, now: datetime) -> Lease:
        """The lease a run started here is stored with (``RunStore.add``): held here."""
        return Lease(self.worker, now + self.lease)

    def started(self, run: InferenceRun, *, ended: bool = False) -> None:
        """A run started here and stored leased to this supervisor: held from now on,
        first polled a delay after it started, not at once; unless the backend ``ended``
        it as it was submitted (the offline templates answer at once), which is due now
        and wakes the loop (``nap``), so its answer is stored without a wait."""
        self._held[run.id] = run
        if ended:
            self._due[run.id] = _Due(run.created_at, 0)
            self._ended_here.set()
        else:
            first = run.created_at + timedelta(seconds=self._delay(0))
            self._due.setdefault(run.id, _Due(first, 1))
        if self._renew_at is None:
            self._renew_at = run.created_at + self.lease / 3

    async def nap(self, seconds: float) -> None:
        """Sleep up to ``seconds`` between two steps; a run started here that has already
        ended cuts it short."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ended_here.wait(), seconds)
        self._ended_here.clear()

    def next_due(self) -> datetime | None:
        """When the earliest held run is due (None: none held). Free runs are found by
        the next ``poll_once``."""
        return min((self._due[key].at for key in self._held if key in self._due), default=None)

    async def poll_once(self, now: datetime | None = None) -> list[InferenceRun]:
        """Renew, claim, then poll every held run that is due, once; finalize those that
        ended. Returns the runs this call finished (a run another poller finished is
        dropped)."""
        now = now or self.clock()
        await self._renew(now)
        await self._claim(now)
        due = [run for run in self._held.values() if self._is_due(run, now)]
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

    async def heartbeat(self, now: datetime | None = None) -> None:
        """Renew the held leases if a third of a lease has passed since the last time
        (step 1 alone): for a loop beside ``poll_once``, whose step may wait long on a
        slow backend. Raises Unavailable."""
        await self._renew(now or self.clock())

    async def release_all(self) -> None:
        """Give up every lease this supervisor holds, so another takes the runs at once
        (a graceful shutdown). Raises Unavailable (the leases then lapse on their own)."""
        self._held.clear()
        self._due.clear()
        self._renew_at = None
        await self.leases.release(self.worker)

    async def _renew(self, now: datetime) -> None:
        if self._renew_at is None or now < self._renew_at:
            return
        asked = list(self._held)  # a run started during the await is not in it
        kept = await self.leases.renew(self.worker, asked, now + self.lease)
        for run_id in set(asked) - kept:
            self._forget(run_id)
        self._renew_at = now + self.lease / 3 if self._held else None

    async def _claim(self, now: datetime) -> None:
        room = min(self.claim_batch, self.max_held - len(self._held))
        if room < 1:
            return
        for run in await self.leases.claim(self.worker, now, now + self.lease, room):
            self._held[run.id] = run
        if self._held and self._renew_at is None:
            self._renew_at = now + self.lease / 3
        # A run started here that another replica claimed is not this one's to schedule.
        stale = now - self.lease
        for key in [k for k, due in self._due.items() if k not in self._held and due.at < stale]:
            del self._due[key]

    def _forget(self, run_id: UUID) -> None:
        self._held.pop(run_id, None)
        self._due.pop(run_id, None)

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
            await self._progress(run)
        self._later(run, now)
        return None

    async def _progress(self, run: InferenceRun) -> None:
        moved = await self.runs.set_status(run, RunStatus.IN_PROGRESS, RunStatus.QUEUED)
        if moved is not None:  # only the poller that moved it reports the change
            self._held[run.id] = moved
            await run_events.status(self.events, moved, RunStatus.IN_PROGRESS)
            return
        try:  # moved before this supervisor held it: read it as it is now
            self._held[run.id] = await self.runs.get(run.user_id, run.id)
        except NotFound:
            self._forget(run.id)

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
        """Finalize the run with its end event; the poller whose finalize won (exactly
        one) publishes the event, which the store already holds."""
        self._forget(run.id)
        draft = run_events.ended(run, status, message, output, error)
        done = await self.runs.finalize(run, message, status, error, event=draft)
        if done is None:
            return None
        if done.event is not None:
            await self.events.publish(done.event)
        await self._hand_off(done.run, output)
        return done.run

    async def _hand_off(self, run: InferenceRun, output: Any) -> None:
        """Give a completed ``generate_scad`` run's SCAD to the pipeline, if it has any."""
        if self.pipeline is None or run.action != Action.GENERATE_SCAD.value:
            return
        scad = scad_from_output(output) if run.status is RunStatus.COMPLETED else None
        if scad is None:
            return
        requirements = run.requirements_json
        found = output.get("requirements_json") if isinstance(output, dict) else None
        # Requirements that hold only the retrieved parts add them to the output's.
        if isinstance(found, dict) and (
            requirements is None or set(requirements) <= {"components"}
        ):
            requirements = {**found, **(requirements or {})}
        with contextlib.suppress(ForgeError):  # the chat may be gone: the run still ended
            await self.pipeline.submit_scad(
                run.user_id, run.chat_id, scad, requirements, prompt=run.prompt, run_id=run.id
            )

    def _reply(self, run: InferenceRun, output: Any, now: datetime) -> Message:
        draft = with_components(run, output_to_message(output))
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


def with_components(run: InferenceRun, draft: MessageDraft) -> MessageDraft:
    """A ``process_requirements`` answer carries the parts retrieved for its run in its
    ``requirements_json.components``, whatever the backend wrote there."""
    components = (run.requirements_json or {}).get("components")
    if run.action != Action.PROCESS_REQUIREMENTS.value or not isinstance(components, list):
        return draft
    metadata = dict(draft.metadata_json or {})
    found = metadata.get("requirements_json")
    requirements = dict(found) if isinstance(found, dict) else {}
    requirements["components"] = components
    metadata["requirements_json"] = requirements
    return MessageDraft(draft.content, metadata)
