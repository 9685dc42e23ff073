"""The pipeline's worker pool: ``FORGE_PIPELINE_WORKERS`` tasks, started in the app's
lifespan, each claiming one job at a time (by lease, so replicas never share one).
Renders run as subprocesses and mesh work in threads, so the event loop stays free for
requests.

At shutdown the workers claim nothing more and get ``SHUTDOWN_GRACE`` seconds to finish
the jobs they hold (within uvicorn's graceful shutdown); what is left is cancelled (a
render in progress is killed) and its leases released, so another replica redoes those
jobs at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from forge_core.errors import ForgeError
from forge_core.services import JobWorker

#: Seconds the workers get at shutdown to finish their jobs before they are cancelled.
SHUTDOWN_GRACE = 20.0
#: How long a release at shutdown may take; past it the leases lapse on their own.
RELEASE_TIMEOUT = 5.0

log = logging.getLogger("forge.pipeline")


@contextlib.asynccontextmanager
async def pipeline_workers(
    worker: JobWorker, workers: int, grace: float = SHUTDOWN_GRACE
) -> AsyncIterator[list[asyncio.Task[None]]]:
    """Run ``workers`` pipeline loops for the duration of the block; then stop them as
    the module docstring says."""
    tasks = [asyncio.create_task(worker.work(), name=f"forge-pipeline-{i}") for i in range(workers)]
    try:
        yield tasks
    finally:
        worker.stop()
        _, late = await asyncio.wait(tasks, timeout=grace)
        if late:
            log.warning("pipeline: %d job(s) cancelled at shutdown, left to another", len(late))
        for task in late:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await asyncio.wait_for(worker.release_all(), RELEASE_TIMEOUT)
        except (ForgeError, TimeoutError) as exc:
            log.warning("pipeline leases not released (they lapse on their own): %r", exc)
