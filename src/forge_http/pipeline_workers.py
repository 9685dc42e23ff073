"""The pipeline's worker pool: ``FORGE_PIPELINE_WORKERS`` tasks, started in the app's
lifespan, each taking one job at a time off the pipeline's queue. Renders run as
subprocesses and mesh work in threads, so the event loop stays free for requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from forge_core.errors import ForgeError
from forge_core.services import Pipeline

log = logging.getLogger("forge.pipeline")


@contextlib.asynccontextmanager
async def pipeline_workers(
    pipeline: Pipeline, workers: int
) -> AsyncIterator[list[asyncio.Task[None]]]:
    """Resume the jobs a stopped process left running, then run ``workers`` pipeline
    loops for the duration of the block; cancel them after (a render in progress is
    killed with its task, and its job resumed at the next start)."""
    try:
        await pipeline.resume()
    except ForgeError as exc:  # the database away at start-up: serve anyway
        log.warning("pipeline jobs not resumed: %s", exc.detail)
    tasks = [
        asyncio.create_task(pipeline.work(), name=f"forge-pipeline-{i}") for i in range(workers)
    ]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
