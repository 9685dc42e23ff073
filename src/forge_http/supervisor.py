"""The run supervisor: one task, started in the app's lifespan, that steps the
``RunSupervisor`` (renew its leases, claim free runs, poll the due ones) and sleeps until
the next is due, and a heartbeat task that renews the leases on time even while a step
waits on a slow backend. Runs this replica holds no lease on are another's; a dead replica's
runs are claimed here once their leases lapse. At the end of the lifespan the leases are
released, so another replica takes the runs over at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

from forge_core.errors import ForgeError
from forge_core.failure_streak import MAX_BACKOFF, FailureStreak, described
from forge_core.services import RunSupervisor

#: The loop sleeps until the next held run is due, within these bounds. The upper bound
#: is the first poll delay, so a run started while the loop sleeps (here, or in another
#: replica sharing the database) is claimed and first polled about as soon as it is due.
MIN_PAUSE, MAX_PAUSE = 0.05, 0.25
#: How long a release at shutdown may take; past it the leases lapse on their own.
RELEASE_TIMEOUT = 5.0
#: Seconds between two looks at whether the leases are due for renewal (every third of
#: a lease): a step waiting on a slow backend must not let them lapse.
HEARTBEAT = 1.0

log = logging.getLogger("forge.supervisor")
Sleep = Callable[[float], Awaitable[None]]


def pause(next_due: datetime | None, now: datetime) -> float:
    """Seconds to sleep before the next step: until the next run is due, within bounds."""
    if next_due is None:
        return MAX_PAUSE
    return min(MAX_PAUSE, max(MIN_PAUSE, (next_due - now).total_seconds()))


async def supervise(
    supervisor: RunSupervisor, first_backoff: float = 1.0, sleep: Sleep | None = None
) -> None:
    """Step forever; a failed step (the database or the backend away) never stops the
    loop. While steps fail, the loop backs off (doubling up to a minute) and logs one
    line when it starts failing and one when it works again. Between steps it naps
    (``RunSupervisor.nap``: a run that ended as it was started wakes it)."""
    sleep = sleep or supervisor.nap
    streak = FailureStreak(first_backoff)
    while True:
        try:
            await supervisor.poll_once()
        except Exception as exc:  # the loop must outlive any one step
            wait = streak.failed()
            _log_failure(streak, "run supervisor: a step failed", exc)
            await sleep(wait)
            continue
        _log_recovery(streak, "run supervisor: steps work again")
        await sleep(pause(supervisor.next_due(), supervisor.clock()))


async def heartbeat(
    supervisor: RunSupervisor, first_backoff: float = HEARTBEAT, sleep: Sleep = asyncio.sleep
) -> None:
    """Renew the leases on time, whatever the steps do; failures back off and are
    logged as ``supervise``'s are."""
    streak = FailureStreak(first_backoff)
    wait = HEARTBEAT
    while True:
        await sleep(wait)
        try:
            await supervisor.heartbeat()
        except Exception as exc:  # the loop must outlive any one renewal
            wait = streak.failed()
            _log_failure(streak, "run supervisor: renewing the run leases failed", exc)
            continue
        wait = HEARTBEAT
        _log_recovery(streak, "run supervisor: lease renewals work again")


def _log_failure(streak: FailureStreak, what: str, exc: Exception) -> None:
    """The first failure of a streak, once: its traceback only if it is not a
    ForgeError (a bug, not a dependency away)."""
    if streak.started:
        trace = None if isinstance(exc, ForgeError) else exc
        log.error(
            "%s (%s); retrying, backing off up to %ds",
            what,
            described(exc),
            MAX_BACKOFF,
            exc_info=trace,
        )


def _log_recovery(streak: FailureStreak, what: str) -> None:
    if ended := streak.succeeded():
        log.warning("%s after %d failed tries", what, ended)


async def release(supervisor: RunSupervisor) -> None:
    """Release the supervisor's leases, within ``RELEASE_TIMEOUT``; a failure is logged
    (the leases then lapse after ``FORGE_LEASE_SECONDS``)."""
    try:
        await asyncio.wait_for(supervisor.release_all(), RELEASE_TIMEOUT)
    except (ForgeError, TimeoutError) as exc:
        log.warning("run leases not released (they lapse on their own): %r", exc)


@contextlib.asynccontextmanager
async def supervising(supervisor: RunSupervisor) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``supervise`` and ``heartbeat`` in tasks for the duration of the block; cancel
    them after, then release the leases."""
    task = asyncio.create_task(supervise(supervisor), name="forge-run-supervisor")
    beat = asyncio.create_task(heartbeat(supervisor), name="forge-run-heartbeat")
    try:
        yield task
    finally:
        for running in (task, beat):
            running.cancel()
        await asyncio.gather(task, beat, return_exceptions=True)
        await release(supervisor)
