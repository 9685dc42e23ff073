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
from collections.abc import AsyncIterator
from datetime import datetime

from forge_core.errors import ForgeError
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


def pause(next_due: datetime | None, now: datetime) -> float:
    """Seconds to sleep before the next step: until the next run is due, within bounds."""
    if next_due is None:
        return MAX_PAUSE
    return min(MAX_PAUSE, max(MIN_PAUSE, (next_due - now).total_seconds()))


async def supervise(supervisor: RunSupervisor) -> None:
    """Step forever; a failed step (the database or the backend away) is logged and the
    loop goes on, so one bad step never stops the runs of everyone else."""
    while True:
        try:
            await supervisor.poll_once()
        except Exception:  # the loop must outlive any one step
            log.exception("a supervisor step failed; retrying")
        await asyncio.sleep(pause(supervisor.next_due(), supervisor.clock()))


async def heartbeat(supervisor: RunSupervisor) -> None:
    """Renew the leases on time, whatever the steps do; a failure is logged."""
    while True:
        await asyncio.sleep(HEARTBEAT)
        try:
            await supervisor.heartbeat()
        except Exception:  # the loop must outlive any one renewal
            log.exception("renewing the run leases failed; retrying")


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
