"""The run supervisor: one task, started in the app's lifespan, that polls unfinished
runs (``Runs.poll_once``) and sleeps until the next is due. Every unfinished run in the
store is seen by ``poll_once``, so the runs in flight before a restart are resumed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from forge_core.services import Runs

#: The loop sleeps until the next known run is due, within these bounds. The upper bound
#: is the first poll delay, so a run started while the loop sleeps (here, or in another
#: process sharing the database) is first polled about as soon as it is due.
MIN_PAUSE, MAX_PAUSE = 0.05, 0.25

log = logging.getLogger("forge.supervisor")


def pause(next_due: datetime | None, now: datetime) -> float:
    """Seconds to sleep before the next step: until the next run is due, within bounds."""
    if next_due is None:
        return MAX_PAUSE
    return min(MAX_PAUSE, max(MIN_PAUSE, (next_due - now).total_seconds()))


async def supervise(runs: Runs) -> None:
    """Poll forever; a failed step (the database or the backend away) is logged and the
    loop goes on, so one bad step never stops the runs of everyone else."""
    while True:
        try:
            await runs.poll_once()
        except Exception:  # the loop must outlive any one step
            log.exception("a supervisor step failed; retrying")
        await asyncio.sleep(pause(runs.next_due(), runs.clock()))


@contextlib.asynccontextmanager
async def supervising(runs: Runs) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``supervise`` in a task for the duration of the block; cancel it after."""
    task = asyncio.create_task(supervise(runs), name="forge-run-supervisor")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
